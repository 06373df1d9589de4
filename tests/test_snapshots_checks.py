"""Golden tests of the snapshot checks SNAP-001..006 and their tables on a small fixture."""

from __future__ import annotations

import pytest
from snapshots_fixtures import GB, MB, UUID, VmBuilder, datastore, snapshot_of

from reporter.checks import CheckContext, load_all
from reporter.checks.snapshots import snap_001_age as age
from reporter.checks.snapshots import snap_002_chain_depth as chain_depth
from reporter.checks.snapshots import snap_003_size as size
from reporter.checks.snapshots import snap_004_consolidation as consolidation
from reporter.checks.snapshots import snap_005_backup_leftover as backup_leftover
from reporter.checks.snapshots import snap_006_independent_disks as independent_disks
from reporter.checks.snapshots import tables
from reporter.checks.snapshots.settings import SnapshotSettings
from reporter.config.settings import Settings, validate_thresholds
from reporter.core.findings import Severity, Status
from reporter.core.model import Snapshot
from reporter.errors import ConfigError

DATASTORES = [
    datastore("datastore-1", "ds1", free_gb=100),
    datastore("datastore-2", "big", free_gb=2000, capacity_gb=4000),
    datastore("datastore-3", "small", free_gb=50),
]
DS_MOID = {"ds1": "datastore-1", "big": "datastore-2", "small": "datastore-3"}


def vm(moid: str, name: str, ds: str, snaps: list[tuple[str, float, int]], *, disk_gb: float = 100, **kw):
    """A one-disk VM with a linear chain: snaps = (name, age_days, running delta bytes after it)."""
    b = VmBuilder(moid, name, datastore=ds)
    b.disk(disk_gb)
    for i, (sname, age_days, delta) in enumerate(snaps):
        b.snapshot(f"{moid}-s{i + 1}", sname, age_days=age_days, deltas=delta)
    return b.build().model_copy(update={"datastores": [DS_MOID[ds]], **kw})


def fleet() -> Snapshot:
    indep = VmBuilder("vm-10", "indep01", datastore="big")
    indep.disk(40)
    indep.disk(20, disk_mode="independent_persistent")
    indep.snapshot("vm-10-s1", "before change", age_days=1, deltas=1 * GB)
    leftover = VmBuilder("vm-8", "consol01", datastore="big")
    leftover.delta(leftover.disk(40), 8 * GB)
    vms = [
        vm("vm-1", "old01", "big", [("patch", 10, 2 * GB)]),
        vm("vm-2", "warn01", "big", [("test", 4, 1 * GB)]),
        vm("vm-3", "young01", "big", [("daily", 1, 1 * GB)]),
        vm("vm-4", "deep01", "big", [("a", 2, 1 * GB), ("b", 1.5, 1 * GB), ("c", 1, 1 * GB), ("d", 0.5, 1 * GB)]),
        vm("vm-5", "big01", "big", [("pre-upgrade", 1, 120 * GB)], disk_gb=200),
        vm("vm-6", "pct01", "ds1", [("pre-upgrade", 1, 60 * GB)]),
        vm("vm-7", "full01", "small", [("pre-upgrade", 1, 60 * GB)]),
        leftover.build().model_copy(update={"datastores": ["datastore-2"], "consolidation_needed": True}),
        vm("vm-9", "bkp01", "big", [("VEEAM BACKUP TEMPORARY SNAPSHOT", 2, 1 * GB),
                                    ("NBU_SNAPSHOT vmbk01 1700000000", 0.1, 1 * GB)]),
        indep.build().model_copy(update={"datastores": ["datastore-2"]}),
        vm("vm-11", "blind01", "big", [("nightly", 1, 1 * GB)], layout_ex=None),
        vm("vm-12", "edge01", "big", [("exactly three days", 3, 1 * GB)]),
        vm("vm-13", "plain01", "big", [], consolidation_needed=False),
    ]
    return snapshot_of(vms, DATASTORES)


def run(module, snap: Snapshot | None = None, previous: Snapshot | None = None, **settings):
    s = Settings(thresholds={"snapshots": SnapshotSettings(**settings)}) if settings else Settings()
    return module.run(CheckContext(snap or fleet(), settings=s, previous=previous))


def summary(out) -> list[tuple]:
    return [(f.object_name, f.severity, f.status) for f in out.findings]


def test_registered_with_metadata() -> None:
    checks = load_all()
    for cid in ("SNAP-001", "SNAP-002", "SNAP-003", "SNAP-004", "SNAP-005", "SNAP-006"):
        m = checks[cid].meta
        assert m.family == "snapshots" and m.object_type == "vm"
        assert m.references and all(r.url and r.url.startswith("https://knowledge.broadcom.com/") for r in m.references)


