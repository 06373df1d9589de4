"""Property paths to read, and their conversion from pyVmomi data to ``reporter.core.model``.

Every converter gets one object's ``{path: value}`` dict (from a read engine); a path
that is absent was unset on the server and becomes ``None`` (never a made-up
default, see ``model.py``). Type dispatch uses dicts keyed by the pyVmomi class,
filled on first sight of a class, so a 10,000-VM inventory pays for the
``issubclass`` chain once per class, not once per device.

VM values are plain (``VM_VALUES``): the pyVmomi engine applies these functions to
what pyVmomi deserialized, the fast engine (``fastxml``) produces the same results
straight from the XML. Both build the model parts with the same ``build_*`` helpers.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from pyVmomi import vim

from reporter.core.model import (
    VM,
    Cluster,
    Datastore,
    Disk,
    IoAllocation,
    IormConfig,
    LayoutDisk,
    LayoutEx,
    LayoutFile,
    LayoutSnapshot,
    License,
    LicenseAssignment,
    SnapshotNode,
    share_fields_set,
)

# --------------------------------------------------------------------------- paths

VM_PATHS = [
    "name", "parent", "parentVApp", "datastore",
    "config.instanceUuid", "config.template", "config.hardware.memoryMB", "config.hardware.numCPU",
    "config.guestId", "config.guestFullName", "config.version", "config.changeTrackingEnabled",
    "config.flags.virtualExecUsage", "config.flags.virtualMmuUsage", "config.extraConfig",
    "config.hardware.device", "config.annotation",
    "guest.guestId", "guest.guestFullName",
    "runtime.powerState", "runtime.host", "runtime.consolidationNeeded",
    "snapshot", "layoutEx",
]

HOST_PATHS = [
    "name", "parent", "summary.config.product", "hardware.cpuInfo", "summary.hardware.cpuModel",
    "hardware.memorySize", "runtime.connectionState", "runtime.inMaintenanceMode", "runtime.powerState",
    "capability.virtualExecUsageSupported", "capability.cpuHwMmuSupported",
    "capability.virtualExecUsageIgnored", "capability.virtualMmuUsageIgnored",
    "configManager.advancedOption",
]

CLUSTER_PATHS = ["name", "host"]

# "info" is read whole: its VMFS part (info.vmfs.ssd) exists only on VmfsDatastoreInfo,
# and a path through a subtype is an InvalidProperty for the whole call.
DATASTORE_PATHS = ["name", "summary", "info", "capability.storageIORMSupported", "iormConfiguration", "host", "vm"]

FOLDER_PATHS = ["name", "parent"]

# A vApp sits in the VM folder tree through parentFolder (top level) or inside another vApp
# (parentVApp; vcsim and some versions give only "parent" = the enclosing vApp).
VAPP_PATHS = ["name", "parent", "parentFolder", "parentVApp"]

# The light vRAM sample (sample_vram): what vRAM use and licence pools need.
VRAM_VM_PATHS = ["name", "config.template", "runtime.powerState", "config.hardware.memoryMB", "runtime.host"]
VRAM_HOST_PATHS = ["name", "parent", "hardware.cpuInfo", "summary.config.product", "runtime.connectionState"]

# Host advanced options that decide which disk I/O scheduler enforces limits (docs/methodology.md#disk-scheduler).
HOST_OPTION_KEYS = ("Disk.SchedulerWithReservation", "VMkernel.Boot.isPerFileSchedModelActive")

# extraConfig keys the checks need (docs/methodology.md#cbt and #disk-scheduler): VM-level and per-disk CBT
# switches, and the per-disk absolute I/O caps. vmx keys are case-insensitive.
_EXTRA_KEY = re.compile(
    r"^(?:ctkEnabled|(?:scsi|sata|nvme|ide)\d+:\d+\.ctkEnabled"
    r"|sched\.(?:scsi|sata|nvme|ide)\d+:\d+\.(?:throughputCap|bandwidthCap))$",
    re.IGNORECASE,
)
EXTRA_KEY_MATCH = _EXTRA_KEY.match


# --------------------------------------------------------------------------- helpers


def moid(ref: Any) -> str | None:
    return None if ref is None else ref._moId


def moids(refs: Iterable[Any] | None) -> list[str]:
    return [r._moId for r in refs] if refs else []


def text(value: Any) -> str | None:
    """pyVmomi enums are str subclasses: store plain str."""
    return None if value is None else str(value)


def jsonable(value: Any) -> Any:
    """A raw pyVmomi value as JSON-able data (licence properties are kept verbatim)."""
    if value is None or type(value) in _PLAIN:
        return value
    for plain in (bool, int, float, str):  # pyVmomi's long, enums, ... are subclasses
        if isinstance(value, plain):
            return plain(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray)):
        return value.decode("utf-8", "replace")
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if hasattr(value, "_moId"):
        return value._moId
    if hasattr(value, "_GetPropertyList"):
        out: dict[str, Any] = {}
        for prop in value._GetPropertyList():
            if prop.name in ("dynamicType", "dynamicProperty"):
                continue
            v = getattr(value, prop.name, None)
            if v is None or (isinstance(v, list) and not v):
                continue
            out[prop.name] = jsonable(v)
        return out
    return str(value)


_PLAIN = (bool, int, float, str)


# --------------------------------------------------------------------------- devices

_CONTROLLER_TYPES: tuple[tuple[type, str], ...] = (
    (vim.vm.device.VirtualSCSIController, "scsi"),
    (vim.vm.device.VirtualSATAController, "sata"),
    (vim.vm.device.VirtualNVMEController, "nvme"),
    (vim.vm.device.VirtualIDEController, "ide"),
)
_DISK = "disk"
_device_kinds: dict[type, str | None] = {}


def _device_kind(cls: type) -> str | None:
    kind = _device_kinds.get(cls, False)
    if kind is not False:
        return kind  # type: ignore[return-value]
    found: str | None = None
    if issubclass(cls, vim.vm.device.VirtualDisk):
        found = _DISK
    else:
        for base, name in _CONTROLLER_TYPES:
            if issubclass(cls, base):
                found = name
                break
    _device_kinds[cls] = found
    return found


_BACKING = vim.vm.device.VirtualDisk
_BACKING_TYPES: tuple[tuple[type, str], ...] = (
    (_BACKING.FlatVer2BackingInfo, "flat"),
    (_BACKING.FlatVer1BackingInfo, "flat"),
    (_BACKING.SeSparseBackingInfo, "sesparse"),
    (_BACKING.SparseVer2BackingInfo, "sparse"),
    (_BACKING.SparseVer1BackingInfo, "sparse"),
    (_BACKING.RawDiskMappingVer1BackingInfo, "rdm"),
)
_backing_kinds: dict[type, str] = {}


def _backing_kind(cls: type) -> str:
    kind = _backing_kinds.get(cls)
    if kind is None:
        kind = next((name for base, name in _BACKING_TYPES if issubclass(cls, base)), "other")
        _backing_kinds[cls] = kind
    return kind


def build_io(*, limit: int | None, shares_level: str | None, shares: int | None,
             reservation: int | None) -> IoAllocation:
    return share_fields_set(IoAllocation(limit=limit, shares_level=shares_level, shares=shares,
                                         reservation=reservation))


def _io_allocation(alloc: Any) -> IoAllocation | None:
    if alloc is None:
        return None
    shares = alloc.shares
    return build_io(
        limit=alloc.limit,
        shares_level=text(shares.level) if shares is not None else None,
        shares=shares.shares if shares is not None else None,
        reservation=alloc.reservation,
    )


def build_disk(*, key: int, label: str | None, controllers: dict[int, tuple[str, int]], controller_key: int | None,
               unit_number: int | None, capacity_kb: int | None, capacity_bytes: int | None,
               backing_type: str | None, backing: dict[str, Any], io: IoAllocation | None) -> Disk:
    """One disk; ``backing`` holds the backing's model fields ({} without a backing)."""
    ctrl, bus = disk_slot(controllers, controller_key)
    return share_fields_set(Disk(key=key, label=label, controller=ctrl, bus_number=bus, unit_number=unit_number,
                                 capacity_bytes=disk_capacity(capacity_kb, capacity_bytes), backing_type=backing_type,
                                 io=io, **backing))


