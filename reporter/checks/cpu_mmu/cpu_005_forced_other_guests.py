"""CPU-005: a forced CPU/MMU mode on a VM that does not run Windows 2003 (informational)."""

from __future__ import annotations

from reporter.checks.base import CheckContext, CheckMeta, Outcome, finding, object_id
from reporter.checks.cpu_mmu import FAMILY
from reporter.checks.cpu_mmu.advice import REFERENCES, change_steps
from reporter.checks.cpu_mmu.assess import KB, Mode, assessments, flags_text, skipped_note
from reporter.checks.cpu_mmu.settings import CpuMmuSettings
from reporter.checks.grouping import Risk, per_check
from reporter.core.findings import Severity, Status

META = CheckMeta(
    id="CPU-005",
    title="CPU/MMU virtualization forced on a VM that is not Windows Server 2003",
    family=FAMILY.id,
    severity=Severity.info,
    object_type="vm",
    description=(
        "VMs whose configured and reported guest OS is not Windows Server 2003 but whose CPU/MMU virtualization "
        "is set to something other than Automatic. Listed for information, not as a failure."
    ),
    rationale=(
        "Automatic is the default, so a forced mode means someone set it on purpose: a vendor requirement, a "
        "performance test or an old troubleshooting step. KB2001372's advice covers 32-bit Windows 2003 only; "
        "whether the forced mode still helps this VM is for its owner to say."
    ),
    remediation=(
        "Ask the VM's owner why the mode is forced; if nobody knows, set it back to Automatic at the next "
        "maintenance window (power cycle needed).",
    ),
    references=REFERENCES,
)


def run(ctx: CheckContext) -> Outcome:
    settings = ctx.settings.get(CpuMmuSettings)
    out = Outcome(notes=skipped_note(ctx))
    for a in assessments(ctx):
        if a.is_win2003:
            continue
        out.checked += 1
        if a.mode is Mode.automatic:
            continue
        h = a.host
        ignored = (f" {h.name} (ESXi {h.version or '?'}) ignores the per-VM setting anyway." if h is not None and h.ignores
                   else "")
        out.findings.append(finding(
            META, a.vc, a.vm.name, object_id(a.vc, a.vm.moid),
            f"Someone forced CPU/MMU virtualization to {a.mode.short} "
            f"[{flags_text(a.vm.virtual_exec_usage, a.vm.virtual_mmu_usage)}] on this {a.running.label} VM; "
            f"Automatic is the default and {KB} concerns 32-bit Windows 2003 only.{ignored}",
            evidence=a.evidence(settings), status=Status.warn,
            remediation=[f"Ask the owner of '{a.vm.name}' why the mode is forced; if there is no reason, set Automatic:"]
            + change_steps(a, Mode.automatic),
        ))
    return out


# Root cause and risk (see reporter.checks.grouping).
RISK = Risk.performance
group_of = per_check("CPU/MMU virtualization forced on other guests")
