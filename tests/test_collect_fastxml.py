"""The fast engine's XML reading against pyVmomi's deserializer, on pages vcsim cannot produce.

Each page is a RetrievePropertiesEx reply serialized by pyVmomi itself from pyVmomi
objects (fields its serializer insists on but servers may leave out are then cut
from the XML). The reference is what the pyVmomi engine makes of it (pyVmomi's
deserializer, then ``retrieve.page_objects``); the fast engine parses the same bytes
(``fastxml.parse_page`` + ``Converter.objects``). Values must be equal, path by path:
model parts by ``==``, pyVmomi objects by their full ``repr``. The page reader (replies
streamed in chunks, the next page asked for ahead, early stop, errors) runs here over
canned replies. The
end-to-end comparison on vcsim inventories is in ``test_collect_engines.py``.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from lxml import etree
from pyVmomi import SoapAdapter, VmomiSupport, vim, vmodl

from reporter.collect import convert, fastxml, pages, rawsoap, retrieve
from reporter.collect.retrieve import MissingProperty, ReadStats

PC = vmodl.query.PropertyCollector
D = vim.vm.device
VD = D.VirtualDisk
STUB = SoapAdapter.SoapStubAdapter(host="localhost", version="vim.version.v8_0_3_0")
RESULT = PC._GetMethodInfo("RetrievePropertiesEx").result


def envelope(objects: list[Any], token: str | None = None, extra_ns: str = "") -> bytes:
    res = PC.RetrieveResult(token=token, objects=objects)
    info = VmomiSupport.Object(name="returnval", type=PC.RetrieveResult, version=STUB.version, flags=0)
    body = SoapAdapter.SerializeToStr(res, info, STUB.version, {"urn:vim25": ""})
    return ('<?xml version="1.0" encoding="UTF-8"?>'
            '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"' + extra_ns + '>'
            '<soapenv:Body><RetrievePropertiesExResponse xmlns="urn:vim25">' + body +
            '</RetrievePropertiesExResponse></soapenv:Body></soapenv:Envelope>').encode()


def remove(xml: bytes, *xpaths: str) -> bytes:
    """Drop elements (fields a server may leave out that pyVmomi's serializer requires)."""
    root = etree.fromstring(xml)
    for xp in xpaths:
        found = root.xpath(xp, namespaces={"v": "urn:vim25"})
        assert found, xp
        for el in found:
            el.getparent().remove(el)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def obj(ref: Any, props: dict[str, Any], missing: list[Any] | None = None) -> Any:
    return PC.ObjectContent(obj=ref, propSet=[vmodl.DynamicProperty(name=k, val=v) for k, v in props.items()],
                            missingSet=missing or [])


def canon(value: Any) -> Any:
    """Comparable form: pyVmomi data objects and typed lists by their repr, the rest as is."""
    if isinstance(value, (VmomiSupport.DataObject, VmomiSupport.ManagedObject)) or (
            isinstance(value, list) and hasattr(type(value), "Item")):
        return ("pyVmomi", type(value).__name__, repr(value))
    if isinstance(value, (list, tuple)):
        return type(value)(canon(v) for v in value)
    return value


def both(xml: bytes, values: dict[str, Any] | None) -> tuple[list[Any], list[Any], ReadStats, ReadStats]:
    ref_stats, fast_stats = ReadStats(), ReadStats()
    result = SoapAdapter.SoapResponseDeserializer(STUB).Deserialize(xml, RESULT)
    ref = list(retrieve.page_objects(result.objects, ref_stats, values))
    page = fastxml.parse_page(xml)
    assert page is not None and page.token == (result.token or None)
    fast = list(fastxml.Converter(STUB, values).objects(page, fast_stats))
    return ref, fast, ref_stats, fast_stats


def assert_same(xml: bytes, values: dict[str, Any] | None) -> list[tuple[str, dict[str, Any]]]:
    ref, fast, ref_stats, fast_stats = both(xml, values)
    assert [m for m, _ in fast] == [m for m, _ in ref]
    for (moid, want), (_, got) in zip(ref, fast):
        assert list(got) == list(want), moid
        for path in want:
            assert canon(got[path]) == canon(want[path]), f"{moid} {path}"
    assert fast_stats.missing == ref_stats.missing
    return fast


# --------------------------------------------------------------------------- VM values

SHARES = vim.SharesInfo(level="custom", shares=1500)


def disk(key: int, ctrl: int | None, unit: int | None, backing: Any = None, **kw: Any) -> Any:
    kw.setdefault("capacityInKB", 1)
    return VD(key=key, controllerKey=ctrl, unitNumber=unit, backing=backing,
              deviceInfo=kw.pop("info", vim.Description(label=f"Hard disk {key}", summary="x")), **kw)


def all_devices() -> Any:
    ds = vim.Datastore("datastore-11")
    return D.VirtualDevice.Array([  # (required fields pyVmomi's serializer insists on are removed in remove())
        D.ParaVirtualSCSIController(key=1000, busNumber=0, sharedBus="noSharing"),
        D.VirtualLsiLogicSASController(key=1001, busNumber=1, sharedBus="noSharing"),
        D.VirtualBusLogicController(key=1002, busNumber=3, sharedBus="noSharing"),  # busNumber removed below
        D.VirtualNVMEController(key=31000, busNumber=0),
        D.VirtualAHCIController(key=15000, busNumber=2),
        D.VirtualIDEController(key=200, busNumber=0),
        D.VirtualPS2Controller(key=300, busNumber=0),
        D.VirtualCdrom(key=3000, controllerKey=200, unitNumber=0),
        D.VirtualVmxnet3(key=4000, controllerKey=100, unitNumber=7, macAddress="00:50:56:00:00:01"),
        disk(2000, 1000, 0, VD.RawDiskMappingVer1BackingInfo(
            fileName="[san1] db/db_1.vmdk", datastore=ds, compatibilityMode="physicalMode",
            deviceName="/vmfs/devices/disks/naa.600"),  # no diskMode: optional on RDM (None)
            capacityInBytes=10 * 1024**3, capacityInKB=10 * 1024**2),
        disk(2001, 1001, 3, VD.SparseVer2BackingInfo(fileName="[ds2] old/old.vmdk", datastore=ds,
                                                     diskMode="persistent"), capacityInKB=2048),
        disk(2002, 31000, 0, VD.SeSparseBackingInfo(fileName="[ds1] vdi/vdi.vmdk", datastore=ds,
                                                    diskMode="nonpersistent", changeId="52 3e/7"),
             capacityInBytes=4096,
             storageIOAllocation=vim.StorageResourceManager.IOAllocationInfo(limit=-1, shares=SHARES, reservation=0)),
        disk(2003, 15000, 1, VD.FlatVer2BackingInfo(fileName="[ds1] a/a & b <c>.vmdk", datastore=ds,
                                                    diskMode="independent_persistent", thinProvisioned=False,
                                                    changeId="52 aa/3"),
             capacityInBytes=1024, storageIOAllocation=vim.StorageResourceManager.IOAllocationInfo(limit=300)),
        disk(2004, 9999, 0, VD.LocalPMemBackingInfo(fileName="[pmem] p.vmdk", diskMode="persistent"),
             capacityInBytes=512),
        disk(2005, 1000, 1, VD.FlatVer1BackingInfo(fileName="[ds1] v1.vmdk", diskMode="persistent"), capacityInKB=0),
        disk(2006, 1000, 2, None, capacityInKB=64),  # no backing
        disk(2007, None, None, VD.FlatVer2BackingInfo(fileName="", diskMode="persistent"), info=None,
             capacityInKB=0),  # no controller, no label
        disk(2009, 1002, 0, VD.FlatVer2BackingInfo(fileName="[ds1] f.vmdk", diskMode="persistent"),
             capacityInKB=8),  # capacityInKB, diskMode and label removed below
        disk(2008, 200, 1, VD.FlatVer2BackingInfo(fileName="[ds1] e.vmdk", diskMode="persistent", thinProvisioned=True),
             info=vim.Description(label="", summary=""),
             storageIOAllocation=vim.StorageResourceManager.IOAllocationInfo(shares=vim.SharesInfo(level="low",
                                                                                                 shares=500))),
    ])


def snapshot_info() -> Any:
    when = datetime(2024, 3, 1, 12, 30, 5, 123456, tzinfo=UTC)
    leaf = vim.vm.SnapshotTree(snapshot=vim.vm.Snapshot("snapshot-3"), vm=vim.VirtualMachine("vm-1"), name="s3",
                               description="", id=3, createTime=when + timedelta(days=2), state="poweredOff",
                               quiesced=False)
    mid = vim.vm.SnapshotTree(snapshot=vim.vm.Snapshot("snapshot-2"), vm=vim.VirtualMachine("vm-1"), name="s2 <b>",
                              description="line 1\nline 2", id=2, createTime=when + timedelta(days=1),
                              state="poweredOn", quiesced=True, childSnapshotList=[leaf], replaySupported=False)
    other = vim.vm.SnapshotTree(snapshot=vim.vm.Snapshot("snapshot-4"), vm=vim.VirtualMachine("vm-1"), name="s4",
                                description="d", id=4, createTime=when, state="suspended", quiesced=False)
    root = vim.vm.SnapshotTree(snapshot=vim.vm.Snapshot("snapshot-1"), vm=vim.VirtualMachine("vm-1"), name="s1",
                               description="first", id=1, createTime=when, state="poweredOn", quiesced=False,
                               childSnapshotList=[mid, other])
    return vim.vm.SnapshotInfo(currentSnapshot=vim.vm.Snapshot("snapshot-3"), rootSnapshotList=[root])


def layout() -> Any:
    L = vim.vm.FileLayoutEx
    return L(
        file=[L.FileInfo(key=0, name="[ds1] vm/vm.vmx", type="config", size=4096, uniqueSize=4096, accessible=True),
              L.FileInfo(key=1, name="[ds1] vm/vm.vmdk", type="diskDescriptor", size=512),
              L.FileInfo(key=2, name="[ds1] vm/vm-flat.vmdk", type="diskExtent", size=10 * 1024**3, uniqueSize=0),
              L.FileInfo(key=3, name="[ds1] vm/vm-000001.vmdk", type="diskDescriptor", size=300),
              L.FileInfo(key=4, name="[ds1] vm/vm-000001-sesparse.vmdk", type="diskExtent", size=2 * 1024**2),
              L.FileInfo(key=5, name="[ds1] vm/vm-Snapshot1.vmsn", type="snapshotData", size=30),
              L.FileInfo(key=6, name="", type="", size=0)],
        disk=[L.DiskLayout(key=2000, chain=[L.DiskUnit(fileKey=[1, 2]), L.DiskUnit(fileKey=[3, 4])]),
              L.DiskLayout(key=2001, chain=[]),
              L.DiskLayout(key=2002, chain=[L.DiskUnit(fileKey=[9])])],
        snapshot=[L.SnapshotLayout(key=vim.vm.Snapshot("snapshot-1"), dataKey=5, memoryKey=-1,
                                   disk=[L.DiskLayout(key=2000, chain=[L.DiskUnit(fileKey=[1, 2])])])],
        timestamp=datetime(2024, 3, 1, tzinfo=UTC),
    )


def options(*pairs: tuple[str, Any]) -> Any:
    return vim.option.OptionValue.Array([vim.option.OptionValue(key=k, value=v) for k, v in pairs])


def full_vm(moid: str, **over: Any) -> Any:
    props = {
        "name": "web-01 & <db>",
        "parent": vim.Folder("group-v3"),
        "datastore": vim.Datastore.Array([vim.Datastore("datastore-11"), vim.Datastore("datastore-12")]),
        "config.instanceUuid": "5003a1b2-0000-0000-0000-000000000001",
        "config.template": False,
        "config.hardware.memoryMB": 8192,
        "config.hardware.numCPU": 4,
        "config.guestId": "windows2019srv_64Guest",
        "config.guestFullName": "Microsoft Windows Server 2019 (64-bit)",
        "config.version": "vmx-19",
        "config.changeTrackingEnabled": True,
        "config.flags.virtualExecUsage": vim.vm.FlagInfo.VirtualExecUsage.hvOn,
        "config.flags.virtualMmuUsage": vim.vm.FlagInfo.VirtualMmuUsage.automatic,
        "config.extraConfig": options(
            ("ctkEnabled", "TRUE"), ("scsi0:0.ctkEnabled", "true"), ("SCSI0:1.CTKENABLED", "false"),
            ("sched.scsi0:0.throughputCap", "2KIOps"), ("sched.nvme0:1.bandwidthCap", "10MBps"),
            ("sata1:2.ctkEnabled", True), ("ide0:0.ctkEnabled", 1), ("sched.mem.min", "0"),
            ("tools.syncTime", "FALSE"), ("scsi0:0.present", "TRUE"), ("guestinfo.x", "ctkEnabled"),
        ),
        "config.hardware.device": all_devices(),
        "config.annotation": "owner: ops\nticket: <123> & more",
        "guest.guestId": "",
        "guest.guestFullName": "Microsoft Windows Server 2019 (64-bit)",
        "runtime.powerState": vim.VirtualMachine.PowerState.poweredOn,
        "runtime.host": vim.HostSystem("host-10"),
        "runtime.consolidationNeeded": True,
        "snapshot": snapshot_info(),
        "layoutEx": layout(),
    }
    props.update(over)
    return obj(vim.VirtualMachine(moid), {k: v for k, v in props.items() if v is not None})


def test_vm_values_equal_pyvmomi_engine():
    page = envelope([
        full_vm("vm-1"),
        full_vm("vm-2", **{"config.template": True, "runtime.powerState": vim.VirtualMachine.PowerState.suspended,
                           "config.extraConfig": options(), "config.hardware.device": D.VirtualDevice.Array([]),
                           "datastore": vim.Datastore.Array([]), "config.annotation": "",
                           "config.flags.virtualExecUsage": None, "runtime.host": None, "name": ""}),
        obj(vim.VirtualMachine("vm-3"), {"name": "bare"}),
    ], token="page-7")
    dev = "//v:propSet[v:name='config.hardware.device']/v:val/v:VirtualDevice"
    page = remove(
        page,
        f"{dev}[v:key='1002']/v:busNumber",  # -> 0, as pyVmomi's default for a required int
        f"{dev}[v:key='2009']/v:capacityInKB", f"{dev}[v:key='2009']/v:backing/v:diskMode",
        f"{dev}[v:key='2009']/v:deviceInfo/v:label",
        "//v:file[v:key='6']/v:name", "//v:file[v:key='6']/v:size",
        "//v:childSnapshotList[v:id='3']/v:description", "//v:childSnapshotList[v:id='3']/v:quiesced",
        "//v:snapshot/v:memoryKey",
        # vm-2: a snapshot property without trees, a layout without files, disks or snapshots
        "//v:objects[v:obj='vm-2']//v:rootSnapshotList", "//v:objects[v:obj='vm-2']//v:currentSnapshot",
        "//v:objects[v:obj='vm-2']//v:file", "//v:objects[v:obj='vm-2']//v:disk",
        "//v:objects[v:obj='vm-2']//v:snapshot",
    )
    fast = assert_same(page, convert.VM_VALUES)
    # The comparison saw the shapes it is about (the plain values the converter takes).
    vm1 = dict(fast)["vm-1"]
    disks = vm1["config.hardware.device"]
    assert [d.device_node for d in disks] == [
        "scsi0:0", "scsi1:3", "nvme0:0", "sata2:1", "unknown-1:0", "scsi0:1", "scsi0:2", "unknown-1:?",
        "scsi0:0", "ide0:1"]
    assert [d.backing_type for d in disks] == [
        "rdm", "sparse", "sesparse", "flat", "other", "flat", None, "flat", "flat", "flat"]
    assert (disks[0].disk_mode, disks[8].disk_mode, disks[8].label, disks[8].capacity_bytes) == (None, "", "", 0)
    assert vm1["config.extraConfig"] == {
        "ctkEnabled": "TRUE", "scsi0:0.ctkEnabled": "true", "SCSI0:1.CTKENABLED": "false",
        "sched.scsi0:0.throughputCap": "2KIOps", "sched.nvme0:1.bandwidthCap": "10MBps",
        "sata1:2.ctkEnabled": "True", "ide0:0.ctkEnabled": "1"}
    nodes, current = vm1["snapshot"]
    assert current == "snapshot-3"
    assert [n.name for n in nodes[0].children] == ["s2 <b>", "s4"]
    assert vm1["layoutEx"].snapshots[0].disks[0].chain == [[1, 2]]
    convert.vm_from("vm-1", vm1, {}, {})  # and the model takes them


def test_vm_values_with_xsi_types_on_nested_elements():
    """A server may type elements whose type is the declared one; a subtype or an
    unexpected value type makes the fused reader hand the value to pyVmomi."""
    layout_xml = envelope([full_vm("vm-1")])
    # pyVmomi types only what differs from the declared type; add the redundant ones.
    layout_xml = layout_xml.replace(b"<file>", b'<file xsi:type="VirtualMachineFileLayoutExFileInfo">')
    layout_xml = layout_xml.replace(b"<rootSnapshotList>", b'<rootSnapshotList xsi:type="VirtualMachineSnapshotTree">')
    assert layout_xml.count(b"VirtualMachineFileLayoutExFileInfo") == 7
    assert_same(layout_xml, convert.VM_VALUES)
    # An option value that is a data object: pyVmomi's deserializer, then str() of it.
    odd = envelope([full_vm("vm-2", **{"config.extraConfig": options(
        ("ctkEnabled", vim.KeyValue(key="k", value="v")), ("scsi0:0.ctkEnabled", "TRUE"))})])
    fast = assert_same(odd, convert.VM_VALUES)
    assert dict(fast)["vm-2"]["config.extraConfig"]["ctkEnabled"].startswith("(vim.KeyValue)")


def test_prefixes_other_than_xsd_and_xsi():
    page = envelope([full_vm("vm-1")])
    renamed = (page.replace(b"xsi:", b"i:").replace(b"xmlns:xsi=", b"xmlns:i=")
               .replace(b"xsd:", b"s:").replace(b"xmlns:xsd=", b"xmlns:s="))
    assert b"xsi:" not in renamed and b"i:type=" in renamed
    assert_same(renamed, convert.VM_VALUES)


def test_indented_reply():
    """Whitespace between elements (a pretty-printed reply) changes nothing, in the fused
    readers and where a value is handed to pyVmomi's deserializer."""
    root = etree.fromstring(envelope([full_vm("vm-1"), full_vm("vm-2", **{"config.extraConfig": options(
        ("ctkEnabled", vim.KeyValue(key="k", value="v")))})], token="t"))
    etree.indent(root, space="  ")
    page = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    assert b"\n        <objects>" in page
    assert_same(page, convert.VM_VALUES)
    host = obj(vim.HostSystem("host-1"), {"hardware.cpuInfo": vim.host.CpuInfo(numCpuPackages=2, numCpuCores=8,
                                                                                numCpuThreads=16, hz=1)})
    root = etree.fromstring(envelope([host]))
    etree.indent(root)
    assert_same(etree.tostring(root), None)


def test_light_vm_paths():
    page = envelope([obj(vim.VirtualMachine(f"vm-{i}"), {
        "name": f"v{i}", "config.template": i == 2, "runtime.powerState": vim.VirtualMachine.PowerState.poweredOff,
        "config.hardware.memoryMB": 1024 * i, "runtime.host": vim.HostSystem("host-1")}) for i in range(1, 4)])
    fast = assert_same(page, convert.VM_VALUES)
    assert [convert.vram_vm_from(m, p, {"host-1": "domain-c7"}).cluster for m, p in fast] == ["domain-c7"] * 3


# --------------------------------------------------------------------------- other types (pyVmomi values)


def test_host_datastore_cluster_folder_values_equal_pyvmomi_engine():
    product = vim.AboutInfo(name="VMware ESXi", fullName="VMware ESXi 7.0.3 build-21930508", version="7.0.3",
                            build="21930508", apiVersion="7.0.3.0", vendor="VMware, Inc.", osType="vmnix-x86",
                            productLineId="embeddedEsx", apiType="HostAgent")
    cpu = vim.host.CpuInfo(numCpuPackages=2, numCpuCores=32, numCpuThreads=64, hz=2100000000)
    host = obj(vim.HostSystem("host-10"), {
        "name": "esx01", "parent": vim.ClusterComputeResource("domain-c7"), "summary.config.product": product,
        "hardware.cpuInfo": cpu, "summary.hardware.cpuModel": "Intel(R) Xeon(R) Gold 6338",
        "hardware.memorySize": 1024**4, "runtime.connectionState": vim.HostSystem.ConnectionState.connected,
        "runtime.inMaintenanceMode": False, "runtime.powerState": vim.HostSystem.PowerState.poweredOn,
        "capability.virtualExecUsageSupported": True, "capability.cpuHwMmuSupported": True,
        "capability.virtualExecUsageIgnored": False, "configManager.advancedOption": vim.option.OptionManager("opt-10"),
    })
    standalone = obj(vim.HostSystem("host-11"), {"name": "esx02", "parent": vim.ComputeResource("domain-s9"),
                                                 "runtime.connectionState": "notResponding"})
    ds = obj(vim.Datastore("datastore-11"), {
        "name": "vmfs01",
        "summary": vim.Datastore.Summary(name="vmfs01", type="VMFS", url="ds:///vmfs/volumes/5f/", capacity=100,
                                         freeSpace=40, accessible=True, multipleHostAccess=True),
        "info": vim.host.VmfsDatastoreInfo(name="vmfs01", url="u", freeSpace=1, maxFileSize=2,
                                           vmfs=vim.host.VmfsVolume(
                                               ssd=True, name="vmfs01", capacity=1, majorVersion=6, version="6.82",
                                               uuid="5f", vmfsUpgradable=False, type="VMFS", blockSizeMb=1,
                                               maxBlocks=1, extent=[vim.host.ScsiDisk.Partition(diskName="naa.1",
                                                                                                 partition=1)])),
        "capability.storageIORMSupported": True,
        "iormConfiguration": vim.StorageResourceManager.IORMConfigInfo(
            enabled=True, congestionThresholdMode="manual", congestionThreshold=30, percentOfPeakThroughput=90,
            statsCollectionEnabled=True, statsAggregationDisabled=False, reservationEnabled=True),
        "host": vim.Datastore.HostMount.Array([vim.Datastore.HostMount(
            key=vim.HostSystem("host-10"), mountInfo=vim.host.MountInfo(accessMode="readWrite"))]),
        "vm": vim.VirtualMachine.Array([vim.VirtualMachine(f"vm-{i}") for i in range(50)]),
    })
    nfs = obj(vim.Datastore("datastore-12"), {"name": "nfs", "info": vim.host.NasDatastoreInfo(name="nfs", url="n"),
                                              "vm": vim.VirtualMachine.Array([])})
    cluster = obj(vim.ClusterComputeResource("domain-c7"), {
        "name": "Prod", "host": vim.HostSystem.Array([vim.HostSystem("host-10"), vim.HostSystem("host-12")])})
    folder = obj(vim.Folder("group-v3"), {"name": "vm", "parent": vim.Datacenter("datacenter-2")})
    fast = assert_same(envelope([host, standalone, ds, nfs, cluster, folder]), None)
    got = dict(fast)
    # The converters of the pyVmomi engine take them unchanged.
    assert convert.host_fields(got["host-10"])["cluster"] == "domain-c7"
    assert convert.host_fields(got["host-11"])["cluster"] is None
    assert convert.datastore_from("datastore-11", got["datastore-11"]).ssd is True
    assert convert.cluster_from("domain-c7", got["domain-c7"]).hosts == ["host-10", "host-12"]


def test_scalar_types_as_pyvmomi_gives_them():
    values = {
        "a": "text", "b": 7, "c": VmomiSupport.long(2**40), "d": VmomiSupport.short(-3), "e": VmomiSupport.byte(1),
        "f": 1.5, "g": VmomiSupport.double(2.25), "h": True, "i": datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC),
        "j": VmomiSupport.URI("https://x/"), "k": vim.HostSystem.ConnectionState.disconnected,
        "l": VmomiSupport.binary(b"\x00\x01raw"), "m": ["s1", "s2"], "n": [1, 2, 3],
        "o": vim.KeyValue(key="k", value="v"), "p": "  spaced  ",
    }
    props = {}
    for k, v in values.items():
        if isinstance(v, list):
            v = VmomiSupport.GetVmodlType("string[]" if isinstance(v[0], str) else "int[]")(v)
        props[k] = v
    fast = assert_same(envelope([obj(vim.HostSystem("host-1"), props)]), None)
    got = fast[0][1]
    assert type(got["c"]) is VmomiSupport.long and type(got["k"]) is vim.HostSystem.ConnectionState
    assert got["p"] == "  spaced  "


