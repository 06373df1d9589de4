"""report.xlsx: libxlsxwriter (C) and XlsxWriter give the same workbook; CBT disk columns sit in Disks."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import report_fixtures as rf

from reporter.checks.tables import Table
from reporter.errors import UsageError
from reporter.render import get_renderer, xlsx, xlsx_native
from reporter.render.base import ReportContext
from reporter.render.sheet_merge import MERGES, merged_rows
from reporter.render.sheets import Sheet

needs_native = pytest.mark.skipif(xlsx_native.library() is None,
                                  reason="libxlsxwriter is not installed (scripts/test.sh installs libxlsxwriter4)")
CBT_COLUMNS = ["vCenter", "VM", "vApp", "Host", "HW version", "VM CBT option", "In backup scope", "Disk", "Node",
               "Capacity GB", "Mode", "RDM", "ctkEnabled", "Has changeId", "State"]


def _cbt_disks(rows: list[list[Any]]) -> Table:
    return Table(id="cbt_disks", family="cbt", title="CBT per VM and disk", columns=CBT_COLUMNS, rows=rows,
                 in_summary=False)


def _context_with_cbt_disks() -> ReportContext:
    # One row per disk of the fixture's VMs; the formula-named VM's disk is left out (a template,
    # say): its Disks row keeps empty CBT cells.
    ctx = rf.context()
    rows: list[list[Any]] = []
    for vc in ctx.snapshot.vcenters.values():
        for vm in vc.vms.values():
            if vm.name == rf.FORMULA:
                continue
            for d in vm.disks:
                rows.append([vc.name, vm.name, None, "esx01", "vmx-13", True, vm.name != rf.UNICODE, d.label,
                             d.device_node, 40.0, "persistent", None, "TRUE", False, f"state of {vm.name}"])
    return replace(ctx, tables=[*ctx.tables, _cbt_disks(rows)])


def _render(ctx: ReportContext, out: Path, writer: str, monkeypatch: pytest.MonkeyPatch) -> openpyxl.Workbook:
    monkeypatch.setenv(xlsx.WRITER_ENV, writer)
    out.mkdir()
    assert get_renderer("xlsx").render(ctx, out) == [out / "report.xlsx"]
    return openpyxl.load_workbook(out / "report.xlsx")


def _cells(wb: openpyxl.Workbook) -> dict[str, Any]:
    """Everything a reader sees of a workbook: per sheet its cells (value, type, number format),
    the header's bold and fill, frozen pane, autofilter and column widths."""
    out: dict[str, Any] = {}
    for ws in wb.worksheets:
        out[ws.title] = {
            "cells": [[(c.value, c.data_type, c.number_format if c.value is not None else None) for c in row]
                      for row in ws.iter_rows()],
            "header": [(c.font.b, c.fill.fill_type, c.fill.fgColor.rgb) for c in ws[1]],
            "freeze": ws.freeze_panes, "filter": ws.auto_filter.ref,
            # per column: XlsxWriter writes one <col> for a run of equal widths, libxlsxwriter one each
            "widths": {i: round(d.width, 2) for d in ws.column_dimensions.values() for i in range(d.min, d.max + 1)},
        }
    return out


