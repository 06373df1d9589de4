"""IOCAP-001: disk limits configured but not enforced (legacy scheduler, per VM per datastore)."""

from __future__ import annotations

from reporter.checks.base import CheckContext, CheckMeta, Outcome, finding
from reporter.checks.grouping import Risk, by_evidence
from reporter.checks.sioc import FAMILY
from reporter.checks.sioc.common import (
    KB1038241,
    REF_LIMITS_50,
    REF_PER_FILE,
    group_evidence,
    groups,
    host_name,
    settings,
    vm_count,
)
from reporter.checks.sioc.fixes import legacy_fix
from reporter.core.findings import Severity
from reporter.domain.iocaps import Enforced, Scheduler, not_enforced_reason

META = CheckMeta(
    id="IOCAP-001",
    title="Disk I/O limits configured but not enforced (legacy scheduler)",
    family=FAMILY.id,
    severity=Severity.high,
    object_type="vm",
    description=(
        "A VM on a host with the legacy disk scheduler has I/O caps on some of its disks on a datastore, but "
        "not a cap of the same type on every disk there - so the host enforces none of them."
    ),
    rationale=(
        "The legacy scheduler enforces limits per VM per datastore, not per disk: all of the VM's disks on the "
        "datastore must carry a limit of the same type (IOPS or bandwidth), otherwise nothing is enforced; "
        "the enforced limit is the sum (vSphere 5.0 Resource Management guide; KB1038241 as corrected by "
        "VMware support; docs/methodology.md#disk-scheduler). The admin believes the VM is capped; it is not."
    ),
    remediation=(
        "Give every disk of the VM on that datastore a cap of the same type, or move the capped disk to a "
        "datastore of its own; the finding lists the exact values and commands.",
    ),
    references=(KB1038241, REF_LIMITS_50, REF_PER_FILE),
)


def run(ctx: CheckContext) -> Outcome:
    s = settings(ctx)
    out = Outcome(checked=vm_count(ctx))
    for g in groups(ctx):
        ev = g.ev
        if ev.scheduler.kind is not Scheduler.legacy or ev.enforced not in (Enforced.no, Enforced.partly):
            continue
        fix = legacy_fix(ev, g.where, s)
        what = "none of its caps is" if ev.enforced is Enforced.no else "part of its caps is not"
        evidence = group_evidence(g)
        evidence["fix"] = fix.summary
        out.findings.append(finding(
            META, g.vc, g.vm.name, g.object_id,
            f"'{g.vm.name}' on {g.where}: {what} enforced. Host {host_name(g.vc, g.vm.host)} runs the legacy "
            f"scheduler ({ev.scheduler.reason}); {not_enforced_reason(ev.legacy, ev.disks)}. Fix: {fix.summary}.",
            evidence=evidence, remediation="\n".join(fix.steps),
        ))
    return out


# Root cause and risk (see reporter.checks.grouping).
RISK = Risk.performance
group_of = by_evidence("datastore", lambda ds: f"I/O caps not enforced on datastore {ds}")
