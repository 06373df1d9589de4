"""Finding groups, fingerprints, check statuses and the ranked top actions on the bundled sample."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reporter import api
from reporter.checks.actions import all_groups, rank, top_actions
from reporter.checks.base import CheckMeta, finding
from reporter.checks.engine import CheckStatus, identify
from reporter.checks.grouping import GroupKey, Risk, fingerprint
from reporter.checks.registry import load_all
from reporter.core import snapshot_io
from reporter.core.findings import Severity
from reporter.pipeline.report import check

SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "sample-snapshot.json.gz"

# Every open group on the sample: (group, objects with an open finding, waived findings).
EXPECTED_GROUPS = {
    # the sample's vc02 hosts run releases past End of General Support; vc01's vCenter is older than one host
    "LC-001": [("LC-001/vc01", 10, 0), ("LC-001/vc02", 6, 0)],  # every 5.x/6.x host + vCenter 5.0
    "LC-002": [("LC-002/vc01", 1, 0)],
    "CBT-001": [("CBT-001/vc01", 77, 0), ("CBT-001/vc02", 48, 0)],
    "CBT-002": [("CBT-002", 1, 0)],
    "CBT-003": [("CBT-003", 3, 0)],
    "CBT-004": [("CBT-004", 3, 0)],
    "CBT-005": [("CBT-005/vc01/vmx-04", 22, 0)],
    "CBT-006": [("CBT-006/5.0.0-623860/KB2090639/vms", 22, 0), ("CBT-006/5.5.0-1331820/KB2090639/vms", 1, 0),
                ("CBT-006/6.0.0-2494585/KB2136854/vms", 24, 0), ("CBT-006/5.0.0-623860/KB2090639/hosts", 6, 0)],
    "CPU-001": [("CPU-001", 8, 0)],
    "CPU-002": [("CPU-002/vc01/esx09.corp.example", 1, 0)],
    "CPU-003": [("CPU-003", 1, 0)],
    "CPU-004": [("CPU-004", 1, 0)],
    "CPU-005": [("CPU-005", 1, 0)],
    "CPU-006": [("CPU-006", 1, 0)],
    "GEN-001": [("GEN-001", 0, 1)],
    "IOCAP-001": [("IOCAP-001/vc01/legacy-vmfs-01", 2, 0)],
    "IOCAP-002": [("IOCAP-002/vc01/legacy-vmfs-01", 2, 0), ("IOCAP-002/vc02/vsanDatastore", 2, 0)],
    "IOCAP-003": [("IOCAP-003/vc01/legacy-vmfs-01", 4, 0)],
    "IOCAP-004": [("IOCAP-004/vc01/legacy-vmfs-01", 1, 0)],
    "IOCAP-005": [("IOCAP-005/vc02/vsanDatastore", 1, 0)],
    "IOCAP-006": [("IOCAP-006", 3, 0)],
    "IOCAP-007": [("IOCAP-007", 1, 0)],
    "IOCAP-008": [("IOCAP-008/vc01/prod-vmfs-01", 1, 0)],
    "IOCAP-009": [("IOCAP-009/vc02/old60-vmfs-01", 1, 0)],
    "LIC-002": [("LIC-002/vc01/enterprise_plus", 1, 0), ("LIC-002/vc01/standard", 1, 0)],
    "LIC-003": [("LIC-003/vc01/enterprise_plus", 1, 0)],
    "LIC-006": [("LIC-006", 1, 0)],
    "LIC-009": [("LIC-009", 3, 0)],
    "NET-001": [("NET-001/vc01", 1, 0)],
    "NET-002": [("NET-002/vc01", 1, 0), ("NET-002/vc02", 1, 0)],
    "NET-003": [("NET-003/vc01", 3, 0)],
    "NET-004": [("NET-004/vc01", 1, 0)],
    "NET-005": [("NET-005/vc01", 3, 0)],
    "NET-006": [("NET-006/vc01", 6, 0)],
    "NET-007": [("NET-007/vc01", 2, 0), ("NET-007/vc02", 1, 0)],
    "SIOC-001": [("SIOC-001", 2, 0)],
    "SIOC-002": [("SIOC-002", 2, 0)],
    "SIOC-003": [("SIOC-003", 1, 0)],
    "SIOC-004": [("SIOC-004", 1, 0)],
    "SNAP-001": [("SNAP-001/past-high", 5, 0), ("SNAP-001/past-warning", 2, 0)],
    "SNAP-002": [("SNAP-002", 1, 0)],
    "SNAP-003": [("SNAP-003", 2, 0)],
    "SNAP-004": [("SNAP-004", 1, 0)],
    "SNAP-005": [("SNAP-005", 4, 0)],
    "SNAP-006": [("SNAP-006", 1, 0)],
    "SW-001": [("SW-001/vc02", 5, 0)],
    "SW-002": [("SW-002/vc01", 9, 0), ("SW-002/vc02", 2, 0)],
    "SW-003": [("SW-003/vc01/before-6.5", 9, 0), ("SW-003/vc02/not-connected", 1, 0), ("SW-003/vc02/before-6.5", 2, 0)],
}

EXPECTED_TOP_ACTIONS = [
    ("CBT-006/6.0.0-2494585/KB2136854/vms", "high", 24),
    ("CBT-006/5.0.0-623860/KB2090639/vms", "high", 22),
    ("SNAP-001/past-high", "high", 5),
    ("SNAP-005", "high", 4),
    ("NET-001/vc01", "high", 1),
    ("NET-002/vc01", "high", 1),
    ("NET-002/vc02", "high", 1),
    ("NET-004/vc01", "high", 1),
    ("SNAP-004", "high", 1),
    ("NET-006/vc01", "medium", 6),
]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> api.ReportOutput:
    return api.demo(tmp_path_factory.mktemp("demo"), formats="json")


def test_every_check_module_declares_its_grouping_and_risk() -> None:
    checks = load_all()
    assert len(checks) == 56
    for c in checks.values():
        assert c.group_of is not None, c.meta.id


def test_exact_groups_on_the_sample(demo: api.ReportOutput) -> None:
    got: dict[str, list[tuple[str, int, int]]] = {}
    for g in all_groups(demo.results):
        got.setdefault(g.meta.id, []).append((g.id, g.objects, len(g.waived)))
    assert got == EXPECTED_GROUPS
    assert len([g for g in all_groups(demo.results) if g.open]) == 60


def test_cbt006_group_is_one_build_and_defect_listing_its_hosts_and_vms(demo: api.ReportOutput) -> None:
    [group] = [g for g in all_groups(demo.results) if g.id == "CBT-006/5.0.0-623860/KB2090639/vms"]
    assert group.title == "ESXi 5.0.0 build 623860, KB2090639: VMs possibly affected"
    assert {f.evidence["host_build"] for f in group.open} == {"623860"}
    hosts_523 = [f"esx0{i}.corp.example" for i in range(1, 7)]
    assert sorted({f.evidence["host"] for f in group.open}) == hosts_523
    assert group.risk is Risk.data_loss and group.severity is Severity.high
    [hosts] = [g for g in all_groups(demo.results) if g.id == "CBT-006/5.0.0-623860/KB2090639/hosts"]
    assert hosts.risk is Risk.hygiene and {f.object_type for f in hosts.open} == {"host"}
    assert sorted(f.object_name for f in hosts.open) == hosts_523


def test_findings_json_keeps_one_finding_per_object_with_group_and_fingerprint(demo: api.ReportOutput) -> None:
    doc = json.loads((demo.files[0].parent / "findings.json").read_text(encoding="utf-8"))
    assert len(doc) == 332
    assert all(f["group"] and f["fingerprint"].startswith(f["check_id"] + "/") for f in doc)
    assert len({f["fingerprint"] for f in doc}) == len(doc)
    assert {f["group"] for f in doc} == {g for gs in EXPECTED_GROUPS.values() for g, _, _ in gs}


def test_fingerprint_ignores_masking_wording_and_severity() -> None:
    meta = CheckMeta(id="TST-009", title="t", family="general", severity=Severity.low, object_type="license",
                     description="d", rationale="r", remediation=("fix",))
    key = "ABCDE-12345-FGHIJ-67890-KLMNO"
    raw = finding(meta, None, key, f"uuid-1/license/{key}", "expires in 3 days")
    reworded = raw.model_copy(update={"message": "expires in 2 days", "severity": Severity.high})
    c = load_all()["LIC-006"]
    [a], _ = identify(c, [raw])
    [b], _ = identify(c, [reworded])
    assert a.fingerprint == b.fingerprint == fingerprint("LIC-006", f"uuid-1/license/{key}")
    assert key not in a.fingerprint and len(a.fingerprint) == len("LIC-006/") + 16
    # Unmasked and masked reports of one snapshot carry the same fingerprints.
    snap = snapshot_io.load(SAMPLE)
    shown, _ = check(snap)
    assert [f.fingerprint for f in shown.findings if f.check_id in ("LIC-006", "LIC-009")] == [
        f.fingerprint for f in check(snap)[0].findings if f.check_id in ("LIC-006", "LIC-009")]


def test_group_key_of_a_check_decides_its_groups() -> None:
    c = load_all()["SNAP-001"]
    assert c.group_of is not None
    meta = c.meta
    old = finding(meta, None, "vm-a", "u/vm-1", "m", evidence={"oldest_age_days": 9.0, "age_high_days": 7.0})
    young = finding(meta, None, "vm-b", "u/vm-2", "m", evidence={"oldest_age_days": 4.0, "age_high_days": 7.0})
    assert c.group(old) == GroupKey("past-high", "Snapshots older than 7 days")
    assert c.group(young) == GroupKey("past-warning", "Snapshots past the warning age")


def test_exact_top_actions_on_the_sample(demo: api.ReportOutput) -> None:
    top = top_actions(demo.results)
    assert [(g.id, g.severity.value, g.objects) for g in top] == EXPECTED_TOP_ACTIONS
    ids = [g.meta.id for g in top]
    assert max(ids.count(i) for i in ids) == 2  # no check takes more than 2 places
    # the 120-day / 360 GB snapshot, the consolidation and the abandoned backup snapshots
    past_high = next(g for g in top if g.id == "SNAP-001/past-high")
    dw = next(f for f in past_high.open if f.object_name == "oracle-dw-01")
    assert dw.evidence["oldest_age_days"] == 120.0 and dw.evidence["total_size_gb"] == 360.0
    assert {"SNAP-004", "SNAP-005"} <= set(ids)
    # data loss first, then performance, then hygiene
    risks = [int(g.risk) for g in rank(all_groups(demo.results))]
    assert risks == sorted(risks)


def test_top_actions_limit_and_per_check_cap(demo: api.ReportOutput) -> None:
    assert [g.id for g in top_actions(demo.results, limit=3)] == [i for i, _, _ in EXPECTED_TOP_ACTIONS[:3]]
    one_each = top_actions(demo.results, limit=10, per_check=1)
    assert len({g.meta.id for g in one_each}) == len(one_each) == 10


def test_check_status_pass_findings_not_evaluated(demo: api.ReportOutput) -> None:
    status = {r.meta.id: (r.status, r.why) for r in demo.results.checks}
    assert status["CBT-001"] == (CheckStatus.findings, "125 open findings in 2 groups.")
    assert status["GEN-001"] == (CheckStatus.passed, "19 checked; 1 finding waived.")
    assert status["LIC-001"] == (CheckStatus.passed, "2 checked, none open.")  # the demo has history
    assert status["LIC-004"] == (CheckStatus.not_evaluated,
                                 "vCenter's license data gives no vRAM use or entitlement of its own for the 2 vRAM "
                                 "pools: there is nothing to compare the computed figures with.")
    assert status["LIC-005"][0] is CheckStatus.not_evaluated
    # Networking and software are in the sample: evaluated, with findings.
    assert status["NET-001"] == (CheckStatus.findings, "1 open finding in 1 group.")
    assert status["SW-002"] == (CheckStatus.findings, "11 open findings in 2 groups.")


def test_snapshot_without_host_networking_or_software_is_not_evaluated_never_passed() -> None:
    """A snapshot taken before host networking and software were collected: those checks are
    not evaluated (with the reason and what to do), never passed."""
    snap = snapshot_io.load(SAMPLE)
    bare = snap.model_copy(update={"vcenters": {
        u: vc.model_copy(update={"hosts": {m: h.model_copy(update={"network": None, "software": None, "system": None})
                                           for m, h in vc.hosts.items()},
                                 "distributed_switches": None, "distributed_portgroups": None})
        for u, vc in snap.vcenters.items()}})
    results, _ = check(bare)
    status = {r.meta.id: (r.status, r.why) for r in results.checks}
    for cid in ("NET-001", "NET-007", "SW-001", "SW-002", "SW-003"):
        assert status[cid][0] is CheckStatus.not_evaluated, cid
        assert "is not in this snapshot" in status[cid][1] and "Collect again with this version" in status[cid][1]
    assert not [f for f in results.findings if f.check_id.startswith(("NET-", "SW-"))]


def test_lic001_without_history_is_not_evaluated_and_says_what_to_do() -> None:
    results, _ = check(snapshot_io.load(SAMPLE))
    lic = next(r for r in results.checks if r.meta.id == "LIC-001")
    assert lic.status is CheckStatus.not_evaluated
    assert lic.why == ("No vRAM history: set [history] in the config and run `vcreport vram sample` on a schedule "
                       "(or load past readings with `vcreport history import`).")
