"""GEN-002: anything the collector could not read is a finding, not a silent gap."""

from __future__ import annotations

from reporter.checks.base import CheckContext, CheckMeta, Outcome, finding
from reporter.checks.general import FAMILY
from reporter.checks.grouping import GroupKey, Risk
from reporter.core.findings import Finding, Severity

META = CheckMeta(
    id="GEN-002",
    title="Part of the inventory could not be collected",
    family=FAMILY.id,
    severity=Severity.high,
    object_type="vcenter",
    description="A vCenter or an object type that the collector could not read.",
    rationale=(
        "A report built on partial data can say 'no findings' for objects it never saw. Every gap is "
        "listed so the reader knows what the other sections do not cover."
    ),
    remediation=(
        "Read the error: DNS/refused/timeout = network path to vCenter port 443; 'incorrect user name "
        "or password' = the collector account or its password source; certificate errors = set "
        "ca_bundle to the vCenter's CA (the VMCA root from https://<vcenter>/certs/download.zip).",
        "NoPermission = grant the collector role the privilege named in the README's minimal role.",
    ),
)


def run(ctx: CheckContext) -> Outcome:
    out = Outcome(checked=len(ctx.snapshot.vcenters) + len({e.vcenter for e in ctx.snapshot.collection_errors}))
    for err in ctx.snapshot.collection_errors:
        vc = next((v for v in ctx.snapshot.vcenters.values() if v.name == err.vcenter), None)
        sev = Severity.high if err.stage == "connect" else Severity.medium
        out.findings.append(finding(
            META, vc, err.vcenter if not err.object_id else err.object_id,
            f"{err.vcenter}/{err.stage}" + (f"/{err.object_id}" if err.object_id else ""),
            f"Could not read {err.stage}: {err.message}",
            evidence={"stage": err.stage, "error_type": err.error_type, "vcenter": err.vcenter},
            severity=sev,
        ).model_copy(update={"vcenter": err.vcenter}))
    return out


# Root cause and risk (see reporter.checks.grouping).
RISK = Risk.hygiene


def group_of(f: Finding) -> GroupKey:
    """One group per vCenter and stage: one permission or connection problem is one fix."""
    stage = str(f.evidence.get("stage", ""))
    return GroupKey(f"{f.vcenter}/{stage}", f"{f.vcenter}: {stage} could not be read")


def subkey_of(f: Finding) -> str:
    """A stage can fail more than once on one vCenter (one property, then another)."""
    return f"{f.evidence.get('error_type', '')}/{f.message}"
