"""The fast engine (raw SOAP + lxml, the default) against the pyVmomi engine (the reference).

Both engines collect the same vcsim inventories and must give the same snapshot
(apart from ``collected_at``), compared as models and as the JSON we write:

- the session's default inventory, in one page and in pages of 3;
- a shaped inventory: snapshot trees (branched, with memory, quiesced), CBT on/off with
  change ids, per-disk ctk/cap keys in extraConfig, I/O limits with custom shares, SATA
  and independent disks, CPU/MMU flags, Tools-reported guest, annotations with markup,
  templates, powered-off and suspended VMs, a nested folder, a host in maintenance mode,
  a disconnected host, a host without option manager, an option set, a licence label;
  read in one page and in pages of 2;
- that inventory saved and loaded back with what the API cannot set written into its
  XML: RDM, sparse and SE sparse backings, an NVMe controller, consolidation needed,
  typed extraConfig values, host CPU/MMU capabilities, a VMFS datastore with SSD and a
  datastore with SIOC settings.

Failures must also end the same way: a session that dies between pages (renewed once),
a token the server rejects (the stage recorded), a property that cannot be read; and a
reader that stops early frees the server's result set. ``test_collect_fastxml.py``
compares the two engines on pages vcsim cannot produce.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from pyVim.task import WaitForTask
from pyVmomi import SoapAdapter, vim
from test_collect_protocol import Recorder, _end_session
from vcsim_harness import save_inventory

from reporter.api import load_config
from reporter.collect import batches, collect, convert, fastxml, rawsoap, sample_vram
from reporter.collect.vcenter import VCenterCollector
from reporter.core.model import Snapshot
from reporter.core.snapshot_io import dumps
from reporter.errors import ConfigError

pytestmark = pytest.mark.vcsim

ENGINES = ("pyvmomi", "fast")
XSI = "{http://www.w3.org/2001/XMLSchema-instance}type"


def assert_same_snapshot(ref: Snapshot, fast: Snapshot) -> None:
    fast = fast.model_copy(update={"collected_at": ref.collected_at})
    assert fast.collection_errors == ref.collection_errors
    assert list(fast.vcenters) == list(ref.vcenters)
    for uuid, vc in ref.vcenters.items():
        other = fast.vcenters[uuid]
        for kind in ("vms", "hosts", "clusters", "datastores"):
            want, got = getattr(vc, kind), getattr(other, kind)
            assert list(got) == list(want), kind
            for moid in want:
                assert got[moid] == want[moid], f"{kind} {moid}"
    assert fast == ref
    assert dumps(fast) == dumps(ref)


def collect_both(cfg: Any, **kwargs: Any) -> tuple[Snapshot, Snapshot]:
    ref = collect(cfg, progress=False, engine="pyvmomi", **kwargs)
    fast = collect(cfg, progress=False, engine="fast", **kwargs)
    assert_same_snapshot(ref, fast)
    return ref, fast


def find(si: Any, vimtype: type, name: str) -> Any:
    view = si.content.viewManager.CreateContainerView(si.content.rootFolder, [vimtype], True)
    try:
        return next(o for o in view.view if o.name == name)
    finally:
        view.DestroyView()


# --------------------------------------------------------------------------- default inventory


@pytest.mark.parametrize("page_size", [1000, 3])
def test_default_inventory(vcsim, tmp_path, page_size):
    cfg = load_config(vcsim.config_file(tmp_path))
    ref, _ = collect_both(cfg, page_size=page_size)
    (vc,) = ref.vcenters.values()
    assert (len(vc.vms), len(vc.hosts), len(vc.clusters), len(vc.datastores)) == (8, 4, 1, 1)
    assert all(vm.disks and vm.layout_ex and vm.folder_path == "/DC0/vm" for vm in vc.vms.values())


@pytest.mark.parametrize("batch_bytes", [None, 3000])
def test_single_page_server_ignoring_max_objects(vcsim_factory, tmp_path, monkeypatch, batch_bytes):
    """A server that answers every read in one page whatever maxObjects says (vcsim
    0.24 unpatched; maxObjects is only a hint to vCenter too): both engines read each
    type in one call, and the snapshots are equal to each other and to a paged read.
    With small batches (about one VM each) the fast engine's pages are parsed by its
    worker thread, batch after batch."""
    if batch_bytes is not None:
        monkeypatch.setattr(batches, "BATCH_BYTES", batch_bytes)
        monkeypatch.setattr(rawsoap, "_READ_CHUNK", 4096)  # else one chunk would be one batch
    parsed: list[int] = []  # objects per batch
    vm_batches: list[int] = []  # of the batches of VMs, in order (other reads run at the same time)
    original_parse = batches.parse_batch

    def parse_batch(batch: batches.Batch) -> Any:
        wrapper = original_parse(batch)
        objects = [child for child in wrapper if child.tag == "{urn:vim25}objects"]
        parsed.append(len(objects))
        if objects and objects[0].find("{urn:vim25}obj").get("type") == "VirtualMachine":
            vm_batches.append(len(objects))
        return wrapper

    monkeypatch.setattr(batches, "parse_batch", parse_batch)
    monkeypatch.setattr(batches.ReplySplitter, "rollback", None)  # never needed here
    single = vcsim_factory(vms=30, hosts=2, clusters=2, standalone=1, single_page=True)
    rec = Recorder(monkeypatch)
    _, fast = collect_both(load_config(single.config_file(tmp_path)), page_size=2)
    # One call per type (incl. vApps, host config, DVS), no continuation; the VMs (fast engine):
    # their view's list, then 15 requests of 2 listed VMs each (listed reads), each one page.
    assert rec.raw_calls == ["RetrievePropertiesEx"] * (10 + 1 + 15)
    assert "ContinueRetrievePropertiesEx" not in rec.calls
    (vc,) = fast.vcenters.values()
    assert (len(vc.vms), len(vc.hosts), len(vc.clusters)) == (30, 5, 2)
    assert all(vm.disks and vm.layout_ex for vm in vc.vms.values())
    # Every object of the fast engine's bulk reads (4 folders, 1 datacenter, 2 clusters, 5 hosts,
    # 1 datastore, 30 VMs, 1 distributed switch, its 2 port groups, 3 networks, the 5 hosts'
    # configuration; no vApps; the reads run at once, in any order) came in a batch: one per
    # reply (the VMs' 15), or with small batches and chunks one per VM (~10 KB each, cut once a
    # chunk holds an end).
    if batch_bytes is None:
        assert sorted(parsed) == sorted([1, 1, 1, 2, 2, 3, 4, 5, 5] + [2] * 15)
        assert vm_batches == [2] * 15
    else:
        assert sum(parsed) > 43 and vm_batches == [1] * 30


def test_default_inventory_light(vcsim, tmp_path):
    cfg = load_config(vcsim.config_file(tmp_path))
    ref = sample_vram(cfg, engine="pyvmomi")
    fast = sample_vram(cfg, engine="fast")
    assert_same_snapshot(ref, fast)
    assert ref.vm_count() == 8


def test_default_engine_and_the_environment(vcsim, tmp_path, monkeypatch):
    cfg = load_config(vcsim.config_file(tmp_path))
    monkeypatch.delenv("VCREPORT_COLLECT_ENGINE", raising=False)
    rec = Recorder(monkeypatch)
    assert collect(cfg, progress=False).vm_count() == 8
    # the fast engine read the pages (7 inventory types incl. vApps + 4 host-config reads; the VMs' list first)
    assert rec.raw_calls == ["RetrievePropertiesEx"] * (11 + 1)
    monkeypatch.setenv("VCREPORT_COLLECT_ENGINE", "pyvmomi")
    rec.raw_calls.clear()
    assert collect(cfg, progress=False).vm_count() == 8
    assert rec.raw_calls == []  # the pyVmomi engine read them
    monkeypatch.setenv("VCREPORT_COLLECT_ENGINE", "lxml")
    with pytest.raises(ConfigError, match="^unknown collection engine 'lxml' \\(from VCREPORT_COLLECT_ENGINE\\); "
                                          "choose one of fast, pyvmomi$"):
        collect(cfg)
    with pytest.raises(ConfigError, match="^unknown collection engine 'soap'; choose one of fast, pyvmomi$"):
        collect(cfg, engine="soap")


# --------------------------------------------------------------------------- shaped through the API


def _disk_spec(controller_key: int, unit: int, file_name: str, backing: Any, capacity_kb: int, io: Any = None) -> Any:
    backing.fileName = file_name
    disk = vim.vm.device.VirtualDisk(key=-100 - unit - controller_key, controllerKey=controller_key, unitNumber=unit,
                                     capacityInKB=capacity_kb, backing=backing, storageIOAllocation=io)
    return vim.vm.device.VirtualDeviceSpec(operation="add", fileOperation="create", device=disk)


def _first_disk(vm: Any) -> Any:
    return next(d for d in vm.config.hardware.device if isinstance(d, vim.vm.device.VirtualDisk))


def _snapshot(vm: Any, name: str, **kw: Any) -> None:
    spec = {"description": f"{name} <test> & co", "memory": False, "quiesce": False, **kw}
    WaitForTask(vm.CreateSnapshot_Task(name=name, **spec))


def shape(si: Any) -> dict[str, Any]:
    """State the checks read, set through the vSphere API (vcsim 0.24's quirks: see
    test_collect_inventory.py and test_snapshots_cbt_vcsim.py)."""
    content = si.content
    vms = {n: find(si, vim.VirtualMachine, n) for n in (
        "DC0_C0_RP0_VM0", "DC0_C0_RP0_VM1", "DC0_C0_RP0_VM2", "DC0_H0_VM0", "DC0_H0_VM1", "DC0_H0_VM2")}
    a, b, c, d, e, _ = vms.values()
    Flat = vim.vm.device.VirtualDisk.FlatVer2BackingInfo
    IO = vim.StorageResourceManager.IOAllocationInfo

    # A: CBT and cap keys, flags, Tools guest, two more disks (one with a limit), a folder.
    scsi = next(x for x in a.config.hardware.device if isinstance(x, vim.vm.device.VirtualSCSIController))
    sata = vim.vm.device.VirtualAHCIController(key=-50, busNumber=1)
    opts = [("ctkEnabled", "TRUE"), ("scsi0:0.ctkEnabled", "TRUE"), ("scsi0:1.ctkEnabled", "FALSE"),
            ("sata1:0.ctkEnabled", "true"), ("sched.scsi0:0.throughputCap", "500IOps"),
            ("sched.scsi0:1.bandwidthCap", "10 megabytes"), ("monitor.virtual_exec", "hardware"),
            ("SET.guest.guestId", "winNetStandardGuest"),
            ("SET.guest.guestFullName", "Microsoft Windows Server 2003 Standard (32-bit)")]
    WaitForTask(a.ReconfigVM_Task(vim.vm.ConfigSpec(
        memoryMB=4096, numCPUs=2, guestId="winNetStandardGuest", changeTrackingEnabled=True,
        annotation="owner: ops & <db>\nticket ümlaut \"42\"",
        flags=vim.vm.FlagInfo(virtualExecUsage="hvOn", virtualMmuUsage="on"),
        extraConfig=[vim.option.OptionValue(key=k, value=v) for k, v in opts],
        deviceChange=[
            _disk_spec(scsi.key, 1, "[LocalDS_0] DC0_C0_RP0_VM0/data.vmdk",
                       Flat(diskMode="independent_persistent", thinProvisioned=False), 2 * 1024 * 1024,
                       IO(limit=500, reservation=100, shares=vim.SharesInfo(level="custom", shares=2000))),
            vim.vm.device.VirtualDeviceSpec(operation="add", device=sata),
            _disk_spec(-50, 0, "[LocalDS_0] DC0_C0_RP0_VM0/sata.vmdk",
                       Flat(diskMode="persistent", thinProvisioned=True), 512 * 1024),
        ])))
    dc = content.rootFolder.childEntity[0]
    prod = dc.vmFolder.CreateFolder("prod & test")
    db = prod.CreateFolder("db")
    WaitForTask(db.MoveIntoFolder_Task([a]))

    # B: a branched snapshot tree: s1 -> s2, back to s1, s1 -> s3 (memory, current); a quiesced one below.
    _snapshot(b, "s1")
    _snapshot(b, "s2", quiesce=True)
    s1 = b.snapshot.rootSnapshotList[0].snapshot
    s1.RevertToSnapshot_Task()
    for _ in range(200):
        if b.snapshot.currentSnapshot == s1:
            break
        time.sleep(0.05)
    _snapshot(b, "s3", memory=True, description="")

    # C: a powered-off template.
    WaitForTask(c.PowerOffVM_Task())
    c.MarkAsTemplate()

    # D: suspended, CBT active on its disk (a change id), which is independent-nonpersistent; flags off.
    disk = _first_disk(d)
    disk.backing.changeId = "52 de ad be ef 00 11 22-33 44 55 66 77 88 99 aa/12"
    disk.backing.diskMode = "independent_nonpersistent"
    disk.storageIOAllocation = IO(limit=-1, reservation=0, shares=vim.SharesInfo(level="high", shares=2000))
    WaitForTask(d.ReconfigVM_Task(vim.vm.ConfigSpec(
        changeTrackingEnabled=False, flags=vim.vm.FlagInfo(virtualExecUsage="hvOff", virtualMmuUsage="off"),
        extraConfig=[vim.option.OptionValue(key="scsi0:0.ctkEnabled", value="FALSE")],
        deviceChange=[vim.vm.device.VirtualDeviceSpec(operation="edit", device=disk)])))
    WaitForTask(d.SuspendVM_Task())

    # E: a backup-style snapshot and an empty annotation.
    _snapshot(e, "VEEAM BACKUP TEMPORARY SNAPSHOT")
    WaitForTask(e.ReconfigVM_Task(vim.vm.ConfigSpec(annotation="")))

    # Hosts: an option set, one host in maintenance mode.
    h1 = find(si, vim.HostSystem, "DC0_C0_H1")
    h1.configManager.advancedOption.UpdateOptions(
        changedValue=[vim.option.OptionValue(key="Disk.SchedulerWithReservation", value=0)])
    WaitForTask(h1.EnterMaintenanceMode_Task(timeout=0))
    content.licenseManager.AddLicense(licenseKey="AAAAA-BBBBB-CCCCC-DDDDD-EEEEE",
                                      labels=[vim.KeyValue(key="site", value="lab & <dr>")])
    return {"vms": vms, "h1": h1}


@dataclass
class Shaped:
    inst: Any
    cfg: Any
    refs: dict[str, Any]


@pytest.fixture(scope="module")
def shaped(vcsim_launcher, tmp_path_factory) -> Iterator[Shaped]:
    inst = vcsim_launcher.start(vms=6, hosts=2, clusters=1, standalone=1, datastores=2,
                                disconnect=("DC0_H0",), drop_option_manager=("DC0_C0_H0",))
    try:
        refs = shape(inst.si())
        cfg = load_config(inst.config_file(tmp_path_factory.mktemp("engines")))
        yield Shaped(inst, cfg, refs)
    finally:
        inst.stop()
        if inst in vcsim_launcher.running:
            vcsim_launcher.running.remove(inst)


@pytest.mark.parametrize("page_size,batch_bytes", [(1000, None), (2, None), (1000, 500)])
def test_shaped_inventory(shaped, page_size, batch_bytes, monkeypatch):
    if batch_bytes is not None:  # a batch per object (or two)
        monkeypatch.setattr(batches, "BATCH_BYTES", batch_bytes)
    ref, _ = collect_both(shaped.cfg, page_size=page_size)
    (vc,) = ref.vcenters.values()
    vms = {vm.name: vm for vm in vc.vms.values()}
    # The shapes are really in what was compared.
    a, b, c, d, e = (vms[n] for n in ("DC0_C0_RP0_VM0", "DC0_C0_RP0_VM1", "DC0_C0_RP0_VM2", "DC0_H0_VM0", "DC0_H0_VM1"))
    assert a.folder_path == "/DC0/vm/prod & test/db"
    assert [(x.device_node, x.io.limit if x.io else None) for x in a.disks] == [
        ("scsi0:0", None), ("scsi0:1", 500), ("sata1:0", None)]
    assert len(a.extra_config) == 6 and a.tools_guest_id == "winNetStandardGuest"
    assert a.annotation == "owner: ops & <db>\nticket ümlaut \"42\""
    assert [n.name for n in b.iter_snapshots()] == ["s1", "s2", "s3"] and b.snapshots[0].description == "s1 <test> & co"
    assert [s.quiesced for s in b.iter_snapshots()] == [False, True, False]
    assert b.current_snapshot == b.snapshots[0].children[1].moid and len(b.layout_ex.snapshots) == 3
    assert (c.template, c.power_state, d.power_state) == (True, "poweredOff", "suspended")
    assert (d.disks[0].change_id, d.disks[0].disk_mode, d.disks[0].io.shares_level) == (
        "52 de ad be ef 00 11 22-33 44 55 66 77 88 99 aa/12", "independent_nonpersistent", "high")
    assert (d.virtual_exec_usage, d.change_tracking_enabled) == ("hvOff", False)
    assert (e.annotation, e.snapshots[0].name) == (None, "VEEAM BACKUP TEMPORARY SNAPSHOT")
    hosts = {h.name: h for h in vc.hosts.values()}
    assert hosts["DC0_C0_H1"].maintenance_mode and hosts["DC0_H0"].connection_state == "disconnected"
    assert hosts["DC0_C0_H1"].advanced_options["Disk.SchedulerWithReservation"] == 0
    assert hosts["DC0_C0_H0"].advanced_option_errors
    assert [lic.labels for lic in vc.licenses] == [{}, {"site": "lab & <dr>"}]


def test_shaped_inventory_light(shaped):
    ref = sample_vram(shaped.cfg, engine="pyvmomi", page_size=2)
    fast = sample_vram(shaped.cfg, engine="fast", page_size=2)
    assert_same_snapshot(ref, fast)
    assert {vm.power_state for vm in ref.vcenters[next(iter(ref.vcenters))].vms.values()} == {
        "poweredOn", "poweredOff", "suspended"}


# --------------------------------------------------------------------------- saved, edited, loaded


def _objects(model: Path, kind: str) -> dict[str, tuple[Path, Any]]:
    """name -> (file, parsed ObjectContent) of the saved objects of one type."""
    out = {}
    for path in model.glob(f"*-{kind}-*.xml"):
        root = etree.parse(str(path)).getroot()
        out[_prop(root, "name").text] = (path, root)
    return out


def _prop(root: Any, name: str) -> Any:
    return next(ps.find("val") for ps in root.iter("propSet") if ps.findtext("name") == name)


def _xml(text: str) -> Any:
    """An element written with xsi:type attributes (``t=``), in the saved files' style."""
    text = re.sub(r'\bt="', 'XMLSchema-instance:type="', text)
    wrapper = etree.fromstring(f'<w xmlns:XMLSchema-instance="http://www.w3.org/2001/XMLSchema-instance">{text}</w>')
    return wrapper[0]


