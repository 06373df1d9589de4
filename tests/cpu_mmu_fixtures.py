"""Small snapshots for the cpu-mmu tests, built from reporter.core.model classes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from reporter.checks import CheckContext, load_all
from reporter.config.settings import Settings, validate_thresholds
from reporter.core.findings import Finding
from reporter.core.model import VM, Cluster, Host, Snapshot, VCenter

UUID = "5c2d0f1e-0000-4000-8000-00000000c0de"
COLLECTED_AT = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
INTEL = "Intel(R) Xeon(R) CPU E5-2680 v2 @ 2.80GHz"
AMD = "AMD Opteron(tm) Processor 6174"


def _host(moid: str, name: str, version: str | None, *, hw_exec: bool | None, hw_mmu: bool | None,
          ignored: bool | None = None, cpu: str = INTEL, cluster: str | None = "domain-c1",
          state: str = "connected") -> Host:
    return Host(moid=moid, name=name, version=version, cpu_model=cpu, cluster=cluster, connection_state=state,
                hw_exec_supported=hw_exec, hw_mmu_supported=hw_mmu, exec_usage_ignored=ignored, mmu_usage_ignored=ignored)


HOSTS = {h.moid: h for h in [
    _host("host-ept", "esx-ept", "5.5.0", hw_exec=True, hw_mmu=True),
    _host("host-ept2", "esx-ept2", "5.5.0", hw_exec=True, hw_mmu=True),
    _host("host-noept", "esx-noept", "5.0.0", hw_exec=True, hw_mmu=False),
    _host("host-nohv", "esx-nohv", "4.1.0", hw_exec=False, hw_mmu=False),
    _host("host-unknown", "esx-unknown", None, hw_exec=None, hw_mmu=None, state="notResponding"),
    _host("host-67", "esx-67", "6.7.0", hw_exec=True, hw_mmu=True, ignored=True, cluster="domain-c2"),
    _host("host-65", "esx-65", "6.5.0", hw_exec=True, hw_mmu=True, cluster="domain-c2"),
    _host("host-70", "esx-70", "7.0.3", hw_exec=True, hw_mmu=True, cluster="domain-c2"),
    _host("host-amd", "esx-amd", "5.5.0", hw_exec=True, hw_mmu=True, cpu=AMD, cluster="domain-c2"),
]}

W32 = ("winNetStandardGuest", "Microsoft Windows Server 2003 Standard (32-bit)")
W32E = ("winNetEnterpriseGuest", "Microsoft Windows Server 2003 Enterprise (32-bit)")
W32D = ("winNetDatacenterGuest", "Microsoft Windows Server 2003 Datacenter (32-bit)")
WEB = ("winNetWebGuest", "Microsoft Windows Server 2003 Web Edition (32-bit)")
SBS = ("winNetBusinessGuest", "Microsoft Small Business Server 2003")
W64 = ("winNetStandard64Guest", "Microsoft Windows Server 2003 Standard (64-bit)")
W64E = ("winNetEnterprise64Guest", "Microsoft Windows Server 2003 Enterprise (64-bit)")
W64D = ("winNetDatacenter64Guest", "Microsoft Windows Server 2003 Datacenter (64-bit)")
R2008 = ("windows7Server64Guest", "Microsoft Windows Server 2008 R2 (64-bit)")
RHEL6 = ("rhel6Guest", "Red Hat Enterprise Linux 6 (32-bit)")
W2016 = ("windows9Server64Guest", "Microsoft Windows Server 2016 or later (64-bit)")
SAME = object()  # tools = configured


def make_vm(name: str, guest: tuple[str | None, str | None] = W32, *, tools: Any = SAME,
            ex: str | None = None, mmu: str | None = None, host: str = "host-ept", power: str = "poweredOn",
            template: bool = False, moid: str | None = None) -> VM:
    t = guest if tools is SAME else (tools or (None, None))
    return VM(moid=moid or f"vm-{name}", name=name, power_state=power, template=template,
              guest_id=guest[0], guest_full_name=guest[1], tools_guest_id=t[0], tools_guest_full_name=t[1],
              virtual_exec_usage=ex, virtual_mmu_usage=mmu, host=host, cluster=HOSTS[host].cluster)


def make_snapshot(*vms: VM, hosts: dict[str, Host] | None = None) -> Snapshot:
    hosts = HOSTS if hosts is None else hosts
    clusters = {c: Cluster(moid=c, name=c, hosts=[h.moid for h in hosts.values() if h.cluster == c])
                for c in sorted({h.cluster for h in hosts.values() if h.cluster})}
    vc = VCenter(name="vc01", host="vc01.example", instance_uuid=UUID, version="6.0.0",
                 vms={v.moid: v for v in vms}, hosts=dict(hosts), clusters=clusters)
    return Snapshot(collected_at=COLLECTED_AT, vcenters={UUID: vc})


def context(snapshot: Snapshot, **thresholds: Any) -> CheckContext:
    settings = Settings(thresholds=validate_thresholds({"cpu-mmu": thresholds}, "test")) if thresholds else Settings()
    return CheckContext(snapshot=snapshot, settings=settings)


def cpu_findings(ctx: CheckContext) -> list[Finding]:
    out: list[Finding] = []
    for cid, check in load_all().items():
        if cid.startswith("CPU-"):
            out.extend(check.run(ctx).findings)
    return out
