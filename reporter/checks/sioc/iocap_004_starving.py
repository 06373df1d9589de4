"""IOCAP-004: an enforced cap so low that it starves the VM."""

from __future__ import annotations

import math

from reporter.checks.base import CheckContext, CheckMeta, Outcome, finding
from reporter.checks.grouping import Risk, by_evidence
from reporter.checks.sioc import FAMILY
from reporter.checks.sioc.common import (
    KB1038241,
    cap_value_text,
    group_evidence,
    groups,
    ps_set_advanced,
    ps_set_iops,
    settings,
    vm_count,
)
from reporter.checks.sioc.settings import SiocSettings
from reporter.core.findings import Severity
from reporter.core.model import VM
from reporter.domain.iocaps import CapKind, DiskCaps, Enforced, describe_value

META = CheckMeta(
    id="IOCAP-004",
    title="Disk I/O cap so low that it starves the VM",
    family=FAMILY.id,
    severity=Severity.medium,
    object_type="vm",
    description=(
        "An enforced IOPS or bandwidth cap below [thresholds.sioc] starvation_min_iops / starvation_min_mbps "
        "(per disk on mClock/per-file hosts; the shared per-datastore sum on legacy hosts)."
    ),
    rationale=(
        "A cap meant to tame a noisy VM that is set this low stalls boot, patching, paging and log writes; the "
        "guest sees multi-second latency and may time out I/O or crash applications."
    ),
    remediation=("Raise the cap to at least the floor (or remove it); the finding lists each disk and command.",),
    references=(KB1038241,),
)


def run(ctx: CheckContext) -> Outcome:
    s = settings(ctx)
    floor = {CapKind.iops: s.starvation_min_iops, CapKind.bandwidth: math.ceil(s.starvation_min_mbps * 1024 * 1024)}
    out = Outcome(checked=vm_count(ctx))
    for g in groups(ctx):
        ev = g.ev
        if ev.enforced not in (Enforced.yes, Enforced.partly):
            continue
        enf = ev.actual or ev.legacy  # unknown scheduler: only reached when both schedulers agree
        low: list[str] = []
        steps: list[str] = []
        if enf.scheduler == "legacy":
            for t in enf.types:
                if not t.enforced or t.total is None or t.total >= floor[t.kind]:
                    continue
                low.append(f"{describe_value(t.kind, t.total)} shared by {', '.join(t.capped)}")
                # Raise every disk proportionally so the sum reaches the floor.
                share = math.ceil(floor[t.kind] / len(t.capped))
                for d in ev.disks:
                    v = d.iops if t.kind is CapKind.iops else d.bandwidth_bps
                    if v is not None and v < share:
                        steps.append(_raise(g.vm, d, t.kind, share, s))
        else:
            for d in ev.disks:
                for kind, v in ((CapKind.iops, d.iops), (CapKind.bandwidth, d.bandwidth_bps)):
                    if v is not None and v < floor[kind]:
                        low.append(f"{d.node} {describe_value(kind, v)}")
                        steps.append(_raise(g.vm, d, kind, floor[kind], s))
        if not low:
            continue
        evidence = group_evidence(g)
        evidence.update(floor_iops=s.starvation_min_iops, floor_mbps=s.starvation_min_mbps, starving=low)
        out.findings.append(finding(
            META, g.vc, g.vm.name, g.object_id,
            f"'{g.vm.name}' on {g.where}: cap below the starvation floor ({s.starvation_min_iops} IOPS / "
            f"{s.starvation_min_mbps:g} MB/s): " + "; ".join(low) + ".",
            evidence=evidence,
            remediation="\n".join(["Raise the cap to at least the floor (or remove it if no longer needed):"] + steps),
        ))
    return out


def _raise(vm: VM, d: DiskCaps, kind: CapKind, value: int, s: SiocSettings) -> str:
    if kind is CapKind.iops:
        return f"  {d.name}: {value} IOPS - {ps_set_iops(vm, d, value)}"
    text = cap_value_text(kind, value, s)
    return f"  {d.name}: {text} - {ps_set_advanced(vm, f'sched.{d.node}.bandwidthCap', text)}"


# Root cause and risk (see reporter.checks.grouping).
RISK = Risk.performance
group_of = by_evidence("datastore", lambda ds: f"I/O caps that starve VMs on datastore {ds}")
