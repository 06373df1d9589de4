"""IOCAP-009: disk caps whose enforcement depends on a host scheduler that could not be determined."""

from __future__ import annotations

from reporter.checks.base import CheckContext, CheckMeta, Outcome, finding
from reporter.checks.grouping import Risk, by_evidence
from reporter.checks.sioc import FAMILY
from reporter.checks.sioc.common import KB1038241, REF_PER_FILE, group_evidence, groups, host_name, vm_count
from reporter.core.findings import Severity, Status
from reporter.domain.iocaps import Scheduler

META = CheckMeta(
    id="IOCAP-009",
    title="Cannot tell whether disk caps are enforced: host scheduler unknown",
    family=FAMILY.id,
    severity=Severity.low,
    object_type="vm",
    description=(
        "A VM with disk caps on a host whose disk scheduler could not be determined (version or the options "
        "Disk.SchedulerWithReservation / VMkernel.Boot.isPerFileSchedModelActive unreadable), where the legacy "
        "and per-disk schedulers would enforce different things."
    ),
    rationale=(
        "Whether the caps hold depends on the scheduler (docs/methodology.md#disk-scheduler); this report does not guess. "
        "Both outcomes are in the evidence."
    ),
    remediation=(
        "Reconnect the host if it is disconnected; give the collector account a role that can read host "
        "advanced settings (Host.Config.AdvancedConfig on versions where Read-Only is not enough), then collect again.",
        "Or check on the host: esxcli system settings advanced list -o /Disk/SchedulerWithReservation; "
        "esxcli system settings kernel list -o isPerFileSchedModelActive",
    ),
    references=(REF_PER_FILE, KB1038241),
)


def run(ctx: CheckContext) -> Outcome:
    out = Outcome(checked=vm_count(ctx))
    for g in groups(ctx):
        ev = g.ev
        if ev.scheduler.kind is not Scheduler.unknown or not ev.any_cap or ev.schedulers_agree:
            continue
        out.findings.append(finding(
            META, g.vc, g.vm.name, g.object_id,
            f"'{g.vm.name}' on {g.where}: the disk scheduler of host {host_name(g.vc, g.vm.host) or 'unknown'} is "
            f"unknown ({ev.scheduler.reason}). Under the legacy scheduler: {ev.legacy.describe()}; under the "
            f"per-disk scheduler: {ev.per_disk.describe()}.",
            evidence={**group_evidence(g), "if_legacy": ev.legacy.describe(), "if_per_disk": ev.per_disk.describe()},
            status=Status.warn,
        ))
    return out


# Root cause and risk (see reporter.checks.grouping).
RISK = Risk.hygiene
group_of = by_evidence("datastore", lambda ds: f"Disk scheduler unknown for VMs on datastore {ds}")
