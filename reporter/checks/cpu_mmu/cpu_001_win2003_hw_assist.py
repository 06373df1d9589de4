"""CPU-001: 32-bit Windows 2003 on a VT-x + EPT host not set to hardware CPU and MMU (KB2001372)."""

from __future__ import annotations

from reporter.checks.base import CheckContext, CheckMeta, Outcome, finding, object_id
from reporter.checks.cpu_mmu import FAMILY
from reporter.checks.cpu_mmu.advice import REFERENCES, WHY_HARDWARE, change_steps
from reporter.checks.cpu_mmu.assess import (
    FLAG_VALUES,
    KB,
    UI_CHOICE,
    Assessment,
    Mode,
    assessments,
    flags_text,
    setting_text,
    skipped_note,
)
from reporter.checks.cpu_mmu.settings import CpuMmuSettings
from reporter.checks.grouping import Risk, per_check
from reporter.core.findings import Severity, Status

META = CheckMeta(
    id="CPU-001",
    title="32-bit Windows Server 2003 not using hardware CPU and MMU virtualization",
    family=FAMILY.id,
    severity=Severity.medium,
    object_type="vm",
    description=(
        "32-bit Windows Server 2003 VMs on hosts with VT-x/AMD-V and EPT/RVI whose CPU/MMU virtualization is not "
        "'Hardware CPU and MMU'. On Automatic, ESX(i) runs them with binary translation and shadow page tables."
    ),
    rationale=WHY_HARDWARE,
    remediation=(
        "Power the VM off (the setting is read at power-on; a restart inside Windows is not enough).",
        "vSphere Client: Edit Settings > Virtual Hardware > CPU > CPU/MMU Virtualization: 'Hardware CPU and MMU' "
        "(Windows vSphere Client 4.x/5.x: Edit Settings > Options > CPU/MMU Virtualization).",
        "PowerCLI: set VirtualMachineConfigSpec.Flags.VirtualExecUsage = 'hvOn' and VirtualMmuUsage = 'on' and call "
        "ReconfigVM on the VM's view (Get-VM <name> | Get-View).",
        "govc has no option for these flags.",
        "Power the VM on.",
    ),
    references=REFERENCES,
    applies_to="32-bit Windows Server 2003 VMs on hosts with VT-x/AMD-V and EPT/RVI before ESXi 6.7",
)

# "Hardware CPU and MMU (CPU setting hvOn, MMU setting on)"
RECOMMENDED = f"{UI_CHOICE[Mode.hw_cpu_mmu]} ({flags_text(*FLAG_VALUES[Mode.hw_cpu_mmu])})"


def _subject(a: Assessment) -> bool:
    """Runs 32-bit Windows 2003 on a host that honours the setting and has VT-x/AMD-V + EPT/RVI."""
    h = a.host
    return a.runs_win2003 and a.bitness == 32 and h is not None and h.ignores is False and h.support == "hw_cpu_mmu"


def run(ctx: CheckContext) -> Outcome:
    settings = ctx.settings.get(CpuMmuSettings)
    out = Outcome(notes=skipped_note(ctx))
    for a in assessments(ctx):
        if not _subject(a):
            continue
        out.checked += 1
        assert a.host is not None
        sp = a.service_pack
        who = (f"{a.running.label} ({a.sp_text(settings)}) on {a.host.name} "
               f"(ESXi {a.host.version or '?'}, {a.host.support_label})")
        now = (f"runs with {a.effective.label}: {a.effective_reason}." if a.effective
               else f"runs in a mode not determined here: {a.effective_reason}.")
        evidence = a.evidence(settings) | {"recommended": RECOMMENDED}
        oid = object_id(a.vc, a.vm.moid)
        if sp is not None and sp < 2:
            out.findings.append(finding(
                META, a.vc, a.vm.name, oid,
                f"{who} {now} {KB}'s recommendation is for SP2: before SP2, binary translation (the Automatic "
                f"choice) runs better. Install SP2, then set Hardware CPU and MMU. {setting_text(a)}",
                evidence=evidence, severity=Severity.low, status=Status.warn,
                remediation=[f"Install Windows Server 2003 SP2 in '{a.vm.name}' first."] + change_steps(a, Mode.hw_cpu_mmu),
            ))
            continue
        if a.mode is Mode.hw_cpu_mmu:
            continue
        mismatch = (f" Automatic follows the configured guest OS '{a.configured.label}', not the Windows 2003 that "
                    "runs (see CPU-006).") if a.os_mismatch and a.mode is Mode.automatic else ""
        if sp is None and not settings.assume_sp2_when_unknown:
            out.findings.append(finding(
                META, a.vc, a.vm.name, oid,
                f"{who} {now} If it runs SP2, {KB} recommends Hardware CPU and MMU (hvOn + on); confirm the service "
                f"pack first. {setting_text(a)} {a.power_note}{mismatch}",
                evidence=evidence, severity=Severity.low, status=Status.warn,
                remediation=["Confirm the service pack (winver in the guest, or the OS name VMware Tools reports)."]
                + change_steps(a, Mode.hw_cpu_mmu),
            ))
            continue
        out.findings.append(finding(
            META, a.vc, a.vm.name, oid,
            f"{who} {now} {KB} recommends Hardware CPU and MMU (hvOn + on) for Windows 2003 SP2: faster in almost "
            f"all cases. {setting_text(a)} {a.power_note}{mismatch}",
            evidence=evidence, remediation=change_steps(a, Mode.hw_cpu_mmu),
        ))
    return out


# Root cause and risk (see reporter.checks.grouping).
RISK = Risk.performance
group_of = per_check("Windows Server 2003 (32-bit) VMs not on hardware CPU and MMU")