def test_snap001_age_tiers() -> None:
    out = run(age)
    assert out.checked == 13  # every VM whose snapshots were read, 11 of them with snapshots: the others are clean
    # edge01 is exactly 3.0 days old: not "older than" 3 days.
    assert summary(out) == [("old01", Severity.high, Status.fail), ("warn01", Severity.medium, Status.warn)]
    old = out.findings[0]
    assert old.object_id == f"{UUID}/vm-1"
    assert old.evidence["oldest_snapshot"] == "patch"
    assert old.evidence["oldest_age_days"] == 10.0
    assert old.evidence["total_size_gb"] == round((300 + 2 * GB + 1 * MB) / GB, 2)
    assert old.evidence["snapshots_over_threshold"][0]["created"] == "2026-11-13T06:00:00+00:00"
    assert "VMware advises at most 72 hours" in old.message
    assert "PowerCLI: Get-VM -Name 'old01' | Get-Snapshot -Name 'patch' | Remove-Snapshot -Confirm:$false" in old.remediation
    assert "govc: govc snapshot.remove -vm old01 patch" in old.remediation
    assert "(big: up to 2 GB to merge, 2000 GB free)" in old.remediation


def test_snap001_ages_count_from_each_vcenters_own_collection() -> None:
    """A report merged from two collection jobs: the second vCenter was read two days after the
    first (the merged snapshot carries the first's time). Its 6-day-old snapshot is 6 days old at
    its own collection, not 4 at the other vCenter's, in the check and in the Snapshots tab alike."""
    from datetime import timedelta

    from snapshots_fixtures import NOW

    from reporter.core.model import VCenter
    from reporter.render.base import ReportContext
    from reporter.render.sheets import inventory_sheets

    first = snapshot_of([vm("vm-1", "early01", "big", [("patch", 1, 1 * GB)])], DATASTORES)
    late = VmBuilder("vm-1", "late01", datastore="big")
    late.disk(100)
    late.snapshot("vm-1-s1", "patch", age_days=4, deltas=1 * GB)  # 4 days before NOW: 6 days before NOW + 2
    vc2 = VCenter(name="vc02", host="vc02.example", instance_uuid="vc-uuid-2", collected_at=NOW + timedelta(days=2),
                  vms={"vm-1": late.build().model_copy(update={"datastores": ["datastore-2"]})},
                  datastores={d.moid: d for d in DATASTORES})
    merged = first.model_copy(update={"vcenters": {**first.vcenters, "vc-uuid-2": vc2}})
    out = run(age, merged)
    assert summary(out) == [("late01", Severity.medium, Status.warn)]
    assert out.findings[0].evidence["oldest_age_days"] == 6.0
    from reporter.checks.engine import Results
    sheet = next(s for s in inventory_sheets(ReportContext(snapshot=merged, results=Results([]), tables=[]))
                 if s.id == "snapshots")
    ages = {row[1]: row[sheet.columns.index("Age (days)")] for row in sheet.rows}
    assert ages == {"early01": 1.0, "late01": 6.0}


def test_snap001_settings_change_tiers() -> None:
    out = run(age, age_warn_days=0.5, age_high_days=3.5)
    got = {f.object_name: (f.severity, f.status) for f in out.findings}
    assert got["warn01"] == (Severity.high, Status.fail)
    assert got["edge01"] == (Severity.medium, Status.warn)  # 3.0 > 0.5 but not > 3.5
    assert got["young01"] == (Severity.medium, Status.warn)
    assert "plain01" not in got


def test_snap002_chain_depth() -> None:
    out = run(chain_depth)
    assert summary(out) == [("deep01", Severity.medium, Status.fail)]
    ev = out.findings[0].evidence
    assert (ev["chain_depth"], ev["max_chain_depth"]) == (4, 3)
    assert [c["name"] for c in ev["chain"]] == ["a", "b", "c", "d"]
    assert out.findings[0].remediation.count("Delete All") == 1
    assert summary(run(chain_depth, max_chain_depth=4)) == []


def test_snap002_supported_maximum_is_high() -> None:
    snap = snapshot_of([vm("vm-1", "long01", "big", [(f"s{i}", 1, 1 * MB) for i in range(32)])], DATASTORES)
    [f] = run(chain_depth, snap).findings
    assert (f.severity, f.evidence["chain_depth"]) == (Severity.high, 32)
    assert "no further snapshot can be taken" in f.message