def _save(path: Path, root: Any) -> None:
    path.write_bytes(etree.tostring(root))


def edit_model(model: Path) -> None:
    vms = _objects(model, "VirtualMachine")
    path, root = vms["DC0_C0_RP0_VM0"]
    config = _prop(root, "config")
    hardware = config.find("hardware")
    devices = hardware.findall("device")
    disk0 = next(d for d in devices if d.get(XSI) == "VirtualDisk" and d.findtext("unitNumber") == "0"
                 and d.findtext("controllerKey") != "-50")
    ds = disk0.find("backing/datastore")
    scsi_key = disk0.findtext("controllerKey")
    disk0.replace(disk0.find("backing"), _xml(
        '<backing t="VirtualDiskRawDiskMappingVer1BackingInfo">'
        '<fileName>[LocalDS_0] DC0_C0_RP0_VM0/rdm.vmdk</fileName>'
        f'<datastore type="Datastore">{ds.text}</datastore><lunUuid>0200000000600</lunUuid>'
        '<deviceName>/vmfs/devices/disks/naa.600</deviceName><compatibilityMode>physicalMode</compatibilityMode>'
        '<diskMode>independent_persistent</diskMode></backing>'))
    hardware.append(_xml(
        '<device t="VirtualNVMEController"><key>31000</key><deviceInfo t="Description"><label>NVME controller 0</label>'
        '<summary>NVME controller 0</summary></deviceInfo><busNumber>0</busNumber></device>'))
    hardware.append(_xml(
        '<device t="VirtualDisk"><key>2100</key><deviceInfo t="Description"><label>Hard disk 9</label>'
        '<summary>4 GB</summary></deviceInfo><backing t="VirtualDiskSeSparseBackingInfo">'
        f'<fileName>[LocalDS_0] DC0_C0_RP0_VM0/vdi.vmdk</fileName><datastore type="Datastore">{ds.text}</datastore>'
        '<diskMode>persistent</diskMode><writeThrough>false</writeThrough><changeId>52 aa bb/7</changeId></backing>'
        '<controllerKey>31000</controllerKey><unitNumber>0</unitNumber><capacityInKB>4194304</capacityInKB>'
        '<capacityInBytes>4294967296</capacityInBytes><storageIOAllocation><limit>1000</limit>'
        '<shares><shares>500</shares><level>low</level></shares><reservation>0</reservation></storageIOAllocation>'
        '</device>'))
    hardware.append(_xml(
        '<device t="VirtualDisk"><key>2101</key><deviceInfo t="Description"><label>Hard disk 10</label>'
        '<summary>old</summary></deviceInfo><backing t="VirtualDiskSparseVer2BackingInfo">'
        '<fileName>[LocalDS_0] DC0_C0_RP0_VM0/old.vmdk</fileName><diskMode>persistent</diskMode></backing>'
        f'<controllerKey>{scsi_key}</controllerKey><unitNumber>2</unitNumber>'
        '<capacityInKB>2048</capacityInKB></device>'))
    config.append(_xml('<extraConfig t="OptionValue"><key>scsi0:2.ctkEnabled</key><value t="xsd:boolean">true</value>'
                       '</extraConfig>'))
    config.append(_xml('<extraConfig t="OptionValue"><key>sched.scsi0:2.throughputCap</key>'
                       '<value t="xsd:int">250</value></extraConfig>'))
    _prop(root, "runtime").append(_xml("<consolidationNeeded>true</consolidationNeeded>"))
    _save(path, root)

    hosts = _objects(model, "HostSystem")
    path, root = hosts["DC0_C0_H1"]
    root.append(_xml(
        '<propSet><name>capability</name><val t="HostCapability"><vmotionSupported>true</vmotionSupported>'
        '<virtualExecUsageSupported>true</virtualExecUsageSupported><cpuHwMmuSupported>true</cpuHwMmuSupported>'
        '<virtualExecUsageIgnored>false</virtualExecUsageIgnored><virtualMmuUsageIgnored>true</virtualMmuUsageIgnored>'
        '</val></propSet>'))
    _save(path, root)

    dss = _objects(model, "Datastore")
    path, root = dss["LocalDS_0"]
    info = _prop(root, "info")
    url = info.findtext("url")
    info.getparent().replace(info, _xml(
        f'<val t="VmfsDatastoreInfo"><name>LocalDS_0</name><url>{url}</url><freeSpace>1</freeSpace>'
        '<maxFileSize>2</maxFileSize><vmfs><name>LocalDS_0</name><capacity>100</capacity><blockSizeMb>1</blockSizeMb>'
        '<maxBlocks>1</maxBlocks><majorVersion>6</majorVersion><version>6.82</version><uuid>5f00</uuid>'
        '<extent><diskName>naa.1</diskName><partition>1</partition></extent><vmfsUpgradable>false</vmfsUpgradable>'
        '<ssd>true</ssd></vmfs></val>'))
    _save(path, root)
    path, root = dss["LocalDS_1"]
    root.append(_xml(
        '<propSet><name>iormConfiguration</name><val t="StorageIORMInfo"><enabled>true</enabled>'
        '<congestionThresholdMode>manual</congestionThresholdMode><congestionThreshold>30</congestionThreshold>'
        '<percentOfPeakThroughput>90</percentOfPeakThroughput><statsCollectionEnabled>true</statsCollectionEnabled>'
        '<reservationEnabled>true</reservationEnabled><statsAggregationDisabled>false</statsAggregationDisabled>'
        '</val></propSet>'))
    _save(path, root)


