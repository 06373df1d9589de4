"""CPU-002: 32-bit Windows 2003 on a host that cannot run the KB2001372 recommendation."""

from __future__ import annotations

from reporter.checks.base import CheckContext, CheckMeta, Outcome, finding, object_id
from reporter.checks.cpu_mmu import FAMILY
from reporter.checks.cpu_mmu.advice import REFERENCES, change_steps
from reporter.checks.cpu_mmu.assess import KB, Assessment, Mode, assessments, setting_text, skipped_note
from reporter.checks.cpu_mmu.settings import CpuMmuSettings
from reporter.checks.grouping import Risk, by_evidence
from reporter.checks.helpers import counted
from reporter.core.findings import Severity, Status

META = CheckMeta(
    id="CPU-002",
    title="Windows Server 2003 (32-bit) on a host without VT-x/AMD-V or EPT/RVI",
    family=FAMILY.id,
    severity=Severity.low,
    object_type="vm",
    description=(
        "32-bit Windows Server 2003 VMs whose current host lacks hardware CPU virtualization (VT-x/AMD-V) or "
        "hardware MMU virtualization (EPT/RVI), or whose host capabilities were not collected. KB2001372's "
        "recommendation (Hardware CPU and MMU) needs both, so it cannot be followed there."
    ),
    rationale=(
        "The KB's gain for Windows 2003 SP2 comes from the CPU's hardware assist. A host without it runs the VM "
        "with binary translation (no VT-x/AMD-V) or shadow page tables (no EPT/RVI) whatever the VM is set to, "
        "so the advice is to place the VM on a host that has both, not to change the setting alone."
    ),
    remediation=(
        "Move the VM to a host with VT-x/AMD-V and EPT/RVI (the finding names such hosts in the same cluster).",
        "If the server's CPU has the feature, check that Intel VT / AMD-V is enabled in the BIOS/UEFI (a host "
        "reboot is needed after changing it).",
        "Then set the VM to 'Hardware CPU and MMU' and power cycle it (see CPU-001).",
    ),
    references=REFERENCES,
    applies_to="32-bit Windows Server 2003 VMs on hosts before ESXi 6.7",
)


def _subject(a: Assessment) -> bool:
    if not (a.runs_win2003 and a.bitness == 32):
        return False
    if a.service_pack is not None and a.service_pack < 2:
        return False  # before SP2 the KB prefers binary translation: nothing a better host would change
    h = a.host
    if h is not None and h.ignores:
        return False  # CPU-003
    return h is None or h.ignores is None or h.support != "hw_cpu_mmu"


def _candidates_text(a: Assessment, limit: int) -> str:
    if not a.candidates:
        return "No other connected host in its cluster reports both features."
    shown = list(a.candidates[:limit])
    more = len(a.candidates) - len(shown)
    if not shown:
        return f"{more} hosts in the same cluster have both (listed in the evidence)."
    return "Hosts in the same cluster that have both: " + ", ".join(shown) + (f" and {more} more." if more else ".")


def run(ctx: CheckContext) -> Outcome:
    settings = ctx.settings.get(CpuMmuSettings)
    out = Outcome(notes=skipped_note(ctx))
    set_right_host_unknown = 0
    for a in assessments(ctx):
        if not (a.runs_win2003 and a.bitness == 32):
            continue
        if a.host is not None and a.host.ignores:
            continue
        out.checked += 1
        if not _subject(a):
            continue
        h = a.host
        setting = setting_text(a)
        now = (f"It runs with {a.effective.label}: {a.effective_reason}." if a.effective
               else f"Its mode here is not determined: {a.effective_reason}.")
        already = (" It is already set to Hardware CPU and MMU; that takes full effect on a host with both features."
                   if a.mode is Mode.hw_cpu_mmu else "")
        evidence = a.evidence(settings) | {"hosts_with_both_features_in_cluster": list(a.candidates)}
        oid = object_id(a.vc, a.vm.moid)
        move = _candidates_text(a, settings.max_candidate_hosts)
        steps_after = change_steps(a, Mode.hw_cpu_mmu) if a.mode is not Mode.hw_cpu_mmu else []
        if h is None or h.ignores is None or h.support == "unknown":
            if a.mode is Mode.hw_cpu_mmu:
                # Already set as the KB recommends: nothing to change on the VM. That its host could not be
                # read is a gap in the data, said once on the check, not a warning on a VM that is right.
                set_right_host_unknown += 1
                continue
            what = (f"host {h.name}: {h.support_label}" if h is not None and h.ignores is not None
                    else f"host {h.name if h else a.vm.host or '?'}: version and capabilities not collected")
            out.findings.append(finding(
                META, a.vc, a.vm.name, oid,
                f"{a.running.label} ({a.sp_text(settings)}) on {what}; whether {KB}'s recommendation (Hardware CPU "
                f"and MMU) can apply is unknown. {setting} {now}",
                evidence=evidence, severity=Severity.info, status=Status.warn,
                remediation=[
                    "Check the host in the vSphere Client (Summary, and the connection state: a disconnected host "
                    "reports no capabilities) or with PowerCLI: (Get-VMHost <host> | Get-View).Capability | "
                    "Select VirtualExecUsageSupported, CpuHwMmuSupported",
                    f"If it has both, follow {KB} for this VM (see CPU-001).",
                ] + steps_after,
            ))
            continue
        if h.support == "none":
            lack = (f"host {h.name} (ESXi {h.version or '?'}) reports no VT-x/AMD-V (absent, or disabled in the "
                    "BIOS/UEFI), so the VM can only run with binary translation there, whatever it is set to")
        else:
            lack = (f"host {h.name} (ESXi {h.version or '?'}) has VT-x/AMD-V but no EPT/RVI, so hardware MMU "
                    "virtualization is not available there and a Hardware CPU and MMU setting falls back to shadow "
                    f"page tables. {KB} gives no recommendation for such hosts: keep Automatic unless a measured test "
                    "shows 'Hardware CPU, Software MMU' is faster for this workload")
        out.findings.append(finding(
            META, a.vc, a.vm.name, oid,
            f"{a.running.label} ({a.sp_text(settings)}): {lack}. {KB}'s recommendation (Hardware CPU and MMU) needs "
            f"a host with both features. {move} {setting} {now}{already}",
            evidence=evidence, status=Status.warn,
            remediation=[f"Move '{a.vm.name}' to a host with VT-x/AMD-V and EPT/RVI. {move}",
                         "Or, if the server's CPU has the feature, enable Intel VT / AMD-V in the BIOS/UEFI (host "
                         "reboot needed)."] + steps_after,
        ))
    if set_right_host_unknown:
        out.notes.append(
            f"{counted(set_right_host_unknown, 'VM')} already set to Hardware CPU and MMU "
            f"{'runs' if set_right_host_unknown == 1 else 'run'} on hosts whose hardware "
            "virtualization support (VT-x/AMD-V, EPT/RVI) was not collected: the setting is right; whether the host "
            "honours it (it falls back to software on a host without the features) is not determined. Check the "
            "hosts' connection state and the collector's privileges.")
    return out


# Root cause and risk (see reporter.checks.grouping).
RISK = Risk.performance
group_of = by_evidence("host", lambda host: f"Windows Server 2003 VMs on host {host}, which lacks hardware assist")
