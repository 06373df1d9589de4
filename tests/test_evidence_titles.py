"""The spreadsheets name an evidence value as the HTML and the PDF do: the report's label, with
the unit the report prints after the value in brackets."""

from __future__ import annotations

import openpyxl
import pytest
import report_fixtures as rf

from reporter.render import get_renderer
from reporter.render.evidence import column_title, label, scalar
from reporter.render.sheets import _evidence_titles


@pytest.mark.parametrize(("key", "check_id", "title"), [
    ("capacity_gb", "CBT-004", "Capacity (GB)"),
    ("entitled_assigned_gb", "LIC-002", "Entitlement (assigned, GB)"),  # one bracket, not two
    ("oldest_age_days", "SNAP-001", "Oldest snapshot age (days)"),
    ("pct_of_free", "SNAP-003", "Share of free space (%)"),
    ("grace_hours", "SNAP-005", "Grace period (hours)"),
    ("floor_mbps", "IOCAP-004", "Floor (MB/s)"),
    ("after_vmotion", "IOCAP-003", "After vMotion"),  # the family's own label
    ("days_to_end_of_general_support", "LC-001", "Days to end of general support"),  # a leading unit word stays
    ("vibs", "SW-001", "VIBs"),
    ("cbt_state", "", "CBT state"),  # product words spelled as VMware does
    ("ctkEnabled", "CBT-001", "ctkEnabled"),  # a vSphere name, as the admin searches for it
    ("days_left", "LIC-006", "Days left"),  # the unit is already in the words
])
def test_column_title_is_the_reports_label_with_its_unit(key: str, check_id: str, title: str) -> None:
    assert column_title(key, check_id) == title


def test_the_report_prints_the_same_label_and_unit() -> None:
    assert label("grace_hours", "SNAP-005") == "Grace period"
    assert scalar(24, "grace_hours") == "24 hours"
    assert scalar(2, "floor_mbps") == "2 MB/s"


@pytest.fixture(scope="module")
def workbook(tmp_path_factory):
    out = tmp_path_factory.mktemp("xlsx")
    get_renderer("xlsx").render(rf.context(), out)
    return openpyxl.load_workbook(out / "report.xlsx", read_only=True)


def test_evidence_sheets_use_the_reports_labels(workbook) -> None:
    headers = {ws.title: next(ws.iter_rows(max_row=1, values_only=True))[8:]
               for ws in workbook.worksheets if ws.title.endswith(" Evidence")}
    assert headers == {"Licensing Evidence": ("License key", "Days left"),
                       "Snapshots Evidence": ("Age (days)", "Snapshot")}


def test_two_keys_of_one_label_keep_their_own_names() -> None:
    # SNAP-001's "snapshot_count" and SNAP-006's "snapshots" are both "Snapshots" in the report
    assert label("snapshot_count") == label("snapshots") == "Snapshots"
    assert _evidence_titles({"snapshot_count": "SNAP-001", "snapshots": "SNAP-006", "age_days": "SNAP-001"}) == [
        "Snapshot count", "Snapshots", "Age (days)"]


def test_a_reason_that_does_not_apply_is_left_out() -> None:
    from reporter.render.evidence import items

    shown = [(i.label, i.text) for i in items({"enforced": "yes", "why_not_enforced": None}, "IOCAP-002")]
    assert shown == [("Enforced", "yes")]  # not "Why not enforced: not set"
    reason = "legacy scheduler needs a cap of the same type on every disk"
    assert ("Why not enforced", reason) in [(i.label, i.text) for i in items(
        {"enforced": "no", "why_not_enforced": reason}, "IOCAP-001")]
