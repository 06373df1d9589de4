"""The exact fix for a VM x datastore whose caps the legacy scheduler does not enforce.

Legacy rule (docs/methodology.md#disk-scheduler, KB1038241 as corrected by VMware
support): every disk of the VM on the datastore needs a cap of the same type; the
enforced cap is then the sum. So the fix is either (a) give the other disks a cap
of that type (and drop the other type), or (b) move the capped disk to a
datastore where it is the VM's only disk.
"""

from __future__ import annotations

from dataclasses import dataclass

from reporter.checks.sioc.common import (
    CLIENT_ADVANCED_PATH,
    CLIENT_LIMIT_PATH,
    bandwidth_as_iops,
    cap_value_text,
    ps_remove_advanced,
    ps_set_advanced,
    ps_set_iops,
    ps_vm,
)
from reporter.checks.sioc.settings import SiocSettings
from reporter.core.model import VM
from reporter.domain.iocaps import CapKind, DiskCaps, GroupEvaluation, describe_value


def target_kind(ev: GroupEvaluation) -> CapKind:
    """The cap type to complete: the one more disks already carry; IOPS on a tie (visible in the vSphere Client)."""
    n_iops = sum(1 for d in ev.disks if d.iops is not None)
    n_bw = sum(1 for d in ev.disks if d.bandwidth_bps is not None)
    return CapKind.bandwidth if n_bw > n_iops else CapKind.iops


def _suggested(ev: GroupEvaluation, kind: CapKind, disk: DiskCaps, s: SiocSettings) -> int:
    """A value for ``disk`` that keeps the admin's intent: its own cap converted, else the others' value."""
    io = s.typical_io_size_kb * 1024
    if kind is CapKind.iops:
        if disk.bandwidth_bps is not None:
            return bandwidth_as_iops(disk.bandwidth_bps, s.typical_io_size_kb)
        values = [d.iops for d in ev.disks if d.iops is not None]
    else:
        if disk.iops is not None:
            return disk.iops * io
        values = [d.bandwidth_bps for d in ev.disks if d.bandwidth_bps is not None]
    return min(v for v in values if v is not None)


def set_cap_command(vm: VM, disk: DiskCaps, kind: CapKind, value: int, s: SiocSettings) -> str:
    if kind is CapKind.iops:
        return ps_set_iops(vm, disk, value)
    return ps_set_advanced(vm, f"sched.{disk.node}.bandwidthCap", cap_value_text(kind, value, s))


def remove_cap_commands(vm: VM, disk: DiskCaps, kind: CapKind) -> list[str]:
    if kind is CapKind.iops:
        cmds = []
        if disk.api_limit is not None:
            cmds.append(ps_set_iops(vm, disk, -1))
        if disk.throughput_key is not None:
            cmds.append(ps_remove_advanced(vm, disk.throughput_key))
        return cmds
    return [ps_remove_advanced(vm, disk.bandwidth_key)] if disk.bandwidth_key else []


@dataclass(frozen=True)
class Fix:
    same_type: str  # "set sched.scsi0:1.throughputCap = 500IOps on Hard disk 2 (scsi0:1)"
    move: str  # "move scsi0:1 to a datastore where the VM has no other disk"
    same_type_steps: list[str]
    move_steps: list[str]
    scheduler_step: str

    @property
    def summary(self) -> str:
        return f"{self.same_type} - or {self.move}" if self.same_type else self.move

    @property
    def steps(self) -> list[str]:
        return self.same_type_steps + self.move_steps + [self.scheduler_step]