# --------------------------------------------------------------------------- missing properties, pages


def with_missing(xml: bytes, moid: str, *entries: tuple[str, str, str]) -> bytes:
    """Add missingSet entries (path, fault XML, localized message) to an object, as vCenter writes them."""
    sets = "".join(
        f'<missingSet><path>{path}</path><fault><fault xsi:type="{fault}</fault>'
        f'{f"<localizedMessage>{msg}</localizedMessage>" if msg else ""}</fault></missingSet>'
        for path, fault, msg in entries)
    marker = f'<obj type="VirtualMachine">{moid}</obj>'.encode()
    head, tail = xml.split(marker)
    end = tail.index(b"</objects>")
    return head + marker + tail[:end] + sets.encode() + tail[end:]


DENIED = "Permission to perform this operation was denied."


def test_missing_properties_and_deleted_objects():
    page = envelope([full_vm("vm-1"), obj(vim.VirtualMachine("vm-2"), {"name": "x"}),
                     obj(vim.VirtualMachine("vm-3"), {"name": "gone"})])
    page = with_missing(
        page, "vm-2",
        ("config.extraConfig", 'NoPermission"><object type="VirtualMachine">vm-2</object>'
                               "<privilegeId>VirtualMachine.Config.AdvancedConfig</privilegeId>", DENIED),
        ("config.noSuchProperty", 'InvalidProperty"><name>config.noSuchProperty</name>', ""))
    page = with_missing(page, "vm-3", ("name", 'ManagedObjectNotFound"><obj type="VirtualMachine">vm-3</obj>',
                                       "The object has already been deleted or has not been completely created"))
    ref, fast, ref_stats, fast_stats = both(page, convert.VM_VALUES)
    assert [m for m, _ in fast] == [m for m, _ in ref] == ["vm-1", "vm-2"]  # vm-3 was deleted while we read
    assert fast_stats.missing == ref_stats.missing == [
        MissingProperty("vm-2", "config.extraConfig", "NoPermission", DENIED, "VirtualMachine.Config.AdvancedConfig"),
        MissingProperty("vm-2", "config.noSuchProperty", "InvalidProperty", "")]


