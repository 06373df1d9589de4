"""Small snapshot builders for the iocaps / sioc tests (plain reporter.core.model objects)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from reporter.core.model import (
    VM,
    Cluster,
    Datastore,
    Disk,
    Host,
    IoAllocation,
    IormConfig,
    Snapshot,
    VCenter,
)

VC_UUID = "11111111-2222-3333-4444-555555555555"
COLLECTED_AT = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)

LEGACY_55 = {"Disk.SchedulerWithReservation": 0}
MCLOCK_55 = {"Disk.SchedulerWithReservation": 1}
PER_FILE_80 = {"Disk.SchedulerWithReservation": 1, "VMkernel.Boot.isPerFileSchedModelActive": True}
LEGACY_80 = {"Disk.SchedulerWithReservation": 1, "VMkernel.Boot.isPerFileSchedModelActive": False}


def host(moid: str, version: str = "5.5.0", options: dict[str, Any] | None = None,
         errors: dict[str, str] | None = None, cluster: str | None = None, name: str | None = None,
         state: str = "connected") -> Host:
    return Host(moid=moid, name=name or f"{moid}.example", version=version, build="1",
                connection_state=state, cluster=cluster,
                advanced_options=dict(options or {}), advanced_option_errors=dict(errors or {}))


def disk(unit: int, ds: str | None = "ds-1", limit: int | None = None, *, bus: int = 0, controller: str = "scsi",
         io: bool = True, rdm: str | None = None, label: str | None = None) -> Disk:
    return Disk(
        key=2000 + bus * 100 + unit, label=label or f"Hard disk {unit + 1}", controller=controller,
        bus_number=bus, unit_number=unit, capacity_bytes=40 * 1024**3, datastore=ds,
        backing_file=f"[{ds}] vm/vm_{unit}.vmdk", backing_type="rdm" if rdm else "flat",
        compatibility_mode=rdm, disk_mode="persistent",
        io=IoAllocation(limit=-1 if limit is None else limit, shares_level="normal", shares=1000, reservation=0)
        if io else None,
    )


def vm(moid: str, disks: list[Disk], host_: str | None = "host-1", extra: dict[str, str] | None = None,
       cluster: str | None = None, power: str = "poweredOn", name: str | None = None, template: bool = False) -> VM:
    return VM(moid=moid, name=name or moid, disks=disks, host=host_, cluster=cluster, power_state=power,
              extra_config=dict(extra or {}), template=template,
              datastores=sorted({d.datastore for d in disks if d.datastore}))


def iorm(enabled: bool | None = True, ms: int | None = 30, mode: str | None = "manual",
         pct: int | None = None) -> IormConfig:
    return IormConfig(enabled=enabled, congestion_threshold_ms=ms, congestion_threshold_mode=mode,
                      percent_of_peak_throughput=pct, stats_collection_enabled=enabled,
                      stats_aggregation_disabled=False, reservation_enabled=enabled)


def datastore(moid: str, name: str | None = None, *, vms: list[str] = (), hosts: list[str] = ("host-1", "host-2"),
              ssd: bool | None = False, io: IormConfig | None = None, supported: bool | None = True,
              shared: bool | None = None, type_: str = "VMFS") -> Datastore:
    return Datastore(moid=moid, name=name or moid, type=type_, ssd=ssd, sioc_supported=supported, iorm=io,
                     multiple_host_access=(len(hosts) > 1) if shared is None else shared,
                     hosts=list(hosts), vms=list(vms), accessible=True)


def vcenter(hosts: list[Host] = (), vms: list[VM] = (), datastores: list[Datastore] = (),
            clusters: list[Cluster] = (), name: str = "vc1", uuid: str = VC_UUID) -> VCenter:
    return VCenter(name=name, host=f"{name}.example", instance_uuid=uuid, version="7.0.3",
                   hosts={h.moid: h for h in hosts}, vms={v.moid: v for v in vms},
                   datastores={d.moid: d for d in datastores}, clusters={c.moid: c for c in clusters})


def snapshot(*vcs: VCenter) -> Snapshot:
    return Snapshot(collected_at=COLLECTED_AT, vcenters={v.instance_uuid: v for v in vcs})
