"""Golden tests of the CBT checks CBT-001..006, the per-disk state, the backup scope and tables."""

from __future__ import annotations

from typing import Any

import pytest
from snapshots_fixtures import GB, UUID, VmBuilder, datastore, host, snapshot_of

from reporter.checks import CheckContext, load_all
from reporter.checks.cbt import cbt_001_off_in_scope as off_in_scope
from reporter.checks.cbt import cbt_002_disk_off as disk_off
from reporter.checks.cbt import cbt_003_pending as pending
from reporter.checks.cbt import cbt_004_unsupported_disks as unsupported_disks
from reporter.checks.cbt import cbt_005_hw_version as hw_version
from reporter.checks.cbt import cbt_006_known_defects as known_defects
from reporter.checks.cbt import tables
from reporter.checks.cbt.settings import CbtSettings
from reporter.config.settings import Settings
from reporter.core.findings import Severity, Status
from reporter.core.model import VM, Snapshot
from reporter.domain.cbt import (
    ACTIVE,
    INDEPENDENT,
    OFF,
    PENDING,
    PHYSICAL_RDM,
    VM_OFF,
    disk_states,
    in_backup_scope,
    state_words,
    vm_state,
)

CID = "52 1a 2b 3c 4d 5e 6f 70-81 92 a3 b4 c5 d6 e7 f8/42"
HOSTS = [
    host("host-1", "esx80", "8.0.2", "22380479"),
    host("host-2", "esx55", "5.5.0", "1331820"),
    host("host-3", "esx60", "6.0.0", "2494585"),
    host("host-4", "esx60p", "6.0.0", "3247720"),
    host("host-6", "esx41", "4.1.0", "1682698"),
    host("host-7", "esx51x", "5.1.0", None),  # type: ignore[arg-type]
]


def cbt_vm(moid: str, name: str, disks: list[dict[str, Any]], *, cbt: bool | None = True, host_: str = "host-1",
           **fields: Any) -> VM:
    """disks: dicts with size_gb, flag ("TRUE"/"FALSE"/None), change_id, and Disk fields."""
    b = VmBuilder(moid, name)
    extra: dict[str, str] = {}
    if cbt:
        extra["ctkEnabled"] = "TRUE"
    for spec in disks:
        spec = dict(spec)
        flag = spec.pop("flag", "TRUE" if cbt else None)
        size = spec.pop("size_gb", 40)
        b.disk(size, **spec)
        d = b.disks[-1]
        if flag is not None:
            extra[f"{d.device_node}.ctkEnabled"] = flag
    fields.setdefault("folder_path", "/DC/vm/prod")
    return b.build().model_copy(update={"change_tracking_enabled": cbt, "extra_config": extra, "host": host_,
                                        "datastores": ["datastore-1"], **fields})


def fleet() -> Snapshot:
    vms = [
        cbt_vm("vm-1", "on01", [{"change_id": CID}]),
        cbt_vm("vm-2", "off01", [{}], cbt=False),
        cbt_vm("vm-3", "offpoweredoff01", [{}], cbt=False, power_state="poweredOff"),
        cbt_vm("vm-4", "template01", [{}], cbt=False, template=True),
        cbt_vm("vm-5", "partial01", [
            {"change_id": CID},
            {"flag": "FALSE"},
            {"flag": None, "controller": "sata", "bus": 0, "unit": 0},
        ]),
        cbt_vm("vm-6", "pending01", [{}, {}]),
        cbt_vm("vm-7", "pendingoff01", [{}], power_state="poweredOff"),
        cbt_vm("vm-8", "rdm01", [{"change_id": CID}, {"compatibility_mode": "physicalMode", "backing_type": "rdm"},
                                 {"disk_mode": "independent_persistent"}]),
        cbt_vm("vm-9", "hw4", [{}], cbt=False, hw_version="vmx-04"),
        cbt_vm("vm-10", "kb55big", [{"size_gb": 200, "change_id": CID}], host_="host-2"),
        cbt_vm("vm-11", "kb55small", [{"size_gb": 100, "change_id": CID}], host_="host-2"),
        cbt_vm("vm-12", "kb60", [{"change_id": CID}], host_="host-3"),
        cbt_vm("vm-13", "kb60fixed", [{"change_id": CID}], host_="host-4"),
        cbt_vm("vm-14", "kb41", [{"size_gb": 50, "change_id": CID}], host_="host-6"),
        cbt_vm("vm-15", "unknownbuild", [{"change_id": CID}], host_="host-7"),
        cbt_vm("vm-16", "noflag01", [{}], cbt=None),
    ]
    return snapshot_of(vms, [datastore("datastore-1", "ds1", free_gb=500)], HOSTS)