def legacy_fix(ev: GroupEvaluation, where: str, s: SiocSettings) -> Fix:
    """The fix for a group whose caps the legacy scheduler does not (all) enforce."""
    vm = ev.vm
    kind = target_kind(ev)
    other = CapKind.bandwidth if kind is CapKind.iops else CapKind.iops
    word = "an IOPS limit" if kind is CapKind.iops else "a bandwidth cap"
    sets: list[tuple[DiskCaps, int]] = []
    drops: list[DiskCaps] = []
    for d in ev.disks:
        have = d.iops if kind is CapKind.iops else d.bandwidth_bps
        if have is None:
            sets.append((d, _suggested(ev, kind, d, s)))
        if (d.bandwidth_bps if kind is CapKind.iops else d.iops) is not None:
            drops.append(d)
    total = sum((d.iops if kind is CapKind.iops else d.bandwidth_bps) or 0 for d in ev.disks) + sum(v for _, v in sets)
    key = "throughputCap" if kind is CapKind.iops else "bandwidthCap"
    parts = [f"sched.{d.node}.{key} = {cap_value_text(kind, v, s)}"
             + (f" (Limit - IOPs {v})" if kind is CapKind.iops else "") + f" on {d.name}" for d, v in sets]
    same = f"set {'; '.join(parts)}" if parts else ""
    if drops:
        what = ("bandwidth cap" if kind is CapKind.iops else "IOPS limit") + ("s" if len(drops) > 1 else "")
        same += ("; " if same else "") + f"remove the {what} on " + ", ".join(d.node for d in drops)
    move, move_steps = _move_plan(ev)
    steps: list[str] = []
    steps.append(f"Option A - give every disk of '{vm.name}' on {where} {word} (the legacy scheduler then enforces "
                 f"their sum, {describe_value(kind, total)}, shared by the disks):")
    for d, v in sets:
        how = ""
        if kind is CapKind.iops and d.bandwidth_bps is not None:
            how = (f" (its {describe_value(CapKind.bandwidth, d.bandwidth_bps)} cap at {s.typical_io_size_kb} KB "
                   "per I/O)")
        elif kind is CapKind.bandwidth and d.iops is not None:
            how = f" (its {d.iops} IOPS at {s.typical_io_size_kb} KB per I/O)"
        steps.append(f"  {d.name}: {describe_value(kind, v)}{how} - {set_cap_command(vm, d, kind, v, s)}")
    for d in drops:
        for cmd in remove_cap_commands(vm, d, other):
            steps.append(f"  {d.name}: remove the {'bandwidth cap' if other is CapKind.bandwidth else 'IOPS limit'} - {cmd}")
    steps.append("  " + (CLIENT_LIMIT_PATH if kind is CapKind.iops and not drops else CLIENT_ADVANCED_PATH))
    sched = ("Option C - run the VM on hosts with the per-disk scheduler (ESXi 5.5-6.x: Disk.SchedulerWithReservation "
             "= 1; 6.0 U1+/7.0+: VMkernel.Boot.isPerFileSchedModelActive = true, host reboot), where each disk's "
             "limit applies alone - in 32 KB units.")
    return Fix(same, move, steps, move_steps, sched)


def _move_plan(ev: GroupEvaluation) -> tuple[str, list[str]]:
    """Option B with the fewest disks moved: either every capped disk alone on a datastore of its own, or
    keep the largest same-type set of capped disks here and move the rest away (uncapped disks together
    anywhere without capped disks of this VM; the other cap type together to a datastore of its own)."""
    vm = ev.vm
    capped = [d for d in ev.disks if d.capped]
    alone = capped if len(capped) < len(ev.disks) else capped[1:]
    by_kind = {k: [d for d in capped if (d.iops is not None) == (k is CapKind.iops)] for k in CapKind}
    keep = max(CapKind, key=lambda k: (len(by_kind[k]), k is CapKind.iops))
    uncapped = [d for d in ev.disks if not d.capped]
    others = [d for k, ds in by_kind.items() if k is not keep for d in ds]
    cmd = ("{vm}; Move-HardDisk -HardDisk (Get-HardDisk -VM $vm -Name '{label}') -Datastore '{target}' -Confirm:$false")
    steps = ["Option B - separate the disks with Storage vMotion, so that on each datastore all of the VM's "
             "disks carry a cap of the same type (or none does):"]
    if len(uncapped) + len(others) < len(alone):
        parts = []
        if uncapped:
            parts.append(f"move {', '.join(d.node for d in uncapped)} to a datastore without capped disks of this VM")
            steps += [f"  {d.name}: " + cmd.format(vm=ps_vm(vm), label=d.disk.label or d.node,
                                                   target="<datastore without capped disks of this VM>")
                      for d in uncapped]
        if others:
            parts.append(f"move {', '.join(d.node for d in others)} to a datastore without other disks of this VM")
            steps += [f"  {d.name}: " + cmd.format(vm=ps_vm(vm), label=d.disk.label or d.node,
                                                   target="<datastore without other disks of this VM>")
                      for d in others]
        return " and ".join(parts), steps
    text = (f"move {', '.join(d.node for d in alone)} to "
            f"{'a datastore' if len(alone) == 1 else 'datastores'} where the VM has no other disk")
    steps += [f"  {d.name}: " + cmd.format(vm=ps_vm(vm), label=d.disk.label or d.node,
                                           target="<datastore without other disks of this VM>") for d in alone]
    return text, steps
