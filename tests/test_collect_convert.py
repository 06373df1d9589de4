"""Conversion of pyVmomi data the simulator cannot produce (RDM, sparse and NVMe disks,
VMFS SSD flags, SIOC settings, typed licence properties) into the snapshot model."""

from __future__ import annotations

from datetime import UTC, datetime

from pyVmomi import vim

from reporter.collect import convert
from reporter.core.model import Disk, IoAllocation, IormConfig

D = vim.vm.device
VD = D.VirtualDisk


def ds(moid: str) -> vim.Datastore:
    return vim.Datastore(moid)


def disk(key: int, ctrl: int, unit: int, backing, **kw) -> D.VirtualDisk:
    return D.VirtualDisk(key=key, controllerKey=ctrl, unitNumber=unit, backing=backing,
                         deviceInfo=vim.Description(label=f"Hard disk {key}", summary=""), **kw)


def test_disk_backings_controllers_and_capacity():
    devices = [
        D.ParaVirtualSCSIController(key=1000, busNumber=0),
        D.VirtualLsiLogicSASController(key=1001, busNumber=1),
        D.VirtualNVMEController(key=31000, busNumber=0),
        D.VirtualAHCIController(key=15000, busNumber=2),
        D.VirtualIDEController(key=200, busNumber=0),
        D.VirtualCdrom(key=3000, controllerKey=200, unitNumber=0),
        disk(2000, 1000, 0, VD.RawDiskMappingVer1BackingInfo(
            fileName="[san1] db/db_1.vmdk", datastore=ds("datastore-11"), diskMode="independent_persistent",
            compatibilityMode="physicalMode", deviceName="/vmfs/devices/disks/naa.600", changeId=None),
            capacityInBytes=10 * 1024**3, capacityInKB=10 * 1024**2),
        disk(2001, 1001, 3, VD.SparseVer2BackingInfo(fileName="[ds2] old/old.vmdk", datastore=ds("datastore-12"),
                                                     diskMode="persistent"),
             capacityInKB=2048),  # no capacityInBytes (pre-5.5 hosts): KB * 1024
        disk(2002, 31000, 0, VD.SeSparseBackingInfo(fileName="[ds1] vdi/vdi.vmdk", datastore=ds("datastore-10"),
                                                    diskMode="nonpersistent", changeId="52 3e/7"),
             capacityInBytes=4096,
             storageIOAllocation=vim.StorageResourceManager.IOAllocationInfo(
                 limit=-1, shares=vim.SharesInfo(level="normal", shares=1000), reservation=0)),
        disk(2003, 15000, 1, VD.FlatVer2BackingInfo(fileName="[ds1] a/a.vmdk", datastore=ds("datastore-10"),
                                                    diskMode="persistent", thinProvisioned=False, changeId="52 aa/3"),
             capacityInBytes=1024),
        disk(2004, 9999, 0, VD.LocalPMemBackingInfo(fileName="[pmem] p.vmdk", diskMode="persistent"),
             capacityInBytes=512),
    ]
    got = convert.disks_from_devices(devices)
    assert got == [
        Disk(key=2000, label="Hard disk 2000", controller="scsi", bus_number=0, unit_number=0,
             capacity_bytes=10 * 1024**3, datastore="datastore-11", backing_file="[san1] db/db_1.vmdk",
             backing_type="rdm", disk_mode="independent_persistent", compatibility_mode="physicalMode"),
        Disk(key=2001, label="Hard disk 2001", controller="scsi", bus_number=1, unit_number=3,
             capacity_bytes=2048 * 1024, datastore="datastore-12", backing_file="[ds2] old/old.vmdk",
             backing_type="sparse", disk_mode="persistent"),
        Disk(key=2002, label="Hard disk 2002", controller="nvme", bus_number=0, unit_number=0,
             capacity_bytes=4096, datastore="datastore-10", backing_file="[ds1] vdi/vdi.vmdk",
             backing_type="sesparse", disk_mode="nonpersistent", change_id="52 3e/7",
             io=IoAllocation(limit=-1, shares_level="normal", shares=1000, reservation=0)),
        Disk(key=2003, label="Hard disk 2003", controller="sata", bus_number=2, unit_number=1,
             capacity_bytes=1024, datastore="datastore-10", backing_file="[ds1] a/a.vmdk",
             backing_type="flat", disk_mode="persistent", thin=False, change_id="52 aa/3"),
        # Controller missing from the list: kept, slot marked unknown.
        Disk(key=2004, label="Hard disk 2004", controller="unknown", bus_number=-1, unit_number=0,
             capacity_bytes=512, backing_file="[pmem] p.vmdk", backing_type="other", disk_mode="persistent"),
    ]
    assert [d.device_node for d in got] == ["scsi0:0", "scsi1:3", "nvme0:0", "sata2:1", "unknown-1:0"]


def test_extra_config_keeps_only_cbt_and_cap_keys():
    opts = [vim.option.OptionValue(key=k, value=v) for k, v in [
        ("ctkEnabled", "true"), ("scsi0:0.ctkEnabled", "TRUE"), ("sata1:2.ctkEnabled", "FALSE"),
        ("nvme0:0.ctkEnabled", "TRUE"), ("SCSI0:1.CTKENABLED", "true"),
        ("sched.scsi0:0.throughputCap", "2KIOps"), ("sched.nvme0:1.bandwidthCap", "10MBps"),
        ("sched.mem.min", "0"), ("scsi0:0.present", "TRUE"), ("ctkEnabledX", "1"),
        ("sched.scsi0:0.shares", "normal"), ("tools.syncTime", "FALSE"),
    ]]
    assert convert.extra_config(opts) == {
        "ctkEnabled": "true", "scsi0:0.ctkEnabled": "TRUE", "sata1:2.ctkEnabled": "FALSE",
        "nvme0:0.ctkEnabled": "TRUE", "SCSI0:1.CTKENABLED": "true",
        "sched.scsi0:0.throughputCap": "2KIOps", "sched.nvme0:1.bandwidthCap": "10MBps",
    }
    assert convert.extra_config(None) == {}


