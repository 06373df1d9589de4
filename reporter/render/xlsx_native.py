"""report.xlsx through libxlsxwriter, the C version of XlsxWriter, when the system has it.

Why: XlsxWriter (pure Python) costs about 10 µs of CPU per cell, so a 10,000-VM workbook of
~1 M cells takes 10+ s; the same cells written through libxlsxwriter cost about 2 µs, most of
it inside the library. libxlsxwriter is by XlsxWriter's author, maintained since 2014, packaged
by Debian (``libxlsxwriter4`` on bookworm) and has the same model: constant-memory rows,
formats, column widths, frozen panes, autofilter. No Python binding of it is maintained, so this
module declares the dozen functions it calls with ctypes (stdlib).

How it is called, each choice measured at 10,000 VMs (a million cells; see benchmarks/RESULTS.md):

- The per-cell functions are bound through ``ctypes.PyDLL``: they keep the GIL, which releasing
  and re-taking around each ~1 µs call only cost. ``workbook_close`` (a second of zip/deflate)
  is bound through ``ctypes.CDLL``, so other threads run meanwhile.
- The per-cell functions have no ``argtypes``: ctypes then passes ints, bytes and None without
  building a converter object per argument, and a number goes in as a ``c_double`` (one per sheet,
  refilled). Handles are ``_Handle`` objects (a ``c_void_p`` subclass), never bare ints, so a
  pointer is never passed as a 32-bit int; the cell calls get the worksheet as one ``byref()``
  made per sheet, which ctypes passes as it is instead of converting a ``_Handle`` on every call.
- The whole workbook is written on a thread of its own. glibc gives a new thread its own malloc
  arena; libxlsxwriter makes three ``calloc`` calls per text cell, and in the main arena, which
  loading and checking the snapshot leave fragmented, ``malloc`` took ~10 % of the writing's CPU
  (sampled with perf; on the thread's arena ~2 %). The caller waits for the thread; nothing runs
  beside it, and no thread is left when it returns (a later fork finds a single-threaded process).

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
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from reporter.core.states import yes_no
from reporter.render.sheet_text import Cell

c_char_p, c_double, c_int = ctypes.c_char_p, ctypes.c_double, ctypes.c_int
c_uint8, c_uint16, c_uint32 = ctypes.c_uint8, ctypes.c_uint16, ctypes.c_uint32
EXCEL_MAX_CELL = 32767
# The UTF-8 bytes of the characters XML 1.0 cannot carry (reporter.render.xlsx.ILLEGAL_CHARACTERS:
# C0 controls but tab, line feed and carriage return). Bytes below 0x80 never occur inside a
# multi-byte UTF-8 sequence, so a text holds one of those characters exactly when its UTF-8 has
# one of these bytes.
XML_ILLEGAL_BYTES = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])
# bytes.translate with this table changes a text's UTF-8 exactly when it holds one of them. With a
# table and nothing to delete, translate() is a tight loop over the bytes and builds no table of its own.
FLAG_ILLEGAL = bytes.maketrans(XML_ILLEGAL_BYTES, b"?" * len(XML_ILLEGAL_BYTES))
MIN_VERSION_ID = 100  # lxw_version_id() of 1.0.0: the options struct and every call below exist since


class _Handle(ctypes.c_void_p):
    """A workbook, worksheet or format pointer. As a restype, a subclass of c_void_p comes back as
    itself rather than as a Python int, so it can be passed to functions without argtypes."""


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


# Declared prototypes: (restype, argtypes). An empty argtypes list means "not declared": the
# per-cell functions, called a million times, are passed only ints, bytes, None, c_double and
# _Handle objects, which ctypes converts without a converter object per argument.
_PROTOTYPES: dict[str, tuple[Any, list[Any]]] = {
    "lxw_version": (c_char_p, []),
    "lxw_version_id": (c_uint16, []),
    "lxw_strerror": (c_char_p, [c_int]),
    "workbook_new_opt": (_Handle, [c_char_p, ctypes.POINTER(_Options)]),
    "workbook_add_worksheet": (_Handle, [_Handle, c_char_p]),
    "workbook_add_format": (_Handle, [_Handle]),
    "format_set_bold": (None, [_Handle]),
    "format_set_bg_color": (None, [_Handle, c_uint32]),
    "format_set_num_format": (None, [_Handle, c_char_p]),
    "worksheet_set_column": (c_int, [_Handle, c_uint16, c_uint16, c_double, _Handle]),
    "worksheet_freeze_panes": (None, [_Handle, c_uint32, c_uint16]),
    "worksheet_autofilter": (c_int, [_Handle, c_uint32, c_uint16, c_uint32, c_uint16]),
    "worksheet_write_datetime": (c_int, [_Handle, c_uint32, c_uint16, ctypes.POINTER(_Datetime), _Handle]),
    # (worksheet, row, col, value, format): row and col as Python ints, value as bytes / c_double / int
    "worksheet_write_string": (c_int, []),
    "worksheet_write_number": (c_int, []),
    "worksheet_write_boolean": (c_int, []),
}


@dataclass(frozen=True)
class Library:
    """libxlsxwriter, loaded twice over one handle: ``calls`` keeps the GIL (PyDLL), ``blocking``
    releases it (CDLL) and is used for workbook_close only."""

    calls: ctypes.PyDLL
    blocking: ctypes.CDLL

    def version(self) -> str:
        return str(self.calls.lxw_version().decode())


def _declare(lib: ctypes.CDLL) -> None:
    for fn_name, (restype, argtypes) in _PROTOTYPES.items():
        fn = getattr(lib, fn_name)
        fn.restype = restype
        if argtypes:
            fn.argtypes = argtypes


@cache
def library() -> Library | None:
    """The system's libxlsxwriter with its prototypes declared, or None when it is not installed
    (or older than 1.0). VCREPORT_XLSX_WRITER=xlsxwriter makes the report skip it."""
    name = ctypes.util.find_library("xlsxwriter")
    if not name:
        return None
    try:
        calls, blocking = ctypes.PyDLL(name), ctypes.CDLL(name)
        _declare(calls)
        blocking.workbook_close.restype, blocking.workbook_close.argtypes = c_int, [_Handle]
    except (OSError, AttributeError):
        return None
    if calls.lxw_version_id() < MIN_VERSION_ID:
        return None
    return Library(calls, blocking)


def version() -> str | None:
    lib = library()
    return lib.version() if lib else None


def _check(lib: Library, rc: int, what: str) -> None:
    if rc:
        raise NativeXlsxError(f"libxlsxwriter: {what}: {lib.calls.lxw_strerror(rc).decode()}")


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
    # On a thread of its own for its malloc arena (the module's docstring says why); the result
    # or the exception comes back here.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="vcreport-xlsx") as pool:
        pool.submit(_write_workbook, lib, path, sheets, header_style, datetime_format, date_format, text,
                    excel_datetime).result()


def _write_workbook(lib: Library, path: Path, sheets: Sequence[NativeSheetSpec], header_style: dict[str, Any],
                    datetime_format: str, date_format: str, text: Callable[[str], str],
                    excel_datetime: Callable[[datetime], datetime]) -> None:
    calls = lib.calls
    options = _Options(constant_memory=1, tmpdir=os.fsencode(path.parent), use_zip64=1)
    wb = calls.workbook_new_opt(os.fsencode(path), ctypes.byref(options))
    if not wb.value:
        raise NativeXlsxError(f"libxlsxwriter: cannot create {path.name}")
    closed = False
    try:
        header = calls.workbook_add_format(wb)
        if header_style.get("bold"):
            calls.format_set_bold(header)
        if header_style.get("bg_color"):
            calls.format_set_bg_color(header, int(str(header_style["bg_color"]).lstrip("#"), 16))
        dt_format = calls.workbook_add_format(wb)
        calls.format_set_num_format(dt_format, datetime_format.encode())
        d_format = calls.workbook_add_format(wb)
        calls.format_set_num_format(d_format, date_format.encode())
        for sheet in sheets:
            _write_sheet(lib, wb, sheet, header, dt_format, d_format, text, excel_datetime)
        closed = True
        _check(lib, lib.blocking.workbook_close(wb), f"writing {path.name}")
    finally:
        if not closed:  # free the workbook and its temporary files; the caller discards the file
            lib.blocking.workbook_close(wb)


def _write_sheet(lib: Library, wb: _Handle, sheet: NativeSheetSpec, header: _Handle, dt_format: _Handle,
                 d_format: _Handle, text: Callable[[str], str], excel_datetime: Callable[[datetime], datetime]) -> None:
    calls = lib.calls
    ws = calls.workbook_add_worksheet(wb, sheet.title.encode())
    if not ws.value:
        raise NativeXlsxError(f"libxlsxwriter: cannot add the sheet {sheet.title!r}")
    ncols = len(sheet.columns)
    for i, w in enumerate(sheet.widths):
        _check(lib, calls.worksheet_set_column(ws, i, i, w, None), "column width")
    calls.worksheet_freeze_panes(ws, 1, 0)
    _check(lib, calls.worksheet_autofilter(ws, 0, 0, len(sheet.rows), max(ncols, 1) - 1), "autofilter")
    write_string, write_number = calls.worksheet_write_string, calls.worksheet_write_number
    for c, name in enumerate(sheet.columns):
        _check(lib, write_string(ws, 0, c, text(name).encode(), header), "header cell")
    stamp = _Datetime()
    stamp_ref = ctypes.byref(stamp)
    # The worksheet as a byref() argument, made once: ctypes passes it as it is, where a _Handle
    # is converted anew on every call (a PyCArgObject each time, found through a linear search of
    # ctypes' type table). One c_double, refilled per number cell, instead of a new one per cell.
    sheet_arg = _by_address(ws)
    number = c_double()
    isfinite, flag_illegal = math.isfinite, FLAG_ILLEGAL
    # Each column's last text and its bytes: 60 % of the text cells at 10,000 VMs repeat the cell
    # above (vCenter, check, severity, power state ...) and are neither checked nor encoded again.
    above: list[str | None] = [None] * ncols
    above_bytes: list[bytes] = [b""] * ncols
    for r, row in enumerate(sheet.rows, start=1):
        # The hot loop (a million cells at 10,000 VMs): exact type checks in the order of their
        # frequency, no slicing unless a row is wider than its header, one ctypes call per cell.
        for c, v in enumerate(row if len(row) <= ncols else row[:ncols]):
            if type(v) is str:  # `is` on type(v) directly: mypy narrows v to str
                if v == above[c]:
                    rc = write_string(sheet_arg, r, c, above_bytes[c], None)
                elif v:
                    # text() cleans and truncates; text of Excel's size without an XML-illegal
                    # character needs neither. The UTF-8 bytes are looked at, not the characters:
                    # translate() is a table lookup per byte, isprintable() a function call per
                    # character (and a second pass for every text with a line break).
                    above[c] = v
                    encoded = v.encode()
                    if len(v) > EXCEL_MAX_CELL or encoded.translate(flag_illegal) != encoded:
                        encoded = text(v).encode()
                    above_bytes[c] = encoded
                    rc = write_string(sheet_arg, r, c, encoded, None)
                else:
                    continue
            elif v is None:
                continue
            elif (kind := type(v)) is float or kind is int:
                if isfinite(v):  # type: ignore[arg-type]
                    number.value = v  # type: ignore[assignment]
                    rc = write_number(sheet_arg, r, c, number, None)
                else:  # Excel has no NaN or infinity
                    rc = write_string(sheet_arg, r, c, str(v).encode(), None)
            elif kind is bool:  # the report's words, as in every sheet and the CSV files
                rc = write_string(sheet_arg, r, c, yes_no(v is True).encode(), None)
            else:
                rc = _write_other(lib, ws, r, c, v, stamp, stamp_ref, dt_format, d_format, text, excel_datetime)
            if rc:
                _check(lib, rc, f"sheet {sheet.title!r} row {r + 1}")


def _by_address(handle: _Handle) -> Any:
    """``handle`` as a ready-made pointer argument for functions without ``argtypes``."""
    return ctypes.byref(ctypes.c_char.from_address(handle.value or 0))


def _write_other(lib: Library, ws: _Handle, r: int, c: int, v: Cell, stamp: _Datetime, stamp_ref: Any,
                 dt_format: _Handle, d_format: _Handle, text: Callable[[str], str],
                 excel_datetime: Callable[[datetime], datetime]) -> int:
    """A cell of a rarer type: dates, date-times, subclasses of the common types."""
    calls = lib.calls
    rc: int
    if isinstance(v, datetime):
        t = excel_datetime(v)
        stamp.year, stamp.month, stamp.day, stamp.hour, stamp.min = t.year, t.month, t.day, t.hour, t.minute
        stamp.sec = t.second + t.microsecond / 1e6
        rc = calls.worksheet_write_datetime(ws, r, c, stamp_ref, dt_format)
    elif isinstance(v, date):
        stamp.year, stamp.month, stamp.day, stamp.hour, stamp.min, stamp.sec = v.year, v.month, v.day, 0, 0, 0.0
        rc = calls.worksheet_write_datetime(ws, r, c, stamp_ref, d_format)
    elif isinstance(v, bool):
        rc = calls.worksheet_write_string(ws, r, c, yes_no(v).encode(), None)
    elif isinstance(v, int | float):
        rc = calls.worksheet_write_number(ws, r, c, c_double(v), None) if math.isfinite(v) else \
            calls.worksheet_write_string(ws, r, c, str(v).encode(), None)
    else:  # a str subclass (an enum member, say) is written as str() spells it, as always
        rc = calls.worksheet_write_string(ws, r, c, text(str(v)).encode(), None)
    return rc