def test_an_object_whose_values_cannot_be_converted_is_left_out_alike():
    """A snapshot tree without its snapshot reference (a required field: pyVmomi leaves it
    None) cannot become a SnapshotNode: that VM goes to on_error, the others come out."""
    page = remove(envelope([full_vm("vm-1"), full_vm("vm-2"), full_vm("vm-3")]),
                  "//v:objects[v:obj='vm-2']//v:childSnapshotList[v:id='3']/v:snapshot")
    result = SoapAdapter.SoapResponseDeserializer(STUB).Deserialize(page, RESULT)
    ref_errors: list[tuple[str, str, str]] = []
    fast_errors: list[tuple[str, str, str]] = []
    ref = list(retrieve.page_objects(result.objects, ReadStats(), convert.VM_VALUES,
                                     lambda m, e: ref_errors.append((m, type(e).__name__, str(e)))))
    fast = list(fastxml.Converter(STUB, convert.VM_VALUES).objects(
        fastxml.parse_page(page), ReadStats(), lambda m, e: fast_errors.append((m, type(e).__name__, str(e)))))
    assert [m for m, _ in fast] == [m for m, _ in ref] == ["vm-1", "vm-3"]
    assert fast_errors == ref_errors == [("vm-2", "AttributeError", "'NoneType' object has no attribute '_moId'")]
    with pytest.raises(AttributeError):  # without on_error the read ends
        list(fastxml.Converter(STUB, convert.VM_VALUES).objects(fastxml.parse_page(page), ReadStats()))


