"""The collector against vcsim: state shaped through the vSphere API, read back exactly.

One simulator for this module (not the shared session one, because these tests
change its state): 1 cluster of 2 hosts + 1 standalone host, 4 VMs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from pyVim.task import WaitForTask
from pyVmomi import vim

from reporter.api import load_config
from reporter.collect import collect, sample_vram
from reporter.core.model import VM, Cluster, Disk, IoAllocation, License, LicenseAssignment, SnapshotNode
from reporter.core.snapshot_io import dumps, loads

pytestmark = pytest.mark.vcsim

EVAL_KEY = "00000-00000-00000-00000-00000"
NEW_KEY = "AAAAA-BBBBB-CCCCC-DDDDD-EEEEE"
GIB = 1024**3


def find(si: Any, vimtype: type, name: str) -> Any:
    view = si.content.viewManager.CreateContainerView(si.content.rootFolder, [vimtype], True)
    try:
        return next(o for o in view.view if o.name == name)
    finally:
        view.DestroyView()


def disk_spec(controller_key: int, unit: int, file_name: str, backing: Any, capacity_kb: int,
              io: Any = None) -> Any:
    backing.fileName = file_name
    disk = vim.vm.device.VirtualDisk(key=-100 - unit - controller_key, controllerKey=controller_key,
                                     unitNumber=unit, capacityInKB=capacity_kb, backing=backing,
                                     storageIOAllocation=io)
    return vim.vm.device.VirtualDeviceSpec(operation="add", fileOperation="create", device=disk)


@dataclass
class Shaped:
    si: Any
    snap: Any  # reporter Snapshot
    vc: Any  # reporter VCenter
    refs: dict[str, Any]
    config_path: Any


@pytest.fixture(scope="module")
def shaped(vcsim_launcher, tmp_path_factory) -> Shaped:
    inst = vcsim_launcher.start(vms=4, hosts=2, clusters=1, standalone=1,
                                disconnect=("DC0_H0",), drop_option_manager=("DC0_C0_H0",))
    si = inst.si()
    content = si.content
    vm_a = find(si, vim.VirtualMachine, "DC0_C0_RP0_VM0")
    vm_b = find(si, vim.VirtualMachine, "DC0_C0_RP0_VM1")
    vm_c = find(si, vim.VirtualMachine, "DC0_H0_VM0")
    vm_d = find(si, vim.VirtualMachine, "DC0_H0_VM1")

    # VM A: the CBT / I/O cap / CPU-MMU settings the checks read, and two more disks.
    # (vcsim 0.24 panics on non-flat disk backings, so RDM/sparse mapping is unit-tested
    # in test_collect_convert.py.)
    scsi = next(d for d in vm_a.config.hardware.device if isinstance(d, vim.vm.device.VirtualSCSIController))
    Flat = vim.vm.device.VirtualDisk.FlatVer2BackingInfo
    io = vim.StorageResourceManager.IOAllocationInfo(
        limit=500, reservation=100, shares=vim.SharesInfo(level="custom", shares=2000))
    sata = vim.vm.device.VirtualAHCIController(key=-50, busNumber=1)
    spec = vim.vm.ConfigSpec(
        memoryMB=4096, numCPUs=2, guestId="winNetStandardGuest", changeTrackingEnabled=True,
        annotation="owner: ops",
        flags=vim.vm.FlagInfo(virtualExecUsage="hvOn", virtualMmuUsage="on"),
        extraConfig=[
            vim.option.OptionValue(key="ctkEnabled", value="TRUE"),
            vim.option.OptionValue(key="scsi0:0.ctkEnabled", value="TRUE"),
            vim.option.OptionValue(key="scsi0:1.ctkEnabled", value="FALSE"),
            vim.option.OptionValue(key="sched.scsi0:0.throughputCap", value="500IOps"),
            vim.option.OptionValue(key="sched.scsi0:1.bandwidthCap", value="10MBps"),
            vim.option.OptionValue(key="monitor.virtual_exec", value="hardware"),  # not ours: filtered out
            # vcsim's hook for what VMware Tools reports (guest.* properties)
            vim.option.OptionValue(key="SET.guest.guestId", value="winNetStandardGuest"),
            vim.option.OptionValue(key="SET.guest.guestFullName",
                                   value="Microsoft Windows Server 2003 Standard (32-bit)"),
        ],
        deviceChange=[
            disk_spec(scsi.key, 1, "[LocalDS_0] DC0_C0_RP0_VM0/data.vmdk",
                      Flat(diskMode="independent_persistent", thinProvisioned=False), 2 * 1024 * 1024, io),
            vim.vm.device.VirtualDeviceSpec(operation="add", device=sata),
            disk_spec(-50, 0, "[LocalDS_0] DC0_C0_RP0_VM0/sata.vmdk", Flat(diskMode="persistent", thinProvisioned=True),
                      512 * 1024),
        ],
    )
    WaitForTask(vm_a.ReconfigVM_Task(spec))
    prod = content.rootFolder.childEntity[0].vmFolder.CreateFolder("prod")
    WaitForTask(prod.MoveIntoFolder_Task([vm_a]))

    # VM B: a two-level snapshot tree.
    WaitForTask(vm_b.CreateSnapshot_Task(name="before-patch", description="pre", memory=False, quiesce=False))
    WaitForTask(vm_b.CreateSnapshot_Task(name="after-patch", description="", memory=False, quiesce=True))

    # VM C: powered off and a template.
    WaitForTask(vm_c.PowerOffVM_Task())
    vm_c.MarkAsTemplate()

    # Hosts: one option set, one host in maintenance mode.
    h1 = find(si, vim.HostSystem, "DC0_C0_H1")
    h1.configManager.advancedOption.UpdateOptions(
        changedValue=[vim.option.OptionValue(key="Disk.SchedulerWithReservation", value=0)])
    WaitForTask(h1.EnterMaintenanceMode_Task(timeout=0))

    # Licences: one added with a label.
    content.licenseManager.AddLicense(licenseKey=NEW_KEY, labels=[vim.KeyValue(key="site", value="lab")])

    config_path = inst.config_file(tmp_path_factory.mktemp("collect"))
    cfg = load_config(config_path)
    snap = collect(cfg, progress=False)
    (vc,) = snap.vcenters.values()
    refs = {"a": vm_a, "b": vm_b, "c": vm_c, "d": vm_d, "h1": h1, "prod": prod}
    yield Shaped(si=si, snap=snap, vc=vc, refs=refs, config_path=config_path)
    inst.stop()
    vcsim_launcher.running.remove(inst)


def test_vcenter_identity_and_completeness(shaped):
    about = shaped.si.content.about
    assert shaped.snap.collection_errors == []
    assert list(shaped.snap.vcenters) == [about.instanceUuid]
    vc = shaped.vc
    assert (vc.name, vc.host, vc.version, vc.build, vc.api_version, vc.user) == (
        "vcsim", "127.0.0.1", "6.5.0", "5973321", "6.5", "readonly@vsphere.local")
    assert vc.full_name == "VMware vCenter Server 6.5.0 build-5973321"
    assert sorted(v.name for v in vc.vms.values()) == [
        "DC0_C0_RP0_VM0", "DC0_C0_RP0_VM1", "DC0_H0_VM0", "DC0_H0_VM1"]


def test_vm_settings_set_through_reconfig(shaped):
    ref = shaped.refs["a"]
    vm = shaped.vc.vms[ref._moId]
    cluster = find(shaped.si, vim.ClusterComputeResource, "DC0_C0")
    assert vm.memory_mb == 4096
    assert vm.num_cpu == 2
    assert vm.guest_id == "winNetStandardGuest"
    # vcsim copies the guest id into config.guestFullName; a real vCenter has the long name here.
    assert vm.guest_full_name == "winNetStandardGuest"
    assert vm.tools_guest_id == "winNetStandardGuest"
    assert vm.tools_guest_full_name == "Microsoft Windows Server 2003 Standard (32-bit)"
    assert vm.change_tracking_enabled is True
    assert (vm.virtual_exec_usage, vm.virtual_mmu_usage) == ("hvOn", "on")
    assert vm.extra_config == {
        "ctkEnabled": "TRUE",
        "scsi0:0.ctkEnabled": "TRUE",
        "scsi0:1.ctkEnabled": "FALSE",
        "sched.scsi0:0.throughputCap": "500IOps",
        "sched.scsi0:1.bandwidthCap": "10MBps",
    }
    assert vm.annotation == "owner: ops"
    assert vm.folder_path == "/DC0/vm/prod"
    assert vm.host == ref.runtime.host._moId
    assert vm.cluster == cluster._moId
    assert vm.power_state == "poweredOn"
    assert vm.template is False
    assert vm.hw_version == "vmx-13"
    assert vm.instance_uuid == ref.config.instanceUuid


def test_vm_disks_with_controllers_backings_and_io(shaped):
    ref = shaped.refs["a"]
    vm = shaped.vc.vms[ref._moId]
    ds = ref.datastore[0]._moId
    devices = ref.config.hardware.device
    keys = {(d.controllerKey, d.unitNumber): d.key for d in devices if isinstance(d, vim.vm.device.VirtualDisk)}
    scsi_key = next(d.key for d in devices if isinstance(d, vim.vm.device.VirtualSCSIController))
    sata_key = next(d.key for d in devices if isinstance(d, vim.vm.device.VirtualSATAController))
    labels = {d.key: d.deviceInfo.label for d in devices}
    by_slot = {d.device_node: d for d in vm.disks}
    assert sorted(by_slot) == ["sata1:0", "scsi0:0", "scsi0:1"]
    assert by_slot["scsi0:0"] == Disk(
        key=keys[(scsi_key, 0)], label=labels[keys[(scsi_key, 0)]], controller="scsi", bus_number=0, unit_number=0,
        capacity_bytes=1024 * 1024, datastore=ds, backing_file="[LocalDS_0] DC0_C0_RP0_VM0/disk1.vmdk",
        backing_type="flat", disk_mode="persistent", thin=True, io=None)
    assert by_slot["scsi0:1"] == Disk(
        key=keys[(scsi_key, 1)], label=labels[keys[(scsi_key, 1)]], controller="scsi", bus_number=0, unit_number=1,
        capacity_bytes=2 * GIB, datastore=ds, backing_file="[LocalDS_0] DC0_C0_RP0_VM0/data.vmdk",
        backing_type="flat", disk_mode="independent_persistent", thin=False,
        io=IoAllocation(limit=500, shares_level="custom", shares=2000, reservation=100))
    assert by_slot["scsi0:1"].independent is True
    assert by_slot["sata1:0"] == Disk(
        key=keys[(sata_key, 0)], label=labels[keys[(sata_key, 0)]], controller="sata", bus_number=1, unit_number=0,
        capacity_bytes=512 * 1024 * 1024, datastore=ds, backing_file="[LocalDS_0] DC0_C0_RP0_VM0/sata.vmdk",
        backing_type="flat", disk_mode="persistent", thin=True, io=None)


def test_untouched_vm_exact(shaped):
    ref = shaped.refs["d"]
    vm = shaped.vc.vms[ref._moId]
    disk = next(d for d in ref.config.hardware.device if isinstance(d, vim.vm.device.VirtualDisk))
    expected = VM(
        moid=ref._moId, name="DC0_H0_VM1", instance_uuid=ref.config.instanceUuid, template=False,
        power_state="poweredOn", memory_mb=32, num_cpu=1, guest_id="otherGuest", guest_full_name="otherGuest",
        hw_version="vmx-13", extra_config={},
        disks=[Disk(key=disk.key, label=disk.deviceInfo.label, controller="scsi", bus_number=0, unit_number=0,
                    capacity_bytes=1024 * 1024, datastore=ref.datastore[0]._moId,
                    backing_file="[LocalDS_0] DC0_H0_VM1/disk1.vmdk", backing_type="flat",
                    disk_mode="persistent", thin=True)],
        host=ref.runtime.host._moId, cluster=None, folder_path="/DC0/vm",
        datastores=[ref.datastore[0]._moId],
        tags=[],  # read from the vAPI endpoint: none attached (not None = not collected)
    )
    assert vm.model_copy(update={"layout_ex": None}) == expected
    assert [f.name for f in vm.layout_ex.files if f.type == "diskDescriptor"][-1] == "[LocalDS_0] DC0_H0_VM1/disk1.vmdk"
    assert vm.layout_ex.disks[0].key == disk.key


def test_snapshot_tree_and_layout(shaped):
    ref = shaped.refs["b"]
    vm = shaped.vc.vms[ref._moId]
    root = ref.snapshot.rootSnapshotList[0]
    child = root.childSnapshotList[0]
    assert vm.snapshots == [SnapshotNode(
        moid=root.snapshot._moId, id=root.id, name="before-patch", description="pre", create_time=root.createTime,
        state="poweredOn", quiesced=False,
        children=[SnapshotNode(moid=child.snapshot._moId, id=child.id, name="after-patch", description=None,
                               create_time=child.createTime, state="poweredOn", quiesced=True)],
    )]
    assert vm.current_snapshot == child.snapshot._moId
    assert [n.name for n in vm.iter_snapshots()] == ["before-patch", "after-patch"]
    files = {f.key: f for f in vm.layout_ex.files}
    vmdir = "[LocalDS_0] DC0_C0_RP0_VM1/DC0_C0_RP0_VM1"
    assert [(s.moid, files[s.data_key].name, files[s.data_key].type, s.memory_key)
            for s in vm.layout_ex.snapshots] == [
        (root.snapshot._moId, f"{vmdir}-Snapshot1.vmsn", "snapshotData", -1),
        (child.snapshot._moId, f"{vmdir}-Snapshot2.vmsn", "snapshotData", -1),
    ]
    layout = ref.layoutEx
    assert [s.moid for s in vm.layout_ex.snapshots] == [s.key._moId for s in layout.snapshot]
    assert [(s.data_key, s.memory_key) for s in vm.layout_ex.snapshots] == [
        (s.dataKey, s.memoryKey) for s in layout.snapshot]
    assert [(f.key, f.name, f.type, f.size) for f in vm.layout_ex.files] == [
        (f.key, f.name, f.type, f.size) for f in layout.file]
    assert [d.chain for d in vm.layout_ex.disks] == [[list(c.fileKey) for c in d.chain] for d in layout.disk]


def test_power_state_and_template(shaped):
    vm = shaped.vc.vms[shaped.refs["c"]._moId]
    assert (vm.power_state, vm.template) == ("poweredOff", True)


def test_hosts_options_and_states(shaped):
    hosts = {h.name: h for h in shaped.vc.hosts.values()}
    assert sorted(hosts) == ["DC0_C0_H0", "DC0_C0_H1", "DC0_H0"]
    cluster = find(shaped.si, vim.ClusterComputeResource, "DC0_C0")._moId
    h1 = hosts["DC0_C0_H1"]
    assert h1.moid == shaped.refs["h1"]._moId
    assert (h1.version, h1.build, h1.full_name, h1.api_version) == (
        "6.5.0", "5969303", "VMware ESXi 6.5.0 build-5969303", "6.5")
    assert (h1.cpu_packages, h1.cpu_cores, h1.cpu_threads, h1.memory_bytes) == (2, 2, 2, 4294430720)
    assert h1.cpu_model == "Intel(R) Core(TM) i7-3615QM CPU @ 2.30GHz"
    assert (h1.connection_state, h1.maintenance_mode, h1.power_state, h1.cluster) == (
        "connected", True, "poweredOn", cluster)
    # Set on this host; the other key is not set (InvalidName): None with no error (docs/methodology.md (section 1 topics)).
    assert h1.advanced_options == {"Disk.SchedulerWithReservation": 0, "VMkernel.Boot.isPerFileSchedModelActive": None}
    assert h1.advanced_option_errors == {}

    h0 = hosts["DC0_C0_H0"]  # its option manager is gone: both values unknown, with the reason
    assert h0.maintenance_mode is False
    assert h0.advanced_options == {}
    gone = find(shaped.si, vim.HostSystem, "DC0_C0_H0").configManager.advancedOption._moId
    assert h0.advanced_option_errors == {
        key: f"QueryOptions({key}) failed: ManagedObjectNotFound: managed object not found: OptionManager:{gone}"
        for key in ("Disk.SchedulerWithReservation", "VMkernel.Boot.isPerFileSchedModelActive")}

    standalone = hosts["DC0_H0"]
    assert (standalone.connection_state, standalone.cluster) == ("disconnected", None)
    assert standalone.advanced_options == {}
    assert standalone.advanced_option_errors == {
        "Disk.SchedulerWithReservation": "host is disconnected: option not readable",
        "VMkernel.Boot.isPerFileSchedModelActive": "host is disconnected: option not readable",
    }


def test_clusters_and_datastores(shaped):
    si = shaped.si
    cluster = find(si, vim.ClusterComputeResource, "DC0_C0")
    assert shaped.vc.clusters == {cluster._moId: Cluster(
        moid=cluster._moId, name="DC0_C0", hosts=[h._moId for h in cluster.host])}
    ds_ref = find(si, vim.Datastore, "LocalDS_0")
    (ds,) = shaped.vc.datastores.values()
    assert ds.moid == ds_ref._moId
    assert (ds.name, ds.type, ds.url) == ("LocalDS_0", "OTHER", ds_ref.summary.url)
    assert (ds.capacity_bytes, ds.free_bytes) == (ds_ref.summary.capacity, ds_ref.summary.freeSpace)
    assert (ds.accessible, ds.sioc_supported, ds.iorm, ds.ssd) == (True, True, None, None)
    assert ds.hosts == [m.key._moId for m in ds_ref.host]
    assert sorted(ds.vms) == sorted(shaped.vc.vms)


def test_licenses_and_assignments(shaped):
    lic = {l.key: l for l in shaped.vc.licenses}
    assert list(lic) == [EVAL_KEY, NEW_KEY]
    assert lic[EVAL_KEY] == License(
        key=EVAL_KEY, edition_key="eval", name="Evaluation Mode", total=0,
        properties={"feature": [{"key": "serialuri:2", "value": "Remote virtual Serial Port Concentrator"},
                                {"key": "dvs", "value": "vSphere Distributed Switch"}]})
    # vcsim's AddLicense stores only the key and labels.
    assert lic[NEW_KEY] == License(key=NEW_KEY, total=0, labels={"site": "lab"})
    # As a vCenter answers QueryAssignedLicenses() (the test launcher; stock vcsim 0.24 gives one
    # assignment with an empty entity id): every host by its moid and name, and the vCenter by its
    # instance UUID, here all in evaluation mode.
    hosts = sorted((h._moId, h.name) for h in shaped.si.content.viewManager.CreateContainerView(
        shaped.si.content.rootFolder, [vim.HostSystem], True).view)
    about = shaped.si.content.about
    assert shaped.vc.license_assignments == [
        *(LicenseAssignment(entity=m, entity_name=n, entity_type="host", license_key=EVAL_KEY, edition_key="eval")
          for m, n in hosts),
        LicenseAssignment(entity=about.instanceUuid, entity_name=about.name, entity_type="vcenter",
                          license_key=EVAL_KEY, edition_key="eval")]


def test_snapshot_json_round_trip(shaped):
    assert loads(dumps(shaped.snap)) == shaped.snap


def test_sample_vram_is_light(shaped):
    light = sample_vram(load_config(shaped.config_path))
    (vc,) = light.vcenters.values()
    full = shaped.vc
    assert light.collection_errors == []
    assert set(vc.vms) == set(full.vms)
    for moid, vm in vc.vms.items():
        f = full.vms[moid]
        assert (vm.name, vm.power_state, vm.memory_mb, vm.template, vm.host, vm.cluster) == (
            f.name, f.power_state, f.memory_mb, f.template, f.host, f.cluster)
        assert (vm.disks, vm.extra_config, vm.snapshots, vm.datastores, vm.layout_ex, vm.guest_id) == (
            [], {}, [], [], None, None)
    for moid, h in vc.hosts.items():
        f = full.hosts[moid]
        assert (h.name, h.cpu_packages, h.cpu_cores, h.cluster, h.version) == (
            f.name, f.cpu_packages, f.cpu_cores, f.cluster, f.version)
        assert (h.advanced_options, h.memory_bytes, h.cpu_model) == ({}, None, None)
    assert vc.datastores == {}
    assert vc.clusters == full.clusters
    assert vc.licenses == full.licenses
    assert vc.license_assignments == full.license_assignments