def disk_slot(controllers: dict[int, tuple[str, int]], controller_key: int | None) -> tuple[str, int]:
    """(controller kind, bus number) of a disk's controller."""
    # A disk whose controller is not in the device list should not happen;
    # keep the disk and mark its slot unknown rather than drop it.
    return controllers.get(controller_key, ("unknown", -1))  # type: ignore[arg-type]


def disk_capacity(capacity_kb: int | None, capacity_bytes: int | None) -> int | None:
    """capacityInBytes when set and not 0, else capacityInKB in bytes."""
    if not capacity_bytes and capacity_kb is not None:
        return capacity_kb * 1024
    return capacity_bytes


def disks_from_devices(devices: list[Any] | None) -> list[Disk]:
    if not devices:
        return []
    controllers: dict[int, tuple[str, int]] = {}
    raw: list[Any] = []
    for dev in devices:
        kind = _device_kind(type(dev))
        if kind is None:
            continue
        if kind is _DISK:
            raw.append(dev)
        else:
            controllers[dev.key] = (kind, dev.busNumber)
    out: list[Disk] = []
    for d in raw:
        b = d.backing
        info = d.deviceInfo
        if b is None:
            backing_type = None
            fields: dict[str, Any] = {}
        else:
            backing_type = _backing_kind(type(b))
            fields = {
                "datastore": moid(getattr(b, "datastore", None)),
                "backing_file": getattr(b, "fileName", None),
                "disk_mode": text(getattr(b, "diskMode", None)),
                "compatibility_mode": text(getattr(b, "compatibilityMode", None)),
                "thin": getattr(b, "thinProvisioned", None),
                "change_id": getattr(b, "changeId", None),
            }
        out.append(build_disk(
            key=d.key, label=info.label if info is not None else None, controllers=controllers,
            controller_key=d.controllerKey, unit_number=d.unitNumber, capacity_kb=d.capacityInKB,
            capacity_bytes=d.capacityInBytes, backing_type=backing_type, backing=fields,
            io=_io_allocation(d.storageIOAllocation),
        ))
    return out


