"""Shared pieces of the sioc checks: references, iteration, remediation text.

Everything here reads only the snapshot; the domain logic (cap parsing,
scheduler, enforcement rule) lives in :mod:`reporter.domain.iocaps`.
"""

from __future__ import annotations

from dataclasses import dataclass

from reporter.checks.base import CheckContext, Reference
from reporter.checks.helpers import ps_quote
from reporter.checks.sioc.settings import SiocSettings
from reporter.core.model import VM, Datastore, VCenter
from reporter.domain.iocaps import (
    KB1038241_URL,
    CapKind,
    DiskCaps,
    GroupEvaluation,
    SchedulerInfo,
    determine_scheduler,
    evaluate_vm,
    suggest_cap_string,
)

KB1038241 = Reference(
    "KB1038241", "Limiting disk I/O from a specific virtual machine", KB1038241_URL,
)
REF_GUIDE = Reference(
    None, "vSphere Resource Management guide: Storage I/O Control Resource Shares and Limits; "
    "Set Storage I/O Control Threshold Value",
    "https://docs.vmware.com/en/VMware-vSphere/7.0/com.vmware.vsphere.resmgmt.doc/GUID-D3FE742F-5398-4274-83C0-C9D14DBE372A.html",
)
REF_LIMITS_50 = Reference(
    None, "vSphere 5.0 Resource Management guide: Storage I/O Control Resource Shares and Limits (a VM with several "
    "disks needs a limit on all of them; the limit is their aggregate)",
    "https://pubs.vmware.com/vsphere-50/topic/com.vmware.vsphere.resmgmt.doc_50/GUID-D964A753-0844-4343-A96F-27A4C769F92D.html",
)
REF_PER_FILE = Reference(
    None, "vSphere Storage guide: Edit Per File I/O Scheduling (VMkernel.Boot.isPerFileSchedModelActive)",
    "https://docs.vmware.com/en/VMware-vSphere/7.0/com.vmware.vsphere.storage.doc/GUID-CEC9C6BB-ADE0-439E-880E-CDE19BF16B7F.html",
)
REF_IOALLOC = Reference(
    None, "vSphere API: StorageIOAllocationInfo (limit -1 = unlimited; 32 KB chunks)",
    "https://vdc-download.vmware.com/vmwb-repository/dcr-public/b50dcbbf-051d-4204-a3e7-e1b618c1e384/"
    "538cf2ec-b34f-4bae-a332-3820ef9e7773/vim.StorageResourceManager.IOAllocationInfo.html",
)

SECTION = "docs/methodology.md#sioc"


def settings(ctx: CheckContext) -> SiocSettings:
    return ctx.settings.get(SiocSettings)


def included(vm: VM, s: SiocSettings) -> bool:
    return s.include_templates or not vm.template


@dataclass(frozen=True)
class Group:
    vc: VCenter
    vm: VM
    ev: GroupEvaluation

    @property
    def object_id(self) -> str:
        return f"{self.vc.instance_uuid}/{self.vm.moid}/{self.ev.group_id}"

    @property
    def where(self) -> str:
        """"datastore 'prod-01'" or "RDM scsi0:2 (mapping file on 'prod-01')"."""
        ds = ds_name(self.vc, self.ev.datastore)
        if self.ev.rdm:
            return f"RDM {self.ev.disks[0].node} (mapping file on '{ds}')"
        return f"datastore '{ds}'"


def ds_name(vc: VCenter, moid: str | None) -> str:
    if moid is None:
        return "unknown datastore"
    ds = vc.datastores.get(moid)
    return ds.name if ds else moid


def host_name(vc: VCenter, moid: str | None) -> str | None:
    if moid is None:
        return None
    host = vc.hosts.get(moid)
    return host.name if host else moid


def groups(ctx: CheckContext) -> list[Group]:
    """Every VM x datastore (and RDM) of every included VM, in a stable order (computed once
    per check run: the disk-cap checks all walk the same evaluation)."""
    return ctx.memo("sioc.groups", lambda: _evaluate_groups(ctx))