def test_missing_set_with_a_dead_session_raises_not_authenticated():
    page = with_missing(envelope([obj(vim.VirtualMachine("vm-1"), {"name": "x"})]), "vm-1",
                        ("name", 'NotAuthenticated"><object type="VirtualMachine">vm-1</object>'
                                 "<privilegeId>System.View</privilegeId>", "The session is not authenticated."))
    result = SoapAdapter.SoapResponseDeserializer(STUB).Deserialize(page, RESULT)
    with pytest.raises(vim.fault.NotAuthenticated) as ref:
        list(retrieve.page_objects(result.objects, ReadStats()))
    with pytest.raises(vim.fault.NotAuthenticated) as fast:
        list(fastxml.Converter(STUB, convert.VM_VALUES).objects(fastxml.parse_page(page), ReadStats()))
    assert fast.value.msg == ref.value.msg == "The session is not authenticated."


def test_empty_result_and_unexpected_replies():
    empty = ('<?xml version="1.0"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'
             '<soapenv:Body><RetrievePropertiesExResponse xmlns="urn:vim25"/></soapenv:Body></soapenv:Envelope>')
    assert fastxml.parse_page(empty.encode()) is None
    other = empty.replace("RetrievePropertiesExResponse", "LoginResponse")
    with pytest.raises(fastxml.ParseError, match="unexpected reply element {urn:vim25}LoginResponse"):
        fastxml.parse_page(other.encode())
    entity = ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
              '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>'
              '<RetrievePropertiesExResponse xmlns="urn:vim25"><returnval><objects><obj type="Folder">&e;</obj>'
              '</objects></returnval></RetrievePropertiesExResponse></soapenv:Body></soapenv:Envelope>')
    page = fastxml.parse_page(entity.encode())  # an external entity is never read
    assert "root:" not in fastxml.etree.tostring(page.root).decode()