# --------------------------------------------------------------------------- snapshots, layout


def build_snapshot_node(*, moid: str, id: int | None, name: str, description: str | None, create_time: Any,
                        state: Any, quiesced: bool | None, children: list[SnapshotNode]) -> SnapshotNode:
    return share_fields_set(SnapshotNode(
        moid=moid, id=id, name=name, description=description or None, create_time=create_time,
        state=text(state), quiesced=quiesced, children=children))


def snapshot_nodes(trees: list[Any] | None) -> list[SnapshotNode]:
    if not trees:
        return []
    return [
        build_snapshot_node(
            moid=t.snapshot._moId, id=t.id, name=t.name, description=t.description, create_time=t.createTime,
            state=t.state, quiesced=t.quiesced, children=snapshot_nodes(t.childSnapshotList),
        )
        for t in trees
    ]


SnapshotState = tuple[list[SnapshotNode], "str | None"]


def snapshot_info(snap: Any) -> SnapshotState | None:
    """``snapshot`` (VirtualMachineSnapshotInfo) -> (root snapshot list, current snapshot moid)."""
    if snap is None:
        return None
    return snapshot_nodes(snap.rootSnapshotList), moid(snap.currentSnapshot)


def build_layout_file(*, key: int, name: str, type_: Any, size: int | None, unique_size: int | None) -> LayoutFile:
    return share_fields_set(LayoutFile(key=key, name=name, type=text(type_) or "", size=size, unique_size=unique_size))


