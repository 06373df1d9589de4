"""Per-CPU and per-core counts per host, cluster and vCenter (docs/methodology.md#per-cpu-per-core).

- Per-CPU before April 2020: one license per socket.
- Per-CPU from 2 April 2020: a license covers at most 32 cores, so ``ceil(cores per socket / 32)``
  licenses per socket.
- Per-core subscription (Broadcom KB 313548): ``sockets x max(cores per socket, 16)``;
  hyper-threads do not count.
- vSAN capacity included with a core subscription: licensed cores x TiB per core of the offering.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from reporter.core.model import Host, Snapshot, VCenter
from reporter.domain.licensing.rules import Rules


def cores_per_socket(sockets: int, cores: int) -> int:
    """Cores per CPU package; an uneven total rounds up (hosts are symmetric in practice)."""
    return math.ceil(cores / sockets)


def per_cpu_licenses(sockets: int, cores: int, max_cores: int = 32) -> int:
    """CPU licenses under the 32-core rule: ceil(cores per socket / 32) per socket."""
    return sockets * max(1, math.ceil(cores_per_socket(sockets, cores) / max_cores))


def per_core_licensed(sockets: int, cores: int, min_cores: int = 16) -> int:
    """Licensed cores for a core subscription: sockets x max(cores per socket, 16)."""
    return sockets * max(cores_per_socket(sockets, cores), min_cores)


@dataclass(frozen=True)
class HostCores:
    vcenter: str
    vcenter_uuid: str
    moid: str
    name: str
    cluster: str | None  # cluster name
    cluster_moid: str | None
    version: str | None
    connection_state: str | None
    sockets: int | None
    cores: int | None
    cores_per_socket: int | None
    per_socket: int | None  # one license per socket (pre-April 2020 per-CPU)
    per_cpu_32: int | None  # per-CPU licenses under the 32-core rule
    per_core: int | None  # licensed cores, 16-core minimum per CPU
    edition: str | None = None  # assigned edition id (filled in by the pool analysis)
    license_key: str | None = None
    pool_id: str | None = None

    @property
    def known(self) -> bool:
        return self.per_core is not None


def host_cores(vc: VCenter, host: Host, rules: Rules) -> HostCores:
    s, c = host.cpu_packages, host.cpu_cores
    cluster = vc.clusters.get(host.cluster) if host.cluster else None
    known = bool(s and c and s > 0 and c > 0)
    return HostCores(
        vcenter=vc.name, vcenter_uuid=vc.instance_uuid, moid=host.moid, name=host.name,
        cluster=cluster.name if cluster else None, cluster_moid=host.cluster, version=host.version,
        connection_state=host.connection_state, sockets=s, cores=c,
        cores_per_socket=cores_per_socket(s, c) if known else None,  # type: ignore[arg-type]
        per_socket=s if s else None,
        per_cpu_32=per_cpu_licenses(s, c, rules.per_cpu_max_cores) if known else None,  # type: ignore[arg-type]
        per_core=per_core_licensed(s, c, rules.per_core_min) if known else None,  # type: ignore[arg-type]
    )


@dataclass
class CoreSummary:
    """Totals for a group of hosts (a cluster, a vCenter, or the whole fleet)."""

    level: str  # cluster | vcenter | fleet
    vcenter: str  # "" for the fleet
    name: str
    hosts: int = 0
    hosts_unknown: int = 0  # hosts whose socket/core count was not collected
    sockets: int = 0
    cores: int = 0
    per_socket: int = 0
    per_cpu_32: int = 0
    per_core: int = 0
    vsan_tib: dict[str, float] = field(default_factory=dict)  # offering -> TiB included
    vsan_capacity_tib: float | None = None  # raw capacity of vSAN datastores seen (cluster level)
    order_cores: int | None = None  # per_core raised to the order minimum, when configured
    owned_core_licenses: int | None = None  # cpuCore license capacity in this vCenter

    def add(self, h: HostCores) -> None:
        self.hosts += 1
        if not h.known:
            self.hosts_unknown += 1
            return
        self.sockets += h.sockets or 0
        self.cores += h.cores or 0
        self.per_socket += h.per_socket or 0
        self.per_cpu_32 += h.per_cpu_32 or 0
        self.per_core += h.per_core or 0

    def finish(self, tib_per_core: dict[str, float], order_minimum: int | None) -> None:
        self.vsan_tib = {k: round(self.per_core * v, 4) for k, v in sorted(tib_per_core.items())}
        if order_minimum:
            self.order_cores = max(self.per_core, order_minimum)


TIB = 1024**4


def summarize(snapshot: Snapshot, hosts: list[HostCores], tib_per_core: dict[str, float],
              order_minimum: int | None) -> list[CoreSummary]:
    """Per cluster, per vCenter, and the fleet; the order minimum applies to the fleet total
    (one order), not to each cluster."""
    clusters: dict[tuple[str, str], CoreSummary] = {}
    vcs: dict[str, CoreSummary] = {}
    fleet = CoreSummary(level="fleet", vcenter="", name="All vCenters")
    for h in hosts:
        if h.cluster_moid:
            key = (h.vcenter_uuid, h.cluster_moid)
            clusters.setdefault(key, CoreSummary(level="cluster", vcenter=h.vcenter, name=h.cluster or h.cluster_moid)).add(h)
        else:
            key = (h.vcenter_uuid, "")
            clusters.setdefault(key, CoreSummary(level="cluster", vcenter=h.vcenter, name="(standalone hosts)")).add(h)
        vcs.setdefault(h.vcenter_uuid, CoreSummary(level="vcenter", vcenter=h.vcenter, name=h.vcenter)).add(h)
        fleet.add(h)
    for (uuid, cmoid), s in clusters.items():
        s.finish(tib_per_core, None)
        vc = snapshot.vcenters.get(uuid)
        if vc and cmoid:
            s.vsan_capacity_tib = _vsan_capacity(vc, cmoid)
    for uuid, s in vcs.items():
        s.finish(tib_per_core, None)
        vc = snapshot.vcenters.get(uuid)
        if vc and vc.licenses is not None:
            s.owned_core_licenses = sum((lic.total or 0) for lic in vc.licenses
                                        if lic.cost_unit == "cpuCore" and (lic.edition_key or "").startswith("esx"))
    fleet.finish(tib_per_core, order_minimum)
    return sorted(clusters.values(), key=lambda s: (s.vcenter, s.name)) + sorted(vcs.values(), key=lambda s: s.vcenter) + [fleet]


def _vsan_capacity(vc: VCenter, cluster_moid: str) -> float | None:
    cluster = vc.clusters.get(cluster_moid)
    if cluster is None:
        return None
    members = set(cluster.hosts)
    total = 0
    seen = False
    for ds in vc.datastores.values():
        if (ds.type or "").lower() == "vsan" and members & set(ds.hosts) and ds.capacity_bytes:
            total += ds.capacity_bytes
            seen = True
    return round(total / TIB, 3) if seen else None
