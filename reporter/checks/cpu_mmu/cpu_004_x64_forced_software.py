"""CPU-004: 64-bit Windows 2003 with software CPU virtualization forced (ineffective setting)."""

from __future__ import annotations

from reporter.checks.base import CheckContext, CheckMeta, Outcome, finding, object_id
from reporter.checks.cpu_mmu import FAMILY
from reporter.checks.cpu_mmu.advice import REFERENCES, change_steps
from reporter.checks.cpu_mmu.assess import Mode, assessments, flags_text, skipped_note
from reporter.checks.cpu_mmu.settings import CpuMmuSettings
from reporter.checks.grouping import Risk, per_check
from reporter.core.findings import Severity, Status

META = CheckMeta(
    id="CPU-004",
    title="Software CPU virtualization forced on 64-bit Windows Server 2003",
    family=FAMILY.id,
    severity=Severity.low,
    object_type="vm",
    description=("64-bit Windows Server 2003 VMs whose CPU/MMU virtualization forces software CPU virtualization "
                 "(CPU setting hvOff, as Software CPU and MMU sets it)."),
    rationale=(
        "64-bit guests cannot use binary translation on Intel CPUs: the monitor uses VT-x anyway, so forcing the "
        "software mode is an ineffective setting, not a performance choice (docs/methodology.md#cpu-mmu-win2003). KB2001372's "
        "advice concerns 32-bit Windows 2003 only."
    ),
    remediation=(
        "Set the VM back to Automatic (vSphere Client: Edit Settings > Virtual Hardware > CPU > CPU/MMU "
        "Virtualization: 'Automatic'; PowerCLI: Flags.VirtualExecUsage = 'hvAuto', VirtualMmuUsage = 'automatic').",
    ),
    references=REFERENCES,
    applies_to="64-bit Windows Server 2003 VMs on hosts before ESXi 6.7",
)


def run(ctx: CheckContext) -> Outcome:
    settings = ctx.settings.get(CpuMmuSettings)
    out = Outcome(notes=skipped_note(ctx))
    for a in assessments(ctx):
        h = a.host
        if not (a.runs_win2003 and a.bitness == 64) or (h is not None and h.ignores):
            continue
        out.checked += 1
        if a.vm.virtual_exec_usage != "hvOff":
            continue
        if h is not None and h.vendor == "intel":
            why = (f"{h.name} has an Intel CPU: 64-bit guests cannot use binary translation there, so the monitor uses "
                   "VT-x anyway and the setting is ineffective")
        else:
            cpu = "an AMD CPU" if h is not None and h.vendor == "amd" else "a CPU whose vendor was not collected"
            why = (f"the host ({h.name if h else a.vm.host or '?'}) has {cpu}; on Intel CPUs the setting is "
                   "ineffective (64-bit guests cannot use binary translation there), and it is not a recommended "
                   "mode for any 64-bit guest")
        out.findings.append(finding(
            META, a.vc, a.vm.name, object_id(a.vc, a.vm.moid),
            f"{a.running.label} is forced to software CPU virtualization "
            f"[{flags_text(a.vm.virtual_exec_usage, a.vm.virtual_mmu_usage)}]: {why}. Set it back to Automatic. "
            f"{a.power_note}",
            evidence=a.evidence(settings) | {"host_cpu_vendor": h.vendor if h else None},
            status=Status.warn, remediation=change_steps(a, Mode.automatic),
        ))
    return out


# Root cause and risk (see reporter.checks.grouping).
RISK = Risk.performance
group_of = per_check("64-bit Windows Server 2003 forced to software virtualization")