def build_layout_disk(key: int, chain: list[list[int]]) -> LayoutDisk:
    return share_fields_set(LayoutDisk(key=key, chain=chain))


def build_layout_snapshot(moid: str, data_key: int | None, memory_key: int | None,
                          disks: list[LayoutDisk]) -> LayoutSnapshot:
    return share_fields_set(LayoutSnapshot(moid=moid, data_key=data_key, memory_key=memory_key, disks=disks))


def build_layout(files: list[LayoutFile], disks: list[LayoutDisk], snapshots: list[LayoutSnapshot]) -> LayoutEx:
    return share_fields_set(LayoutEx(files=files, disks=disks, snapshots=snapshots))


def _layout_disks(disks: list[Any] | None) -> list[LayoutDisk]:
    if not disks:
        return []
    return [build_layout_disk(d.key, [list(c.fileKey) for c in (d.chain or [])]) for d in disks]


def layout_ex(layout: Any) -> LayoutEx | None:
    if layout is None:
        return None
    return build_layout(
        [build_layout_file(key=f.key, name=f.name, type_=f.type, size=f.size, unique_size=f.uniqueSize)
         for f in (layout.file or [])],
        _layout_disks(layout.disk),
        [build_layout_snapshot(s.key._moId, s.dataKey, s.memoryKey, _layout_disks(s.disk))
         for s in (layout.snapshot or [])],
    )


# --------------------------------------------------------------------------- objects


def extra_config(options: list[Any] | None) -> dict[str, str]:
    if not options:
        return {}
    match = _EXTRA_KEY.match
    return {o.key: str(o.value) for o in options if match(o.key)}


# Plain VM values: what both engines hand ``vm_from`` for these paths (others are
# strings, numbers and booleans as pyVmomi gives them).
VM_VALUES: dict[str, Callable[[Any], Any]] = {
    "parent": moid,
    "parentVApp": moid,
    "datastore": moids,
    "runtime.host": moid,
    "runtime.powerState": text,
    "config.flags.virtualExecUsage": text,
    "config.flags.virtualMmuUsage": text,
    "config.extraConfig": extra_config,
    "config.hardware.device": disks_from_devices,
    "snapshot": snapshot_info,
    "layoutEx": layout_ex,
}


def vm_from(moid_: str, p: dict[str, Any], folder_paths: dict[str, str], host_cluster: dict[str, str | None],
            vapps: dict[str, str] | None = None) -> VM:
    """A VM from its plain values (``VM_VALUES``).

    A VM inside a vApp has ``parentVApp`` instead of a folder ``parent``: its folder path is
    the vApp's (``folder_paths`` holds vApp paths too, see ``vapp_paths``), ``vapps`` names it."""
    get = p.get
    vapp = get("parentVApp")
    host = get("runtime.host")
    snap = get("snapshot")
    annotation = get("config.annotation")
    return share_fields_set(VM(
        moid=moid_,
        name=get("name") or moid_,
        instance_uuid=get("config.instanceUuid"),
        template=bool(get("config.template")),
        power_state=get("runtime.powerState"),
        memory_mb=get("config.hardware.memoryMB"),
        num_cpu=get("config.hardware.numCPU"),
        guest_id=get("config.guestId"),
        guest_full_name=get("config.guestFullName"),
        tools_guest_id=get("guest.guestId"),
        tools_guest_full_name=get("guest.guestFullName"),
        hw_version=get("config.version"),
        change_tracking_enabled=get("config.changeTrackingEnabled"),
        virtual_exec_usage=get("config.flags.virtualExecUsage"),
        virtual_mmu_usage=get("config.flags.virtualMmuUsage"),
        extra_config=get("config.extraConfig") or {},
        disks=get("config.hardware.device") or [],
        snapshots=snap[0] if snap is not None else [],
        current_snapshot=snap[1] if snap is not None else None,
        layout_ex=get("layoutEx"),
        consolidation_needed=get("runtime.consolidationNeeded"),
        host=host,
        cluster=host_cluster.get(host) if host else None,
        folder_path=folder_paths.get(vapp or get("parent") or ""),
        vapp=(vapps or {}).get(vapp) if vapp else None,
        datastores=get("datastore") or [],
        annotation=annotation or None,
    ))