def test_every_read_path_has_a_fused_or_exact_reader():
    """VM paths with a plain-value function use its fused reader when there is one; the
    others are scalars or references that ``Values.any`` converts itself."""
    fused = {p for p, fn in convert.VM_VALUES.items() if fn in fastxml._FUSED}
    assert fused == {"parent", "parentVApp", "datastore", "runtime.host", "config.extraConfig", "config.hardware.device",
                     "snapshot", "layoutEx"}
    assert set(convert.VM_VALUES) - fused == {"runtime.powerState", "config.flags.virtualExecUsage",
                                              "config.flags.virtualMmuUsage"}  # enums: text()


# --------------------------------------------------------------------------- the page reader


class FakeRaw:
    """RawSoap's interface over canned replies, keyed by the token that asks for them; each
    reply arrives in ``chunk``-byte pieces (small, so elements span chunks)."""

    def __init__(self, replies: dict[str | None, Any], chunk: int = 40) -> None:
        self.replies = replies
        self.chunk = chunk
        self.log: list[tuple[str, str | None]] = []
        self.closed_early = 0

    def request(self, mo: Any, name: str, args: list[Any]) -> tuple[str, str | None]:
        return name, (args[0] if name != "RetrievePropertiesEx" else None)

    def send(self, mo: Any, name: str, token: str | None) -> tuple[str, str | None]:
        self.log.append((name, token))
        return name, token

    def receive_stream(self, pending: tuple[str, str | None]) -> Iterator[bytes]:
        reply = self.replies[pending[1]]
        if isinstance(reply, BaseException):
            raise reply
        complete = False
        try:
            for i in range(0, len(reply), self.chunk):
                yield reply[i:i + self.chunk]
            complete = True
        finally:
            self.closed_early += not complete

    def invoke(self, mo: Any, name: str, token: str | None) -> bytes:
        self.send(mo, name, token)
        return b""


