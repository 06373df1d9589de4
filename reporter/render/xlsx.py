"""report.xlsx (XlsxWriter, constant-memory mode): a tab per object type and per family table.

Every sheet has a frozen, bold header row, an autofilter over the data and column widths
fitted to the content. Cells are typed: numbers as numbers, dates and times as Excel dates,
text always as text — a VM named ``=HYPERLINK(...)`` stays a name, never becomes a formula.
Constant-memory mode streams each row to disk as it is written, which keeps memory flat. Shared
strings (constant memory off) were measured at 10,000 VMs: no faster (the repeated-looking
remediation texts name their VM, so 11,955 of 11,960 are distinct) and 130 MB more at peak.
A sheet over Excel's 1,048,576 rows is refused with one line (RenderError) before any is written.

Two writers produce the same workbook: libxlsxwriter (C, through ``xlsx_native``) when the system
has it — about 5x faster, a 10,000-VM workbook in a few seconds — and XlsxWriter otherwise.
``VCREPORT_XLSX_WRITER=xlsxwriter`` (or ``libxlsxwriter``) picks one explicitly.
"""

from __future__ import annotations

import logging
import math
import os
import re
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import xlsxwriter

from reporter.core.fsutil import atomic_write_bytes
from reporter.core.gcpolicy import paused_gc
from reporter.core.states import yes_no
from reporter.errors import RenderError, UsageError
from reporter.render import xlsx_native
from reporter.render.base import Renderer, ReportContext, register
from reporter.render.sheet_text import Cell
from reporter.render.sheets import Sheet, all_sheets

log = logging.getLogger(__name__)
WRITER_ENV = "VCREPORT_XLSX_WRITER"
WRITERS = ("libxlsxwriter", "xlsxwriter")

HEADER_STYLE = {"bold": True, "bg_color": "#DDE4EE", "text_wrap": False}
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
DATE_FORMAT = "yyyy-mm-dd"
MIN_WIDTH, MAX_WIDTH = 8, 60
SAMPLE_ROWS = 500  # rows looked at to size a column
EXCEL_MAX_CELL = 32767
EXCEL_MAX_ROWS = 1_048_576  # rows of a worksheet, its header included
# Characters XML 1.0 cannot carry; a snapshot value holding one would corrupt the file.
ILLEGAL_CHARACTERS = re.compile(r"[\000-\010\013\014\016-\037]")


def _text(v: str) -> str:
    # isprintable() is true for almost every cell and rules out every illegal character, at a
    # fraction of the regex's cost. Most of the rest is text of several lines: printable once
    # its line breaks and tabs are spaces, so it has no illegal character either (the regex
    # scanning them was 2 % of a 10,000-VM workbook).
    if not v.isprintable() and not v.replace("\n", " ").replace("\t", " ").replace("\r", " ").isprintable():
        v = ILLEGAL_CHARACTERS.sub("\ufffd", v)
    return v if len(v) <= EXCEL_MAX_CELL else v[: EXCEL_MAX_CELL - 1] + "…"


def _excel_datetime(v: datetime) -> datetime:
    # Excel has no time zones: store UTC wall time (the headers say "(UTC)").
    return v.astimezone(UTC).replace(tzinfo=None) if v.tzinfo else v


def _width(v: Cell) -> int:
    if type(v) is str:  # most cells: one line of text
        return len(v) if "\n" not in v else max(len(line) for line in v.splitlines())
    if v is None:
        return 0
    if isinstance(v, datetime):
        return 19
    if isinstance(v, date):
        return 10
    if isinstance(v, float):
        return len(f"{v:.2f}")
    return max((len(line) for line in str(v).splitlines()), default=0)


def column_widths(sheet: Sheet) -> list[int]:
    ncols = len(sheet.columns)
    widths = [len(c) + 2 for c in sheet.columns]
    for row in sheet.rows[:SAMPLE_ROWS]:
        for i, v in enumerate(row[:ncols]):
            widths[i] = max(widths[i], _width(v) + 1)
    return [max(MIN_WIDTH, min(MAX_WIDTH, w)) for w in widths]