def vram_vm_from(moid_: str, p: dict[str, Any], host_cluster: dict[str, str | None]) -> VM:
    """The light VM of ``sample_vram``, from plain values (``VM_VALUES``)."""
    get = p.get
    host = get("runtime.host")
    return share_fields_set(VM(
        moid=moid_, name=get("name") or moid_, template=bool(get("config.template")),
        power_state=get("runtime.powerState"), memory_mb=get("config.hardware.memoryMB"),
        host=host, cluster=host_cluster.get(host) if host else None,
    ))


def host_fields(p: dict[str, Any]) -> dict[str, Any]:
    """Host model fields except moid and advanced options (those come from other calls)."""
    get = p.get
    product = get("summary.config.product")
    cpu = get("hardware.cpuInfo")
    parent = get("parent")
    return {
        "name": get("name"),
        "version": product.version if product is not None else None,
        "build": product.build if product is not None else None,
        "full_name": product.fullName if product is not None else None,
        "api_version": product.apiVersion if product is not None else None,
        "cpu_model": get("summary.hardware.cpuModel"),
        "cpu_packages": cpu.numCpuPackages if cpu is not None else None,
        "cpu_cores": cpu.numCpuCores if cpu is not None else None,
        "cpu_threads": cpu.numCpuThreads if cpu is not None else None,
        "memory_bytes": get("hardware.memorySize"),
        "connection_state": text(get("runtime.connectionState")),
        "maintenance_mode": get("runtime.inMaintenanceMode"),
        "power_state": text(get("runtime.powerState")),
        "cluster": parent._moId if isinstance(parent, vim.ClusterComputeResource) else None,
        "hw_exec_supported": get("capability.virtualExecUsageSupported"),
        "hw_mmu_supported": get("capability.cpuHwMmuSupported"),
        "exec_usage_ignored": get("capability.virtualExecUsageIgnored"),
        "mmu_usage_ignored": get("capability.virtualMmuUsageIgnored"),
    }


def cluster_from(moid_: str, p: dict[str, Any]) -> Cluster:
    return Cluster(moid=moid_, name=p.get("name") or moid_, hosts=moids(p.get("host")))


def _iorm(cfg: Any) -> IormConfig | None:
    if cfg is None:
        return None
    return IormConfig(
        enabled=cfg.enabled,
        congestion_threshold_ms=cfg.congestionThreshold,
        congestion_threshold_mode=text(cfg.congestionThresholdMode),
        percent_of_peak_throughput=cfg.percentOfPeakThroughput,
        stats_collection_enabled=cfg.statsCollectionEnabled,
        stats_aggregation_disabled=cfg.statsAggregationDisabled,
        reservation_enabled=cfg.reservationEnabled,
    )


def datastore_from(moid_: str, p: dict[str, Any]) -> Datastore:
    get = p.get
    summary = get("summary")
    info = get("info")
    vmfs = getattr(info, "vmfs", None) if info is not None else None
    return Datastore(
        moid=moid_,
        name=get("name") or moid_,
        type=summary.type if summary is not None else None,
        url=summary.url if summary is not None else None,
        capacity_bytes=summary.capacity if summary is not None else None,
        free_bytes=summary.freeSpace if summary is not None else None,
        accessible=summary.accessible if summary is not None else None,
        multiple_host_access=summary.multipleHostAccess if summary is not None else None,
        ssd=getattr(vmfs, "ssd", None) if vmfs is not None else None,
        sioc_supported=get("capability.storageIORMSupported"),
        iorm=_iorm(get("iormConfiguration")),
        hosts=[m.key._moId for m in (get("host") or [])],
        vms=moids(get("vm")),
    )


