"""summary.json's findings keys and the delta by fingerprint: the same snapshot twice is 0 new /
0 fixed with license keys masked; a partial collection makes unread findings "not re-checked"."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reporter import api
from reporter.core import snapshot_io
from reporter.core.model import CollectionError, Snapshot
from reporter.pipeline.report import compute_delta, load_findings, report

SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "sample-snapshot.json.gz"


@pytest.fixture(scope="module")
def twice(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("twice")
    # The demo's report (compared with the sample's previous week), then the same snapshot again
    # into the same directory as a run makes it: compared with the findings.json left there.
    api.demo(out, formats="json")
    with api.demo_inputs() as demo:
        report(demo.snapshot, out, formats="json", cfg=demo.cfg, history=demo.history, show_license_keys=False)
    return out


def _summary(out: Path) -> dict:  # type: ignore[type-arg]
    return json.loads((out / "summary.json").read_text(encoding="utf-8"))


def test_same_snapshot_twice_is_zero_new_zero_fixed_with_keys_masked(twice: Path) -> None:
    doc = _summary(twice)
    assert doc["delta"] == {"new": 0, "fixed": 0, "still_open": 331, "not_rechecked": 0,
                            "not_rechecked_reasons": []}
    findings = json.loads((twice / "findings.json").read_text(encoding="utf-8"))
    lic = [f for f in findings if f["check_id"] in ("LIC-006", "LIC-009")]
    assert len(lic) == 4 and all("XXXXX-XXXXX-XXXXX-" in f["object_id"] for f in lic)  # masked


def test_counts_checks_and_top_actions(twice: Path) -> None:
    doc = _summary(twice)
    assert doc["counts"] == {"by_severity": {"info": 16, "low": 19, "medium": 204, "high": 92, "critical": 0},
                             "groups": 60, "objects": 253}
    checks = {c["id"]: c for c in doc["checks"]}
    assert len(checks) == 56
    assert checks["GEN-001"] == {"id": "GEN-001", "status": "pass", "why": "19 checked; 1 finding waived.",
                                 "checked": 19, "open": 0, "waived": 1}
    assert checks["CBT-006"] == {"id": "CBT-006", "status": "findings", "why": "53 open findings in 4 groups.",
                                 "checked": 233, "open": 53}
    assert checks["LIC-004"]["status"] == "not_evaluated" and checks["LIC-004"]["checked"] == 0
    assert {c["status"] for c in doc["checks"]} == {"pass", "findings", "not_evaluated"}
    top = doc["top_actions"]
    assert len(top) == 10
    assert top[2] == {"check_id": "SNAP-001", "group": "SNAP-001/past-high", "title": "Snapshots older than 7 days",
                      "severity": "high", "objects": 5}
    groups = {f["group"] for f in json.loads((twice / "findings.json").read_text(encoding="utf-8"))}
    assert all(a["group"] in groups for a in top)  # the same strings as in findings.json


def test_first_run_has_no_delta(tmp_path: Path) -> None:
    report(SAMPLE, tmp_path, formats="json")  # an empty directory: nothing to compare with
    assert _summary(tmp_path)["delta"] is None


def _partial(snap: Snapshot, vcenter: str, stage: str) -> Snapshot:
    """The snapshot as a run would see it when ``stage`` of ``vcenter`` failed."""
    vcs = dict(snap.vcenters)
    errors = [CollectionError(vcenter=vcenter, stage=stage, error_type="NotAuthenticated", message="session lost")]
    if stage == "connect":
        vcs = {u: vc for u, vc in vcs.items() if vc.name != vcenter}
    else:
        for u, vc in vcs.items():
            if vc.name == vcenter and stage == "licenses":
                vcs[u] = vc.model_copy(update={"licenses": None, "license_assignments": None})
    return snap.model_copy(update={"vcenters": vcs, "collection_errors": errors})


def test_unreadable_vcenter_findings_are_not_rechecked_never_fixed(tmp_path: Path) -> None:
    full = snapshot_io.load(SAMPLE)
    report(full, tmp_path, formats="json")
    previous = load_findings(tmp_path / "findings.json")
    vc02_open = [f for f in previous if f.vcenter == "vc02" and f.status.value in ("fail", "warn", "error")]
    assert len(vc02_open) == 106  # (no waivers here: GEN-001 on vc02 is open)
    out = report(_partial(full, "vc02", "connect"), tmp_path, formats="json,html")
    delta = out.context.delta
    assert delta is not None
    assert not [f for f in delta.fixed if f.vcenter == "vc02"]
    assert sorted(f.fingerprint for f in delta.not_rechecked) == sorted(f.fingerprint for f in vc02_open)
    assert delta.not_rechecked_reasons == [("vCenter vc02 could not be read", 106)]
    doc = _summary(tmp_path)["delta"]
    assert doc["not_rechecked"] == 106
    assert doc["not_rechecked_reasons"] == [{"reason": "vCenter vc02 could not be read", "findings": 106}]
    assert doc["fixed"] == len(delta.fixed) and all(f.vcenter != "vc02" for f in delta.fixed)
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "106 not re-checked" in html and "Not re-checked (106 findings): vCenter vc02 could not be read." in html


def test_unreadable_object_type_is_not_rechecked(tmp_path: Path) -> None:
    full = snapshot_io.load(SAMPLE)
    report(full, tmp_path, formats="json")
    previous = load_findings(tmp_path / "findings.json")
    lic_vc01 = {f.fingerprint for f in previous if f.vcenter == "vc01" and f.object_type in ("license", "pool")
                and f.status.value == "fail"}
    assert len(lic_vc01) == 3  # LIC-002 x2 and LIC-009 on vc01 (LIC-003 needs history)
    delta = report(_partial(full, "vc01", "licenses"), tmp_path, formats="json").context.delta
    assert delta is not None
    gone = {f.fingerprint for f in delta.not_rechecked}
    assert gone <= lic_vc01 and gone  # unread licenses of vc01: unknown, not fixed
    assert not any(f.fingerprint in lic_vc01 for f in delta.fixed)
    assert {why for why, _ in delta.not_rechecked_reasons} == {"licenses of vCenter vc01 could not be read"}


def test_compute_delta_without_snapshot_keeps_old_behaviour(tmp_path: Path) -> None:
    full = snapshot_io.load(SAMPLE)
    report(full, tmp_path, formats="json")
    previous = load_findings(tmp_path / "findings.json")
    delta = compute_delta([], previous)
    assert delta is not None and len(delta.fixed) == 331 and delta.not_rechecked == []
