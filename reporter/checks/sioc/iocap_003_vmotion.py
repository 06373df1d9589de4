"""IOCAP-003: the VM's cluster mixes disk schedulers - after vMotion its effective limit changes."""

from __future__ import annotations

from dataclasses import dataclass

from reporter.checks.base import CheckContext, CheckMeta, Outcome, finding
from reporter.checks.grouping import Risk, by_evidence
from reporter.checks.sioc import FAMILY
from reporter.checks.sioc.common import KB1038241, REF_PER_FILE, group_evidence, groups, vm_count
from reporter.core.findings import Severity
from reporter.core.model import Cluster, Host, VCenter
from reporter.domain.iocaps import (
    OPT_PER_FILE_SCHED,
    OPT_SCHED_WITH_RESERVATION,
    Enforced,
    Scheduler,
    SchedulerInfo,
    determine_scheduler,
    parse_version,
)

META = CheckMeta(
    id="IOCAP-003",
    title="After vMotion to a host with the other disk scheduler the effective limit changes",
    family=FAMILY.id,
    severity=Severity.medium,
    object_type="vm",
    description=(
        "A VM with disk caps runs in a cluster whose hosts do not all use the same disk scheduler (legacy vs. "
        "mClock/per-file), and its caps mean something different under the other one."
    ),
    rationale=(
        "The legacy scheduler enforces a VM's limits per datastore as one shared sum, and only when every disk "
        "there has a limit of the same type; mClock/per-file enforce each disk alone in 32 KB units "
        "(docs/methodology.md#disk-scheduler). DRS or an admin moving the VM silently changes what is capped."
    ),
    remediation=(
        "Make the cluster's hosts use one scheduler - normally the per-disk one, the default since ESXi 5.5.",
    ),
    references=(REF_PER_FILE, KB1038241),
)


def switch_to_per_disk(host: Host, info: SchedulerInfo) -> str:
    """How to move one legacy-scheduler host to the per-disk scheduler."""
    ver = parse_version(host.version)
    if ver is not None and ver < (5, 5):
        return f"{host.name} (ESXi {host.version}): only the legacy scheduler exists before 5.5 - upgrade the host."
    if info.options.get(OPT_SCHED_WITH_RESERVATION) in (0, "0", False, "false"):
        return (f"{host.name}: Get-VMHost -Name '{host.name}' | Get-AdvancedSetting -Name {OPT_SCHED_WITH_RESERVATION} "
                "| Set-AdvancedSetting -Value 1 -Confirm:$false")
    return (f"{host.name}: esxcli system settings kernel set -s isPerFileSchedModelActive -v TRUE "
            f"({OPT_PER_FILE_SCHED}; takes effect after a host reboot)")


@dataclass(frozen=True)
class _ClusterSchedulers:
    per_disk: list[Host]  # connected or not, scheduler known and per-disk
    legacy: list[Host]
    switch_steps: list[str]


def _cluster_schedulers(vc: VCenter, cluster: Cluster) -> _ClusterSchedulers:
    per_disk, legacy, steps = [], [], []
    for moid in cluster.hosts:
        host = vc.hosts.get(moid)
        if host is None:
            continue
        info = determine_scheduler(host)
        if info.kind is Scheduler.legacy:
            legacy.append(host)
            steps.append("  " + switch_to_per_disk(host, info))
        elif info.kind.per_disk:
            per_disk.append(host)
    order = sorted(range(len(legacy)), key=lambda i: legacy[i].name)
    return _ClusterSchedulers(sorted(per_disk, key=lambda h: h.name), [legacy[i] for i in order],
                              [steps[i] for i in order])


def run(ctx: CheckContext) -> Outcome:
    out = Outcome(checked=vm_count(ctx))
    cache: dict[tuple[str, str], _ClusterSchedulers] = {}
    for g in groups(ctx):
        ev = g.ev
        here = ev.scheduler.kind
        if here is Scheduler.unknown or not ev.any_cap or ev.schedulers_agree:
            continue
        cluster = g.vc.clusters.get(g.vm.cluster or "")
        if cluster is None:
            continue
        key = (g.vc.instance_uuid, cluster.moid)
        if key not in cache:
            cache[key] = _cluster_schedulers(g.vc, cluster)
        cs = cache[key]
        others = [h for h in (cs.legacy if here.per_disk else cs.per_disk) if h.moid != g.vm.host]
        if not others:
            continue
        now, then = (ev.per_disk, ev.legacy) if here.per_disk else (ev.legacy, ev.per_disk)
        other_label = "legacy" if here.per_disk else "per-disk (mClock/per-file)"
        then_text = then.describe()
        if then.status is Enforced.partly:
            then_text += " (the rest not enforced)"
        names = [h.name for h in others]
        evidence = group_evidence(g)
        evidence.update(cluster=cluster.name, hosts_with_other_scheduler=names, after_vmotion=then_text,
                        legacy_hosts_in_cluster=[h.name for h in cs.legacy])
        steps = [f"Move the legacy-scheduler hosts of cluster '{cluster.name}' to the per-disk scheduler "
                 "(default since ESXi 5.5), so the VM's caps mean the same on every host:"]
        steps += cs.switch_steps
        steps.append("Until then, keep the VM off those hosts with a DRS VM/Host rule, or configure its caps so "
                     "they hold under both (one capped disk per datastore).")
        out.findings.append(finding(
            META, g.vc, g.vm.name, g.object_id,
            f"'{g.vm.name}' on {g.where}: now ({ev.scheduler.kind.label}) {now.describe()}; after vMotion to "
            f"{', '.join(names[:5])}{' ...' if len(names) > 5 else ''} ({other_label}): {then_text}.",
            evidence=evidence, remediation="\n".join(steps),
        ))
    return out


# Root cause and risk (see reporter.checks.grouping).
RISK = Risk.performance
group_of = by_evidence("datastore", lambda ds: f"Limits that change after vMotion on datastore {ds}")
