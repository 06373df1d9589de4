"""IOCAP-002: IOPS limits on a per-disk scheduler host are counted in 32 KB units."""

from __future__ import annotations

from reporter.checks.base import CheckContext, CheckMeta, Outcome, finding
from reporter.checks.grouping import Risk, by_evidence
from reporter.checks.sioc import FAMILY
from reporter.checks.sioc.common import KB1038241, REF_IOALLOC, group_evidence, groups, host_name, ps_set_iops, vm_count
from reporter.core.findings import Severity

META = CheckMeta(
    id="IOCAP-002",
    title="IOPS limit counted in 32 KB units may throttle large-block I/O",
    family=FAMILY.id,
    severity=Severity.low,
    object_type="vm",
    description="A disk with an IOPS limit on a host whose scheduler (mClock / per-file) counts I/O in 32 KB units.",
    rationale=(
        "From ESXi 5.5 the per-disk schedulers charge each I/O by size in 32 KB units: a 64 KB I/O counts 2, a "
        "256 KB I/O counts 8. A limit set for 4-8 KB I/O therefore throttles backups, database scans and file "
        "copies early - the latency spikes seen after 5.1 -> 5.5 upgrades (Duncan Epping, 'IOPS limit caveat', "
        "2013; docs/methodology.md#disk-scheduler). The limit also caps throughput at limit x 32 KB/s for large I/O."
    ),
    remediation=(
        "Size the limit in 32 KB units: for a workload with I/O of size S KB, set limit = wanted I/Os per second "
        "x ceil(S / 32).",
        "vSphere Client: VM > Edit Settings > Hard disk N > Limit - IOPs.",
    ),
    references=(REF_IOALLOC, KB1038241),
)


def run(ctx: CheckContext) -> Outcome:
    out = Outcome(checked=vm_count(ctx))
    for g in groups(ctx):
        ev = g.ev
        if not ev.scheduler.kind.per_disk:
            continue
        capped = [d for d in ev.disks if d.iops is not None]
        if not capped:
            continue
        lines = []
        for d in capped:
            assert d.iops is not None
            ceiling_mb = d.iops * 32 / 1024
            lines.append(f"{d.node} {d.iops} IOPS = {d.iops // 2} I/Os/s at 64 KB, {d.iops // 8} at 256 KB, "
                         f"at most {ceiling_mb:g} MB/s for I/O of 32 KB and more")
        evidence = group_evidence(g)
        evidence["large_io_effect"] = lines
        out.findings.append(finding(
            META, g.vc, g.vm.name, g.object_id,
            f"'{g.vm.name}' on {g.where}: host {host_name(g.vc, g.vm.host)} runs the {ev.scheduler.kind.label} "
            f"scheduler, which counts IOPS in 32 KB units: " + "; ".join(lines) + ".",
            evidence=evidence,
            remediation="\n".join(
                ["If these disks see I/O larger than 32 KB, raise each limit by the factor I/O size / 32 KB, e.g. "
                 "to allow the same number of 64 KB I/Os:"]
                + [f"  {d.name}: {ps_set_iops(g.vm, d, (d.iops or 0) * 2)}" for d in capped]
                + ["vSphere Client: VM > Edit Settings > Virtual Hardware > Hard disk N > Limit - IOPs."]),
        ))
    return out


# Root cause and risk (see reporter.checks.grouping).
RISK = Risk.performance
group_of = by_evidence("datastore", lambda ds: f"IOPS limits in 32 KB units on datastore {ds}")