def vm_page(token: str | None, *numbers: int) -> bytes:
    return envelope([obj(vim.VirtualMachine(f"vm-{n}"), {"name": f"v{n}"}) for n in numbers], token=token)


def reader(raw: FakeRaw) -> pages.PageReader:
    return pages.PageReader(raw, None, ("RetrievePropertiesEx", None))


def drain(pr: pages.PageReader) -> list[list[str]]:
    out: list[list[str]] = [[]]
    for oc in pr.objects():
        if oc is pages.PAGE_END:
            out.append([])
            continue
        out[-1].append(oc[0].text)
        pr.release(oc)
    pr.close()
    return out[:-1]


def test_reader_follows_tokens_and_asks_ahead():
    raw = FakeRaw({None: vm_page("t1", 1, 2), "t1": vm_page("t2", 3), "t2": vm_page(None, 4, 5)})
    pr = reader(raw)
    objects = pr.objects()
    assert next(objects)[0].text == "vm-1"
    # The next page is asked for as soon as the token is parsed, before the first object is used.
    assert raw.log == [("RetrievePropertiesEx", None), ("ContinueRetrievePropertiesEx", "t1")]
    objects.close()
    raw = FakeRaw({None: vm_page("t1", 1, 2), "t1": vm_page("t2", 3), "t2": vm_page(None, 4, 5)})
    assert drain(reader(raw)) == [["vm-1", "vm-2"], ["vm-3"], ["vm-4", "vm-5"]]
    assert raw.log == [("RetrievePropertiesEx", None), ("ContinueRetrievePropertiesEx", "t1"),
                       ("ContinueRetrievePropertiesEx", "t2")]
    assert raw.closed_early == 0