def test_datastore_vmfs_ssd_and_sioc():
    summary = vim.Datastore.Summary(name="ds1", type="VMFS", url="ds:///vmfs/volumes/5f/", capacity=100,
                                    freeSpace=40, accessible=True, multipleHostAccess=True)
    info = vim.host.VmfsDatastoreInfo(name="ds1", vmfs=vim.host.VmfsVolume(ssd=True, name="ds1"))
    iorm = vim.StorageResourceManager.IORMConfigInfo(
        enabled=True, congestionThresholdMode="manual", congestionThreshold=30, percentOfPeakThroughput=90,
        statsCollectionEnabled=True, statsAggregationDisabled=False, reservationEnabled=True)
    mounts = [vim.Datastore.HostMount(key=vim.HostSystem("host-1")), vim.Datastore.HostMount(key=vim.HostSystem("host-2"))]
    got = convert.datastore_from("datastore-1", {
        "name": "ds1", "summary": summary, "info": info, "capability.storageIORMSupported": True,
        "iormConfiguration": iorm, "host": mounts, "vm": [vim.VirtualMachine("vm-1")],
    })
    assert (got.type, got.url, got.capacity_bytes, got.free_bytes, got.accessible, got.multiple_host_access,
            got.ssd, got.sioc_supported) == ("VMFS", "ds:///vmfs/volumes/5f/", 100, 40, True, True, True, True)
    assert got.iorm == IormConfig(enabled=True, congestion_threshold_ms=30, congestion_threshold_mode="manual",
                                  percent_of_peak_throughput=90, stats_collection_enabled=True,
                                  stats_aggregation_disabled=False, reservation_enabled=True)
    assert (got.hosts, got.vms) == (["host-1", "host-2"], ["vm-1"])
    nfs = convert.datastore_from("datastore-2", {"name": "nfs1", "info": vim.host.NasDatastoreInfo(name="nfs1")})
    assert (nfs.ssd, nfs.iorm, nfs.type, nfs.hosts) == (None, None, None, [])


def test_license_properties_kept_raw_and_json_able():
    when = datetime(2012, 8, 24, tzinfo=UTC)
    info = vim.LicenseManager.LicenseInfo(
        licenseKey="K", editionKey="esxEnterprisePlus", name="vSphere 5 Enterprise Plus", total=8, used=6,
        costUnit="cpuPackage",
        properties=[
            vim.KeyAnyValue(key="ProductName", value="VMware ESX Server"),
            vim.KeyAnyValue(key="ProductVersion", value="5.0"),
            vim.KeyAnyValue(key="expirationDate", value=when),
            vim.KeyAnyValue(key="vram", value=vim.KeyValue(key="perCpu", value="96g")),
            vim.KeyAnyValue(key="feature", value=vim.KeyValue(key="vmotion", value="vMotion")),
            vim.KeyAnyValue(key="feature", value=vim.KeyValue(key="drs", value="DRS")),
            vim.KeyAnyValue(key="count_disabled", value=True),
        ],
        labels=[vim.KeyValue(key="site", value="lab")],
    )
    lic = convert.license_from(info)
    assert (lic.key, lic.edition_key, lic.name, lic.total, lic.used, lic.cost_unit) == (
        "K", "esxEnterprisePlus", "vSphere 5 Enterprise Plus", 8, 6, "cpuPackage")
    assert lic.properties == {
        "ProductName": "VMware ESX Server", "ProductVersion": "5.0", "expirationDate": "2012-08-24T00:00:00+00:00",
        "vram": {"key": "perCpu", "value": "96g"},
        "feature": [{"key": "vmotion", "value": "vMotion"}, {"key": "drs", "value": "DRS"}],
        "count_disabled": True,
    }
    assert lic.labels == {"site": "lab"}
    # JSON-able: the snapshot's JSON dump must accept it.
    assert '"vram":{"key":"perCpu","value":"96g"}' in lic.model_dump_json()


def test_folder_paths():
    dc = vim.Datacenter("datacenter-2")
    root = vim.Folder("group-d1")
    objects = [
        ("datacenter-2", {"name": "DC1", "parent": root}),
        ("group-v3", {"name": "vm", "parent": dc}),
        ("group-v10", {"name": "prod", "parent": vim.Folder("group-v3")}),
        ("group-v11", {"name": "db", "parent": vim.Folder("group-v10")}),
        ("group-h4", {"name": "host", "parent": dc}),
    ]
    assert convert.folder_paths(objects) == {
        "datacenter-2": "/DC1", "group-v3": "/DC1/vm", "group-v10": "/DC1/vm/prod",
        "group-v11": "/DC1/vm/prod/db", "group-h4": "/DC1/host",
    }


def test_host_fields_absent_hardware_is_none():
    # A disconnected host typically has no hardware/summary product: None, not zero.
    fields = convert.host_fields({"name": "esx9", "runtime.connectionState": "notResponding",
                                  "parent": vim.ComputeResource("domain-s9")})
    assert fields["cpu_packages"] is None and fields["version"] is None and fields["memory_bytes"] is None
    assert (fields["connection_state"], fields["cluster"]) == ("notResponding", None)