def run(module, snap: Snapshot | None = None, **settings: Any):
    s = Settings(thresholds={"cbt": CbtSettings(**settings)}) if settings else Settings()
    return module.run(CheckContext(snap or fleet(), settings=s))


def summary(out) -> list[tuple]:
    return [(f.object_name, f.severity, f.status) for f in out.findings]


def vm_named(snap: Snapshot, name: str) -> VM:
    return next(v for vc in snap.vcenters.values() for v in vc.vms.values() if v.name == name)


def test_registered_with_metadata() -> None:
    checks = load_all()
    for cid in ("CBT-001", "CBT-002", "CBT-003", "CBT-004", "CBT-005", "CBT-006"):
        m = checks[cid].meta
        assert m.family == "cbt" and m.object_type == "vm" and m.references


def test_disk_states() -> None:
    snap = fleet()
    states = {name: [d.state for d in disk_states(vm_named(snap, name))]
              for name in ("on01", "off01", "partial01", "pending01", "rdm01")}
    assert states == {
        "on01": [ACTIVE],
        "off01": [VM_OFF],
        "partial01": [OFF, ACTIVE, OFF],  # sorted by controller: sata0:0 before scsi0:0
        "pending01": [PENDING, PENDING],
        "rdm01": [ACTIVE, PHYSICAL_RDM, INDEPENDENT],
    }
    assert [vm_state(vm_named(snap, n)) for n in ("on01", "off01", "partial01", "pending01", "rdm01", "noflag01")] == [
        "on", "off", "partial", "pending", "on", "unknown"]


def test_ctk_flag_keys_are_case_insensitive() -> None:
    v = cbt_vm("vm-1", "x", [{"flag": None}]).model_copy(update={"extra_config": {"SCSI0:0.CTKENABLED": "true"}})
    assert [d.state for d in disk_states(v)] == [PENDING]


def test_cbt001_off_in_scope() -> None:
    out = run(off_in_scope)
    # in scope by default: powered-on, non-template VMs with hardware >= 7 (hw4 is CBT-005's)
    assert summary(out) == [("off01", Severity.medium, Status.fail)]
    f = out.findings[0]
    assert f.object_id == f"{UUID}/vm-2"
    assert f.evidence["change_tracking_enabled"] is False
    assert f.evidence["disks"] == [{"disk": "Hard disk 1", "node": "scsi0:0", "capacity_gb": 40.0, "mode": "Dependent",
                                    "rdm": None, "ctkEnabled": None, "change_id": None, "state": "Off for the VM"}]
    assert ("$spec.ChangeTrackingEnabled = $true; (Get-VM -Name 'off01').ExtensionData.ReconfigVM($spec)"
            in f.remediation)
    assert "govc vm.change -vm off01 -e ctkEnabled=TRUE -e scsi0:0.ctkEnabled=TRUE" in f.remediation
    assert "govc snapshot.create -vm off01 -m=false cbt-stun && govc snapshot.remove -vm off01 cbt-stun" in f.remediation
    assert out.notes == ["Whether Changed Block Tracking is on was not reported for 1 VM in scope."]


def test_cbt001_scope_settings() -> None:
    assert summary(run(off_in_scope, scope_include_powered_off=True)) == [
        ("off01", Severity.medium, Status.fail), ("offpoweredoff01", Severity.medium, Status.fail)]
    assert summary(run(off_in_scope, scope_name_patterns=["ON*"])) == []
    assert [f.object_name for f in run(off_in_scope, scope_folders=["/DC/vm"]).findings] == ["off01"]
    assert [f.object_name for f in run(off_in_scope, exclude_name_patterns=["off*"]).findings] == []
    out = run(off_in_scope, scope_tags=["Backup/Gold"])
    assert out.findings == []
    assert out.notes[0].startswith("13 VMs could not be placed in or out of the backup scope")


