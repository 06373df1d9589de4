"""LIC-007: hosts or vCenters running in evaluation mode."""

from __future__ import annotations

from reporter.checks.base import CheckContext, CheckMeta, Outcome, finding
from reporter.checks.grouping import Risk, per_check
from reporter.checks.licensing import FAMILY
from reporter.checks.licensing.common import LICENSES_PATH, analysis
from reporter.checks.licensing.settings import LicensingSettings
from reporter.core.findings import Severity

META = CheckMeta(
    id="LIC-007",
    title="Evaluation license in use",
    family=FAMILY.id,
    severity=Severity.medium,
    object_type="vcenter",
    description="Hosts or the vCenter itself assigned the evaluation license (key 00000-00000-00000-00000-00000, "
                "edition 'eval').",
    rationale="Evaluation mode lasts 60 days. When it ends, hosts disconnect from vCenter and can no longer "
              "power on VMs; vCenter stops managing them. Evaluation also has no vRAM entitlement, so this "
              "report gives no vRAM verdict for those hosts.",
    remediation=(
        f"Assign a purchased key: {LICENSES_PATH} > Assets > select the hosts > Assign License.",
        "PowerCLI: Get-VMHost <name> | Set-VMHost -LicenseKey <key>; govc: govc license.assign -host <name> <key>",
    ),
)


def run(ctx: CheckContext) -> Outcome:
    a = analysis(ctx)
    warn_days = ctx.settings.get(LicensingSettings).expiry_warn_days
    out = Outcome()
    for vc in ctx.snapshot.vcenters.values():
        if vc.license_assignments is None:
            continue
        out.checked += 1
        evals = [x for x in vc.license_assignments if x.entity
                 and (x.edition_key == "eval" or x.license_key == "00000-00000-00000-00000-00000")]
        if not evals:
            continue
        names = sorted(x.entity_name or x.entity for x in evals)
        row = next((r for r in a.licenses if r.vcenter_uuid == vc.instance_uuid and r.evaluation), None)
        left = round(row.days_left) if row and row.days_left is not None else None  # whole days, as LIC-006
        sev = None
        if left is not None and left <= 0:
            sev = Severity.high
            tail = " The evaluation period has ended."
        elif left is not None:
            tail = (f" Evaluation ends in {left} day{'' if left == 1 else 's'}"
                    f" ({row.expires_at.date().isoformat()}).")  # type: ignore[union-attr]
            if left <= warn_days:
                sev = Severity.high
        else:
            tail = " Remaining evaluation time not reported."
        shown = ", ".join(names[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "")
        out.findings.append(finding(
            META, vc, vc.name, f"{vc.instance_uuid}/evaluation",
            f"{len(names)} entit{'y' if len(names) == 1 else 'ies'} in evaluation mode: {shown}.{tail}",
            evidence={"entities": names, "days_left": left,
                      "expiry_known_from": row.expires_from if row else None},
            severity=sev,
        ))
    return out


# Root cause and risk (see reporter.checks.grouping).
RISK = Risk.data_loss
group_of = per_check("Evaluation licenses in use")