def test_snap003_size_and_share_of_free_space() -> None:
    out = run(size)
    assert summary(out) == [
        ("big01", Severity.medium, Status.fail),
        ("pct01", Severity.medium, Status.fail),
        ("full01", Severity.high, Status.fail),
    ]
    by = {f.object_name: f for f in out.findings}
    big = 120 * GB + 300 + 1 * MB
    assert by["big01"].evidence["total_size_gb"] == round(big / GB, 2)
    assert by["big01"].message == "Snapshot space: snapshots hold 120.0 GB (threshold 100 GB)."
    assert by["pct01"].evidence["datastores"] == [{
        "datastore": "ds1", "snapshot_gb": 60.0, "merge_worst_case_gb": 60.0, "free_gb": 100.0, "pct_of_free": 60.0}]
    assert by["full01"].evidence["datastores"][0]["pct_of_free"] == 120.0
    assert "= 120 % of its 50 GB free space" in by["full01"].message
    assert out.notes == ["1 VM has snapshots of unknown size (vCenter did not report all of the VM's file layout): blind01"]


def test_snap004_consolidation_needed() -> None:
    out = run(consolidation)
    assert out.checked == 2  # consolidationNeeded reported only for consol01 and plain01
    assert summary(out) == [("consol01", Severity.high, Status.fail)]
    f = out.findings[0]
    assert f.evidence["leftover_deltas"] == [{"datastore": "big", "delta_gb": 8.0, "free_gb": 2000.0}]
    assert "right-click consol01 > Snapshots > Consolidate" in f.remediation
    assert "(Get-VM -Name 'consol01').ExtensionData.ConsolidateVMDisks_Task()" in f.remediation
    assert out.notes == ["Whether consolidation is needed was not reported for 11 VMs."]


def test_snap005_backup_leftovers_after_grace() -> None:
    out = run(backup_leftover)
    assert summary(out) == [("bkp01", Severity.high, Status.fail)]
    ev = out.findings[0].evidence
    # The NetBackup snapshot is 2.4 h old: a job may still own it.
    assert [(b["name"], b["pattern"]) for b in ev["backup_snapshots"]] == [
        ("VEEAM BACKUP TEMPORARY SNAPSHOT", "VEEAM BACKUP TEMPORARY SNAPSHOT")]
    assert out.findings[0].message == "Backup snapshot 'VEEAM BACKUP TEMPORARY SNAPSHOT' (2.0 days old) was left behind."
    assert "govc: govc snapshot.remove -vm bkp01 'VEEAM BACKUP TEMPORARY SNAPSHOT'" in out.findings[0].remediation
    got = run(backup_leftover, backup_snapshot_grace_hours=1).findings[0].evidence["backup_snapshots"]
    assert [b["pattern"] for b in got] == ["VEEAM BACKUP TEMPORARY SNAPSHOT", "NBU_SNAPSHOT"]
    assert run(backup_leftover, backup_snapshot_patterns=["daily"]).findings[0].object_name == "young01"


def test_snap006_independent_disks() -> None:
    out = run(independent_disks)
    assert summary(out) == [("indep01", Severity.medium, Status.fail)]
    f = out.findings[0]
    assert f.evidence["independent_disks"] == [{
        "label": "Hard disk 2", "node": "scsi0:1", "key": 2001, "mode": "Independent - Persistent",
        "capacity_gb": 20.0, "file": "[big] indep01/indep01_2001.vmdk"}]
    assert f.message == "1 snapshot does not capture the independent disk Hard disk 2 (Independent - Persistent)."
    assert "govc: govc vm.disk.change -vm indep01 -disk.key 2001 -mode persistent" in f.remediation


def test_settings_validation() -> None:
    with pytest.raises(ConfigError, match="age_high_days must be at least age_warn_days"):
        validate_thresholds({"snapshots": {"age_warn_days": 10, "age_high_days": 5}}, "cfg.toml")
    with pytest.raises(ConfigError, match="thresholds.snapshots.max_chain_depth"):
        validate_thresholds({"snapshots": {"max_chain_depth": 40}}, "cfg.toml")
    got = validate_thresholds({"snapshots": {"backup_snapshot_patterns": ["MyBackup"]}}, "cfg.toml")["snapshots"]
    assert got.backup_snapshot_patterns == ["MyBackup"]  # type: ignore[attr-defined]