def test_backup_scope_rules() -> None:
    s = CbtSettings(scope_folders=["/DC/vm/prod"], scope_tags=["gold"])
    base = cbt_vm("vm-1", "a", [{}], cbt=False)
    assert in_backup_scope(base, s) is True  # folder
    assert in_backup_scope(base.model_copy(update={"folder_path": "/DC/vm/prod/sub"}), s) is True
    assert in_backup_scope(base.model_copy(update={"folder_path": "/DC/vm/production"}), s) is None  # tags unknown
    other = base.model_copy(update={"folder_path": "/DC/vm/test"})
    assert in_backup_scope(other.model_copy(update={"tags": ["Backup/Gold"]}), s) is True
    assert in_backup_scope(other.model_copy(update={"tags": ["Backup/Silver"]}), s) is False
    assert in_backup_scope(base.model_copy(update={"power_state": "suspended"}), s) is False
    assert in_backup_scope(base.model_copy(update={"template": True}), CbtSettings()) is False
    glob = CbtSettings(scope_folders=["/DC*/vm/sql-*"])
    assert in_backup_scope(base.model_copy(update={"folder_path": "/DC2/vm/sql-prod"}), glob) is True


def test_cbt002_disk_off() -> None:
    out = run(disk_off)
    assert summary(out) == [("partial01", Severity.medium, Status.fail)]
    f = out.findings[0]
    assert f.message == ("CBT is on for the VM but not for Hard disk 3 (sata0:0: ctkEnabled not set), "
                         "Hard disk 2 (scsi0:1: ctkEnabled FALSE).")
    assert "govc vm.change -vm partial01 -e sata0:0.ctkEnabled=TRUE -e scsi0:1.ctkEnabled=TRUE" in f.remediation
    assert [d["state"] for d in f.evidence["disks"]] == [state_words(OFF), state_words(ACTIVE), state_words(OFF)]


def test_cbt003_pending_activation() -> None:
    out = run(pending)
    assert summary(out) == [("pending01", Severity.medium, Status.fail), ("pendingoff01", Severity.low, Status.fail)]
    assert out.findings[0].message == "CBT is switched on but not active yet: no disk has a changeId."
    assert "New-Snapshot -VM 'pending01' -Name 'cbt-stun' | Remove-Snapshot -Confirm:$false" in out.findings[0].remediation
    assert "CBT becomes active at its next power-on" in out.findings[1].remediation


def test_cbt004_unsupported_disks() -> None:
    out = run(unsupported_disks)
    assert summary(out) == [("rdm01", Severity.medium, Status.fail)]
    f = out.findings[0]
    assert f.message == ("Image-level backups leave out physical-mode RDM Hard disk 2 (no snapshot, no CBT); "
                         "independent disk Hard disk 3 (Independent - Persistent) (not in snapshots).")
    assert [d["state"] for d in f.evidence["disks"]] == ["Not available: physical-mode RDM",
                                                        "Independent: skipped by snapshot backups"]


def test_cbt005_hardware_version() -> None:
    out = run(hw_version)
    assert summary(out) == [("hw4", Severity.medium, Status.fail)]
    assert out.findings[0].message == "Hardware version vmx-04 is older than vmx-07: CBT is not available."
    assert "govc: govc vm.upgrade -version=7 -vm hw4" in out.findings[0].remediation