def _evaluate_groups(ctx: CheckContext) -> list[Group]:
    s = settings(ctx)
    sched: dict[tuple[str, str | None], SchedulerInfo] = {}
    out: list[Group] = []
    for vc in ctx.snapshot.vcenters.values():
        for vm in sorted(vc.vms.values(), key=lambda v: (v.name, v.moid)):
            if not included(vm, s):
                continue
            key = (vc.instance_uuid, vm.host)
            if key not in sched:
                sched[key] = scheduler_for_host(vc, vm.host)
            for ev in evaluate_vm(vm, vc, iops_base=s.iops_unit_base, bandwidth_base=s.bandwidth_unit_base,
                                  scheduler=sched[key]):
                out.append(Group(vc, vm, ev))
    return out


def vm_count(ctx: CheckContext) -> int:
    s = settings(ctx)
    # Seven checks ask: counted once per check run.
    return ctx.memo("sioc.vm_count", lambda: sum(
        1 for vc in ctx.snapshot.vcenters.values() for vm in vc.vms.values() if included(vm, s)))


def group_evidence(g: Group) -> dict[str, object]:
    ev = g.ev
    return {
        "vm": g.vm.name,
        "host": host_name(g.vc, g.vm.host),
        "datastore": ds_name(g.vc, ev.datastore),
        "rdm": ev.rdm,
        **ev.scheduler.evidence(),
        "disks": [disk_evidence(d) for d in ev.disks],
        "enforced": ev.enforced.value,
        "effective_limit": ev.effective(),
        "why_not_enforced": ev.why_not() or None,
        "source": f"{SECTION}; KB1038241",
    }


def disk_evidence(d: DiskCaps) -> dict[str, object]:
    return {
        "disk": d.name,
        "node": d.node,
        "storageIOAllocation.limit": d.api_limit_raw,
        d.throughput_key or f"sched.{d.node}.throughputCap": d.throughput.raw if d.throughput else None,
        d.bandwidth_key or f"sched.{d.node}.bandwidthCap": d.bandwidth.raw if d.bandwidth else None,
        "applies": d.effective(),
    }


# ---------------------------------------------------------------------------- remediation text


def ps_vm(vm: VM) -> str:
    return "$vm = Get-VM -Name " + ps_quote(vm.name)


def ps_set_iops(vm: VM, disk: DiskCaps, value: int | str) -> str:
    """PowerCLI that sets the API IOPS limit (= throughputCap) of one disk; -1 removes it."""
    label = disk.disk.label or ""
    pick = f"Get-HardDisk -VM $vm -Name {ps_quote(label)}" if label else (
        f"Get-HardDisk -VM $vm | Where-Object {{ $_.ExtensionData.Key -eq {disk.disk.key} }}")
    return (f"{ps_vm(vm)}; $disk = {pick}; "
            f"Get-VMResourceConfiguration -VM $vm | Set-VMResourceConfiguration -Disk $disk -DiskLimitIOPerSecond {value}")


def ps_set_advanced(vm: VM, key: str, value: str) -> str:
    return f"{ps_vm(vm)}; New-AdvancedSetting -Entity $vm -Name '{key}' -Value '{value}' -Force -Confirm:$false"


def ps_remove_advanced(vm: VM, key: str) -> str:
    return f"{ps_vm(vm)}; Get-AdvancedSetting -Entity $vm -Name '{key}' | Remove-AdvancedSetting -Confirm:$false"


CLIENT_LIMIT_PATH = ("vSphere Client: VM > Edit Settings > Virtual Hardware > Hard disk N > Limit - IOPs "
                     "(can be changed while the VM runs)")
CLIENT_ADVANCED_PATH = ("vSphere Client: VM > Edit Settings > VM Options > Advanced > Edit Configuration "
                        "(configuration parameters; the vSphere Client needs the VM powered off for this, KB1038241)")


def bandwidth_as_iops(bps: int, io_kb: int) -> int:
    """A bandwidth cap expressed as IOPS at ``io_kb`` KB per I/O (vSphere 5.0 guide's conversion)."""
    return max(1, round(bps / (io_kb * 1024)))


def cap_value_text(kind: CapKind, value: int, s: SiocSettings) -> str:
    return suggest_cap_string(kind, value, iops_base=s.iops_unit_base, bandwidth_base=s.bandwidth_unit_base)


def scheduler_for_host(vc: VCenter, host_moid: str | None) -> SchedulerInfo:
    return determine_scheduler(vc.hosts.get(host_moid) if host_moid else None)


def powered_on_vms(vc: VCenter, ds: Datastore) -> list[VM]:
    return [vc.vms[m] for m in ds.vms if m in vc.vms and vc.vms[m].powered_on]