@pytest.mark.parametrize("chunk,most_alive", [(1, 2), (7, 2), (40, 3), (1 << 20, 4)])
def test_any_chunking_gives_the_same_objects_and_frees_them(chunk, most_alive):
    body = vm_page("t1", 1, 2, 3)
    reply = pages.ReplyParser()
    seen, alive = [], []
    for i in range(0, len(body), chunk):
        for oc in reply.feed(body[i:i + chunk]):
            seen.append(oc[0].text)
            alive.append(len(reply.result))
            reply.release(oc)
    assert reply.close() == []
    assert seen == ["vm-1", "vm-2", "vm-3"] and reply.token == "t1"
    # Alive with an object handed out: the token, it, and what the same chunk began or
    # completed after it (all 3 when the whole page is one chunk); released, it is gone.
    assert max(alive) == most_alive
    assert [c.tag for c in reply.result] == ["{urn:vim25}token"]


def test_reader_token_with_an_entity():
    # "a&b" is written a&amp;b: the parser reads it as any other text.
    page = vm_page("a&b", 1)
    assert b"a&amp;b" in page
    raw = FakeRaw({None: page, "a&b": vm_page(None, 2)})
    assert drain(reader(raw)) == [["vm-1"], ["vm-2"]]
    assert raw.log[-1] == ("ContinueRetrievePropertiesEx", "a&b")