def folder_paths(objects: Iterable[tuple[str, dict[str, Any]]]) -> dict[str, str]:
    """``/DC0/vm/prod``-style paths of folders and datacenters (the root folder is "")."""
    parents: dict[str, str | None] = {}
    names: dict[str, str] = {}
    for m, p in objects:
        names[m] = p.get("name") or m
        parents[m] = moid(p.get("parent"))
    paths: dict[str, str] = {}

    def path(m: str, depth: int = 0) -> str:
        if m in paths:
            return paths[m]
        parent = parents.get(m)
        if parent is None or parent not in names or depth > 100:
            # Top level: the child of the (unlisted) root folder, or the root itself.
            result = "" if parent is None else "/" + names[m]
        else:
            result = path(parent, depth + 1) + "/" + names[m]
        paths[m] = result
        return result

    for m in names:
        path(m)
    return paths


def vapp_paths(objects: Iterable[tuple[str, dict[str, Any]]],
               folder_paths: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """Inventory paths of vApps (``/DC0/vm/Shop/Shop-DB``) and their names as nested
    (``Shop/Shop-DB``), by vApp moid. A nested vApp hangs off its enclosing vApp
    (``parentVApp``, or ``parent`` when that is a vApp); a top-level one off its
    ``parentFolder``. A vApp whose folder is unknown gets a path from its vApps alone."""
    names: dict[str, str] = {}
    outer: dict[str, str | None] = {}
    folder: dict[str, str | None] = {}
    for m, p in objects:
        names[m] = p.get("name") or m
        parent = p.get("parent")
        enclosing = p.get("parentVApp") or (parent if isinstance(parent, vim.VirtualApp) else None)
        outer[m] = moid(enclosing)
        folder[m] = moid(p.get("parentFolder"))
    paths: dict[str, str] = {}
    labels: dict[str, str] = {}

    def walk(m: str, depth: int = 0) -> None:
        if m in paths:
            return
        up = outer.get(m)
        if up is not None and up in names and depth < 100:
            walk(up, depth + 1)
            paths[m] = paths[up] + "/" + names[m]
            labels[m] = labels[up] + "/" + names[m]
        else:
            paths[m] = folder_paths.get(folder.get(m) or "", "") + "/" + names[m]
            labels[m] = names[m]

    for m in names:
        walk(m)
    return paths, labels


def license_from(info: Any) -> License:
    grouped: dict[str, list[Any]] = {}
    for kv in info.properties or []:
        grouped.setdefault(kv.key, []).append(jsonable(kv.value))
    # A key given once keeps its value; a repeated key (e.g. "feature") becomes a list in server order.
    props = {k: v[0] if len(v) == 1 else v for k, v in grouped.items()}
    # An empty string says nothing (vcsim sends "" for unset text): store None.
    return License(
        key=info.licenseKey,
        edition_key=info.editionKey or None,
        name=info.name or None,
        total=info.total,
        used=info.used,
        cost_unit=info.costUnit or None,
        properties=props,
        labels={kv.key: str(kv.value) for kv in (info.labels or [])},
    )


def assignment_from(a: Any, host_names: dict[str, str], vcenter_uuid: str) -> LicenseAssignment:
    entity = a.entityId or ""
    if entity in host_names:
        kind = "host"
    elif entity and entity == vcenter_uuid:
        kind = "vcenter"
    else:
        kind = "other"
    lic = a.assignedLicense
    return LicenseAssignment(
        entity=entity,
        entity_name=a.entityDisplayName or host_names.get(entity),
        entity_type=kind,
        license_key=lic.licenseKey if lic is not None else "",
        edition_key=lic.editionKey if lic is not None else None,
    )
