"""report.xlsx and csv/: RVTools-like sheets, frozen headers, autofilter, widths, text stays text."""

from __future__ import annotations

import csv
import io
from datetime import datetime

import openpyxl
import pytest
import report_fixtures as rf

from reporter.render import get_renderer

# Sheet names are the CSV file stems in Title Case (product words spelled as VMware does).
SHEETS = ["Summary", "Findings", "Licensing Evidence", "Snapshots Evidence", "Collection Errors", "vCenters", "VMs",
          "Hosts", "Clusters", "Datastores", "Disks", "Snapshots", "Licenses", "License Assignments",
          "License Inventory", "Snapshot Space", "Snapshot Files"]
CSV_FILES = ["summary", "findings", "licensing_evidence", "snapshots_evidence", "collection_errors", "vcenters", "vms",
             "hosts", "clusters", "datastores", "disks", "snapshots", "licenses", "license_assignments",
             "license_inventory", "snapshot_space", "snapshot_files"]


@pytest.fixture(scope="module")
def workbook(tmp_path_factory):
    out = tmp_path_factory.mktemp("xlsx")
    assert get_renderer("xlsx").render(rf.context(), out) == [out / "report.xlsx"]
    return openpyxl.load_workbook(out / "report.xlsx")


def _rows(ws) -> list[tuple]:
    return list(ws.iter_rows(values_only=True))


def test_sheets_in_order_with_frozen_header_autofilter_and_widths(workbook):
    assert workbook.sheetnames == SHEETS
    for ws in workbook.worksheets:
        rows = _rows(ws)
        assert ws.freeze_panes == "A2", ws.title
        last_col = openpyxl.utils.get_column_letter(len(rows[0]))
        assert ws.auto_filter.ref == f"A1:{last_col}{len(rows)}", ws.title
        assert all(c.font.b for c in ws[1]), ws.title
        for col in range(1, len(rows[0]) + 1):
            width = ws.column_dimensions[openpyxl.utils.get_column_letter(col)].width
            assert 8 <= width <= 61, (ws.title, col, width)  # XlsxWriter adds Excel's cell padding
    vms = workbook["VMs"]
    # Sized to content: the hostile formula name is 41 characters wide.
    assert vms.column_dimensions["B"].width == pytest.approx(len(rf.FORMULA) + 1, abs=1)


def test_vm_rows_and_hostile_names_stay_text(workbook):
    ws = workbook["VMs"]
    rows = _rows(ws)
    assert rows[0][:6] == ("vCenter", "VM", "Power state", "Template", "CPUs", "Memory (MB)")
    names = [r[1] for r in rows[1:]]
    assert names == ["web-01", rf.HOSTILE, rf.UNICODE, rf.FORMULA]
    formula_cell = ws.cell(row=5, column=2)
    assert formula_cell.data_type == "s" and formula_cell.value == rf.FORMULA  # text, not a formula
    assert rows[4][2] == "Powered off" and rows[1][5] == 4096  # the vSphere Client's words


def test_findings_sheet(workbook):
    rows = _rows(workbook["Findings"])
    header = rows[0]
    assert header[:6] == ("Severity", "Check", "Group", "Family", "Status", "New since last run")
    assert "Evidence" not in header  # evidence has its own columns on the family's sheet
    by_object = {r[header.index("Object")]: r for r in rows[1:]}
    hostile = by_object[rf.HOSTILE]
    # Words a reader filters by, as the HTML and PDF editions print them (not findings.json's codes):
    # a finding with no group of its own is grouped under its check's title.
    assert hostile[:6] == ("High", "TST-001", "Snapshot older than the retention threshold", "Snapshots", "open", "yes")
    waived = by_object["web-01"]
    assert waived[4] == "waived"
    assert waived[header.index("Waiver reason")] == "Kept for the CAB-42 migration"
    assert waived[header.index("Waiver expires")] == datetime(2027, 1, 31)  # a date cell, not text
    assert by_object[rf.UNICODE][5] == "no"  # still open, not new
    assert len(rows) == 1 + 4


def test_snapshots_dates_and_license_keys_masked(workbook):
    snap_rows = _rows(workbook["Snapshots"])
    assert snap_rows[1][:6] == ("vc01", rf.HOSTILE, "before patch", None, datetime(2026, 10, 9, 6, 0), 45.0)
    lic = _rows(workbook["Licenses"])
    assert lic[1][1] == rf.MASKED
    assert _rows(workbook["License Assignments"])[1][4] == rf.MASKED
    assert _rows(workbook["License Inventory"])[1][0] == rf.MASKED
    for ws in workbook.worksheets:
        for row in ws.iter_rows(values_only=True):
            assert not any(isinstance(v, str) and rf.KEY in v for v in row), ws.title


def test_show_license_keys(tmp_path):
    get_renderer("xlsx").render(rf.context(show_keys=True), tmp_path)
    wb = openpyxl.load_workbook(tmp_path / "report.xlsx")
    assert _rows(wb["Licenses"])[1][1] == rf.KEY


def test_family_tables_including_inventory_sized_ones(workbook):
    assert _rows(workbook["Snapshot Space"]) == [("vCenter", "Datastore", "Snapshot GB", "Free GB"),
                                                 ("vc01", "ds-prod-01", 120.5, 1024), ("vc01", rf.HOSTILE, 30, 200)]
    assert _rows(workbook["Snapshot Files"]) == [("VM", "File", "Bytes"), (rf.HOSTILE, "[ds1] x/x-000001.vmdk", 123456)]


def _csv(path) -> list[list[str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel picks UTF-8
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


def test_csv_one_file_per_sheet(tmp_path):
    files = get_renderer("csv").render(rf.context(), tmp_path)
    assert [f.name for f in files] == [f"{n}.csv" for n in CSV_FILES]
    vms = _csv(tmp_path / "csv" / "vms.csv")
    assert [r[1] for r in vms[1:]] == ["web-01", rf.HOSTILE, rf.UNICODE, "'" + rf.FORMULA]  # formula neutralised
    assert _csv(tmp_path / "csv" / "licenses.csv")[1][1] == rf.MASKED
    assert rf.KEY not in "".join(p.read_text(encoding="utf-8-sig") for p in (tmp_path / "csv").glob("*.csv"))
    findings = _csv(tmp_path / "csv" / "findings.csv")
    assert findings[1][:6] == ["High", "TST-001", "Snapshot older than the retention threshold", "Snapshots", "open",
                               "yes"]
    # A sheet that disappears between runs does not linger in csv/.
    (tmp_path / "csv" / "gone_table.csv").write_text("x\n")
    get_renderer("csv").render(rf.context(), tmp_path)
    assert not (tmp_path / "csv" / "gone_table.csv").exists()
