"""Detail tables of the licensing section (also XLSX sheets / CSV files).

License keys appear raw here; ``ReportContext.masked()`` masks them before any renderer runs.
"""

from __future__ import annotations

from collections import defaultdict

from reporter.checks.base import CheckContext
from reporter.checks.licensing import FAMILY
from reporter.checks.licensing.common import analysis, pool_history, verdicts
from reporter.checks.licensing.settings import LicensingSettings
from reporter.checks.tables import Scalar, Table, register_tables
from reporter.core import states
from reporter.domain.licensing import Analysis, Pool, VmUse
from reporter.domain.licensing.verdict import LicensingVerdicts, crossing_text


def _r(v: float | None, nd: int = 1) -> float | None:
    return None if v is None else round(v, nd)


@register_tables(FAMILY.id)
def licensing_tables(ctx: CheckContext) -> list[Table]:
    a = analysis(ctx)
    v = verdicts(ctx)
    cfg = ctx.settings.get(LicensingSettings)
    return [
        vram_pools_table(a, v),
        vram_verdicts_table(v),
        vram_pool_details_table(ctx, a, v),
        top_consumers_table(a, cfg.top_consumers),
        all_consumers_table(a),
        inventory_table(a),
        hosts_table(a, cfg.hosts_in_summary_max),
        models_table(a),
    ]


POOL_ID_COLUMN = "Pool ID (vcreport plan --pool)"
POOL_COLUMNS = ["Pool", "Verdict", "12-month average (GB)", "Entitled (GB)", "Headroom (GB)", "Crossing date",
                "CPU licenses to add now", "CPU licenses to hold today's use", "Today's high-water (GB)", POOL_ID_COLUMN]


def vram_pools_table(a: Analysis, v: LicensingVerdicts) -> Table:
    """What a license manager reads first: one row per pool, the verdict and what to buy."""
    rows: list[list[Scalar]] = []
    for pv in v.pools:
        rows.append([
            pv.pool_label, pv.verdict.label, _r(pv.avg_12m_gb), _r(pv.entitled_gb), _r(pv.headroom_gb),
            crossing_text(pv), pv.cpu_licenses_to_add_now, pv.cpu_licenses_to_add_to_hold_today,
            _r(pv.high_water_today_gb), pv.pool_id,
        ])
    note = (f"Verdict on the 12-month average of daily high-water marks (UTC days) against the entitlement; "
            f"'at risk' = the average goes over within {v.horizon_days} days, or less than "
            f"{v.headroom_warn_pct:g} % is left. Crossing date: the first day the average would exceed the "
            "entitlement if every future day's high-water equals today's. Today's high-water is the direction "
            "of travel, not a second verdict. CPU licenses to add now: to be compliant on the 12-month average "
            "today; to hold today's use: so that today's use, if it stays, never crosses. Every column of the "
            "pools is in report.xlsx (sheet 'vRAM Pool Details') (docs/methodology.md#vram-compliance).")
    return Table(id="vram_pools", family=FAMILY.id, title="vRAM pools: verdict and what to buy",
                 columns=POOL_COLUMNS, rows=rows, note=note, stack_on_narrow=True)


def vram_verdicts_table(v: LicensingVerdicts) -> Table:
    return Table(id="vram_verdicts", family=FAMILY.id, title="Why each pool has its verdict",
                 columns=["Pool", "Verdict", "Why"],
                 rows=[[pv.pool_label, pv.verdict.label, pv.why] for pv in v.pools], stack_on_narrow=True)