def test_cbt006_known_defect_builds() -> None:
    out = run(known_defects)
    assert summary(out) == [
        ("kb55big", Severity.high, Status.fail),
        ("kb60", Severity.high, Status.fail),
        ("esx55", Severity.medium, Status.fail),  # "at risk" VMs are summed up per host
        ("esx41", Severity.medium, Status.fail),
    ]
    by = {f.object_name: f for f in out.findings}
    big = by["kb55big"]
    assert "KB2090639: possibly affected — CBT disk(s) larger than 128 GB (Hard disk 1)" in big.message
    [d] = big.evidence["defects"]
    assert (d["kb"], d["fixed_build"], d["fix_verified"], d["disks_over_boundary"]) == (
        "KB2090639", 2302651, False, ["Hard disk 1"])
    assert "fixed build not verified against the KB, check it" in big.remediation
    esx55 = by["esx55"]
    assert esx55.object_type == "host"
    assert esx55.evidence["vms_at_risk"] == ["kb55small"]
    assert "in the affected range of KB2090639: 1 VM with CBT on is at risk" in esx55.message
    assert esx55.remediation.startswith("Upgrade esx55 (ESXi 5.5.0 build 1331820) to ")
    assert "do not grow CBT-enabled disks" in esx55.remediation
    [d60] = by["kb60"].evidence["defects"]
    assert (d60["kb"], d60["fixed_build"], d60["fix_verified"]) == ("KB2136854", 3247720, True)
    assert by["kb60"].remediation.startswith(
        "Upgrade esx60 (ESXi 6.0.0 build 2494585) to ESXi 6.0 Express Patch 4 (ESXi600-201511001, build 3247720")
    assert "$spec.ChangeTrackingEnabled = $false; $vm.ExtensionData.ReconfigVM($spec)" in by["kb60"].remediation
    assert "Run a full (not incremental) backup" in by["kb60"].remediation
    assert by["esx41"].evidence["defects"][0]["fixed_build"] is None
    assert by["esx41"].evidence["vms_at_risk"] == ["kb41"]
    assert out.notes == ["vc01/esx51x: ESXi 5.1.0 build not reported; cannot tell whether it has a known CBT defect."]


def test_cbt001_warns_about_defect_host_first() -> None:
    snap = snapshot_of([cbt_vm("vm-1", "off55", [{}], cbt=False, host_="host-2")], hosts=HOSTS)
    [f] = run(off_in_scope, snap).findings
    assert f.remediation.splitlines()[0].startswith("First: host esx55 (ESXi 5.5.0 build 1331820) has a known CBT "
                                                    "defect (KB2090639)")


def test_tables() -> None:
    summary_t, defects_t, disks_t = tables.cbt_tables(CheckContext(fleet()))
    assert summary_t.rows == [["vc01", 15, 13, 8, 1, 2, 3, 1, 1]]
    # Release names next to the builds (docs/methodology.md#build-lifecycle); "Fixed in" left out.
    assert [r[:6] + r[7:] for r in defects_t.rows] == [
        ["vc01", "esx41", "4.1.0", "1682698", "ESXi 4.1 (build 1682698)", "KB2090639", True, 1, 0],
        ["vc01", "esx55", "5.5.0", "1331820", "ESXi 5.5 (build 1331820)", "KB2090639", False, 2, 1],
        ["vc01", "esx60", "6.0.0", "2494585", "ESXi 6.0 (build 2494585)", "KB2136854", True, 1, None],
    ]
    assert disks_t.columns[-3:] == ["ctkEnabled", "Has changeId", "State"]
    assert len(disks_t.rows) == 20 and disks_t.in_summary is True  # templates are left out
    assert ["vc01", "partial01", None, "esx80", "vmx-13", True, True, "Hard disk 2", "scsi0:1", 40.0, "Dependent", None,
            "FALSE", False, "Off for this disk"] in disks_t.rows


@pytest.mark.parametrize("size_gb,expected", [(128, Severity.medium), (129, Severity.high)])
def test_kb2090639_boundary_is_strictly_larger(size_gb: int, expected: Severity) -> None:
    snap = snapshot_of([cbt_vm("vm-1", "x", [{"size_gb": size_gb, "change_id": CID}], host_="host-2")], hosts=HOSTS)
    [f] = run(known_defects, snap).findings
    assert f.severity == expected
    if expected is Severity.high:  # possibly affected: a finding on the VM, with its disks
        assert (f.object_type, f.evidence["disks"][0]["capacity_gb"]) == ("vm", size_gb * GB / GB)
    else:  # only at risk: summed up on the host
        assert (f.object_type, f.evidence["vms_at_risk"]) == ("host", ["x"])
