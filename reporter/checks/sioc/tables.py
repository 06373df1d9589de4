"""Report tables of the sioc family: datastores, VM x datastore caps, host schedulers."""

from __future__ import annotations

from reporter.checks.base import CheckContext
from reporter.checks.sioc import FAMILY
from reporter.checks.sioc.common import ds_name, groups, host_name, powered_on_vms
from reporter.checks.tables import Table, register_tables
from reporter.core import states
from reporter.core.model import Host
from reporter.domain.iocaps import OPT_PER_FILE_SCHED, OPT_SCHED_WITH_RESERVATION, determine_scheduler


def _yn(v: bool | None) -> str | None:
    return None if v is None else ("yes" if v else "no")


@register_tables(FAMILY.id)
def sioc_tables(ctx: CheckContext) -> list[Table]:
    return [datastore_table(ctx), caps_table(ctx), scheduler_table(ctx)]


def datastore_table(ctx: CheckContext) -> Table:
    rows = []
    for vc in ctx.snapshot.vcenters.values():
        for ds in sorted(vc.datastores.values(), key=lambda d: d.name):
            io = ds.iorm
            manual = io is not None and io.congestion_threshold_mode in (None, "manual")
            rows.append([
                vc.name, ds.name, ds.type, _yn(ds.ssd), _yn(ds.multiple_host_access), _yn(ds.sioc_supported),
                _yn(io.enabled) if io else None,
                (io.congestion_threshold_mode or "manual") if io else None,
                io.congestion_threshold_ms if io and manual else None,
                io.percent_of_peak_throughput if io and not manual else None,
                _yn(io.stats_collection_enabled) if io else None,
                len(ds.hosts), len(ds.vms), len(powered_on_vms(vc, ds)),
            ])
    return Table(
        id="sioc_datastores", family=FAMILY.id, title="Storage I/O Control per datastore",
        columns=["vCenter", "Datastore", "Type", "SSD", "Shared", "SIOC supported", "SIOC enabled", "Threshold mode",
                 "Threshold (ms)", "% of peak throughput", "Stats collection", "Hosts", "VMs", "Powered-on VMs"],
        rows=rows,
        note="Manual threshold default 30 ms; automatic mode (vSphere 5.1+) derives it from the device at the given "
             "percentage of peak throughput (default 90 %). Empty = not reported by vCenter.",
    )


def caps_table(ctx: CheckContext) -> Table:
    rows = []
    omitted = 0
    for g in groups(ctx):
        ev = g.ev
        if not ev.configured_anything:
            omitted += 1
            continue
        rows.append([
            g.vc.name, g.vm.name, host_name(g.vc, g.vm.host), ev.scheduler.kind.value,
            ds_name(g.vc, ev.datastore) + (f" (RDM {ev.disks[0].node})" if ev.rdm else ""),
            ", ".join(d.node for d in ev.disks),
            "; ".join(f"{d.node}: {d.configured()}" for d in ev.disks),
            ev.effective(), ev.enforced.value, ev.why_not() or None,
        ])
    return Table(
        id="sioc_disk_caps", family=FAMILY.id, title="Disk I/O caps per VM and datastore",
        columns=["vCenter", "VM", "Host", "Scheduler", "Datastore", "Disks", "Configured", "Effective limit",
                 "Enforced", "Why not"],
        rows=rows,
        note=(f"Legacy scheduler: one limit per VM per datastore = sum of the disks' limits, only when every disk there "
              f"has one of the same type; mClock/per-file: each disk alone, IOPS in 32 KB units (KB1038241; "
              f"docs/methodology.md#disk-scheduler). Storage-policy (SPBM) IOPS limits are not collected: where a VM storage "
              f"policy sets one, the policy governs. {omitted} VM x datastore pairs without any cap are not listed."),
    )


def _option_text(host: Host, key: str) -> str:
    if key in host.advanced_option_errors:
        return f"unknown ({host.advanced_option_errors[key]})"
    if key not in host.advanced_options:
        return "not collected"
    value = host.advanced_options[key]
    if isinstance(value, bool):  # a flag reads yes/no in every table, as in the evidence
        return states.yes_no(value)
    return "not set" if value is None else str(value)


def scheduler_table(ctx: CheckContext) -> Table:
    rows = []
    for vc in ctx.snapshot.vcenters.values():
        for host in sorted(vc.hosts.values(), key=lambda h: h.name):
            info = determine_scheduler(host)
            rows.append([
                vc.name, host.name, host.version, states.connection_state(host.connection_state),
                _option_text(host, OPT_SCHED_WITH_RESERVATION), _option_text(host, OPT_PER_FILE_SCHED),
                info.kind.value, info.reason,
            ])
    return Table(
        id="sioc_host_schedulers", family=FAMILY.id, title="Disk I/O scheduler per host",
        columns=["vCenter", "Host", "Version", "Connection", OPT_SCHED_WITH_RESERVATION, OPT_PER_FILE_SCHED,
                 "Scheduler", "Why"],
        rows=rows, in_summary=False,
        note="legacy = limits per VM per datastore; mclock / per-file = per disk, IOPS in 32 KB units "
             "(docs/methodology.md#disk-scheduler). 'not set' = the option does not exist on that host: the version default applies.",
    )