def vram_pool_details_table(ctx: CheckContext, a: Analysis, v: LicensingVerdicts) -> Table:
    rows: list[list[Scalar]] = []
    for p in a.pools:
        pv = v.pool(p.id)
        if pv is None:  # pragma: no cover - every pool has a verdict
            continue
        ph = pool_history(ctx, p)
        reported = p.reported.used_gb if p.reported and p.reported.used_gb is not None else None
        per_cpu = p.model in ("vsphere5", "per_cpu", "per_cpu_32", "free")
        rows.append([
            p.label, p.id, ", ".join(p.vcenters), p.edition_title, "yes" if p.vram_applies else "no", pv.verdict.label,
            p.cpu_assigned if per_cpu else None, p.cpu_unassigned if per_cpu else None,
            p.per_cpu_gb if p.vram_applies else None,
            _r(p.entitled_assigned_gb), _r(p.entitled_unassigned_gb), _r(p.entitled_gb),
            len(p.vms), p.vms_not_on, _r(p.used_raw_gb), _r(p.used_gb), _r(p.cap_effect_gb),
            _r(pv.high_water_today_gb), _r(pv.avg_12m_gb), pv.history_days,
            ph.missing_days if ph is not None else None,
            _r(pv.headroom_gb), _r(pv.headroom_pct), _r(p.headroom_gb(pv.high_water_today_gb)),
            crossing_text(pv), pv.crossing_date_trend.isoformat() if pv.crossing_date_trend else None,
            pv.trend_days or None,
            pv.non_compliant_since.isoformat() if pv.non_compliant_since else None,
            pv.cpu_licenses_to_add_now, pv.cpu_licenses_to_add_to_hold_today, _r(reported),
        ])
    note = (f"vRAM counted as vSphere 5.0 did: configured memory of powered-on VMs, each capped at "
            f"{a.table.per_vm_cap_gb:g} GB; " if a.table.per_vm_cap_gb else
            "vRAM counted as vSphere 5.0 did: configured memory of powered-on VMs (no per-VM cap in this table); ")
    note += (f"entitlement table '{a.table.name}' ({a.table.title}). Unassigned CPU licenses add to the pool. "
             "With fewer than 365 days of history the 12-month average covers the days that exist. The trend "
             "date fits a least-squares line to the last 90 days of daily high-water. Only vSphere 5.0 licensing "
             "has a vRAM entitlement; other pools show use for planning only (docs/methodology.md#vram-pools).")
    return Table(
        id="vram_pool_details", family=FAMILY.id, title="vRAM pools: every figure",
        columns=["Pool", POOL_ID_COLUMN, "vCenter(s)", "Edition", "vRAM applies", "Verdict", "CPU licenses assigned",
                 "CPU licenses unassigned", "vRAM per CPU (GB)", "Entitled assigned (GB)", "Entitled unassigned (GB)",
                 "Entitled total (GB)", "VMs powered on", "VMs off/suspended", "Used uncapped (GB)", "Used (GB)",
                 "96 GB cap saves (GB)", "Today's high-water (GB)", "12-month average (GB)", "Days of history",
                 "Days without a sample", "Headroom on the average (GB)", "Headroom on the average (%)",
                 "Headroom today (GB)", "Crossing date", "Crossing date at the recent trend", "Trend days",
                 "Non-compliant since", "CPU licenses to add now", "CPU licenses to hold today's use",
                 "vCenter-reported used (GB)"],
        rows=rows, in_summary=False, note=note + (" " + " ".join(a.notes) if a.notes else ""),
    )


def _consumer_rows(p: Pool, vms: list[VmUse]) -> list[list[Scalar]]:
    used = p.used_gb  # a sum over the pool's VMs: once per pool, not once per row
    return [[p.label, vm.name, vm.host, vm.vcenter, _r(vm.memory_gb, 2), _r(vm.counted_gb, 2), _r(vm.capped_by_gb, 2),
             _r(100.0 * vm.counted_gb / used if used else None, 2)] for vm in vms]


CONSUMER_COLUMNS = ["Pool", "VM", "Host", "vCenter", "Configured (GB)", "Counted (GB)", "Above cap (GB)",
                    "Share of pool (%)"]


def top_consumers_table(a: Analysis, n: int) -> Table:
    """Only pools where vRAM applies: elsewhere there is no entitlement to free memory for."""
    rows = [row for p in a.vram_pools for row in _consumer_rows(p, p.top_consumers(n))]
    return Table(
        id="vram_top_consumers", family=FAMILY.id, title=f"Top vRAM consumers (up to {n} per vRAM pool)",
        columns=CONSUMER_COLUMNS, rows=rows,
        note="Powered-on VMs only; 'Above cap' is memory the per-VM cap leaves uncounted. Every powered-on VM "
             "is in report.xlsx (sheet 'vRAM Consumers').",
    )


def all_consumers_table(a: Analysis) -> Table:
    rows = [row for p in a.vram_pools for row in _consumer_rows(p, p.top_consumers())]
    return Table(id="vram_consumers", family=FAMILY.id, title="vRAM consumers (every powered-on VM of a vRAM pool)",
                 columns=CONSUMER_COLUMNS, rows=rows, in_summary=False)


def inventory_table(a: Analysis) -> Table:
    rows: list[list[Scalar]] = []
    for r in a.licenses:
        exp = r.expires_at.date().isoformat() if r.expires_at else ("evaluation" if r.evaluation else "never")
        rows.append([
            r.vcenter, r.key, r.edition_key, r.rule.title, r.name, r.product_version, states.cost_unit(r.cost_unit),
            r.total, r.used, r.unassigned, exp, _r(r.days_left, 0),
            ", ".join(r.assigned_to[:20]) + (f" (+{len(r.assigned_to) - 20})" if len(r.assigned_to) > 20 else ""),
            "; ".join(f"{k}={v}" for k, v in sorted(r.vram_properties.items())) or None,
        ])
    note = None
    unreadable = [vc.name for vc in a.snapshot.vcenters.values() if vc.licenses is None]
    if unreadable:
        note = (f"License data not readable on {', '.join(unreadable)}: the collector account needs the "
                "Global.Licenses privilege.")
    return Table(
        id="license_inventory", family=FAMILY.id, title="License inventory",
        columns=["vCenter", "License key", "Edition key", "Edition", "Name", "Product version", "Cost unit", "Total",
                 "Used", "Unassigned", "Expires", "Days left", "Assigned to", "vRAM properties (raw)"],
        rows=rows, note=note,
    )