def test_growth_since_previous_run() -> None:
    prev = snapshot_of([vm("vm-5", "big01", "big", [("pre-upgrade", 0, 100 * GB)], disk_gb=200)], DATASTORES)
    out = run(size, previous=prev)
    f = next(f for f in out.findings if f.object_name == "big01")
    assert f.evidence["growth_since_last_run_gb"] == 20.0
    assert f.evidence["snapshots"][0]["growth_since_last_run_gb"] == 20.0
    other = next(f for f in out.findings if f.object_name == "pct01")
    assert other.evidence["snapshots"][0]["new_since_last_run"] is True
    assert other.evidence["growth_since_last_run_gb"] is None

    ctx = CheckContext(fleet(), previous=prev)
    [t_list, _] = tables.snapshot_tables(ctx)
    row = next(r for r in t_list.rows if r[1] == "big01")
    assert row[10] == 20.0


def test_tables() -> None:
    snap = snapshot_of([
        vm("vm-1", "old01", "big", [("patch", 10, 2 * GB)]),
        vm("vm-6", "pct01", "ds1", [("pre-upgrade", 1, 60 * GB)]),
        vm("vm-11", "blind01", "big", [("nightly", 1, 1 * GB)], layout_ex=None),
    ], DATASTORES)
    snap_list, space = tables.snapshot_tables(CheckContext(snap))
    assert snap_list.columns[:10] == ["vCenter", "VM", "Snapshot", "Created (UTC)", "Age (days)", "Size (GB)", "Depth",
                                      "Current", "Quiesced", "Memory"]
    assert [r[:11] for r in snap_list.rows] == [
        ["vc01", "blind01", "nightly", "2026-11-22T06:00+00:00", 1.0, None, 1, True, False, False, None],
        ["vc01", "old01", "patch", "2026-11-13T06:00+00:00", 10.0, 2.0, 1, True, False, False, None],
        ["vc01", "pct01", "pre-upgrade", "2026-11-22T06:00+00:00", 1.0, 60.0, 1, True, False, False, None],
    ]
    assert snap_list.rows[0][11].startswith("size unknown: vCenter did not report the VM's file layout")
    assert space.chart == {"type": "bar", "x": "Datastore", "y": ["Snapshot GB", "Free GB"]}
    assert space.rows == [
        ["vc01", "ds1", "VMFS", 60.0, 100.0, 1000.0, 60.0, 1, None],
        ["vc01", "big", "VMFS", 2.0, 2000.0, 4000.0, 0.1, 1, "blind01"],
    ]


def test_snap003_full_datastore_is_high() -> None:
    # A datastore with 0 bytes free has no "share of free space" (x / 0): it was skipped as unknown,
    # though a full datastore is the worst case (every VM needing to grow a delta stops).
    full = datastore("datastore-9", "full", free_gb=0, capacity_gb=500)
    b = VmBuilder("vm-1", "stuck01", datastore="full")
    b.disk(100)
    b.snapshot("vm-1-s1", "pre-upgrade", age_days=1, deltas=5 * GB)
    snap = snapshot_of([b.build().model_copy(update={"datastores": ["datastore-9"]})], [full])
    [f] = run(size, snap).findings
    assert (f.object_name, f.severity, f.status) == ("stuck01", Severity.high, Status.fail)
    row = f.evidence["datastores"][0]
    assert row["datastore"] == "full"
    assert row["free_gb"] == 0.0
    assert row["pct_of_free"] is None
    assert row["no_free_space"] is True
    assert f.message == ("Snapshot space: 5 GB on full, which has no free space left (deleting or consolidating "
                         "cannot merge anything until space is freed).")


def test_snap001_group_follows_the_exact_age_not_the_rounded_one() -> None:
    # 6.97 days shows as 7.0 in the evidence but is not older than 7 days: medium, and grouped as
    # past the warning age (it was grouped under "Snapshots older than 7 days").
    snap = snapshot_of([vm("vm-1", "almost01", "big", [("patch", 6.97, 1 * GB)]),
                        vm("vm-2", "seven01", "big", [("patch", 7.0, 1 * GB)]),
                        vm("vm-3", "over01", "big", [("patch", 7.01, 1 * GB)])], DATASTORES)
    out = run(age, snap)
    check = load_all()["SNAP-001"]
    got = [(f.object_name, f.evidence["oldest_age_days"], f.severity, f.evidence["past_high_age"], check.group(f).key)
           for f in out.findings]
    assert got == [
        ("almost01", 7.0, Severity.medium, False, "past-warning"),
        ("seven01", 7.0, Severity.medium, False, "past-warning"),
        ("over01", 7.0, Severity.high, True, "past-high"),
    ]
