"""The snapshot model: plain typed data collected from one or more vCenters.

Nothing here knows about pyVmomi. A snapshot is saved as JSON and can be loaded,
checked and rendered with no vCenter at hand. Every object is keyed by its
managed object id (moid) inside the vCenter it came from; vCenters are keyed by
their instance UUID, so ``(vcenter.instance_uuid, moid)`` is globally unique.

Absent is not zero: a property the API did not return (unset, no privilege,
older version) is ``None`` here, never a made-up default.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal, TypeVar, get_args, get_origin

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from reporter.core.model_hostconfig import (
    DistributedPortGroup,
    DistributedSwitch,
    HostNetworkConfig,
    HostSoftware,
    HostSystemIdentity,
)

SCHEMA_VERSION = 1


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


_M = TypeVar("_M", bound=BaseModel)
# One fields-set per (class, set of names): see share_fields_set.
_fields_sets: dict[tuple[type, int], set[str]] = {}
_fields_sets_by_names: dict[frozenset[str], set[str]] = {}


def share_fields_set(model: _M) -> _M:
    """``model`` with its ``model_fields_set`` replaced by an equal set shared with every other
    instance given the same names (returned for chaining).

    pydantic gives each instance a set of the fields it was built with: ~2 KB for a VM, 0.3 KB for
    a layout file, about a quarter of a 10,000-VM snapshot's memory (55 of 208 MB), though the
    collector builds every instance of a class with the same names. Sharing is safe because the
    models are frozen (no assignment adds to the set) and ``model_copy`` copies the set before
    updating it; equality and serialization do not read it."""
    fields_set = model.__pydantic_fields_set__
    key = (model.__class__, len(fields_set))
    shared = _fields_sets.get(key)
    if shared is None or shared != fields_set:  # equal sets compare in C, without allocating
        if not model.model_config.get("frozen"):
            return model  # an assignment would add to the set of every instance sharing it
        shared = _fields_sets_by_names.setdefault(frozenset(fields_set), fields_set)
        _fields_sets[key] = shared  # the latest of its length: the next instance is likely alike
    object.__setattr__(model, "__pydantic_fields_set__", shared)
    return model


def share_fields_sets(root: BaseModel) -> None:
    """``share_fields_set`` for ``root`` and every model inside it (fields, lists, dict values):
    a loaded 10,000-VM snapshot then holds ~55 MB less. Only the fields whose type can hold a
    model are walked (``_model_fields``): a VM's name, datastores, extraConfig ... are not
    looked at, which made the walk ~4x faster than testing every value."""
    stack: list[Any] = [root]
    while stack:
        item = stack.pop()
        if isinstance(item, BaseModel):
            # share_fields_set, inline: ~100,000 models at 10,000 VMs
            cls = item.__class__
            fields_set = item.__pydantic_fields_set__
            shared = _fields_sets.get((cls, len(fields_set)))
            if shared is not None and shared == fields_set:
                object.__setattr__(item, "__pydantic_fields_set__", shared)
            else:
                share_fields_set(item)
            values = item.__dict__
            for name in _walked_fields.get(cls) or _model_fields(cls):
                value = values.get(name)
                if isinstance(value, (BaseModel, list, dict)):
                    stack.append(value)
        elif isinstance(item, list):
            stack.extend(v for v in item if isinstance(v, (BaseModel, list, dict)))
        elif isinstance(item, dict):
            stack.extend(v for v in item.values() if isinstance(v, (BaseModel, list, dict)))


_walked_fields: dict[type, tuple[str, ...]] = {}


def _model_fields(cls: type[BaseModel]) -> tuple[str, ...]:
    """The fields of ``cls`` whose declared type may hold a model (or is not known not to)."""
    names = _walked_fields.get(cls)
    if names is None:
        names = _walked_fields[cls] = tuple(
            name for name, info in cls.model_fields.items() if _may_hold_model(info.annotation))
    return names


_PLAIN = (str, int, float, bool, bytes, type(None), datetime, AwareDatetime)


def _may_hold_model(annotation: Any) -> bool:
    if isinstance(annotation, type) and not get_args(annotation):
        return not issubclass(annotation, _PLAIN)  # a model, or a class not known to hold none
    if get_origin(annotation) is Literal:
        return False
    args = get_args(annotation)
    if not args:
        return True  # Any, a TypeVar, something unexpected: walk it
    if get_origin(annotation) is Annotated:
        return _may_hold_model(args[0])
    return any(_may_hold_model(a) for a in args)


PowerState = Literal["poweredOn", "poweredOff", "suspended"]


class IoAllocation(_Data):
    """``VirtualDisk.storageIOAllocation``: limit in IOPS (-1 = unlimited)."""

    limit: int | None = None
    shares_level: str | None = None  # low | normal | high | custom
    shares: int | None = None
    reservation: int | None = None


class Disk(_Data):
    key: int
    label: str | None = None
    controller: str  # scsi | sata | ide | nvme
    bus_number: int
    unit_number: int | None = None
    capacity_bytes: int | None = None
    datastore: str | None = None  # datastore moid
    backing_file: str | None = None  # "[ds1] vm/vm.vmdk"
    backing_type: str | None = None  # flat | sparse | rdm | sesparse | other
    disk_mode: str | None = None  # persistent | independent_persistent | ...
    compatibility_mode: str | None = None  # RDM: physicalMode | virtualMode
    thin: bool | None = None
    change_id: str | None = None
    io: IoAllocation | None = None  # None = storageIOAllocation not set

    @property
    def device_node(self) -> str:
        """The vmx name of the slot, e.g. ``scsi0:1``."""
        unit = "?" if self.unit_number is None else str(self.unit_number)
        return f"{self.controller}{self.bus_number}:{unit}"

    @property
    def independent(self) -> bool:
        return bool(self.disk_mode and self.disk_mode.startswith("independent"))


class SnapshotNode(_Data):
    """One node of a VM's snapshot tree (``VirtualMachineSnapshotTree``)."""

    moid: str
    id: int | None = None
    name: str
    description: str | None = None
    create_time: AwareDatetime | None = None
    state: str | None = None  # VM power state when taken; poweredOn + memory = memory snapshot
    quiesced: bool | None = None
    children: list[SnapshotNode] = Field(default_factory=list)