def _write_sheet(wb: Any, sheet: Sheet, formats: dict[str, Any]) -> None:
    ws = wb.add_worksheet(sheet.title)
    ncols = len(sheet.columns)
    for i, w in enumerate(column_widths(sheet)):
        ws.set_column(i, i, w)
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, len(sheet.rows), max(ncols, 1) - 1)
    header = formats["header"]
    for c, name in enumerate(sheet.columns):
        ws.write_string(0, c, _text(name), header)
    # Typed writes instead of ws.write(): write() would turn "=..." into a formula and "123"
    # into a number when strings_to_numbers is set; the explicit calls are also faster.
    write_string, write_number, write_datetime = ws.write_string, ws.write_number, ws.write_datetime
    dt_format, date_format = formats["datetime"], formats["date"]
    for r, row in enumerate(sheet.rows, start=1):
        for c, v in enumerate(row[:ncols]):
            if v is None:
                continue
            if isinstance(v, str):
                if v:
                    write_string(r, c, _text(v))
            elif isinstance(v, bool):  # the report's words, as in every sheet and the CSV files
                write_string(r, c, yes_no(v))
            elif isinstance(v, int | float):
                if math.isfinite(v):
                    write_number(r, c, v)
                else:  # Excel has no NaN or infinity; XlsxWriter would refuse the whole report
                    write_string(r, c, str(v))
            elif isinstance(v, datetime):
                write_datetime(r, c, _excel_datetime(v), dt_format)
            elif isinstance(v, date):
                write_datetime(r, c, datetime(v.year, v.month, v.day), date_format)
            else:  # pragma: no cover - Cell is exhaustive; kept so a new type never breaks a report
                write_string(r, c, _text(str(v)))


def writer_name() -> str:
    """The writer report.xlsx is made with: the environment's choice, else libxlsxwriter when
    the system has it, else XlsxWriter."""
    chosen = os.environ.get(WRITER_ENV, "").strip().lower()
    if chosen and chosen not in WRITERS:
        raise UsageError(f"{WRITER_ENV} must be one of {', '.join(WRITERS)}, not {chosen!r}")
    if chosen == "xlsxwriter" or (not chosen and xlsx_native.library() is None):
        return "xlsxwriter"
    if xlsx_native.library() is None:
        raise UsageError(f"{WRITER_ENV}=libxlsxwriter, but libxlsxwriter is not installed "
                         "(Debian/Ubuntu: apt install libxlsxwriter4)")
    return "libxlsxwriter"


def check_row_limit(sheets: list[Sheet]) -> None:
    """One clear line instead of a library's error halfway through the file (libxlsxwriter) or a
    sheet cut short without a word (XlsxWriter ignores rows past the limit)."""
    for s in sheets:
        if len(s.rows) + 1 > EXCEL_MAX_ROWS:
            raise RenderError(f"report.xlsx: the sheet {s.title!r} has {len(s.rows):,} rows, more than an Excel "
                              f"sheet holds ({EXCEL_MAX_ROWS - 1:,} below the header); the CSV output (format "
                              f"'csv') has every row")


def workbook_bytes(sheets: list[Sheet], writer: str | None = None) -> bytes:
    writer = writer or writer_name()
    check_row_limit(sheets)
    with tempfile.TemporaryDirectory(prefix="vcreport-xlsx-") as tmp:
        path = Path(tmp) / "report.xlsx"
        if writer == "libxlsxwriter":
            specs = [xlsx_native.NativeSheetSpec(s.title, s.columns, column_widths(s), s.rows) for s in sheets]
            xlsx_native.write_workbook(path, specs, HEADER_STYLE, DATETIME_FORMAT, DATE_FORMAT, _text, _excel_datetime)
            return path.read_bytes()
        log.debug("libxlsxwriter not used; writing report.xlsx with XlsxWriter")
        # constant_memory streams rows to temporary files in tmpdir; strings are written inline.
        wb = xlsxwriter.Workbook(str(path), {"constant_memory": True, "tmpdir": tmp,
                                             "strings_to_numbers": False, "strings_to_formulas": False,
                                             "strings_to_urls": False})
        formats = {"header": wb.add_format(HEADER_STYLE), "datetime": wb.add_format({"num_format": DATETIME_FORMAT}),
                   "date": wb.add_format({"num_format": DATE_FORMAT})}
        for s in sheets:
            _write_sheet(wb, s, formats)
        wb.close()
        return path.read_bytes()


@register
class XlsxRenderer(Renderer):
    format = "xlsx"

    def render(self, ctx: ReportContext, out_dir: Path) -> list[Path]:
        # The sheets are a million small, acyclic cells at 10,000 VMs: automatic collections while
        # they are built and written would only traverse them (a fifth of the render's time).
        with paused_gc():
            data = workbook_bytes(all_sheets(ctx, merge_tables=True))
        return [atomic_write_bytes(out_dir / "report.xlsx", data)]
