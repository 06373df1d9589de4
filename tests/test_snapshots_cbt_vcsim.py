"""Snapshots and CBT end to end: shape vcsim through the vSphere API, collect with the real
``vcreport collect`` CLI, load the snapshot file, run the checks and assert their output.

vcsim 0.24 limits (hence fixture-based tests for the rest): a snapshot's createTime is
"now" (no age findings), it writes no delta disks (every snapshot's own size is its empty
.vmsn: 0 bytes), memoryKey is always -1, and host builds are fixed at ESXi 6.5.0 5969303.
Its RevertToSnapshot task cannot be waited on with pyVmomi (the task's entity is a
Snapshot), so the test polls currentSnapshot instead.
"""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pyVim.task import WaitForTask
from pyVmomi import vim

from reporter.checks import CheckContext
from reporter.checks.cbt import cbt_001_off_in_scope as off_in_scope
from reporter.checks.cbt import cbt_002_disk_off as disk_off
from reporter.checks.cbt import cbt_003_pending as pending
from reporter.checks.cbt import cbt_004_unsupported_disks as unsupported_disks
from reporter.checks.cbt import cbt_006_known_defects as known_defects
from reporter.checks.snapshots import snap_001_age as age
from reporter.checks.snapshots import snap_002_chain_depth as chain_depth
from reporter.checks.snapshots import snap_003_size as size
from reporter.checks.snapshots import snap_005_backup_leftover as backup_leftover
from reporter.checks.snapshots import snap_006_independent_disks as independent_disks
from reporter.checks.snapshots.settings import SnapshotSettings
from reporter.checks.snapshots.tables import snapshot_list
from reporter.config.settings import Settings
from reporter.core import snapshot_io
from reporter.core.findings import Severity
from reporter.core.model import Snapshot
from reporter.domain.vm_snapshots import snapshot_infos

pytestmark = pytest.mark.vcsim

ROOT = Path(__file__).resolve().parent.parent
CHANGE_ID = "52 de ad be ef 00 11 22-33 44 55 66 77 88 99 aa/12"


@dataclass
class Collected:
    snap: Snapshot
    names: dict[str, str]  # role -> VM name
    node: str  # the VMs' disk slot, e.g. "scsi0:0"


def _vm_disk(vm: Any) -> tuple[Any, str]:
    devices = vm.config.hardware.device
    disk = next(d for d in devices if isinstance(d, vim.vm.device.VirtualDisk))
    ctrl = next(d for d in devices if d.key == disk.controllerKey)
    kind = "scsi" if isinstance(ctrl, vim.vm.device.VirtualSCSIController) else "sata"
    return disk, f"{kind}{ctrl.busNumber}:{disk.unitNumber}"


def _reconfig(vm: Any, **spec: Any) -> None:
    WaitForTask(vm.ReconfigVM_Task(vim.vm.ConfigSpec(**spec)))


def _ctk(node: str, disk_flag: str) -> list[Any]:
    """The extraConfig of KB1031873: VM-level ctkEnabled and the disk's own flag."""
    return [vim.option.OptionValue(key="ctkEnabled", value="TRUE"),
            vim.option.OptionValue(key=f"{node}.ctkEnabled", value=disk_flag)]


def _snapshot(vm: Any, name: str, memory: bool = False) -> None:
    WaitForTask(vm.CreateSnapshot_Task(name=name, description=f"test {name}", memory=memory, quiesce=False))


