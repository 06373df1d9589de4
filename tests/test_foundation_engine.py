"""Checks framework: registry, exact findings of the general checks, waivers, broken checks."""

from __future__ import annotations

from datetime import date

import pytest

from reporter.checks import Check, CheckContext, all_checks, load_all
from reporter.checks.engine import run_checks
from reporter.checks.general import gen_001_host_connection as host_connection
from reporter.config import WaiverConfig
from reporter.core.findings import Severity, Status
from reporter.core.model import CollectionError, Host, Snapshot, VCenter


def snap_with_hosts(*states: str | None) -> Snapshot:
    hosts = {f"host-{i}": Host(moid=f"host-{i}", name=f"esx{i}", connection_state=s, version="8.0.2", build="1")
             for i, s in enumerate(states)}
    return Snapshot(vcenters={"u1": VCenter(name="vc01", host="vc01", instance_uuid="u1", hosts=hosts)})


def test_registry_ids_unique_and_metadata_complete() -> None:
    checks = all_checks()
    assert len({c.meta.id for c in checks}) == len(checks)
    for c in checks:
        m = c.meta
        assert m.id and m.title and m.description and m.rationale, m.id
        assert m.remediation and all(step.strip() for step in m.remediation), m.id
        assert m.family and m.object_type, m.id


def test_gen001_exact_findings() -> None:
    out = host_connection.run(CheckContext(snap_with_hosts("connected", "notResponding", None, "disconnected")))
    assert out.checked == 4
    got = [(f.object_name, f.severity, f.status, f.evidence.get("connection_state")) for f in out.findings]
    assert got == [
        ("esx1", Severity.high, Status.fail, "notResponding"),
        ("esx2", Severity.low, Status.warn, None),
        ("esx3", Severity.high, Status.fail, "disconnected"),
    ]
    assert [f.message for f in out.findings] == [
        "Host is not responding: its VMs and settings cannot be verified.", "Connection state could not be read.",
        "Host is disconnected: its VMs and settings cannot be verified."]
    assert out.findings[0].object_id == "u1/host-1"
    assert out.findings[0].vcenter == "vc01"
    assert "Connection > Connect" in out.findings[0].remediation


def test_gen002_lists_collection_errors() -> None:
    snap = Snapshot(collection_errors=[CollectionError(vcenter="vc02", stage="connect", error_type="ConnectionFailed",
                                                       message="vc02 (vc02:443): connection refused")])
    res = run_checks(CheckContext(snap), only=["GEN-002"])
    [f] = res.findings
    assert (f.check_id, f.vcenter, f.severity, f.object_id) == ("GEN-002", "vc02", Severity.high, "vc02/connect")
    assert "connection refused" in f.message


def test_waivers_applied_and_expired() -> None:
    snap = snap_with_hosts("disconnected", "notResponding")
    waivers = [
        WaiverConfig(check_id="GEN-001", object="esx0", reason="decommissioning", expires=date(2027, 1, 1)),
        WaiverConfig(check_id="GEN-*", object="esx1", reason="old", expires=date(2026, 1, 1)),
    ]
    res = run_checks(CheckContext(snap), waivers=waivers, today=date(2026, 6, 1), only=["GEN-001"])
    by_name = {f.object_name: f for f in res.findings}
    assert by_name["esx0"].status == Status.waived
    assert by_name["esx0"].evidence["waiver"] == {"reason": "decommissioning", "expires": "2027-01-01", "pattern": "esx0"}
    assert by_name["esx1"].status == Status.fail
    assert by_name["esx1"].evidence["waiver_expired"]["expired"] == "2026-01-01"
    assert res.counts()["high"] == 1  # the waived one no longer counts as open


def test_broken_check_becomes_error_finding(monkeypatch: pytest.MonkeyPatch) -> None:
    good = load_all()["GEN-001"]

    def broken(ctx: CheckContext):
        raise KeyError("boom")

    bad = Check(meta=good.meta.__class__(**{**good.meta.__dict__, "id": "ZZZ-999"}), run=broken)
    monkeypatch.setattr("reporter.checks.engine.all_checks", lambda: [bad, good])
    res = run_checks(CheckContext(snap_with_hosts("disconnected")))
    statuses = [(r.meta.id, [f.status for f in r.findings]) for r in res.checks]
    assert statuses == [("ZZZ-999", [Status.error]), ("GEN-001", [Status.fail])]
    assert "KeyError" in res.checks[0].findings[0].message


def test_a_check_that_saw_nothing_is_not_evaluated_never_passed() -> None:
    # No hosts at all: GEN-001 looked at nothing, so it says so instead of a pass.
    snap = Snapshot(vcenters={"u1": VCenter(name="vc01", host="vc01", instance_uuid="u1")})
    [result] = run_checks(CheckContext(snap), only=["GEN-001"]).checks
    assert result.findings == [] and result.checked == 0
    assert result.not_evaluated == "Nothing to evaluate: no hosts this check applies to in the collected inventory."


