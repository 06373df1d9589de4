"""What a reader sees in the cells and sentences the second reader audit fixed."""

from __future__ import annotations

from reporter.checks.helpers import counted
from reporter.render.cells import text_cell
from reporter.render.sheet_text import flat_value
from reporter.render.sheets import _absent, _iops_limit
from reporter.render.templating import format_cell


def test_a_time_inside_an_evidence_cell_reads_as_utc_minutes() -> None:
    # was "Created: 2026-10-09 06:00:00+00:00"
    assert flat_value({"name": "Before patching", "created": "2026-10-09T06:00:00+00:00"}) == (
        "Name: Before patching, Created: 2026-10-09 06:00 UTC")


def test_a_table_time_given_as_iso_text_prints_like_every_other_time() -> None:
    # the snapshot list's "Created (UTC)" read "2026-11-15T06:00+00:00" in HTML and PDF
    assert text_cell("2026-11-15T06:00+00:00") == "2026-11-15 06:00 UTC"
    assert str(format_cell("2026-11-15T06:00+00:00")) == "<bdi>2026-11-15 06:00 UTC</bdi>"
    assert text_cell("2026-11-15") == "2026-11-15"
    assert text_cell("Before patching") == "Before patching"


def test_disks_sheet_says_unlimited_for_an_iops_limit_of_minus_one() -> None:
    assert _iops_limit(-1) == "Unlimited"
    assert _iops_limit(500) == 500
    assert _iops_limit(None) is None


def test_evidence_sheet_absent_values_read_as_html_prints_them() -> None:
    assert _absent("effective_mode") == "Not determined"  # was a blank cell
    assert _absent("tools_guest_full_name") == "not set"
    assert _absent("why_not_enforced") is None  # HTML leaves it out when there is none


def test_counts_name_their_noun_without_s_in_brackets() -> None:
    assert counted(1, "snapshot") == "1 snapshot"
    assert counted(4, "snapshot") == "4 snapshots"
    assert counted(3, "CPU license") == "3 CPU licenses"


def test_growth_of_a_snapshot_the_last_run_did_not_see() -> None:
    # A VM new since the last run has no earlier size: its growth reads so, not "not set".
    from reporter.render.evidence import scalar
    assert scalar(None, "growth_since_last_run_gb") == "no earlier size"
    assert scalar(20.0, "growth_since_last_run_gb") == "20.0 GB"
