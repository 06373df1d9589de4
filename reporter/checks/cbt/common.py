"""What the CBT checks share: scope iteration, evidence, the enable and reset procedures."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from reporter.checks.base import CheckContext
from reporter.checks.cbt.settings import CbtSettings
from reporter.checks.helpers import counted, kb, ps_quote, sh_quote
from reporter.core.model import VM, Host, VCenter
from reporter.domain.cbt import DiskCbt, disk_states, host_defects, in_backup_scope, state_words, vm_ctk_flag
from reporter.domain.lifecycle import release_label
from reporter.domain.vm_snapshots import compatibility_mode_words, disk_mode_words, gb

KB_CBT = kb("1020128", "Changed Block Tracking (CBT) on virtual machines")
KB_ENABLE = kb("1031873", "Enabling Changed Block Tracking (CBT) on virtual machines")


@dataclass(frozen=True)
class VmCbt:
    vc: VCenter
    vm: VM
    in_scope: bool | None
    disks: list[DiskCbt]

    def host_name(self) -> str | None:
        h = self.vc.hosts.get(self.vm.host or "")
        return h.name if h else None

    def evidence(self, disks: list[DiskCbt] | None = None) -> dict[str, Any]:
        host = self.vc.hosts.get(self.vm.host or "")
        return {
            "power_state": self.vm.power_state,
            "hw_version": self.vm.hw_version,
            "change_tracking_enabled": self.vm.change_tracking_enabled,
            "ctkEnabled": _flag_text(vm_ctk_flag(self.vm)),
            "host": host.name if host else self.vm.host,
            "host_version": host.version if host else None,
            "host_build": host.build if host else None,
            "in_backup_scope": self.in_scope,
            "disks": [disk_evidence(d) for d in (self.disks if disks is None else disks)],
        }


def host_release(host: Host) -> str:
    """"ESXi 6.5.0 build 5969303 (ESXi 6.5 Update 1)": the release name only where the build
    table lists the build (docs/methodology.md#build-lifecycle)."""
    label = release_label("esxi", host.build, host.version)
    return f"ESXi {host.version} build {host.build}" + (f" ({label.text})" if label.exact else "")


def _flag_text(value: bool | None) -> str | None:
    return None if value is None else ("TRUE" if value else "FALSE")


def disk_evidence(d: DiskCbt) -> dict[str, Any]:
    return {
        "disk": d.disk.label or d.disk.device_node,
        "node": d.disk.device_node,
        "capacity_gb": gb(d.disk.capacity_bytes),
        "mode": disk_mode_words(d.disk.disk_mode),
        "rdm": compatibility_mode_words(d.disk.compatibility_mode),
        "ctkEnabled": _flag_text(d.ctk_flag),
        "change_id": d.disk.change_id,
        "state": state_words(d.state),
    }


def vms(ctx: CheckContext) -> Iterator[VmCbt]:
    """Every VM except templates (a template is never backed up running, nor tracked)."""
    # Seven checks and three tables walk the same views: build them once per check run
    # (at 10,000 VMs rebuilding them was a third of the checks' time).
    return iter(ctx.memo("cbt.vms", lambda: list(_views(ctx))))


def _views(ctx: CheckContext) -> Iterator[VmCbt]:
    s = ctx.settings.get(CbtSettings)
    for vc in ctx.snapshot.vcenters.values():
        for vm in vc.vms.values():
            if vm.template:
                continue
            yield VmCbt(vc, vm, in_backup_scope(vm, s), disk_states(vm))


def backup_relevant(ctx: CheckContext) -> tuple[list[VmCbt], int]:
    """VMs a backup cares about: in the backup scope, or with CBT already on. Also returns how
    many VMs could not be placed in or out of the scope (see ``scope_note``)."""
    relevant: list[VmCbt] = []
    unknown = 0
    for view in vms(ctx):
        if view.in_scope is None and not view.vm.change_tracking_enabled:
            unknown += 1
        elif view.in_scope or view.vm.change_tracking_enabled:
            relevant.append(view)
    return relevant, unknown


def scope_note(unknown: int) -> list[str]:
    if not unknown:
        return []
    return [f"{counted(unknown, 'VM')} could not be placed in or out of the backup scope: scope_tags is set but vSphere "
            "tags were not collected. They are not reported as in scope."]


def stun_step(vm: str) -> str:
    return (f"Activate it with a stun/unstun (a power cycle, suspend/resume, or a snapshot create + delete): "
            f"PowerCLI: New-Snapshot -VM {ps_quote(vm)} -Name 'cbt-stun' | Remove-Snapshot -Confirm:$false; "
            f"govc: govc snapshot.create -vm {sh_quote(vm)} -m=false cbt-stun && "
            f"govc snapshot.remove -vm {sh_quote(vm)} cbt-stun")


def enable_steps(view: VmCbt, nodes: list[str]) -> list[str]:
    """Switch CBT on for the VM and the given disk nodes (KB1031873), then activate it."""
    vm = view.vm.name
    steps = []
    host = view.vc.hosts.get(view.vm.host or "")
    for hit in host_defects(host) if host is not None else []:
        assert host is not None
        steps.append(f"First: host {host.name} ({host_release(host)}) has a known CBT defect "
                     f"({hit.defect.kb}); upgrade it to {hit.release.fix} before relying on CBT.")
    if view.vm.snapshots:
        steps.append("Delete the VM's snapshots first: CBT should be switched on while a VM has no snapshots "
                     "(docs/methodology.md#cbt-defects).")
    flags = " ".join(f"-e {n}.ctkEnabled=TRUE" for n in nodes)
    steps += [
        "Most backup products switch CBT on themselves when their job option 'use CBT' is set; if yours does, "
        "fix it there.",
        f"PowerCLI (the VM may stay on): $spec = New-Object VMware.Vim.VirtualMachineConfigSpec; "
        f"$spec.ChangeTrackingEnabled = $true; (Get-VM -Name {ps_quote(vm)}).ExtensionData.ReconfigVM($spec)",
        "vSphere Client (KB1031873, VM powered off): Edit Settings > VM Options > Advanced > Edit Configuration: "
        "set ctkEnabled = TRUE and " + ", ".join(f"{n}.ctkEnabled = TRUE" for n in nodes) + ", then power on.",
        f"govc (VM powered off): govc vm.change -vm {sh_quote(vm)} -e ctkEnabled=TRUE {flags}".rstrip(),
        stun_step(vm),
        "The next backup of each disk is a full read; incrementals follow from then on.",
    ]
    return steps


def reset_steps(vm_name: str, nodes: list[str]) -> list[str]:
    """The CBT reset procedure of docs/methodology.md#cbt-defects (KB2090639 workaround, KB2136854)."""
    vm = ps_quote(vm_name)
    off_flags = " ".join(f"-e {n}.ctkEnabled=FALSE" for n in nodes)
    return [
        "Reset CBT (docs/methodology.md#cbt-defects): switch it off, stun/unstun, delete leftover -ctk.vmdk files, switch it "
        "on, stun/unstun, then run a FULL backup.",
        f"PowerCLI: $vm = Get-VM -Name {vm}; $spec = New-Object VMware.Vim.VirtualMachineConfigSpec; "
        "$spec.ChangeTrackingEnabled = $false; $vm.ExtensionData.ReconfigVM($spec); "
        "New-Snapshot -VM $vm -Name 'cbt-reset' | Remove-Snapshot -Confirm:$false",
        "Then, in the datastore browser, delete any <disk>-ctk.vmdk files still in the VM's folder.",
        "PowerCLI: $spec.ChangeTrackingEnabled = $true; $vm.ExtensionData.ReconfigVM($spec); "
        "New-Snapshot -VM $vm -Name 'cbt-reset' | Remove-Snapshot -Confirm:$false",
        f"Or with the VM powered off (vSphere Client Configuration Parameters, or govc vm.change -vm "
        f"{sh_quote(vm_name)} -e ctkEnabled=FALSE {off_flags}): set ctkEnabled and every disk's ctkEnabled to "
        "FALSE, power on and off, delete the -ctk.vmdk files, set them to TRUE, power on.".replace("  ", " "),
        "Run a full (not incremental) backup; do not let later incrementals reference changeIds from before the reset.",
    ]

