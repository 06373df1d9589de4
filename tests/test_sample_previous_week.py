"""The bundled sample and its previous weekly collection: both regenerate from scripts/make_sample.py
exactly, and the demo compares the two as a weekly run compares with the week before."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import lxml.html
import pytest

from reporter import api
from reporter.core import snapshot_io

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"


@pytest.fixture(scope="module")
def make_sample():
    spec = importlib.util.spec_from_file_location("make_sample", ROOT / "scripts" / "make_sample.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_sample"] = module
    spec.loader.exec_module(module)
    return module


def test_bundled_samples_are_what_the_script_makes(make_sample) -> None:
    current = make_sample.build()
    assert snapshot_io.load(SAMPLES / "sample-snapshot.json.gz") == current
    previous = snapshot_io.load(SAMPLES / "sample-snapshot-previous.json.gz")
    assert previous == make_sample.previous_week(current)
    assert previous.collected_at == make_sample.PREVIOUS_AT


def test_previous_week_undoes_the_weeks_snapshots_and_keeps_the_deleted_one(make_sample) -> None:
    previous = snapshot_io.load(SAMPLES / "sample-snapshot-previous.json.gz")
    current = snapshot_io.load(SAMPLES / "sample-snapshot.json.gz")
    vms = {vm.name: vm for vc in previous.vcenters.values() for vm in vc.vms.values()}
    now = {vm.name: vm for vc in current.vcenters.values() for vm in vc.vms.values()}
    assert vms.keys() == now.keys()
    # Taken during the week: not there a week earlier, each disk back on its base file.
    for name in ("mon-008", "mon-020", "dc-016", "mon-044"):
        assert now[name].snapshots and not vms[name].snapshots, name
        assert vms[name].current_snapshot is None
        assert all("-00000" not in d.backing_file for d in vms[name].disks), name
        assert vms[name].layout_ex is not None and not vms[name].layout_ex.snapshots
    # Deleted during the week: there a week earlier, on a delta disk.
    app = vms["app-013"]
    assert [s.name for s in app.snapshots] == ["before upgrade"] and not now["app-013"].snapshots
    assert app.disks[0].backing_file.endswith("app-013-000001.vmdk")
    # Taken before the previous collection: the same a week earlier.
    assert vms["sql-005"].snapshots == now["sql-005"].snapshots


def test_demo_shows_the_changes_since_last_week(tmp_path: Path) -> None:
    res = api.demo(tmp_path, formats="html,json")
    delta = res.context.delta
    assert delta is not None
    new = sorted((f.check_id, f.object_name) for f in delta.new)
    assert new == [("SNAP-001", "mon-008"), ("SNAP-001", "mon-044"), ("SNAP-003", "dc-016"),
                   ("SNAP-005", "a-cache-007"), ("SNAP-005", "mon-008"), ("SNAP-006", "mon-044")]
    assert [(f.check_id, f.object_name) for f in delta.fixed] == [("SNAP-001", "app-013")]
    # Licensing, with last week's history as of last week, did not change.
    assert not [f for f in delta.new + delta.fixed if f.check_id.startswith("LIC")]
    html = " ".join(lxml.html.parse(str(tmp_path / "report.html")).getroot().text_content().split())
    assert "Changes since the last run 6 new, 1 fixed, 325 still open." in html
    assert "fixed: app-013" in html and "No previous run to compare with" not in html
    # The four checks that changed in the table; the 43 others folded below it.
    tree = lxml.html.parse(str(tmp_path / "report.html")).getroot()
    changed, unchanged = tree.xpath("//table[contains(@class, 'delta')]")
    assert [" ".join(td.text_content().split())[:8] for td in changed.xpath(".//tbody/tr/td[1]")] == [
        "SNAP-001", "SNAP-003", "SNAP-005", "SNAP-006"]
    # Top actions say how many of a group's objects are new, as the email does.
    actions = [[" ".join(td.text_content().split()) for td in tr.xpath("td")]
               for tr in tree.xpath("//table[contains(@class, 'actions')]//tbody/tr")]
    assert [(a[2], a[3]) for a in actions if "new)" in a[3]] == [("Backup snapshots left behind SNAP-005", "4 (2 new)")]
    [summary] = tree.xpath("//details[@class='unchanged']/summary")
    assert summary.text_content() == "43 checks with the same open findings as last time"
    assert unchanged.xpath("ancestor::details[@class='unchanged']") and len(unchanged.xpath(".//tbody/tr")) == 43


def test_demo_email_subject_says_what_changed(tmp_path: Path) -> None:
    import email
    from email import policy

    api.demo(tmp_path, formats="eml")
    msg = email.message_from_bytes((tmp_path / "report.eml").read_bytes(), policy=policy.default)
    assert msg["Subject"] == ("[vCenter report] 92 high, 204 medium, 19 low (6 new, 1 fixed) — licensing: 1 at risk "
                              "— vc01, vc02")


def test_a_week_without_changes_says_so(tmp_path: Path) -> None:
    from reporter.pipeline.report import report

    with api.demo_inputs() as demo:
        for _ in range(2):  # the same snapshot twice into one directory, as two runs would
            report(demo.snapshot, tmp_path, formats="html", cfg=demo.cfg, history=demo.history)
    html = " ".join(lxml.html.parse(str(tmp_path / "report.html")).getroot().text_content().split())
    assert "Changes since the last run 0 new, 0 fixed, 331 still open. Nothing new and nothing fixed." in html
    assert "47 checks with the same open findings as last time" in html