class LayoutFile(_Data):
    key: int
    name: str
    type: str
    size: int | None = None
    unique_size: int | None = None


class LayoutDisk(_Data):
    """A disk's chain, base first: each link is the list of file keys of one level."""

    key: int
    chain: list[list[int]] = Field(default_factory=list)


class LayoutSnapshot(_Data):
    moid: str
    data_key: int | None = None
    memory_key: int | None = None
    disks: list[LayoutDisk] = Field(default_factory=list)


class LayoutEx(_Data):
    files: list[LayoutFile] = Field(default_factory=list)
    disks: list[LayoutDisk] = Field(default_factory=list)
    snapshots: list[LayoutSnapshot] = Field(default_factory=list)


class VM(_Data):
    moid: str
    name: str
    instance_uuid: str | None = None
    template: bool = False
    power_state: PowerState | None = None
    memory_mb: int | None = None
    num_cpu: int | None = None
    guest_id: str | None = None  # configured (config.guestId)
    guest_full_name: str | None = None  # configured (config.guestFullName)
    tools_guest_id: str | None = None  # reported by VMware Tools (guest.guestId)
    tools_guest_full_name: str | None = None
    hw_version: str | None = None  # "vmx-07"
    change_tracking_enabled: bool | None = None
    virtual_exec_usage: str | None = None  # hvAuto | hvOn | hvOff
    virtual_mmu_usage: str | None = None  # automatic | on | off
    extra_config: dict[str, str] = Field(default_factory=dict)  # only the keys we need
    disks: list[Disk] = Field(default_factory=list)
    snapshots: list[SnapshotNode] = Field(default_factory=list)  # root snapshot list
    current_snapshot: str | None = None  # moid
    layout_ex: LayoutEx | None = None
    consolidation_needed: bool | None = None
    host: str | None = None  # host moid
    cluster: str | None = None  # cluster moid (derived from host)
    folder_path: str | None = None  # "/DC0/vm/prod"; a VM in a vApp: "/DC0/vm/Shop/Shop-DB"
    vapp: str | None = None  # the vApp it runs in, nested ones as "Shop/Shop-DB"; None = none
    datastores: list[str] = Field(default_factory=list)
    annotation: str | None = None
    # vSphere tags as "Category/Tag"; None = not collected (tags come from the vAPI
    # tagging service, not the PropertyCollector). Used by the CBT backup scope.
    tags: list[str] | None = None
    # Properties the collector could not read on this object (PropertyCollector missingSet):
    # vSphere property path -> why, e.g. {"config.extraConfig": "no permission (privilege System.Read)"}.
    # Their model fields are None/empty because they are unknown, not because they are unset.
    unreadable: dict[str, str] = Field(default_factory=dict)

    @property
    def hw_version_number(self) -> int | None:
        if not self.hw_version or not self.hw_version.startswith("vmx-"):
            return None
        try:
            return int(self.hw_version[4:])
        except ValueError:
            return None

    @property
    def powered_on(self) -> bool:
        return self.power_state == "poweredOn"

    def iter_snapshots(self) -> list[SnapshotNode]:
        out: list[SnapshotNode] = []
        stack = list(reversed(self.snapshots))
        while stack:
            node = stack.pop()
            out.append(node)
            stack.extend(reversed(node.children))
        return out