def test_loaded_inventory_with_shapes_the_api_cannot_set(shaped, vcsim_factory, tmp_path):
    model = save_inventory(shaped.inst, tmp_path / "model")
    edit_model(model)
    loaded = vcsim_factory(model_dir=model)
    cfg = load_config(loaded.config_file(tmp_path))
    for page_size in (1000, 2):
        ref, _ = collect_both(cfg, page_size=page_size)
    (vc,) = ref.vcenters.values()
    a = next(vm for vm in vc.vms.values() if vm.name == "DC0_C0_RP0_VM0")
    assert [(x.device_node, x.backing_type, x.disk_mode) for x in a.disks] == [
        ("scsi0:0", "rdm", "independent_persistent"), ("scsi0:1", "flat", "independent_persistent"),
        ("sata1:0", "flat", "persistent"), ("nvme0:0", "sesparse", "persistent"), ("scsi0:2", "sparse", "persistent")]
    assert (a.disks[0].compatibility_mode, a.disks[3].change_id, a.disks[3].io.shares_level) == (
        "physicalMode", "52 aa bb/7", "low")
    assert (a.extra_config["scsi0:2.ctkEnabled"], a.extra_config["sched.scsi0:2.throughputCap"]) == ("True", "250")
    assert a.consolidation_needed is True
    h1 = next(h for h in vc.hosts.values() if h.name == "DC0_C0_H1")
    assert (h1.hw_exec_supported, h1.hw_mmu_supported, h1.mmu_usage_ignored) == (True, True, True)
    dss = {d.name: d for d in vc.datastores.values()}
    assert (dss["LocalDS_0"].ssd, dss["LocalDS_1"].iorm.congestion_threshold_ms) == (True, 30)