@needs_native
def test_both_writers_give_the_same_workbook(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = _context_with_cbt_disks()
    native = _render(ctx, tmp_path / "native", "libxlsxwriter", monkeypatch)
    python = _render(ctx, tmp_path / "python", "xlsxwriter", monkeypatch)
    assert native.sheetnames == python.sheetnames
    assert _cells(native) == _cells(python)
    # ... and it is the workbook the style rules ask for, not two equally wrong ones.
    vms = native["VMs"]
    assert vms["B5"].value == rf.FORMULA and vms["B5"].data_type == "s"  # text, never a formula
    assert {(c.font.b, c.fill.fgColor.rgb) for c in vms[1]} == {(True, "FFDDE4EE")}
    snaps = native["Snapshots"]
    assert snaps["E2"].value == datetime(2026, 10, 9, 6, 0) and snaps["E2"].number_format == "yyyy-mm-dd hh:mm:ss"
    assert snaps["F2"].value == 45.0 and snaps["F2"].data_type == "n"
    assert native["Findings"]["A2"].value == "High"


@pytest.mark.parametrize("writer", [pytest.param("libxlsxwriter", marks=needs_native), "xlsxwriter"])
def test_cells_the_writers_must_clean(tmp_path: Path, writer: str) -> None:
    sheet = Sheet("odd", "Odd Cells", ["Text", "Number", "Date", "Flag"], [
        ["bell\x07 and nul\x00", math.nan, date(2027, 3, 31), True],
        ["x" * 40_000, math.inf, datetime(2026, 11, 1, 12, 30, 15, tzinfo=UTC), False],
        ["=SUM(A1:A2)", -1.5, datetime(2026, 11, 1, 14, 30), None],
        ["line 1\nline 2", 2**40, None, None],
    ])
    path = tmp_path / "odd.xlsx"
    path.write_bytes(xlsx.workbook_bytes([sheet], writer))
    ws = openpyxl.load_workbook(path)["Odd Cells"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[1] == ("bell\ufffd and nul\ufffd", "nan", datetime(2027, 3, 31), "yes")  # a flag: the report's word
    assert len(rows[2][0]) == xlsx.EXCEL_MAX_CELL and rows[2][0].endswith("…")
    assert rows[2][1:] == ("inf", datetime(2026, 11, 1, 12, 30, 15), "no")
    assert rows[3] == ("=SUM(A1:A2)", -1.5, datetime(2026, 11, 1, 14, 30), None)
    assert ws["A4"].data_type == "s"
    assert rows[4] == ("line 1\nline 2", 2**40, None, None)
    assert ws["C2"].number_format == "yyyy-mm-dd" and ws["C3"].number_format == "yyyy-mm-dd hh:mm:ss"


def test_writer_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(xlsx.WRITER_ENV, "xlsxwriter")
    assert xlsx.writer_name() == "xlsxwriter"
    monkeypatch.setenv(xlsx.WRITER_ENV, "openpyxl")
    with pytest.raises(UsageError, match="must be one of libxlsxwriter, xlsxwriter"):
        xlsx.writer_name()
    monkeypatch.delenv(xlsx.WRITER_ENV)
    assert xlsx.writer_name() == ("libxlsxwriter" if xlsx_native.library() else "xlsxwriter")


def test_cbt_disk_columns_sit_in_disks_in_the_workbook_and_csv_keeps_both_files(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = _context_with_cbt_disks()
    wb = _render(ctx, tmp_path / "x", "xlsxwriter", monkeypatch)
    assert "CBT Disks" not in wb.sheetnames
    rows = list(wb["Disks"].iter_rows(values_only=True))
    assert rows[0][-5:] == ("Change ID", "VM CBT option", "In backup scope", "ctkEnabled", "CBT state")
    by_vm = {r[1]: r for r in rows[1:]}
    assert by_vm["web-01"][-4:] == ("yes", "yes", "TRUE", "state of web-01")  # flags yes/no; ctkEnabled as typed
    assert by_vm[rf.UNICODE][-4:] == ("yes", "no", "TRUE", f"state of {rf.UNICODE}")
    assert by_vm[rf.FORMULA][-4:] == (None, None, None, None)  # no CBT row: empty, not another VM's
    assert wb["Disks"].auto_filter.ref == f"A1:T{len(rows)}"
    get_renderer("csv").render(ctx, tmp_path / "x")
    assert (tmp_path / "x" / "csv" / "cbt_disks.csv").exists()  # scripts rely on the file names
    assert "CBT state" not in (tmp_path / "x" / "csv" / "disks.csv").read_text(encoding="utf-8-sig")


MERGE = MERGES[0]
BASE_COLUMNS = ["vCenter", "VM", "Disk", "Node", "Capacity (GB)"]


def _table_row(vc: str, vm: str, node: str, state: str) -> list[Any]:
    return [vc, vm, None, "h", "vmx-13", True, True, "Hard disk", node, 1.0, "persistent", None, None, True, state]


def test_merge_matches_rows_by_key_not_by_order() -> None:
    base: list[list[Any]] = [["vc01", "a", "Hard disk 1", "scsi0:0", 10.0], ["vc01", "a", "Hard disk 2", "scsi0:1", 20.0],
            ["vc02", "a", "Hard disk 1", "scsi0:0", 30.0]]
    table = [_table_row("vc02", "a", "scsi0:0", "off"), _table_row("vc01", "a", "scsi0:1", "pending")]
    merged = merged_rows(BASE_COLUMNS, base, CBT_COLUMNS, table, MERGE)
    assert merged == ([*BASE_COLUMNS, "VM CBT option", "In backup scope", "ctkEnabled", "CBT state"], [
        ["vc01", "a", "Hard disk 1", "scsi0:0", 10.0, None, None, None, None],
        ["vc01", "a", "Hard disk 2", "scsi0:1", 20.0, True, True, None, "pending"],
        ["vc02", "a", "Hard disk 1", "scsi0:0", 30.0, True, True, None, "off"],
    ])


@pytest.mark.parametrize(("base", "table", "columns"), [
    # two VMs named "a" in one vCenter: which disk is whose cannot be told
    ([["vc01", "a", "d", "scsi0:0", 1.0], ["vc01", "a", "d", "scsi0:0", 1.0]],
     [_table_row("vc01", "a", "scsi0:0", "off")], CBT_COLUMNS),
    # a table row without its Disks row would be lost
    ([["vc01", "a", "d", "scsi0:0", 1.0]], [_table_row("vc01", "b", "scsi0:0", "off")], CBT_COLUMNS),
    # the table changed shape: a carried column is missing
    ([["vc01", "a", "d", "scsi0:0", 1.0]], [_table_row("vc01", "a", "scsi0:0", "off")[:-1]], CBT_COLUMNS[:-1]),
])
def test_merge_declines_when_rows_cannot_be_matched_exactly(base: list[list[Any]], table: list[list[Any]],
                                                            columns: list[str]) -> None:
    assert merged_rows(BASE_COLUMNS, base, columns, table, MERGE) is None


def test_a_declined_merge_keeps_both_sheets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = rf.context()
    vc = next(iter(ctx.snapshot.vcenters.values()))
    stray = _cbt_disks([_table_row(vc.name, "no-such-vm", "scsi0:0", "off")])
    wb = _render(replace(ctx, tables=[*ctx.tables, stray]), tmp_path / "x", "xlsxwriter", monkeypatch)
    assert "CBT Disks" in wb.sheetnames
    assert "CBT state" not in next(wb["Disks"].iter_rows(values_only=True))


def test_a_bad_writer_choice_is_one_line_and_exit_2(tmp_path: Path) -> None:
    env = {**os.environ, xlsx.WRITER_ENV: "openpyxl"}
    proc = subprocess.run([sys.executable, "-m", "reporter.cli", "demo", "--out", str(tmp_path / "r"), "--format",
                           "xlsx"], capture_output=True, text=True, env=env, check=False, timeout=300)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert lines[-1].endswith("VCREPORT_XLSX_WRITER must be one of libxlsxwriter, xlsxwriter, not 'openpyxl'"), lines
    assert "Traceback" not in proc.stderr and not (tmp_path / "r" / "report.xlsx").exists()