class Host(_Data):
    moid: str
    name: str
    version: str | None = None
    build: str | None = None
    full_name: str | None = None
    api_version: str | None = None
    cpu_model: str | None = None
    cpu_packages: int | None = None
    cpu_cores: int | None = None  # total physical cores
    cpu_threads: int | None = None
    memory_bytes: int | None = None
    connection_state: str | None = None  # connected | disconnected | notResponding
    maintenance_mode: bool | None = None
    power_state: str | None = None
    cluster: str | None = None  # cluster moid
    hw_exec_supported: bool | None = None  # capability.virtualExecUsageSupported
    hw_mmu_supported: bool | None = None  # capability.cpuHwMmuSupported
    exec_usage_ignored: bool | None = None  # capability.virtualExecUsageIgnored
    mmu_usage_ignored: bool | None = None  # capability.virtualMmuUsageIgnored
    advanced_options: dict[str, str | int | bool | None] = Field(default_factory=dict)
    advanced_option_errors: dict[str, str] = Field(default_factory=dict)  # key -> why unknown
    # Host configuration (docs/methodology.md#nic-teaming, #host-software); None = not collected
    # (a snapshot of an older version, a light vRAM sample, or the property was unreadable).
    network: HostNetworkConfig | None = None  # config.network
    system: HostSystemIdentity | None = None  # hardware.systemInfo
    software: HostSoftware | None = None  # image config + kernel modules; reason inside when unreadable
    # Properties the collector could not read on this object (PropertyCollector missingSet):
    # vSphere property path -> why, e.g. {"config.extraConfig": "no permission (privilege System.Read)"}.
    # Their model fields are None/empty because they are unknown, not because they are unset.
    unreadable: dict[str, str] = Field(default_factory=dict)


class Cluster(_Data):
    moid: str
    name: str
    hosts: list[str] = Field(default_factory=list)
    # Properties the collector could not read on this object (PropertyCollector missingSet):
    # vSphere property path -> why, e.g. {"config.extraConfig": "no permission (privilege System.Read)"}.
    # Their model fields are None/empty because they are unknown, not because they are unset.
    unreadable: dict[str, str] = Field(default_factory=dict)


class IormConfig(_Data):
    """``Datastore.iormConfiguration`` (StorageIORMInfo)."""

    enabled: bool | None = None
    congestion_threshold_ms: int | None = None
    congestion_threshold_mode: str | None = None  # automatic | manual
    percent_of_peak_throughput: int | None = None
    stats_collection_enabled: bool | None = None
    stats_aggregation_disabled: bool | None = None
    reservation_enabled: bool | None = None


class Datastore(_Data):
    moid: str
    name: str
    type: str | None = None  # VMFS | NFS | vsan | VVOL ...
    url: str | None = None
    capacity_bytes: int | None = None
    free_bytes: int | None = None
    accessible: bool | None = None
    multiple_host_access: bool | None = None
    ssd: bool | None = None
    sioc_supported: bool | None = None
    iorm: IormConfig | None = None
    hosts: list[str] = Field(default_factory=list)
    vms: list[str] = Field(default_factory=list)
    # Properties the collector could not read on this object (PropertyCollector missingSet):
    # vSphere property path -> why, e.g. {"config.extraConfig": "no permission (privilege System.Read)"}.
    # Their model fields are None/empty because they are unknown, not because they are unset.
    unreadable: dict[str, str] = Field(default_factory=dict)


class License(_Data):
    key: str  # the real key; masked on every output unless asked otherwise
    edition_key: str | None = None
    name: str | None = None
    total: int | None = None
    used: int | None = None
    cost_unit: str | None = None
    properties: dict[str, Any] = Field(default_factory=dict)  # raw, JSON-able
    labels: dict[str, str] = Field(default_factory=dict)


class LicenseAssignment(_Data):
    entity: str  # moid of host, or the vCenter instance uuid
    entity_name: str | None = None
    entity_type: str | None = None  # host | vcenter | other
    license_key: str
    edition_key: str | None = None


class VCenter(_Data):
    name: str  # label from the config
    host: str
    instance_uuid: str
    version: str | None = None
    build: str | None = None
    api_version: str | None = None
    full_name: str | None = None
    user: str | None = None  # collector's user (never the password)
    # When this vCenter was read. Set when snapshots are merged: the merged snapshot's
    # ``collected_at`` is the oldest of them, this keeps each vCenter's own time.
    collected_at: AwareDatetime | None = None
    vms: dict[str, VM] = Field(default_factory=dict)
    hosts: dict[str, Host] = Field(default_factory=dict)
    clusters: dict[str, Cluster] = Field(default_factory=dict)
    datastores: dict[str, Datastore] = Field(default_factory=dict)
    licenses: list[License] | None = None  # None = could not be read
    license_assignments: list[LicenseAssignment] | None = None
    # By moid; None = not collected (older snapshots, light vRAM samples, stage failed).
    distributed_switches: dict[str, DistributedSwitch] | None = None
    distributed_portgroups: dict[str, DistributedPortGroup] | None = None
    # What was not collected without being an error, e.g. "tags not collected: no vAPI endpoint".
    collection_notes: list[str] = Field(default_factory=list)


class CollectionError(_Data):
    vcenter: str  # config label
    stage: str  # connect | vms | hosts | datastores | licenses | host-options ...
    error_type: str
    message: str
    object_id: str | None = None


class Snapshot(_Data):
    schema_version: int = SCHEMA_VERSION
    collected_at: AwareDatetime = Field(default_factory=lambda: datetime.now(UTC))
    tool_version: str | None = None
    vcenters: dict[str, VCenter] = Field(default_factory=dict)  # by instance uuid
    collection_errors: list[CollectionError] = Field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.collection_errors

    def vm_count(self) -> int:
        return sum(len(vc.vms) for vc in self.vcenters.values())
