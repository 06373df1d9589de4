"""LC-001: an ESXi host or vCenter past (or within ``eogs_warning_days`` of) the End of General
Support of its release line. One check: the fix is the same upgrade, only the urgency differs."""

from __future__ import annotations

from reporter.checks.base import CheckContext, CheckMeta, Outcome, finding
from reporter.checks.grouping import Risk, per_vcenter
from reporter.checks.helpers import counted
from reporter.checks.lifecycle import FAMILY
from reporter.checks.lifecycle.common import KB_ESXI_BUILDS, KB_VCENTER_BUILDS, LIFECYCLE_MATRIX, METHOD, installed, today
from reporter.checks.lifecycle.settings import LifecycleSettings
from reporter.core.findings import Severity, Status
from reporter.domain.lifecycle import lifecycle_status

META = CheckMeta(
    id="LC-001",
    title="Release past or near End of General Support",
    family=FAMILY.id,
    severity=Severity.high,
    object_type="installation",
    description="An ESXi host or vCenter whose release line is past its End of General Support, or within "
                "[thresholds.lifecycle] eogs_warning_days (default 180 days) of it, on the day of the snapshot.",
    rationale="Past End of General Support VMware ships no security patches or bug fixes for the release under "
              "general support; an upgrade takes months to plan.",
    remediation=("Plan the upgrade to a supported release: vCenter first, then the hosts.", f"See {METHOD}."),
    references=(LIFECYCLE_MATRIX, KB_ESXI_BUILDS, KB_VCENTER_BUILDS),
)


def run(ctx: CheckContext) -> Outcome:
    days = ctx.settings.get(LifecycleSettings).eogs_warning_days
    on = today(ctx)
    out = Outcome()
    unknown: list[str] = []
    for item in installed(ctx):
        status = lifecycle_status(item.product, item.version, on, days)
        if status is None:  # no dates for this release line (or no version): not a pass
            unknown.append(f"{item.name} ({item.version or 'version unknown'})")
            continue
        out.checked += 1
        if not (status.past_general_support or status.within_warning):
            continue
        eogs = status.end_of_general_support.isoformat()
        if status.past_general_support:
            ago = -status.days_to_end_of_general_support
            when = (f"ended on {eogs} (the day of the snapshot)" if ago == 0 else
                    f"ended on {eogs} ({counted(ago, 'day')} before the snapshot)")
            sev, st = Severity.high, Status.fail
        else:
            left = status.days_to_end_of_general_support
            when = f"ends on {eogs} (in {counted(left, 'day')})"
            sev, st = Severity.medium, Status.warn
        verify = "" if status.verified else " (date not verified against Broadcom's lifecycle matrix: check it)"
        out.findings.append(finding(
            META, item.vc, item.name, item.object_id,
            f"{item.name} runs {item.label.text}; General Support for {item.product_name} {status.line} {when}"
            f"{verify}.",
            evidence={"product": item.product, "version": item.version, "build": item.build,
                      "release": item.label.text, "end_of_general_support": eogs,
                      "end_of_technical_guidance": status.end_of_technical_guidance.isoformat(),
                      "days_to_end_of_general_support": status.days_to_end_of_general_support,
                      "verified": status.verified},
            remediation=[f"Upgrade {item.name} to a supported {item.product_name} release "
                         "(vCenter before its hosts).",
                         "vSphere Client: Lifecycle Manager (hosts) / vCenter Server Management > Update (vCenter).",
                         f"See {METHOD}."],
            severity=sev, status=st, object_type=item.object_type,
        ))
    if unknown:
        shown = ", ".join(unknown[:5]) + (f" and {len(unknown) - 5} more" if len(unknown) > 5 else "")
        out.notes.append(f"No support dates are known for the release of {counted(len(unknown), 'object')}: {shown}. "
                         "Check them in Broadcom's Product Lifecycle matrix.")
    return out


# Root cause and risk (see reporter.checks.grouping).
RISK = Risk.hygiene
group_of = per_vcenter("Releases past or near End of General Support")