def hosts_table(a: Analysis, summary_max: int) -> Table:
    rows: list[list[Scalar]] = []
    pools = {p.id: p for p in a.pools}
    for h in a.hosts:
        pool = pools.get(h.pool_id or "")
        rows.append([h.vcenter, h.cluster, h.name, h.version, states.connection_state(h.connection_state),
                     pool.edition_title if pool else h.edition, h.license_key,
                     pool.label if pool else h.pool_id, h.sockets, h.cores, h.cores_per_socket, h.per_socket, h.per_cpu_32, h.per_core])
    return Table(
        id="license_hosts", family=FAMILY.id, title="Hosts: licenses and core counts",
        columns=["vCenter", "Cluster", "Host", "ESXi version", "Connection", "Edition", "License key", "vRAM pool",
                 "Sockets", "Cores", "Cores per socket", "Per-CPU licenses (1 per socket)",
                 "Per-CPU licenses (32-core rule)", "Per-core licensed cores (16 min)"],
        rows=rows, in_summary=len(rows) <= summary_max,
        note="Per-CPU from 2 April 2020: ceil(cores per socket / 32) licenses per socket; per-core subscription: "
             "sockets x max(cores per socket, 16) (Broadcom KB 313548). Hyper-threads do not count "
             "(docs/methodology.md#per-cpu-per-core).",
    )


def models_table(a: Analysis) -> Table:
    # vRAM per cluster / vCenter, summed from the pools' powered-on VMs.
    host_cluster = {(h.vcenter, h.name): h.cluster or "(standalone hosts)" for h in a.hosts}
    used_cluster: dict[tuple[str, str], float] = defaultdict(float)
    used_vc: dict[str, float] = defaultdict(float)
    for p in a.pools:
        for v in p.vms:
            used_cluster[(v.vcenter, host_cluster.get((v.vcenter, v.host or ""), "(unknown)"))] += v.counted_gb
            used_vc[v.vcenter] += v.counted_gb
    ent_vc: dict[str, float] = defaultdict(float)
    for p in a.vram_pools:
        if p.entitled_gb is not None:
            for vc in p.vcenters:
                ent_vc[vc] += p.entitled_gb / len(p.vcenters)
    offerings = sorted(a.options.tib_per_core(a.rules))
    rows: list[list[Scalar]] = []
    for s in a.core_summaries:
        if s.level == "cluster":
            vram_used: float | None = used_cluster.get((s.vcenter, s.name), 0.0)
            vram_ent = None
        elif s.level == "vcenter":
            vram_used, vram_ent = used_vc.get(s.vcenter, 0.0), ent_vc.get(s.vcenter)
        else:
            vram_used = sum(used_vc.values())
            vram_ent = sum(ent_vc.values()) if ent_vc else None
        rows.append([states.object_type(s.level), s.vcenter or None, s.name, s.hosts, s.hosts_unknown, s.sockets, s.cores,
                     s.per_socket, s.per_cpu_32, s.per_core, s.owned_core_licenses, s.order_cores,
                     *[s.vsan_tib.get(o) for o in offerings], s.vsan_capacity_tib,
                     _r(vram_used), _r(vram_ent)])
    order = (f" Order minimum of {a.options.order_minimum_cores} cores applied to the fleet total (set in the config; "
             "sources conflict on whether it still applies)." if a.options.order_minimum_cores else
             f" The {a.rules.order_minimum_announced}-core order minimum announced for April 2025 is off (sources conflict; "
             "set [licensing] order_minimum_cores to apply it).")
    tib = ", ".join(f"{o.upper()} {v:g} TiB" for o, v in sorted(a.options.tib_per_core(a.rules).items()))
    return Table(
        id="license_models", family=FAMILY.id, title="Licensing models side by side: per-CPU, per-core, vRAM",
        columns=["Level", "vCenter", "Name", "Hosts", "Hosts without core count", "Sockets", "Cores",
                 "Per-CPU licenses (1 per socket)", "Per-CPU licenses (32-core rule)", "Per-core licensed cores",
                 "Core licenses owned", "Cores to order (minimum)",
                 *[f"vSAN TiB included ({o.upper()})" for o in offerings], "vSAN raw capacity (TiB)",
                 "vRAM used, vSphere 5 counting (GB)", "vRAM entitled (GB)"],
        rows=rows,
        note=f"vSAN capacity included per licensed core: {tib} (setting [licensing] vsan_tib_per_core)." + order,
    )