def test_reader_empty_result():
    empty = ('<?xml version="1.0"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'
             '<soapenv:Body><RetrievePropertiesExResponse xmlns="urn:vim25"/></soapenv:Body></soapenv:Envelope>')
    raw = FakeRaw({None: empty.encode()})
    assert drain(reader(raw)) == [[]]
    assert raw.log == [("RetrievePropertiesEx", None)]


def test_reader_closed_early_cancels_the_rest():
    replies = {None: vm_page("t0", 0, 1)}
    replies.update({f"t{i}": vm_page(f"t{i + 1}", i + 2) for i in range(10)})
    raw = FakeRaw(replies)
    pr = reader(raw)
    objects = pr.objects()
    assert next(objects)[0].text == "vm-0"
    objects.close()
    pr.close()
    # The page asked for ahead is read up to its token, which frees the rest.
    assert raw.log == [("RetrievePropertiesEx", None), ("ContinueRetrievePropertiesEx", "t0"),
                       ("CancelRetrievePropertiesEx", "t1")]
    assert raw.closed_early == 2  # the page being read and the one read only up to its token


def test_reader_errors_reach_the_caller_and_the_rest_is_freed():
    raw = FakeRaw({None: vm_page("t1", 1), "t1": vim.fault.NotAuthenticated(msg="gone")})
    pr = reader(raw)
    with pytest.raises(vim.fault.NotAuthenticated):
        drain(pr)
    pr.close()
    assert raw.log == [("RetrievePropertiesEx", None), ("ContinueRetrievePropertiesEx", "t1")]  # nothing to free

    # A reply that breaks off after its token: the next page was already asked for, and is freed.
    whole = vm_page("t2", 2)
    broken = whole[:whole.index(b"<objects>") + 30]
    raw = FakeRaw({None: vm_page("t1", 1), "t1": broken, "t2": vm_page("t3", 3)})
    pr = reader(raw)
    with pytest.raises(etree.XMLSyntaxError):
        drain(pr)
    pr.close()
    assert raw.log[-2:] == [("ContinueRetrievePropertiesEx", "t2"), ("CancelRetrievePropertiesEx", "t3")]


def test_reply_that_is_not_a_result():
    fault = (b'<?xml version="1.0"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'
             b'<soapenv:Body><soapenv:Fault><faultcode>x</faultcode></soapenv:Fault></soapenv:Body>'
             b'</soapenv:Envelope>')
    with pytest.raises(pages.ParseError, match="unexpected reply element {http://schemas.xmlsoap.org/soap/envelope/}Fault"):
        drain(reader(FakeRaw({None: fault})))
    with pytest.raises(pages.ParseError, match="no SOAP body in the reply"):
        drain(reader(FakeRaw({None: b"<a><b/></a>"})))


# --------------------------------------------------------------------------- the transport


class FakeResponse:
    def __init__(self, body: bytes, encoding: str | None) -> None:
        self.body, self.encoding, self.pos = body, encoding, 0

    def getheader(self, name: str, default: Any = None) -> Any:
        return self.encoding if name == "Content-Encoding" else default

    def read(self, n: int = -1) -> bytes:
        end = len(self.body) if n < 0 else self.pos + n
        out, self.pos = self.body[self.pos:end], min(end, len(self.body))
        return out


@pytest.mark.parametrize("encoding,pack", [
    (None, lambda b: b),
    ("gzip", gzip.compress),
    ("deflate", zlib.compress),  # a zlib stream
    ("deflate", lambda b: zlib.compress(b, wbits=-15)),  # raw deflate
    ("deflate", gzip.compress),  # gzip sent as "deflate"
])
def test_compressed_replies_are_read_as_pyvmomi_reads_them(encoding, pack, monkeypatch):
    monkeypatch.setattr(rawsoap, "_READ_CHUNK", 1000)  # many chunks
    body = envelope([full_vm("vm-1"), full_vm("vm-2")])
    assert rawsoap._read_body(FakeResponse(pack(body), encoding)) == body
    assert rawsoap._read_body(FakeResponse(b"", encoding)) == b""


def test_only_property_reads_go_raw():
    raw = rawsoap.RawSoap(STUB)
    assert raw.method("ContinueRetrievePropertiesEx").wsdlName == "ContinueRetrievePropertiesEx"
    for name in ("Destroy", "CreateFilter", "RetrieveContents"):
        with pytest.raises(ValueError, match=f"^{name} is not a read-only property collector method$"):
            raw.request(vim.PropertyCollector("propertyCollector"), name, [])
