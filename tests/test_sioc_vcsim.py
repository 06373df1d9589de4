"""SIOC and disk I/O caps end to end: limits and KB1038241 caps set through ReconfigVM on vcsim,
a host switched to the legacy scheduler with UpdateOptions, collected by the real CLI, checked.

What govmomi 0.24's simulator does (simulator/virtual_machine.go, option_manager.go,
storage_resource_manager.go), and how this test copes - in test setup only:
- ReconfigVM with ``VirtualDeviceSpec(operation="edit")`` replaces the whole device with the
  one in the spec, so ``storageIOAllocation`` is stored as sent (a real vCenter merges).
  Each edit here sends the disk as read back, with only the allocation changed.
- ``extraConfig`` entries are appended, never replaced: each key is set once.
- A disk added without ``storageIOAllocation`` keeps it unset (the collector reports
  ``io=None``), where a real vCenter returns the default (-1, normal shares).
- Host advanced options: ``UpdateOptions`` on the host's OptionManager adds the key;
  ``QueryOptions`` of an unknown key faults with ``InvalidName`` (= "not set").
- Datastore ``iormConfiguration`` cannot be set: ``ConfigureDatastoreIORM_Task`` is not
  implemented. The second test saves the simulator's inventory (``tests/sioc_save``, a
  small ``govc object.save``), writes the SIOC state into the datastores' XML and loads
  that directory into a second simulator (``vcsim -load``, ``simulator.Model.Load``).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pyVim.task import WaitForTask
from pyVmomi import vim
from vcsim_harness import CACHE_DIR, GOPATH

from reporter.api import load_config
from reporter.checks import CheckContext
from reporter.checks.engine import run_checks
from reporter.config.settings import Settings
from reporter.core import snapshot_io
from reporter.core.model import IoAllocation, IormConfig, Snapshot

pytestmark = pytest.mark.vcsim

SAVER_SRC = Path(__file__).resolve().parent / "sioc_save"


def _find(si: Any, vimtype: type, name: str) -> Any:
    view = si.content.viewManager.CreateContainerView(si.content.rootFolder, [vimtype], True)
    try:
        return next(o for o in view.view if o.name == name)
    finally:
        view.Destroy()


def _collect(inst: Any, tmp: Path, extra_toml: str = "") -> tuple[Snapshot, Settings]:
    cfg = inst.config_file(tmp)
    if extra_toml:
        cfg.write_text(cfg.read_text(encoding="utf-8") + "\n" + extra_toml, encoding="utf-8")
    out = tmp / "snap.json"
    exe = shutil.which("vcreport")
    cmd = [exe] if exe else [sys.executable, "-m", "reporter.cli"]
    proc = subprocess.run([*cmd, "collect", "--config", str(cfg), "--out", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return snapshot_io.load(out), Settings.from_config(load_config(cfg))


def _sioc(snap: Snapshot, settings: Settings | None = None) -> list[tuple[str, str, str, str]]:
    res = run_checks(CheckContext(snap, settings=settings or Settings()), only=["sioc"])
    assert [r.error for r in res.checks] == [None] * len(res.checks)
    return sorted((f.check_id, f.object_name, f.severity.value, f.object_id.split("/", 1)[1]) for f in res.findings)


@dataclass
class Shaped:
    inst: Any
    snap: Snapshot
    refs: dict[str, Any]


@pytest.fixture(scope="module")
def shaped(vcsim_launcher: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shaped]:
    # Own simulator (state is changed): 1 cluster of 2 hosts, 2 VMs, 2 datastores.
    inst = vcsim_launcher.start(vms=2, hosts=2, clusters=1, standalone=0, datastores=2)
    try:
        si = inst.si()
        vm_a = _find(si, vim.VirtualMachine, "DC0_C0_RP0_VM0")
        vm_b = _find(si, vim.VirtualMachine, "DC0_C0_RP0_VM1")
        h0 = _find(si, vim.HostSystem, "DC0_C0_H0")
        h1 = _find(si, vim.HostSystem, "DC0_C0_H1")
        # A on H0 (to become a legacy-scheduler host), B on H1 (mClock by default on 6.5).
        for vm, host in ((vm_a, h0), (vm_b, h1)):
            if vm.runtime.host != host:
                WaitForTask(vm.RelocateVM_Task(vim.vm.RelocateSpec(host=host)))
        h0.configManager.advancedOption.UpdateOptions(
            changedValue=[vim.option.OptionValue(key="Disk.SchedulerWithReservation", value=0)])

        # VM A: 300 IOPS on its first disk, a second disk on the same datastore without a limit.
        disk_a = next(d for d in vm_a.config.hardware.device if isinstance(d, vim.vm.device.VirtualDisk))
        disk_a.storageIOAllocation = vim.StorageResourceManager.IOAllocationInfo(
            limit=300, shares=vim.SharesInfo(level="normal", shares=1000), reservation=0)
        ds_name = re.match(r"\[(.+?)\]", disk_a.backing.fileName).group(1)
        new = vim.vm.device.VirtualDisk(
            key=-101, controllerKey=disk_a.controllerKey, unitNumber=1, capacityInKB=1024 * 1024,
            backing=vim.vm.device.VirtualDisk.FlatVer2BackingInfo(
                fileName=f"[{ds_name}] DC0_C0_RP0_VM0/data.vmdk", diskMode="persistent", thinProvisioned=True))
        WaitForTask(vm_a.ReconfigVM_Task(vim.vm.ConfigSpec(deviceChange=[
            vim.vm.device.VirtualDeviceSpec(operation="edit", device=disk_a),
            vim.vm.device.VirtualDeviceSpec(operation="add", fileOperation="create", device=new),
        ])))

        # VM B: API limit 1000 plus a differing throughputCap on the same disk, and an invalid bandwidthCap.
        disk_b = next(d for d in vm_b.config.hardware.device if isinstance(d, vim.vm.device.VirtualDisk))
        disk_b.storageIOAllocation = vim.StorageResourceManager.IOAllocationInfo(
            limit=1000, shares=vim.SharesInfo(level="high", shares=2000), reservation=0)
        WaitForTask(vm_b.ReconfigVM_Task(vim.vm.ConfigSpec(
            deviceChange=[vim.vm.device.VirtualDeviceSpec(operation="edit", device=disk_b)],
            extraConfig=[vim.option.OptionValue(key="sched.scsi0:0.throughputCap", value="2KIOps"),
                         vim.option.OptionValue(key="sched.scsi0:0.bandwidthCap", value="10 megabytes")],
        )))
        snap, _ = _collect(inst, tmp_path_factory.mktemp("sioc_vcsim"))
        yield Shaped(inst=inst, snap=snap, refs={"a": vm_a, "b": vm_b, "h0": h0, "h1": h1, "ds": ds_name})
    finally:
        inst.stop()
        if inst in vcsim_launcher.running:
            vcsim_launcher.running.remove(inst)


def _vm(snap: Snapshot, name: str) -> Any:
    (vc,) = snap.vcenters.values()
    return next(v for v in vc.vms.values() if v.name == name)


def test_collected_limits_caps_and_options(shaped: Shaped) -> None:
    snap = shaped.snap
    assert snap.collection_errors == []
    (vc,) = snap.vcenters.values()
    a, b = _vm(snap, "DC0_C0_RP0_VM0"), _vm(snap, "DC0_C0_RP0_VM1")
    ds = shaped.refs["a"].datastore[0]._moId
    assert [(d.device_node, d.datastore, d.io) for d in a.disks] == [
        ("scsi0:0", ds, IoAllocation(limit=300, shares_level="normal", shares=1000, reservation=0)),
        ("scsi0:1", ds, None),  # added without storageIOAllocation: unset, not zero
    ]
    assert a.extra_config == {}
    assert [(d.device_node, d.io) for d in b.disks] == [
        ("scsi0:0", IoAllocation(limit=1000, shares_level="high", shares=2000, reservation=0))]
    assert b.extra_config == {"sched.scsi0:0.throughputCap": "2KIOps", "sched.scsi0:0.bandwidthCap": "10 megabytes"}
    assert a.host == shaped.refs["h0"]._moId and b.host == shaped.refs["h1"]._moId
    opts = {h.name: (h.version, h.advanced_options, h.advanced_option_errors) for h in vc.hosts.values()}
    assert opts == {
        "DC0_C0_H0": ("6.5.0", {"Disk.SchedulerWithReservation": 0, "VMkernel.Boot.isPerFileSchedModelActive": None}, {}),
        "DC0_C0_H1": ("6.5.0", {"Disk.SchedulerWithReservation": None,
                                "VMkernel.Boot.isPerFileSchedModelActive": None}, {}),
    }
    # vcsim 0.24 has no SIOC state: iormConfiguration unset, storageIORMSupported true.
    assert {(d.name, d.iorm, d.sioc_supported) for d in vc.datastores.values()} == {
        ("LocalDS_0", None, True), ("LocalDS_1", None, True)}


def test_findings_as_collected(shaped: Shaped) -> None:
    snap = shaped.snap
    a, b = _vm(snap, "DC0_C0_RP0_VM0"), _vm(snap, "DC0_C0_RP0_VM1")
    ds = shaped.refs["a"].datastore[0]._moId
    assert _sioc(snap) == sorted([
        ("IOCAP-001", "DC0_C0_RP0_VM0", "high", f"{a.moid}/{ds}"),    # legacy host: scsi0:1 has no limit
        ("IOCAP-003", "DC0_C0_RP0_VM0", "medium", f"{a.moid}/{ds}"),  # H1 would enforce scsi0:0 alone
        ("IOCAP-002", "DC0_C0_RP0_VM1", "low", f"{b.moid}/{ds}"),     # mClock: 32 KB units
        ("IOCAP-006", "DC0_C0_RP0_VM1", "medium", b.moid),            # API 1000 vs throughputCap 2KIOps
        ("IOCAP-007", "DC0_C0_RP0_VM1", "medium", b.moid),            # '10 megabytes'
    ])
    res = run_checks(CheckContext(snap), only=["IOCAP-001", "IOCAP-007"])
    f1, f7 = res.findings
    label = a.disks[1].label  # vcsim names an added disk "disk-<controller key>-<unit>"
    assert label and label.startswith("disk-")
    assert f1.message == (
        "'DC0_C0_RP0_VM0' on datastore 'LocalDS_0': none of its caps is enforced. Host DC0_C0_H0 runs the legacy "
        "scheduler (ESXi 6.5.0 with Disk.SchedulerWithReservation = 0); legacy scheduler needs a cap of the same type "
        "on every disk of the VM on this datastore: IOPS cap on scsi0:0 but not on scsi0:1. Fix: set "
        f"sched.scsi0:1.throughputCap = 300IOps (Limit - IOPs 300) on {label} (scsi0:1) - or move scsi0:0 to a "
        "datastore where the VM has no other disk.")
    assert f"Get-HardDisk -VM $vm -Name '{label}'; Get-VMResourceConfiguration -VM $vm | Set-VMResourceConfiguration " \
           "-Disk $disk -DiskLimitIOPerSecond 300" in f1.remediation
    assert f7.evidence["invalid"] == [{
        "setting": "sched.scsi0:0.bandwidthCap", "value": "10 megabytes",
        "reason": "unknown unit 'megabytes'; units: Bps, KBps, MBps, GBps"}]


# --------------------------------------------------------------------------- SIOC via a loaded model


def build_saver() -> Path:
    go = shutil.which("go")
    if go is None:
        pytest.skip("needs the Go toolchain")
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in sorted(SAVER_SRC.glob("*.go")))).hexdigest()[:16]
    binary = CACHE_DIR / f"sioc-save-{digest}"
    if binary.exists():
        return binary
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, GO111MODULE="off", GOPATH=str(GOPATH))
    env.setdefault("GOCACHE", str(CACHE_DIR / "go-build"))
    tmp = binary.with_name(f"{binary.name}.{os.getpid()}.tmp")
    proc = subprocess.run([go, "build", "-o", str(tmp), "."], cwd=SAVER_SRC, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    os.replace(tmp, binary)
    return binary


IORM_XML = (
    '<propSet><name>iormConfiguration</name>'
    '<val xmlns:XMLSchema-instance="http://www.w3.org/2001/XMLSchema-instance" '
    'XMLSchema-instance:type="StorageIORMInfo">'
    "<enabled>{enabled}</enabled><congestionThresholdMode>manual</congestionThresholdMode>"
    "<congestionThreshold>{ms}</congestionThreshold><percentOfPeakThroughput>90</percentOfPeakThroughput>"
    "<statsCollectionEnabled>{enabled}</statsCollectionEnabled><reservationEnabled>{enabled}</reservationEnabled>"
    "<statsAggregationDisabled>false</statsAggregationDisabled>"
    "</val></propSet>"
)


def inject_sioc(model: Path, name: str, *, enabled: bool, ms: int, shared: bool) -> None:
    """Write SIOC state into a saved datastore: iormConfiguration, and summary.multipleHostAccess."""
    (path,) = [p for p in model.glob("*-Datastore-*.xml") if f"<name>{name}</name>" in p.read_text()]
    text = path.read_text()
    assert "iormConfiguration" not in text  # vcsim 0.24 leaves it unset
    text = text.replace("</ObjectContent>", IORM_XML.format(enabled=str(enabled).lower(), ms=ms) + "</ObjectContent>")
    if shared:
        text = re.sub(r"(<type>OTHER</type>)", r"<multipleHostAccess>true</multipleHostAccess>\1", text, count=1)
    # The saved url is the first simulator's temp directory; a ds:// url makes the loader create its own.
    text = re.sub(r"<url>/[^<]*</url>", f"<url>ds:///vmfs/volumes/{name}/</url>", text)
    path.write_text(text)


def test_sioc_state_from_a_loaded_model(shaped: Shaped, vcsim_factory: Any, tmp_path: Path) -> None:
    saver = build_saver()
    model = tmp_path / "model"
    env = dict(os.environ, SIOC_SAVE_PW=shaped.inst.password)
    proc = subprocess.run(
        [str(saver), "-url", shaped.inst.url, "-user", shaped.inst.user, "-password-env", "SIOC_SAVE_PW",
         "-ca", str(shaped.inst.ca_bundle), "-dir", str(model)],
        capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr
    inject_sioc(model, "LocalDS_0", enabled=False, ms=30, shared=True)  # both VMs live here
    inject_sioc(model, "LocalDS_1", enabled=True, ms=80, shared=False)  # empty, SIOC on at 80 ms

    loaded = vcsim_factory(model_dir=model)
    snap, settings = _collect(loaded, tmp_path, "[thresholds.sioc]\nbusy_vm_count = 2\n")
    assert snap.collection_errors == []
    (vc,) = snap.vcenters.values()
    dss = {d.name: d for d in vc.datastores.values()}
    assert dss["LocalDS_0"].iorm == IormConfig(
        enabled=False, congestion_threshold_ms=30, congestion_threshold_mode="manual", percent_of_peak_throughput=90,
        stats_collection_enabled=False, stats_aggregation_disabled=False, reservation_enabled=False)
    assert dss["LocalDS_1"].iorm == IormConfig(
        enabled=True, congestion_threshold_ms=80, congestion_threshold_mode="manual", percent_of_peak_throughput=90,
        stats_collection_enabled=True, stats_aggregation_disabled=False, reservation_enabled=True)
    assert (dss["LocalDS_0"].multiple_host_access, dss["LocalDS_1"].multiple_host_access) == (True, None)
    assert (dss["LocalDS_0"].ssd, dss["LocalDS_1"].ssd) == (None, None)  # LocalDatastoreInfo: media unknown

    # The VMs' caps and the hosts' options survived the round trip.
    a, b = _vm(snap, "DC0_C0_RP0_VM0"), _vm(snap, "DC0_C0_RP0_VM1")
    assert [d.io.limit if d.io else None for d in a.disks] == [300, None]
    assert b.extra_config == {"sched.scsi0:0.throughputCap": "2KIOps", "sched.scsi0:0.bandwidthCap": "10 megabytes"}
    ds0, ds1 = dss["LocalDS_0"].moid, dss["LocalDS_1"].moid
    assert _sioc(snap, settings) == sorted([
        ("IOCAP-001", "DC0_C0_RP0_VM0", "high", f"{a.moid}/{ds0}"),
        ("IOCAP-003", "DC0_C0_RP0_VM0", "medium", f"{a.moid}/{ds0}"),
        ("IOCAP-002", "DC0_C0_RP0_VM1", "low", f"{b.moid}/{ds0}"),
        ("IOCAP-006", "DC0_C0_RP0_VM1", "medium", b.moid),
        ("IOCAP-007", "DC0_C0_RP0_VM1", "medium", b.moid),
        ("SIOC-001", "LocalDS_0", "medium", ds0),  # off, shared, 2 running VMs (busy_vm_count = 2 in the config)
        ("SIOC-002", "LocalDS_1", "medium", ds1),  # 80 ms, media unknown: above 10-50 ms
    ])
    f = next(f for f in run_checks(CheckContext(snap, settings=settings), only=["SIOC-001"]).findings)
    assert f.message == ("SIOC is off on 'LocalDS_0', shared by 1 host and used by 2 running VMs (2 in total): one "
                         "busy VM can raise latency for all of them.")
