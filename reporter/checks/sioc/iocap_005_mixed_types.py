"""IOCAP-005: IOPS and bandwidth caps mixed on one VM x datastore (per-disk or unknown scheduler)."""

from __future__ import annotations

from reporter.checks.base import CheckContext, CheckMeta, Outcome, finding
from reporter.checks.grouping import Risk, by_evidence
from reporter.checks.sioc import FAMILY
from reporter.checks.sioc.common import KB1038241, REF_LIMITS_50, group_evidence, groups, host_name, settings, vm_count
from reporter.checks.sioc.fixes import legacy_fix
from reporter.core.findings import Severity
from reporter.domain.iocaps import Scheduler

META = CheckMeta(
    id="IOCAP-005",
    title="Bandwidth and IOPS caps mixed on one VM's disks on a datastore",
    family=FAMILY.id,
    severity=Severity.low,
    object_type="vm",
    description=(
        "Some of a VM's disks on a datastore carry an IOPS limit and others (or the same) a bandwidth cap. "
        "On legacy-scheduler hosts this is reported as IOCAP-001 instead."
    ),
    rationale=(
        "The per-disk schedulers enforce each cap alone, so this works on the current host - but the legacy "
        "scheduler enforces neither type unless every disk on the datastore carries it (docs/methodology.md#disk-scheduler), "
        "and bandwidth caps are invisible in the vSphere Client (configuration parameters only), so the next admin sees half "
        "the picture."
    ),
    remediation=("Use one cap type for all of the VM's disks on the datastore; the finding gives the values.",),
    references=(KB1038241, REF_LIMITS_50),
)


def run(ctx: CheckContext) -> Outcome:
    s = settings(ctx)
    out = Outcome(checked=vm_count(ctx))
    for g in groups(ctx):
        ev = g.ev
        if ev.scheduler.kind is Scheduler.legacy or not ev.mixed_types:
            continue
        iops = [d.node for d in ev.disks if d.iops is not None]
        bw = [d.node for d in ev.disks if d.bandwidth_bps is not None]
        fix = legacy_fix(ev, g.where, s)
        unknown = ev.scheduler.kind is Scheduler.unknown
        evidence = group_evidence(g)
        evidence.update(iops_capped=iops, bandwidth_capped=bw, fix=fix.same_type)
        now = (f"The host's scheduler is unknown ({ev.scheduler.reason}): on a legacy-scheduler host neither type "
               "is enforced" if unknown else
               "Each cap is enforced on its disk here; on a legacy-scheduler host neither type would be")
        out.findings.append(finding(
            META, g.vc, g.vm.name, g.object_id,
            f"'{g.vm.name}' on {g.where}: IOPS limits on {', '.join(iops)} and bandwidth caps on {', '.join(bw)} "
            f"(host {host_name(g.vc, g.vm.host)}, scheduler {ev.scheduler.kind.label}). {now}. To use one type: "
            f"{fix.same_type}.",
            evidence=evidence, remediation="\n".join(fix.same_type_steps),
            severity=Severity.medium if unknown else Severity.low,
        ))
    return out


# Root cause and risk (see reporter.checks.grouping).
RISK = Risk.performance
group_of = by_evidence("datastore", lambda ds: f"Mixed bandwidth and IOPS caps on datastore {ds}")