@pytest.fixture(scope="module")
def collected(vcsim_launcher: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    inst = vcsim_launcher.start(vms=4, hosts=1, clusters=1, standalone=0)
    try:
        si = inst.si()
        view = si.content.viewManager.CreateContainerView(si.content.rootFolder, [vim.VirtualMachine], True)
        tree_vm, pending_vm, active_vm, partial_vm = sorted(view.view, key=lambda v: v.name)
        view.DestroyView()
        _, node = _vm_disk(tree_vm)

        # A: a branched tree s1 -> s2, revert to s1, s1 -> s3 (current); then an independent disk.
        _snapshot(tree_vm, "s1")
        _snapshot(tree_vm, "s2")
        s1 = tree_vm.snapshot.rootSnapshotList[0].snapshot
        s1.RevertToSnapshot_Task()
        for _ in range(200):
            if tree_vm.snapshot.currentSnapshot == s1:
                break
            time.sleep(0.05)
        _snapshot(tree_vm, "s3", memory=True)
        disk, _ = _vm_disk(tree_vm)
        disk.backing.diskMode = "independent_persistent"
        # (vcsim leaves changeTrackingEnabled unset; a real vCenter reports false.)
        _reconfig(tree_vm, changeTrackingEnabled=False,
                  deviceChange=[vim.vm.device.VirtualDeviceSpec(operation="edit", device=disk)])

        # B: CBT switched on (option + flags) but never stunned: no changeId.
        _reconfig(pending_vm, changeTrackingEnabled=True,
                  extraConfig=_ctk(node, "TRUE"))
        # C: CBT active (the disk reports a changeId) and a backup snapshot left behind.
        disk, _ = _vm_disk(active_vm)
        disk.backing.changeId = CHANGE_ID
        _reconfig(active_vm, changeTrackingEnabled=True,
                  deviceChange=[vim.vm.device.VirtualDeviceSpec(operation="edit", device=disk)],
                  extraConfig=_ctk(node, "TRUE"))
        _snapshot(active_vm, "VEEAM BACKUP TEMPORARY SNAPSHOT")
        # D: CBT on for the VM, off for its disk.
        _reconfig(partial_vm, changeTrackingEnabled=True,
                  extraConfig=_ctk(node, "FALSE"))

        tmp = tmp_path_factory.mktemp("snapcbt")
        out = tmp / "snap.json"
        proc = subprocess.run([sys.executable, "-m", "reporter.cli", "collect", "--config", str(inst.config_file(tmp)),
                               "--out", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
        names = {"tree": tree_vm.name, "pending": pending_vm.name, "active": active_vm.name, "partial": partial_vm.name}
        yield Collected(snapshot_io.load(out), names, node)
    finally:
        inst.stop()
        vcsim_launcher.running.remove(inst)


def run(module: Any, snap: Snapshot, **snapshot_settings: Any) -> Any:
    s = Settings(thresholds={"snapshots": SnapshotSettings(**snapshot_settings)}) if snapshot_settings else Settings()
    return module.run(CheckContext(snap, settings=s))


def names_of(out: Any) -> list[str]:
    return sorted(f.object_name for f in out.findings)


def test_collected_tree_and_sizes(collected: Collected) -> None:
    vc = next(iter(collected.snap.vcenters.values()))
    vm = next(v for v in vc.vms.values() if v.name == collected.names["tree"])
    infos = snapshot_infos(vm, collected.snap.collected_at)
    assert [(i.name, i.depth, i.is_current, i.description) for i in infos] == [
        ("s1", 1, False, "test s1"), ("s2", 2, False, "test s2"), ("s3", 2, True, "test s3")]
    assert [i.space.size_bytes for i in infos] == [0, 0, 0]  # vcsim writes empty .vmsn files, no deltas
    assert [i.memory for i in infos] == [False, False, False]  # memoryKey -1: no memory file
    assert all(i.age_days is not None and 0 <= i.age_days < 0.1 for i in infos)
    assert vm.disks[0].disk_mode == "independent_persistent"


def test_snapshot_checks_on_collected(collected: Collected) -> None:
    snap, n = collected.snap, collected.names
    assert run(age, snap).findings == []  # created "now"
    out = run(chain_depth, snap, max_chain_depth=1)
    assert names_of(out) == [n["tree"]]
    assert [c["name"] for c in out.findings[0].evidence["chain"]] == ["s1", "s3"]
    assert run(chain_depth, snap).findings == []
    sized = run(size, snap)
    assert sized.findings == [] and sized.notes == []  # every size known
    assert names_of(run(independent_disks, snap)) == [n["tree"]]
    assert run(backup_leftover, snap).findings == []  # younger than the 24 h grace: a job may own it
    left = run(backup_leftover, snap, backup_snapshot_grace_hours=0)
    assert names_of(left) == [n["active"]]
    assert left.findings[0].evidence["backup_snapshots"][0]["pattern"] == "VEEAM BACKUP TEMPORARY SNAPSHOT"
    rows = snapshot_list(CheckContext(snap)).rows
    assert sorted((r[1], r[2], r[5]) for r in rows) == sorted([
        (n["tree"], "s1", 0.0), (n["tree"], "s2", 0.0), (n["tree"], "s3", 0.0),
        (n["active"], "VEEAM BACKUP TEMPORARY SNAPSHOT", 0.0)])


def test_cbt_checks_on_collected(collected: Collected) -> None:
    snap, n = collected.snap, collected.names
    assert names_of(run(off_in_scope, snap)) == [n["tree"]]
    assert names_of(run(pending, snap)) == [n["pending"]]
    off = run(disk_off, snap)
    assert names_of(off) == [n["partial"]]
    assert off.findings[0].evidence["disks"][0]["ctkEnabled"] == "FALSE"
    assert f"{collected.node}.ctkEnabled=TRUE" in off.findings[0].remediation
    assert names_of(run(unsupported_disks, snap)) == [n["tree"]]  # its independent disk
    assert run(known_defects, snap).findings == []  # vcsim hosts are ESXi 6.5.0


def test_known_defect_on_collected_cbt_vms(collected: Collected) -> None:
    """vcsim cannot change a host's build: put the collected host on ESXi 6.0 GA in the loaded snapshot."""
    snap = collected.snap
    vcs = {}
    for uuid, vc in snap.vcenters.items():
        hosts = {m: h.model_copy(update={"version": "6.0.0", "build": "2494585"}) for m, h in vc.hosts.items()}
        vcs[uuid] = vc.model_copy(update={"hosts": hosts})
    out = known_defects.run(CheckContext(snap.model_copy(update={"vcenters": vcs})))
    n = collected.names
    assert names_of(out) == sorted([n["pending"], n["active"], n["partial"]])
    assert {f.severity for f in out.findings} == {Severity.high}
    assert {f.evidence["defects"][0]["kb"] for f in out.findings} == {"KB2136854"}
