"""LC-004: an ESXi host or vCenter on a build with a known critical defect or vulnerability
(reporter/data/build_advisories.toml). CBT defects stay in CBT-006, which knows which VMs
they hurt."""

from __future__ import annotations

from reporter.checks.base import CheckContext, CheckMeta, Outcome, finding
from reporter.checks.grouping import Risk, per_vcenter
from reporter.checks.lifecycle import FAMILY
from reporter.checks.lifecycle.common import METHOD, installed
from reporter.core.findings import Severity
from reporter.domain.lifecycle import build_advisories

META = CheckMeta(
    id="LC-004",
    title="Build with a known critical defect or vulnerability",
    family=FAMILY.id,
    severity=Severity.critical,
    object_type="installation",
    description="An ESXi host or vCenter whose build is in the affected range of an advisory in the build "
                "advisory table (VMware security advisories and critical defects).",
    rationale="A known, published problem with a fix available: exploited vulnerabilities (e.g. the OpenSLP "
              "heap overflow used by ransomware) are attacked at scale.",
    remediation=("Upgrade to the fixed build named in the finding, or apply the advisory's workaround until then.",
                 f"See {METHOD}."),
)


def run(ctx: CheckContext) -> Outcome:
    out = Outcome()
    for item in installed(ctx):
        out.checked += 1
        for row in build_advisories(item.product, item.version, item.build):
            refs = f" ({row.kb})" if row.kb else ""
            out.findings.append(finding(
                META, item.vc, item.name, f"{item.object_id}/advisory/{row.id}",
                f"{item.name} runs {item.label.text}, affected by {row.advisory}{refs}: {row.title}.",
                evidence={"advisory": row.advisory, "kb": row.kb, "cves": row.cves, "release": item.label.text,
                          "build": item.build, "fixed_in": row.fixed_in, "verified": row.verified},
                remediation=[row.fix] + ([row.after_fix] if row.after_fix else []) + [f"See {METHOD}."],
                severity=row.severity, object_type=item.object_type,
            ))
    return out


# Root cause and risk (see reporter.checks.grouping).
RISK = Risk.performance
group_of = per_vcenter("Builds with a known critical defect or vulnerability")
