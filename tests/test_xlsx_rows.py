"""report.xlsx at its edges: Excel's row limit, rows of odd widths and cell types, evidence mappings."""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import report_fixtures as rf

from reporter.errors import RenderError
from reporter.render import get_renderer, xlsx, xlsx_native
from reporter.render.sheet_merge import MERGES, merged_rows
from reporter.render.sheet_text import flat_value
from reporter.render.sheets import Sheet

WRITERS = [pytest.param("libxlsxwriter", marks=pytest.mark.skipif(
    xlsx_native.library() is None, reason="libxlsxwriter is not installed (scripts/test.sh installs libxlsxwriter4)")),
    "xlsxwriter"]


def _sheet(n_rows: int) -> Sheet:
    return Sheet("vms", "VMs", ["VM", "CPUs"], [[f"vm{i}", i] for i in range(n_rows)])


@pytest.mark.parametrize("writer", WRITERS)
def test_a_sheet_over_the_row_limit_is_one_clear_error(monkeypatch: pytest.MonkeyPatch, writer: str) -> None:
    monkeypatch.setattr(xlsx, "EXCEL_MAX_ROWS", 4)  # the header and 3 rows fit
    assert len(xlsx.workbook_bytes([_sheet(3)], writer)) > 0
    with pytest.raises(RenderError) as err:
        xlsx.workbook_bytes([_sheet(2), _sheet(4)], writer)
    assert str(err.value) == ("report.xlsx: the sheet 'VMs' has 4 rows, more than an Excel sheet holds (3 below the "
                              "header); the CSV output (format 'csv') has every row")


def test_the_renderer_writes_no_workbook_past_the_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(xlsx, "EXCEL_MAX_ROWS", 3)
    with pytest.raises(RenderError, match=r"^report\.xlsx: the sheet '[^']+' has \d+ rows"):
        get_renderer("xlsx").render(rf.context(), tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_the_real_limit_is_excels() -> None:
    assert xlsx.EXCEL_MAX_ROWS == 1_048_576


class Mode(str, enum.Enum):  # a str subclass whose str() is not its value
    FAST = "fast"


class Count(enum.IntEnum):
    TWO = 2


@pytest.mark.parametrize("writer", WRITERS)
def test_rows_wider_or_narrower_than_the_header_and_rarer_cell_types(tmp_path: Path, writer: str) -> None:
    sheet = Sheet("odd", "Odd", ["A", "B", "C"], [
        ["a", 1, "cut", "past the header"],  # cells past the header are not written
        ["short"],
        [Count.TWO, date(2026, 1, 2), datetime(2026, 1, 2, 3, 4, 5, 500_000, tzinfo=UTC)],
        ["", None, 0.25],
    ])
    path = tmp_path / "odd.xlsx"
    path.write_bytes(xlsx.workbook_bytes([sheet], writer))
    ws = openpyxl.load_workbook(path)["Odd"]
    assert list(ws.iter_rows(values_only=True)) == [
        ("A", "B", "C"), ("a", 1, "cut"), ("short", None, None),
        (2, datetime(2026, 1, 2), datetime(2026, 1, 2, 3, 4, 5, 500_000)), (None, None, 0.25)]
    assert ws.max_column == 3
    assert (ws["B4"].number_format, ws["C4"].number_format) == ("yyyy-mm-dd", "yyyy-mm-dd hh:mm:ss")


def test_native_writer_keeps_what_str_says_of_a_str_subclass(tmp_path: Path) -> None:
    if xlsx_native.library() is None:
        pytest.skip("libxlsxwriter is not installed")
    path = tmp_path / "enum.xlsx"
    path.write_bytes(xlsx.workbook_bytes([Sheet("e", "E", ["Mode"], [[Mode.FAST]])], "libxlsxwriter"))
    assert openpyxl.load_workbook(path)["E"]["A2"].value == str(Mode.FAST)


def test_merge_pads_rows_shorter_than_their_header() -> None:
    columns = ["vCenter", "VM", "Disk", "Node", "Capacity (GB)"]
    table_columns = ["vCenter", "VM", "Node", "VM CBT option", "In backup scope", "ctkEnabled", "State"]
    base: list[list[Any]] = [["vc01", "a", "Hard disk 1", "scsi0:0"], ["vc01", "b", "Hard disk 1", "scsi0:0", 5.0]]
    table: list[list[Any]] = [["vc01", "a", "scsi0:0", True, False], ["vc01", "b", "scsi0:0", False, True, "TRUE", "on"]]
    assert merged_rows(columns, base, table_columns, table, MERGES[0]) == (
        [*columns, "VM CBT option", "In backup scope", "ctkEnabled", "CBT state"],
        [["vc01", "a", "Hard disk 1", "scsi0:0", None, True, False, None, None],
         ["vc01", "b", "Hard disk 1", "scsi0:0", 5.0, False, True, "TRUE", "on"]])


@pytest.mark.parametrize(("value", "cell"), [
    # equal as Python values, different as text: the memo must not hand one the other's
    ({"thin": True}, "Thin: yes"),
    ({"thin": 1}, "Thin: 1"),
    ({"thin": 1.0}, "Thin: 1"),
    ({"size_gb": 0.5, "mode": None}, "Size (GB): 0.5, Mode: not set"),  # as the HTML evidence says it
    ({"standby": [], "kb": "KB1004048"}, "Standby: none, KB: KB1004048"),
    ({"created": "2026-11-01T10:00:00Z"}, "Created: 2026-11-01 10:00 UTC"),
    ({"day": "2026-11-01", "name": "2026-11-01 backup"}, "Day: 2026-11-01, Name: 2026-11-01 backup"),
    ({"nodes": ["scsi0:0", "scsi0:1"]}, "Nodes: scsi0:0\nscsi0:1"),  # a list inside: not hashable, still spelled
    ({}, None),
    ([{"disk": "Hard disk 1", "thin": False}, "x", 3, None], "Disk: Hard disk 1, Thin: no\nx\n3\n"),
    ([], None),
])
def test_evidence_mappings_and_lists_as_one_cell(value: Any, cell: str | None) -> None:
    assert flat_value(value) == cell
    assert flat_value(value) == cell  # the second time from the memo, the same