# --------------------------------------------------------------------------- failures end the same way


def _terminate(admin: Any, session: Any) -> None:
    _end_session(admin, session.si.content.sessionManager.currentSession.key)


@pytest.mark.parametrize("engine", ENGINES)
def test_session_lost_between_pages_is_renewed_once(shaped, monkeypatch, engine):
    """The session ends just before the first VM continuation is sent: that call fails with
    NotAuthenticated (in the fast engine a raw SOAP fault reply, turned into pyVmomi's
    exception), the session is renewed and the VM stage runs again."""
    admin = shaped.inst.si()
    session_of: list[Any] = []
    killed: list[str] = []
    original_read_vms = VCenterCollector._read_vms
    original_serialize = SoapAdapter.SoapStubAdapter.SerializeRequest
    original_receive = rawsoap.RawSoap.receive_stream
    raw_faults: list[str] = []

    def read_vms(self: VCenterCollector, session: Any) -> None:
        session_of.append(session)
        original_read_vms(self, session)

    def serialize(stub: Any, mo: Any, info: Any, args: Any) -> bytes:
        if session_of and not killed and info.wsdlName == "ContinueRetrievePropertiesEx":
            killed.append(info.wsdlName)
            _terminate(admin, session_of[0])
        return original_serialize(stub, mo, info, args)

    def receive(raw: Any, pending: Any) -> Iterator[bytes]:
        try:
            yield from original_receive(raw, pending)
        except Exception as exc:
            raw_faults.append(type(exc).__name__)
            raise

    monkeypatch.setattr(VCenterCollector, "_read_vms", read_vms)
    monkeypatch.setattr(SoapAdapter.SoapStubAdapter, "SerializeRequest", serialize)
    monkeypatch.setattr(rawsoap.RawSoap, "receive_stream", receive)
    rec = Recorder(monkeypatch)
    snap = collect(shaped.cfg, progress=False, engine=engine, page_size=2)
    assert killed and snap.collection_errors == []
    assert rec.counts()["Login"] == 2
    # The other stages read at the same time: their raw replies may have failed the same way.
    assert set(raw_faults) == ({"vim.fault.NotAuthenticated"} if engine == "fast" else set())
    monkeypatch.undo()
    assert_same_snapshot(collect(shaped.cfg, progress=False, engine="pyvmomi", page_size=2), snap)


