"""Small snapshots for the licensing, history and plan tests, built from reporter.core.model."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from reporter.core.model import VM, Cluster, Host, License, LicenseAssignment, Snapshot, VCenter

AT = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)

KEY_EP = "AAAAA-BBBBB-CCCCC-11111-EPLUS"
KEY_EP_SPARE = "DDDDD-EEEEE-FFFFF-22222-SPARE"
KEY_STD = "GGGGG-HHHHH-JJJJJ-33333-STAND"
KEY_ESS = "KKKKK-LLLLL-MMMMM-44444-ESSPL"
EVAL = "00000-00000-00000-00000-00000"


def host(moid: str, sockets: int = 2, cores_per_socket: int = 8, cluster: str | None = "domain-c1",
         memory_gb: int = 256, version: str = "5.0.0") -> Host:
    return Host(moid=moid, name=f"{moid}.example", version=version, cpu_packages=sockets,
                cpu_cores=sockets * cores_per_socket, memory_bytes=memory_gb * 1024**3,
                connection_state="connected", cluster=cluster)


def vm(moid: str, host_moid: str, memory_gb: float, power: str = "poweredOn", template: bool = False) -> VM:
    return VM(moid=moid, name=f"vm-{moid}", power_state=power, memory_mb=int(memory_gb * 1024),
              host=host_moid, template=template)


def lic(key: str, edition_key: str, total: int, used: int, unit: str = "cpuPackage", version: str = "5.0",
        name: str | None = None, **props: Any) -> License:
    properties: dict[str, Any] = {"ProductName": "VMware ESX Server", "ProductVersion": version}
    properties.update(props)
    return License(key=key, edition_key=edition_key, name=name or f"VMware vSphere {version[0]} {edition_key}",
                   total=total, used=used, cost_unit=unit, properties=properties)


def assign(entity: str, key: str, edition_key: str, kind: str = "host") -> LicenseAssignment:
    return LicenseAssignment(entity=entity, entity_name=f"{entity}.example" if kind == "host" else entity,
                             entity_type=kind, license_key=key, edition_key=edition_key)


def vcenter(name: str, uuid: str, hosts: list[Host], vms: list[VM], licenses: list[License] | None,
            assignments: list[LicenseAssignment] | None, version: str = "5.0.0") -> VCenter:
    clusters: dict[str, Cluster] = {}
    for h in hosts:
        if h.cluster:
            c = clusters.setdefault(h.cluster, Cluster(moid=h.cluster, name=f"cl-{h.cluster}"))
            clusters[h.cluster] = c.model_copy(update={"hosts": [*c.hosts, h.moid]})
    return VCenter(name=name, host=f"{name}.example", instance_uuid=uuid, version=version,
                   hosts={h.moid: h for h in hosts}, vms={v.moid: v for v in vms}, clusters=clusters,
                   licenses=licenses, license_assignments=assignments)


def snapshot(*vcs: VCenter, at: datetime = AT) -> Snapshot:
    return Snapshot(collected_at=at, vcenters={v.instance_uuid: v for v in vcs})


def vsphere5_site(version: str = "5.0.0", name: str = "vc1", uuid: str = "uuid-1") -> VCenter:
    """Two Enterprise Plus hosts (2 x 2 CPUs) + 2 spare EP CPUs unassigned; one Standard host (2 CPUs).

    EP pool: VMs 100 GB (counts 96), 64, 32 on; 48 off; 16 suspended; a 512 GB template.
    Standard pool: 40 and 30 GB on.
    """
    hosts = [host("host-1"), host("host-2"), host("host-3", cluster="domain-c2")]
    vms = [
        vm("vm-1", "host-1", 100), vm("vm-2", "host-1", 64), vm("vm-3", "host-2", 32),
        vm("vm-4", "host-2", 48, power="poweredOff"), vm("vm-5", "host-2", 16, power="suspended"),
        vm("vm-6", "host-1", 512, power="poweredOff", template=True),
        vm("vm-7", "host-3", 40), vm("vm-8", "host-3", 30),
    ]
    licenses = [
        lic(KEY_EP, "esxEnterprisePlus", 4, 4),
        lic(KEY_EP_SPARE, "esxEnterprisePlus", 2, 0),
        lic(KEY_STD, "esxFull", 2, 2),
        License(key=EVAL, edition_key="eval", name="Evaluation Mode", total=0, used=0, cost_unit="",
                properties={"expirationHours": 240}),
    ]
    assignments = [
        assign("host-1", KEY_EP, "esxEnterprisePlus"), assign("host-2", KEY_EP, "esxEnterprisePlus"),
        assign("host-3", KEY_STD, "esxFull"),
    ]
    return vcenter(name, uuid, hosts, vms, licenses, assignments, version=version)