def test_a_check_that_could_read_nothing_gives_its_own_reason() -> None:
    """VMs there, but vCenter reported none's consolidation state: not "no VMs this check applies to"
    but why nothing could be evaluated (the check's note), and the note not repeated beside it."""
    from reporter.core.model import VM

    vms = {f"vm-{i}": VM(moid=f"vm-{i}", name=f"app-{i}", consolidation_needed=None) for i in range(3)}
    snap = Snapshot(vcenters={"u1": VCenter(name="vc01", host="vc01", instance_uuid="u1", vms=vms)})
    [result] = run_checks(CheckContext(snap), only=["SNAP-004"]).checks
    assert result.findings == [] and result.checked == 0
    assert result.not_evaluated == "Nothing could be evaluated. Whether consolidation is needed was not reported for 3 VMs."
    assert result.notes == []
    # One VM reported: evaluated (a pass on one VM), the other two noted.
    vms["vm-0"] = vms["vm-0"].model_copy(update={"consolidation_needed": False})
    snap = Snapshot(vcenters={"u1": VCenter(name="vc01", host="vc01", instance_uuid="u1", vms=vms)})
    [result] = run_checks(CheckContext(snap), only=["SNAP-004"]).checks
    assert (result.checked, result.not_evaluated) == (1, None)
    assert result.notes == ["Whether consolidation is needed was not reported for 2 VMs."]
    # No VM has a snapshot: every VM was looked at and is clean (a pass on 3 VMs, not "nothing seen")...
    results = run_checks(CheckContext(snap), only=["SNAP-001", "SNAP-006"]).checks
    assert [(r.checked, r.not_evaluated, r.findings) for r in results] == [(3, None, [])] * 2
    # ... unless no VM's snapshots could be read: then that is what the checks say, in those words.
    unread = {m: v.model_copy(update={"unreadable": {"snapshot": "NoPermission"}}) for m, v in vms.items()}
    snap = Snapshot(vcenters={"u1": VCenter(name="vc01", host="vc01", instance_uuid="u1", vms=unread)})
    results = run_checks(CheckContext(snap), only=["SNAP-001", "SNAP-006"]).checks
    assert [r.not_evaluated for r in results] == [
        "Nothing to evaluate: no VMs whose snapshots could be read in the collected inventory."] * 2


def test_gen001_fix_commands_name_the_host():
    """The steps to reconnect a host name it, quoted for PowerShell and the shell (a hostile name
    stays one argument)."""
    from reporter import api

    snap = api.load_snapshot(api.find_sample("sample-snapshot.json.gz"))
    results, _tables = api.check(snap)
    (f,) = [f for f in results.findings if f.check_id == "GEN-001"]
    assert f.object_name == "esx-spare.dc2.example"
    assert f.remediation.splitlines()[1:] == ["PowerCLI: Get-VMHost -Name 'esx-spare.dc2.example' | Set-VMHost -State Connected",
                                 "govc: govc host.reconnect -host esx-spare.dc2.example"]
    vc = next(v for v in snap.vcenters.values() if any(h.name == f.object_name for h in v.hosts.values()))
    moid = next(m for m, h in vc.hosts.items() if h.name == f.object_name)
    vc.hosts[moid] = vc.hosts[moid].model_copy(update={"name": "it's; rm -rf /"})
    results, _tables = api.check(snap)
    (f,) = [f for f in results.findings if f.check_id == "GEN-001"]
    assert f.remediation.splitlines()[1:] == ["PowerCLI: Get-VMHost -Name 'it''s; rm -rf /' | Set-VMHost -State Connected",
                                 "govc: govc host.reconnect -host 'it'\"'\"'s; rm -rf /'"]


def test_nothing_to_evaluate_names_what_was_missing() -> None:
    """A check with nothing in scope says what it looks for, in words, not "VMs this check applies to"."""
    from reporter.core.model import VM

    vm = VM(moid="vm-1", name="app-1", consolidation_needed=False, change_tracking_enabled=False)
    snap = Snapshot(vcenters={"u1": VCenter(name="vc01", host="vc01", instance_uuid="u1", vms={"vm-1": vm},
                                            licenses=[])})
    why = {r.meta.id: r.not_evaluated for r in run_checks(CheckContext(snap)).checks}
    assert why["CBT-002"] == "Nothing to evaluate: no VMs with CBT on in the collected inventory."
    assert why["CPU-006"] == "Nothing to evaluate: no Windows Server 2003 VMs in the collected inventory."
    assert why["SIOC-002"] == "Nothing to evaluate: no datastores with Storage I/O Control on in the collected inventory."
    assert why["LIC-006"] == "Nothing to evaluate: no purchased license keys in the collected inventory."
    assert why["LIC-002"] == "Nothing to evaluate: no vSphere 5.0 vRAM pools with an entitlement in the collected inventory."
    # Without a phrase of its own, the object type in the words the report uses elsewhere ("physical NICs").
    assert why["NET-002"] == "Nothing to evaluate: no physical NICs this check applies to in the collected inventory."
    # The VM's snapshot list was read (empty): the snapshot checks passed on it.
    assert why["SNAP-001"] is None
