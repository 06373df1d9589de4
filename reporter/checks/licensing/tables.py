"""Detail tables of the licensing section (also XLSX sheets / CSV files).

License keys appear raw here; ``ReportContext.masked()`` masks them before any renderer runs.
"""

from __future__ import annotations

from collections import defaultdict

from reporter.checks.base import CheckContext
from reporter.checks.licensing import FAMILY
from reporter.checks.licensing.common import analysis, pool_history, today_high_water
from reporter.checks.licensing.settings import LicensingSettings
from reporter.checks.tables import Scalar, Table, register_tables
from reporter.domain.licensing import Analysis


def _r(v: float | None, nd: int = 1) -> float | None:
    return None if v is None else round(v, nd)


@register_tables(FAMILY.id)
def licensing_tables(ctx: CheckContext) -> list[Table]:
    a = analysis(ctx)
    cfg = ctx.settings.get(LicensingSettings)
    return [
        vram_pools_table(ctx, a),
        top_consumers_table(a, cfg.top_consumers),
        inventory_table(a),
        hosts_table(a, cfg.hosts_in_summary_max),
        models_table(a),
    ]


def vram_pools_table(ctx: CheckContext, a: Analysis) -> Table:
    rows: list[list[Scalar]] = []
    for p in a.pools:
        ph = pool_history(ctx, p)
        hw, _ = today_high_water(ctx, p)
        avg = ph.avg_12m_gb if ph else None
        days = ph.days_available if ph else 0
        ent = p.entitled_gb
        if not p.vram_applies:
            verdict = f"no vRAM verdict: {p.reason}"
        elif p.unlimited:
            verdict = "unlimited vRAM (vSphere Desktop)"
        elif avg is None:
            verdict = ("over today; 12-month average unknown (no history)" if hw > ent  # type: ignore[operator]
                       else "within today; 12-month average unknown (no history)")
        else:
            verdict = "compliant" if avg <= ent else "OVER on the 12-month average"  # type: ignore[operator]
            if days < (ph.window_days if ph else 365):
                verdict += f" ({days} of 365 days of history)"
        reported = p.reported.used_gb if p.reported and p.reported.used_gb is not None else None
        per_cpu = p.model in ("vsphere5", "per_cpu", "per_cpu_32", "free")
        rows.append([
            p.id, ", ".join(p.vcenters), p.edition_title, "yes" if p.vram_applies else "no",
            p.cpu_assigned if per_cpu else None, p.cpu_unassigned if per_cpu else None,
            p.per_cpu_gb if p.vram_applies else None,
            _r(p.entitled_assigned_gb), _r(p.entitled_unassigned_gb), _r(ent),
            len(p.vms), p.vms_not_on, _r(p.used_raw_gb), _r(p.used_gb), _r(p.cap_effect_gb),
            _r(hw), _r(avg), days,
            _r(p.headroom_gb(hw)), _r(p.headroom_pct(hw)), p.licenses_needed(avg if avg is not None else hw),
            _r(reported), verdict,
        ])
    note = (f"vRAM counted as vSphere 5.0 did: configured memory of powered-on VMs, each capped at "
            f"{a.table.per_vm_cap_gb:g} GB; " if a.table.per_vm_cap_gb else
            "vRAM counted as vSphere 5.0 did: configured memory of powered-on VMs (no per-VM cap in this table); ")
    note += (f"entitlement table '{a.table.name}' ({a.table.title}). Unassigned CPU licenses add to the pool. "
             "Compliance = 12-month average of the daily high-water (UTC days). Only vSphere 5.0 licensing has "
             "a vRAM entitlement; other pools show use for planning only (docs/methodology.md#vram-pools).")
    return Table(
        id="vram_pools", family=FAMILY.id, title="vRAM pools",
        columns=["Pool", "vCenter(s)", "Edition", "vRAM applies", "CPU licenses assigned", "CPU licenses unassigned",
                 "vRAM per CPU (GB)", "Entitled assigned (GB)", "Entitled unassigned (GB)", "Entitled total (GB)",
                 "VMs powered on", "VMs off/suspended", "Used uncapped (GB)", "Used (GB)", "96 GB cap saves (GB)",
                 "Today's high-water (GB)", "12-month average (GB)", "Days of history", "Headroom (GB)",
                 "Headroom (%)", "CPU licenses to add", "vCenter-reported used (GB)", "Verdict"],
        rows=rows, note=note + (" " + " ".join(a.notes) if a.notes else ""),
    )


def top_consumers_table(a: Analysis, n: int) -> Table:
    rows: list[list[Scalar]] = []
    for p in a.pools:
        for v in p.top_consumers(n):
            rows.append([p.id, v.name, v.host, v.vcenter, _r(v.memory_gb, 2), _r(v.counted_gb, 2), _r(v.capped_by_gb, 2),
                         _r(100.0 * v.counted_gb / p.used_gb if p.used_gb else None, 2)])
    return Table(
        id="vram_top_consumers", family=FAMILY.id, title=f"Top vRAM consumers (up to {n} per pool)",
        columns=["Pool", "VM", "Host", "vCenter", "Configured (GB)", "Counted (GB)", "Above cap (GB)", "Share of pool (%)"],
        rows=rows, note="Powered-on VMs only; 'Above cap' is memory the per-VM cap leaves uncounted.",
    )


def inventory_table(a: Analysis) -> Table:
    rows: list[list[Scalar]] = []
    for r in a.licenses:
        exp = r.expires_at.date().isoformat() if r.expires_at else ("evaluation" if r.evaluation else "never")
        rows.append([
            r.vcenter, r.key, r.edition_key, r.rule.title, r.name, r.product_version, r.cost_unit,
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
    for h in a.hosts:
        rows.append([h.vcenter, h.cluster, h.name, h.version, h.connection_state, h.edition, h.license_key,
                     h.pool_id, h.sockets, h.cores, h.cores_per_socket, h.per_socket, h.per_cpu_32, h.per_core])
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
        rows.append([s.level, s.vcenter or None, s.name, s.hosts, s.hosts_unknown, s.sockets, s.cores,
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
