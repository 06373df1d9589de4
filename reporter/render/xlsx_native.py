"""report.xlsx through libxlsxwriter, the C version of XlsxWriter, when the system has it.

Why: XlsxWriter (pure Python) costs about 10 µs of CPU per cell, so a 10,000-VM workbook of
~1 M cells takes 10+ s; the same cells written through libxlsxwriter cost about 2 µs, most of
it the Python loop and the ctypes call. libxlsxwriter is by XlsxWriter's author, maintained
since 2014, packaged by Debian (``libxlsxwriter4`` on bookworm) and has the same model:
constant-memory rows, formats, column widths, frozen panes, autofilter. No Python binding of
it is maintained, so this module declares the dozen functions it calls with ctypes (stdlib).

The cells it is given are already typed and cleaned by ``reporter.render.xlsx`` (text without
XML-illegal characters and at most 32,767 characters, UTC wall-clock datetimes); this module
only passes them on and turns every error code into an exception.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from reporter.render.sheet_text import Cell

c_void_p, c_char_p, c_double, c_int = ctypes.c_void_p, ctypes.c_char_p, ctypes.c_double, ctypes.c_int
c_uint8, c_uint16, c_uint32 = ctypes.c_uint8, ctypes.c_uint16, ctypes.c_uint32
EXCEL_MAX_CELL = 32767
MIN_VERSION_ID = 100  # lxw_version_id() of 1.0.0: the options struct and every call below exist since


class _Options(ctypes.Structure):
    # lxw_workbook_options. Releases after 1.1.4 append fields (output_buffer, ...); the reserved
    # zeros make a newer library read its defaults for them instead of whatever follows in memory.
    _fields_ = [("constant_memory", c_uint8), ("tmpdir", c_char_p), ("use_zip64", c_uint8),
                ("reserved", ctypes.c_byte * 64)]


class _Datetime(ctypes.Structure):  # lxw_datetime
    _fields_ = [("year", c_int), ("month", c_int), ("day", c_int), ("hour", c_int), ("min", c_int),
                ("sec", c_double)]


class NativeXlsxError(RuntimeError):
    """libxlsxwriter returned an error code (the message is the library's own text)."""


_PROTOTYPES: dict[str, tuple[Any, list[Any]]] = {
    "lxw_version": (c_char_p, []),
    "lxw_version_id": (c_uint16, []),
    "lxw_strerror": (c_char_p, [c_int]),
    "workbook_new_opt": (c_void_p, [c_char_p, ctypes.POINTER(_Options)]),
    "workbook_add_worksheet": (c_void_p, [c_void_p, c_char_p]),
    "workbook_add_format": (c_void_p, [c_void_p]),
    "workbook_close": (c_int, [c_void_p]),
    "format_set_bold": (None, [c_void_p]),
    "format_set_bg_color": (None, [c_void_p, c_uint32]),
    "format_set_num_format": (None, [c_void_p, c_char_p]),
    "worksheet_set_column": (c_int, [c_void_p, c_uint16, c_uint16, c_double, c_void_p]),
    "worksheet_freeze_panes": (None, [c_void_p, c_uint32, c_uint16]),
    "worksheet_autofilter": (c_int, [c_void_p, c_uint32, c_uint16, c_uint32, c_uint16]),
    "worksheet_write_number": (c_int, [c_void_p, c_uint32, c_uint16, c_double, c_void_p]),
    "worksheet_write_boolean": (c_int, [c_void_p, c_uint32, c_uint16, c_int, c_void_p]),
    "worksheet_write_datetime": (c_int, [c_void_p, c_uint32, c_uint16, ctypes.POINTER(_Datetime), c_void_p]),
    # worksheet_write_string is called without argtypes (below): it is called for ~70 % of all cells
    # and ctypes' per-argument conversion would cost a third of its time.
    "worksheet_write_string": (c_int, []),
}


@cache
def library() -> ctypes.CDLL | None:
    """The system's libxlsxwriter with its prototypes declared, or None when it is not installed
    (or older than 1.0). VCREPORT_XLSX_WRITER=xlsxwriter makes the report skip it."""
    name = ctypes.util.find_library("xlsxwriter")
    if not name:
        return None
    try:
        lib = ctypes.CDLL(name)
        for fn_name, (restype, argtypes) in _PROTOTYPES.items():
            fn = getattr(lib, fn_name)
            fn.restype = restype
            if argtypes:
                fn.argtypes = argtypes
    except (OSError, AttributeError):
        return None
    if lib.lxw_version_id() < MIN_VERSION_ID:
        return None
    return lib


def version() -> str | None:
    lib = library()
    return lib.lxw_version().decode() if lib else None


def _check(lib: ctypes.CDLL, rc: int, what: str) -> None:
    if rc:
        raise NativeXlsxError(f"libxlsxwriter: {what}: {lib.lxw_strerror(rc).decode()}")


@dataclass(frozen=True, slots=True)
class NativeSheetSpec:
    """What the writer needs of one sheet: its tab name, header, widths and typed rows."""

    title: str
    columns: Sequence[str]
    widths: Sequence[int]
    rows: Sequence[Sequence[Cell]]


def write_workbook(path: Path, sheets: Sequence[NativeSheetSpec], header_style: dict[str, Any],
                   datetime_format: str, date_format: str, text: Callable[[str], str],
                   excel_datetime: Callable[[datetime], datetime]) -> None:
    """Write the sheets to ``path`` in constant-memory mode (rows stream to temporary files in
    the target's directory). ``text`` cleans a string for a cell, ``excel_datetime`` turns an
    aware datetime into the UTC wall time Excel stores."""
    lib = library()
    if lib is None:
        raise NativeXlsxError("libxlsxwriter is not installed")
    options = _Options(constant_memory=1, tmpdir=os.fsencode(path.parent), use_zip64=1)
    wb = lib.workbook_new_opt(os.fsencode(path), ctypes.byref(options))
    if not wb:
        raise NativeXlsxError(f"libxlsxwriter: cannot create {path.name}")
    closed = False
    try:
        header = lib.workbook_add_format(wb)
        if header_style.get("bold"):
            lib.format_set_bold(header)
        if header_style.get("bg_color"):
            lib.format_set_bg_color(header, int(str(header_style["bg_color"]).lstrip("#"), 16))
        dt_format = lib.workbook_add_format(wb)
        lib.format_set_num_format(dt_format, datetime_format.encode())
        d_format = lib.workbook_add_format(wb)
        lib.format_set_num_format(d_format, date_format.encode())
        for sheet in sheets:
            _write_sheet(lib, wb, sheet, header, dt_format, d_format, text, excel_datetime)
        closed = True
        _check(lib, lib.workbook_close(wb), f"writing {path.name}")
    finally:
        if not closed:  # free the workbook and its temporary files; the caller discards the file
            lib.workbook_close(wb)


def _write_sheet(lib: ctypes.CDLL, wb: int, sheet: NativeSheetSpec, header: int, dt_format: int, d_format: int,
                 text: Callable[[str], str], excel_datetime: Callable[[datetime], datetime]) -> None:
    ws = lib.workbook_add_worksheet(wb, sheet.title.encode())
    if not ws:
        raise NativeXlsxError(f"libxlsxwriter: cannot add the sheet {sheet.title!r}")
    ncols = len(sheet.columns)
    for i, w in enumerate(sheet.widths):
        _check(lib, lib.worksheet_set_column(ws, i, i, w, None), "column width")
    lib.worksheet_freeze_panes(ws, 1, 0)
    _check(lib, lib.worksheet_autofilter(ws, 0, 0, len(sheet.rows), max(ncols, 1) - 1), "autofilter")
    ws_ptr = c_void_p(ws)  # worksheet_write_string has no argtypes: the pointer goes in as a pointer
    write_string, write_number, write_boolean = lib.worksheet_write_string, lib.worksheet_write_number, \
        lib.worksheet_write_boolean
    for c, name in enumerate(sheet.columns):
        _check(lib, write_string(ws_ptr, 0, c, text(name).encode(), c_void_p(header)), "header cell")
    stamp = _Datetime()
    stamp_ref = ctypes.byref(stamp)
    isfinite = math.isfinite
    for r, row in enumerate(sheet.rows, start=1):
        # The hot loop (a million cells at 10,000 VMs): exact type checks in the order of their
        # frequency, no slicing unless a row is wider than its header, one ctypes call per cell.
        for c, v in enumerate(row if len(row) <= ncols else row[:ncols]):
            if type(v) is str:  # `is` on type(v) directly: mypy narrows v to str
                if not v:
                    continue
                # text() cleans and truncates; a printable string of Excel's size needs neither
                rc = write_string(ws_ptr, r, c, v.encode() if v.isprintable() and len(v) <= EXCEL_MAX_CELL
                                  else text(v).encode(), None)
            elif v is None:
                continue
            elif (kind := type(v)) is float or kind is int:
                rc = write_number(ws, r, c, v, None) if isfinite(v) else write_string(  # type: ignore[arg-type]
                    ws_ptr, r, c, str(v).encode(), None)
            elif kind is bool:
                rc = write_boolean(ws, r, c, v, None)
            else:
                rc = _write_other(lib, ws, ws_ptr, r, c, v, stamp, stamp_ref, dt_format, d_format, text,
                                  excel_datetime)
            if rc:
                _check(lib, rc, f"sheet {sheet.title!r} row {r + 1}")


def _write_other(lib: ctypes.CDLL, ws: int, ws_ptr: ctypes.c_void_p, r: int, c: int, v: Cell, stamp: _Datetime,
                 stamp_ref: Any, dt_format: int, d_format: int, text: Callable[[str], str],
                 excel_datetime: Callable[[datetime], datetime]) -> int:
    """A cell of a rarer type: dates, date-times, subclasses of the common types."""
    rc: int
    if isinstance(v, datetime):
        t = excel_datetime(v)
        stamp.year, stamp.month, stamp.day, stamp.hour, stamp.min = t.year, t.month, t.day, t.hour, t.minute
        stamp.sec = t.second + t.microsecond / 1e6
        rc = lib.worksheet_write_datetime(ws, r, c, stamp_ref, dt_format)
    elif isinstance(v, date):
        stamp.year, stamp.month, stamp.day, stamp.hour, stamp.min, stamp.sec = v.year, v.month, v.day, 0, 0, 0.0
        rc = lib.worksheet_write_datetime(ws, r, c, stamp_ref, d_format)
    elif isinstance(v, bool):
        rc = lib.worksheet_write_boolean(ws, r, c, v, None)
    elif isinstance(v, int | float):
        rc = lib.worksheet_write_number(ws, r, c, v, None) if math.isfinite(v) else lib.worksheet_write_string(
            ws_ptr, r, c, str(v).encode(), None)
    else:  # a str subclass (an enum member, say) is written as str() spells it, as always
        rc = lib.worksheet_write_string(ws_ptr, r, c, text(str(v)).encode(), None)
    return rc
