"""LIC-008: license keys used beyond their capacity."""

from __future__ import annotations

from reporter.checks.base import CheckContext, CheckMeta, Outcome, finding
from reporter.checks.grouping import Risk, per_check
from reporter.checks.licensing import FAMILY
from reporter.checks.licensing.common import LICENSES_PATH, analysis
from reporter.core import states
from reporter.core.findings import Severity
from reporter.core.masking import mask_text

META = CheckMeta(
    id="LIC-008",
    title="License key over-assigned",
    family=FAMILY.id,
    severity=Severity.high,
    object_type="license",
    description="A license key whose reported use is larger than its capacity (used > total), e.g. after "
                "hosts were replaced by hosts with more CPUs or cores.",
    rationale="Use beyond the purchased capacity is out of compliance; vCenter raises a licensing alarm and "
              "may refuse new assignments.",
    remediation=(f"Buy the missing capacity (or combine keys in the licensing portal) and add the key in {LICENSES_PATH}; "
                 "or move hosts to another key with free capacity.",),
    applies_to="purchased license keys with a capacity",
)


def run(ctx: CheckContext) -> Outcome:
    a = analysis(ctx)
    out = Outcome()
    for row in a.licenses:
        if row.evaluation or not row.total:
            continue
        out.checked += 1
        if not row.over_assigned:
            continue
        vc = next(v for v in ctx.snapshot.vcenters.values() if v.instance_uuid == row.vcenter_uuid)
        used = row.used or 0
        out.findings.append(finding(
            META, vc, mask_text(row.key) + f" ({row.name or row.edition_key})", f"{row.vcenter_uuid}/license/{row.key}",
            f"{states.cost_units(row.cost_unit, used)} in use on a key for {row.total:,}: "
            f"{states.cost_units(row.cost_unit, used - row.total)} over capacity.",
            evidence={"license_key": row.key, "edition_key": row.edition_key, "total": row.total, "used": row.used,
                      "cost_unit": row.cost_unit, "assigned_to": row.assigned_to},
        ))
    return out


# Root cause and risk (see reporter.checks.grouping).
RISK = Risk.data_loss  # licence non-compliance
group_of = per_check("Over-assigned license keys")
