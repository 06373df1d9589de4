"""report.xlsx style: one naming style, typed cells, evidence in columns, worst findings first."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import openpyxl
import pytest
import report_fixtures as rf

from reporter.checks.tables import Table
from reporter.core.findings import Severity
from reporter.render import evidence, get_renderer
from reporter.render.sheet_text import column_label, flat_value, parse_iso, sheet_title


@pytest.mark.parametrize(("sheet_id", "title"), [
    ("vram_pools", "vRAM Pools"),
    ("cbt_defect_hosts", "CBT Defect Hosts"),
    ("cpu_mmu_win2003_vms", "CPU MMU Win2003 VMs"),
    ("license_assignments", "License Assignments"),
    ("vcenters", "vCenters"),
    ("sioc_disk_caps", "SIOC Disk Caps"),
    ("snapshots_evidence", "Snapshots Evidence"),
    ("licenses_per_cluster_and_edition_over_the_year", "Licenses per Cluster and Editio"),  # 31 characters
])
def test_sheet_titles(sheet_id: str, title: str) -> None:
    assert sheet_title(sheet_id) == title
    assert len(sheet_title(sheet_id)) <= 31


@pytest.mark.parametrize(("key", "label"), [
    ("avg_12m_gb", "Avg 12-month (GB)"),
    ("vram_per_cpu_gb", "vRAM per CPU (GB)"),
    ("age_days", "Age (days)"),
    ("headroom_pct", "Headroom (%)"),
    ("expirationDate", "Expiration date"),
    ("busy_vm_count_setting", "Busy VM count setting"),
])
def test_evidence_column_labels(key: str, label: str) -> None:
    assert column_label(key) == label


def test_iso_text_becomes_a_date_and_nothing_else_does() -> None:
    assert parse_iso("2026-10-09T06:00+00:00") == datetime(2026, 10, 9, 6, 0, tzinfo=UTC)
    assert parse_iso("2027-03-31T00:00:00Z") == datetime(2027, 3, 31, tzinfo=UTC)
    assert parse_iso("2027-03-31") == date(2027, 3, 31)
    assert parse_iso("2026-13-45") is None  # looks like a date, is not one
    assert parse_iso("623860") is None  # a build number stays text
    assert parse_iso("5.0") is None


def test_evidence_values_are_cells_not_json() -> None:
    assert flat_value({"limit": 400, "shares_level": "normal"}) == "Limit: 400, Shares level: normal"
    assert flat_value(["esx01", "esx02"]) == "esx01\nesx02"
    assert flat_value([{"disk": "scsi0:0", "over_gb": 128.0}]) == "Disk: scsi0:0, Over (GB): 128"
    assert flat_value(96.0) == 96.0 and flat_value(True) is True and flat_value(None) is None


def test_a_structure_in_a_cell_names_its_items_as_the_html_and_pdf_do() -> None:
    """A VM's independent disks (SNAP-006) read "Label: Hard disk 2, Node: SCSI0:1, Key: 2001" in
    report.xlsx while the HTML and the PDF print "Disk", "Device node" and "Device key"; IOCAP-007's
    invalid cap values named the VMX setting they quote "Device key" in the HTML."""
    disk = {"label": "Hard disk 2", "node": "SCSI0:1", "key": 2001, "capacity_gb": 40.0}
    assert flat_value([disk]) == "Disk: Hard disk 2, Device node: SCSI0:1, Device key: 2001, Capacity (GB): 40"
    assert [i.table.columns for i in evidence.items({"independent_disks": [disk]}, "SNAP-006") if i.table] == [
        ["Disk", "Device node", "Device key", "Capacity"]]
    bad = {"setting": "sched.scsi0:0.bandwidthCap", "value": "10 megabytes", "reason": "unknown unit"}
    assert flat_value([bad]) == "VMX setting: sched.scsi0:0.bandwidthCap, Value: 10 megabytes, Reason: unknown unit"
    assert [i.table.columns for i in evidence.items({"invalid": [bad]}, "IOCAP-007") if i.table] == [
        ["VMX setting", "Value", "Reason"]]


def _context_with_a_dated_table() -> object:
    dated = Table(id="snapshot_ages", family="snapshots", title="Snapshot ages",
                  columns=["VM", "Created (UTC)", "Note"],
                  rows=[["web-01", "2026-10-09T06:00+00:00", "2026 plan"], ["db-01", None, "x"],
                        ["app-01", "2026-11-01T12:30+00:00", "y"]])
    ctx = rf.context()
    return replace(ctx, tables=[*ctx.tables, dated])


@pytest.fixture(scope="module")
def workbook(tmp_path_factory: pytest.TempPathFactory) -> tuple[openpyxl.Workbook, Path]:
    out = tmp_path_factory.mktemp("xlsx-style")
    ctx = _context_with_a_dated_table()
    get_renderer("xlsx").render(ctx, out)  # type: ignore[arg-type]
    get_renderer("csv").render(ctx, out)  # type: ignore[arg-type]
    return openpyxl.load_workbook(out / "report.xlsx"), out


def test_summary_first_and_every_sheet_named_after_its_csv_file(workbook: tuple[openpyxl.Workbook, Path]) -> None:
    wb, out = workbook
    assert wb.sheetnames[0] == "Summary"
    stems = sorted(p.stem for p in (out / "csv").glob("*.csv"))
    assert sorted(sheet_title(s) for s in stems) == sorted(wb.sheetnames)
    for name in wb.sheetnames:
        assert len(name) <= 31
        assert name[0].isupper() or name.startswith("v"), name  # "vCenters", "vRAM Pools"


def test_findings_worst_first(workbook: tuple[openpyxl.Workbook, Path]) -> None:
    wb, _out = workbook
    rows = list(wb["Findings"].iter_rows(values_only=True))
    ranks = [Severity(r[0].lower()).rank for r in rows[1:]]
    assert ranks == sorted(ranks, reverse=True) and len(ranks) == 4
    assert rows[1][:2] == ("High", "TST-001")


def test_evidence_sheet_has_typed_columns(workbook: tuple[openpyxl.Workbook, Path]) -> None:
    wb, _out = workbook
    rows = list(wb["Snapshots Evidence"].iter_rows(values_only=True))
    header = rows[0]
    assert header[:8] == ("Severity", "Check", "Group", "Status", "vCenter", "Object type", "Object", "Object id")
    by_object = {r[header.index("Object")]: r for r in rows[1:]}
    hostile = by_object[rf.HOSTILE]
    age = hostile[header.index("Age (days)")]
    assert age == 45 and isinstance(age, int)


def test_no_cell_holds_json(workbook: tuple[openpyxl.Workbook, Path]) -> None:
    wb, _out = workbook
    for ws in wb.worksheets:
        for row in ws.iter_rows(values_only=True):
            for v in row:
                assert not (isinstance(v, str) and v.lstrip().startswith(("{", "[{", '["'))), (ws.title, v)


def test_iso_dates_in_family_tables_are_excel_dates(workbook: tuple[openpyxl.Workbook, Path]) -> None:
    wb, out = workbook
    ws = wb["Snapshot Ages"]
    created = [ws.cell(row=r, column=2) for r in (2, 3, 4)]
    assert [c.value for c in created] == [datetime(2026, 10, 9, 6, 0), None, datetime(2026, 11, 1, 12, 30)]
    assert created[0].is_date and created[0].number_format == "yyyy-mm-dd hh:mm:ss"
    assert ws.cell(row=2, column=3).value == "2026 plan"  # a text column stays text
    lic = wb["Licenses"]
    expires = lic.cell(row=2, column=list(next(lic.iter_rows(values_only=True))).index("Expires") + 1)
    assert expires.is_date and expires.number_format == "yyyy-mm-dd"
    # The CSV keeps ISO 8601 text for the same cells.
    assert "2026-10-09T06:00:00+00:00" in (out / "csv" / "snapshot_ages.csv").read_text(encoding="utf-8-sig")