def test_rejected_token_fails_the_stage_alike(shaped, monkeypatch):
    """The server answers a continuation with a fault (here InvalidArgument for a token it
    does not know): the same CollectionError on both engines, the other stages still run.
    The fast engine's VM read asks for listed VMs a page at a time and never continues a
    reply here: its VMs are all read."""
    original = SoapAdapter.SoapStubAdapter.SerializeRequest

    def serialize(stub: Any, mo: Any, info: Any, args: Any) -> bytes:
        if info.wsdlName == "ContinueRetrievePropertiesEx":
            args = ["no-such-token"]
        return original(stub, mo, info, args)

    expected = {engine: ("folders", "hosts", *(("vms",) if engine == "pyvmomi" else ()), "host-config")
                for engine in ("pyvmomi", "fast")}
    unfaulted = collect(shaped.cfg, progress=False, engine="pyvmomi", page_size=2)
    monkeypatch.setattr(SoapAdapter.SoapStubAdapter, "SerializeRequest", serialize)
    for engine, stages in expected.items():
        snap = collect(shaped.cfg, progress=False, engine=engine, page_size=2)
        assert [(e.stage, e.error_type, e.message) for e in snap.collection_errors] == [
            (stage, "InvalidArgument", f"reading {stage} failed: InvalidArgument: unknown or finished token")
            for stage in stages]  # 1 cluster and 2 datastores fit one page
        (vc,) = snap.vcenters.values()
        assert len(vc.datastores) == 2 and vc.licenses
        (whole,) = unfaulted.vcenters.values()
        assert list(vc.vms) == ([] if engine == "pyvmomi" else list(whole.vms))  # (their clusters unknown: no hosts)


def test_unreadable_property_reported_alike(shaped, monkeypatch):
    monkeypatch.setattr(convert, "VM_PATHS", [*convert.VM_PATHS, "config.noSuchProperty"])
    ref, fast = collect_both(shaped.cfg, page_size=2)
    (err,) = fast.collection_errors
    assert (err.stage, err.error_type) == ("vms", "InvalidProperty")
    assert err.message.endswith(" and 5 more")


def test_early_stop_frees_the_rest_of_the_result_set(shaped, monkeypatch):
    """A caller that stops reading: the fast engine reads the page it asked for ahead up to
    its token, then frees the server's remaining result set and its view."""
    si = shaped.inst.si()
    rec = Recorder(monkeypatch)
    pages = fastxml.retrieve(si.content, vim.VirtualMachine, ["name"], page_size=1)  # 6 pages
    first = next(pages)
    pages.close()
    assert first[1]["name"].startswith("DC0_")
    first_call, *continued, last = rec.raw_calls
    assert (first_call, last) == ("RetrievePropertiesEx", "CancelRetrievePropertiesEx")
    assert continued == ["ContinueRetrievePropertiesEx"]
    assert rec.calls[-1] == "DestroyView"
