"""CPU-003: a CPU/MMU setting on a Windows 2003 VM whose host ignores it (ESXi 6.7+)."""

from __future__ import annotations

from reporter.checks.base import CheckContext, CheckMeta, Outcome, finding, object_id
from reporter.checks.cpu_mmu import FAMILY
from reporter.checks.cpu_mmu.advice import GOVC_NOTE, REFERENCES, powercli_set
from reporter.checks.cpu_mmu.assess import Mode, assessments, flags_text, skipped_note
from reporter.checks.cpu_mmu.settings import CpuMmuSettings
from reporter.checks.grouping import Risk, per_check
from reporter.core.findings import Severity, Status

META = CheckMeta(
    id="CPU-003",
    title="CPU/MMU virtualization setting ignored on ESXi 6.7 and later",
    family=FAMILY.id,
    severity=Severity.info,
    object_type="vm",
    description=(
        "Windows Server 2003 VMs with a CPU/MMU virtualization setting other than Automatic on hosts that no "
        "longer support the per-VM setting (ESXi 6.7 and later: the host reports that it ignores the per-VM "
        "CPU/MMU setting)."
    ),
    rationale=(
        "ESXi 6.7 and later always use hardware CPU and MMU virtualization; the per-VM setting has no effect "
        "(vSphere 6.7 VM administration guide; docs/methodology.md#cpu-mmu-win2003). A leftover setting misleads whoever reads "
        "the VM's configuration and matters again only if the VM is moved back to an older host."
    ),
    remediation=(
        "Remove the setting by setting it back to Automatic (hvAuto / automatic). The vSphere Client cannot change "
        "it for VMs compatible with ESXi 6.7 and later; use PowerCLI.",
    ),
    references=REFERENCES,
    applies_to="Windows Server 2003 VMs on ESXi 6.7 or later",
)


def run(ctx: CheckContext) -> Outcome:
    settings = ctx.settings.get(CpuMmuSettings)
    out = Outcome(notes=skipped_note(ctx))
    for a in assessments(ctx):
        h = a.host
        if not a.is_win2003 or h is None or not h.ignores:
            continue
        out.checked += 1
        if a.mode is Mode.automatic:
            continue
        basis = ("as the host itself reports; ESXi 6.7 and later" if h.ignores_basis == "capability"
                 else f"ESXi version {h.version} >= {settings.setting_ignored_from_version}")
        out.findings.append(finding(
            META, a.vc, a.vm.name, object_id(a.vc, a.vm.moid),
            f"Setting ignored on this host; remove it. {a.running.label} is set to {a.mode.short} "
            f"[{flags_text(a.vm.virtual_exec_usage, a.vm.virtual_mmu_usage)}], but {h.name} (ESXi {h.version or '?'}) "
            f"ignores the per-VM setting ({basis}) and always uses hardware CPU and MMU virtualization.",
            evidence=a.evidence(settings), status=Status.warn,
            remediation=[
                f"Set '{a.vm.name}' back to Automatic. {powercli_set(a.vm.name, Mode.automatic)}",
                GOVC_NOTE,
                "No power cycle is needed for performance (the host ignores the value either way); the new value is "
                "written to the configuration at once.",
            ],
        ))
    return out


# Root cause and risk (see reporter.checks.grouping).
RISK = Risk.hygiene
group_of = per_check("CPU/MMU settings ignored by ESXi 6.7 and later")
