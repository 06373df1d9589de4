"""LIC-006: term licenses that expire soon or have expired."""

from __future__ import annotations

from reporter.checks.base import CheckContext, CheckMeta, Outcome, finding
from reporter.checks.grouping import Risk, per_check
from reporter.checks.licensing import FAMILY
from reporter.checks.licensing.common import LICENSES_PATH, analysis
from reporter.checks.licensing.settings import LicensingSettings
from reporter.core.findings import Severity
from reporter.core.masking import mask_text

META = CheckMeta(
    id="LIC-006",
    title="License expires soon",
    family=FAMILY.id,
    severity=Severity.medium,
    object_type="license",
    description="A license key (not the evaluation license, see LIC-007) whose expiration date "
                "(as vCenter reports it for the key) is within [thresholds.licensing] expiry_warn_days "
                "(default 30 days) of the snapshot, or already past.",
    rationale="When a term or subscription license expires, hosts licensed with it can no longer power on "
              "VMs and vCenter features stop; renewals need purchase lead time.",
    remediation=(f"Renew the subscription/term license and add the new key in {LICENSES_PATH}; then assign it "
                 "to the same hosts (PowerCLI: Set-VMHost -LicenseKey <key>).",),
    applies_to="purchased license keys",
)


def run(ctx: CheckContext) -> Outcome:
    a = analysis(ctx)
    days = ctx.settings.get(LicensingSettings).expiry_warn_days
    out = Outcome()
    for row in a.licenses:
        if row.evaluation:
            continue
        out.checked += 1
        if row.days_left is None or row.days_left > days:
            continue
        vc = next(v for v in ctx.snapshot.vcenters.values() if v.instance_uuid == row.vcenter_uuid)
        expired = row.days_left <= 0
        when = row.expires_at.date().isoformat() if row.expires_at else "?"
        left = round(row.days_left)  # whole days, the same figure in the message, the evidence and the table
        msg = (f"{row.name or row.edition_key} expired on {when}." if expired else
               f"{row.name or row.edition_key} expires on {when}, in {left} day{'' if left == 1 else 's'}.")
        if row.assigned_to:
            msg += f" Assigned to {len(row.assigned_to)} entit{'y' if len(row.assigned_to) == 1 else 'ies'}."
        out.findings.append(finding(
            META, vc, mask_text(row.key) + f" ({row.name or row.edition_key})", f"{row.vcenter_uuid}/license/{row.key}",
            msg,
            evidence={"license_key": row.key, "edition_key": row.edition_key, "expires": when,
                      "days_left": left, "expiry_known_from": row.expires_from,
                      "assigned_to": row.assigned_to, "warn_days": days},
            severity=Severity.high if expired else None,
        ))
    return out


# Root cause and risk (see reporter.checks.grouping).
RISK = Risk.data_loss  # an expired license stops hosts from powering on VMs
group_of = per_check("Licenses that expire soon")
