"""report.xlsx (openpyxl): a tab per object type and per family table, like RVTools.

Every sheet has a frozen, bold header row, an autofilter over the data and column
widths fitted to the content. Text is always stored as text: a VM named
``=HYPERLINK(...)`` stays a name, never becomes a formula.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from reporter.core.fsutil import atomic_write_bytes
from reporter.render.base import Renderer, ReportContext, register
from reporter.render.sheets import Cell, Sheet, all_sheets

HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDE4EE")
MIN_WIDTH, MAX_WIDTH = 8, 60
SAMPLE_ROWS = 500  # rows looked at to size a column
EXCEL_MAX_CELL = 32767


def _value(v: Cell) -> Cell:
    if isinstance(v, datetime):
        # Excel has no time zones: store UTC wall time (the headers say "(UTC)").
        return v.astimezone(UTC).replace(tzinfo=None) if v.tzinfo else v
    if isinstance(v, str):
        v = ILLEGAL_CHARACTERS_RE.sub("\ufffd", v)
        return v if len(v) <= EXCEL_MAX_CELL else v[: EXCEL_MAX_CELL - 1] + "…"
    return v


def _width(v: Cell) -> int:
    if v is None:
        return 0
    if isinstance(v, datetime):
        return 19
    if isinstance(v, float):
        return len(f"{v:.2f}")
    return max((len(line) for line in str(v).splitlines()), default=0)


def _write_sheet(wb: Workbook, sheet: Sheet) -> None:
    ws = wb.create_sheet(sheet.title)
    ncols = len(sheet.columns)
    widths = [len(c) + 2 for c in sheet.columns]
    for row in sheet.rows[:SAMPLE_ROWS]:
        for i, v in enumerate(row[:ncols]):
            widths[i] = max(widths[i], _width(v) + 1)
    for i, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = max(MIN_WIDTH, min(MAX_WIDTH, w))
    # Frozen header and autofilter are set before rows are streamed (write-only worksheets).
    ws.freeze_panes = "A2"
    last = get_column_letter(max(ncols, 1))
    ws.auto_filter.ref = f"A1:{last}{len(sheet.rows) + 1}"
    header = []
    for name in sheet.columns:
        c = WriteOnlyCell(ws, value=_value(name))
        c.font, c.fill = HEADER_FONT, HEADER_FILL
        c.data_type = "s"
        header.append(c)
    ws.append(header)
    for row in sheet.rows:
        ws.append([_cell(ws, v) for v in row])


def _cell(ws: object, v: Cell) -> object:
    """Plain values are appended as they are (fast); only text that openpyxl would read as a
    formula and datetimes (display format) need a cell object."""
    if isinstance(v, str):
        v = _value(v)
        if not v.startswith("="):
            return v
        c = WriteOnlyCell(ws, value=v)
        c.data_type = "s"  # openpyxl turns "=..." into a formula otherwise
        return c
    if isinstance(v, datetime):
        c = WriteOnlyCell(ws, value=_value(v))
        c.number_format = "yyyy-mm-dd hh:mm:ss"
        return c
    return v


def workbook_bytes(sheets: list[Sheet]) -> bytes:
    wb = Workbook(write_only=True)
    for s in sheets:
        _write_sheet(wb, s)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


@register
class XlsxRenderer(Renderer):
    format = "xlsx"

    def render(self, ctx: ReportContext, out_dir: Path) -> list[Path]:
        return [atomic_write_bytes(out_dir / "report.xlsx", workbook_bytes(all_sheets(ctx)))]
