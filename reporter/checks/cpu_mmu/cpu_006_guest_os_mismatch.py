"""CPU-006: configured guest OS and the OS VMware Tools reports disagree (Windows 2003 on one side)."""

from __future__ import annotations

import shlex

from reporter.checks.base import CheckContext, CheckMeta, Outcome, finding, object_id
from reporter.checks.cpu_mmu import FAMILY
from reporter.checks.cpu_mmu.advice import REFERENCES
from reporter.checks.cpu_mmu.assess import KB, assessments, skipped_note
from reporter.checks.cpu_mmu.guests import describe_bitness
from reporter.checks.cpu_mmu.settings import CpuMmuSettings
from reporter.checks.grouping import Risk, per_check
from reporter.checks.helpers import ps_quote
from reporter.core.findings import Severity

META = CheckMeta(
    id="CPU-006",
    title="Configured guest OS differs from the OS VMware Tools reports (Windows Server 2003)",
    family=FAMILY.id,
    severity=Severity.low,
    object_type="vm",
    description=(
        "VMs where the configured guest OS (Edit Settings > VM Options > Guest OS) and the OS reported by VMware "
        "Tools disagree and one of them is Windows Server 2003."
    ),
    rationale=(
        "ESX(i) chooses defaults, including what Automatic CPU/MMU virtualization resolves to, from the configured "
        "guest OS, while KB2001372's advice depends on the OS that actually runs. A wrong guest OS type also "
        "affects virtual hardware defaults and VMware Tools behaviour."
    ),
    remediation=(
        "Power the VM off and set the guest OS to the one that runs: vSphere Client: Edit Settings > VM Options > "
        "General Options > Guest OS; PowerCLI: Set-VM -VM <name> -GuestId <id>; govc: govc vm.change -vm <name> -g <id>.",
    ),
    references=REFERENCES,
    applies_to="Windows Server 2003 VMs",
)


def run(ctx: CheckContext) -> Outcome:
    settings = ctx.settings.get(CpuMmuSettings)
    out = Outcome(notes=skipped_note(ctx))
    for a in assessments(ctx):
        if not a.is_win2003:
            continue
        out.checked += 1
        if not a.os_mismatch:
            continue
        c, t = a.configured, a.tools
        minor = c.win2003 and t.win2003 and (c.bitness == t.bitness or not (c.bitness and t.bitness))
        kind = ("edition differs" if minor else
                "bitness differs" if c.win2003 and t.win2003 else
                "Windows 2003 on one side only")
        target = t.guest_id
        fix_id = target or "<the guest id of the OS that runs>"
        out.findings.append(finding(
            META, a.vc, a.vm.name, object_id(a.vc, a.vm.moid),
            f"Configured guest OS is '{c.label}' ({c.guest_id or 'no id'}, {describe_bitness(c.bitness) if c.win2003 else 'not Windows 2003'}) "
            f"but VMware Tools reports '{t.label}' ({t.guest_id or 'no id'}, {describe_bitness(t.bitness) if t.win2003 else 'not Windows 2003'}): "
            f"{kind}. Automatic CPU/MMU virtualization follows the configured type; {KB}'s advice follows the OS that runs.",
            evidence=a.evidence(settings) | {"mismatch": kind},
            severity=Severity.info if minor else Severity.low,
            remediation=[
                f"Confirm which OS '{a.vm.name}' really runs, then power it off and set the guest OS to match.",
                "vSphere Client: Edit Settings > VM Options > General Options > Guest OS (family and version).",
                f"PowerCLI: Set-VM -VM {ps_quote(a.vm.name)} -GuestId {fix_id} -Confirm:$false",
                f"govc: govc vm.change -vm {shlex.quote(a.vm.name)} -g {shlex.quote(fix_id)}",
                "Then review its CPU/MMU setting again (this report's CPU-001 to CPU-004).",
            ],
        ))
    return out


# Root cause and risk (see reporter.checks.grouping).
RISK = Risk.hygiene
group_of = per_check("Guest OS set differently from what VMware Tools reports")
