"""Shared helpers of the licensing checks: the analysis, history lookup, remediation text."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from reporter.checks.base import CheckContext, CheckMeta, Reference, finding
from reporter.checks.helpers import counted
from reporter.core.findings import Finding, Severity, Status
from reporter.domain.licensing import Analysis, Pool, analyze
from reporter.domain.licensing.verdict import LicensingVerdicts, PoolVerdict, evaluate

REF_VRAM = Reference(
    None, "vSphere 5.0 documentation: vRAM Entitlement and Pooling / Calculating the vRAM Usage",
    "https://pubs.vmware.com/vsphere-50/topic/com.vmware.vsphere.vcenterhost.doc_50/GUID-ED2533AB-739D-4A44-8E42-C1CE3FAFDE42.html",
)

LICENSES_PATH = "vSphere Client: Administration > Licensing > Licenses (vCenter 5.0: Home > Licensing)"


def analysis(ctx: CheckContext) -> Analysis:
    return ctx.memo("licensing.analysis", lambda: analyze(ctx.snapshot, ctx.settings))


def compute_verdicts(ctx: CheckContext) -> LicensingVerdicts:
    """The per-pool verdict from the context's analysis, history and settings. The pipeline calls
    this once and puts the result on ``CheckContext.licensing``; checks read it via :func:`verdicts`."""
    from reporter.checks.licensing.settings import LicensingSettings

    cfg = ctx.settings.get(LicensingSettings)
    as_of = ctx.history.as_of if ctx.history is not None else ctx.snapshot.collected_at.astimezone(UTC).date()
    return evaluate(analysis(ctx), ctx.history, as_of=as_of, horizon_days=cfg.at_risk_horizon_days,
                    headroom_warn_pct=cfg.headroom_warn_pct, history_error=ctx.history_error)


def verdicts(ctx: CheckContext) -> LicensingVerdicts:
    if ctx.licensing is not None:
        return ctx.licensing
    return ctx.memo("licensing.verdicts", lambda: compute_verdicts(ctx))


def pool_verdict(ctx: CheckContext, pool: Pool) -> PoolVerdict:
    v = verdicts(ctx).pool(pool.id)
    if v is None:  # every pool of the analysis has one; a mismatch is a programming error
        raise LookupError(f"no licensing verdict for pool {pool.id}")
    return v


def pool_history(ctx: CheckContext, pool: Pool) -> Any:
    """The pool's ``PoolHistory`` from ``ctx.history`` (None without history)."""
    hist = ctx.history
    if hist is None or not hasattr(hist, "pool"):
        return None
    return hist.pool(pool.id)


def today_high_water(ctx: CheckContext, pool: Pool) -> tuple[float, str]:
    """Today's high-water: the larger of the history's and this snapshot's reading."""
    ph = pool_history(ctx, pool)
    if ph is not None and ph.today_high_water_gb is not None:
        hw = max(ph.today_high_water_gb, pool.used_gb)
        return hw, "history" if hw != pool.used_gb else "snapshot"
    return pool.used_gb, "snapshot"


def gb(v: float | None) -> str:
    if v is None:
        return "n/a"
    return f"{v:,.0f} GB" if float(v).is_integer() else f"{v:,.1f} GB"


def pool_key(f: Finding) -> str:
    """The pool id of a pool finding (``vram-pool:<id>``): the stable group key; the title shows the
    finding's object name, the pool's label."""
    return f.object_id.removeprefix("vram-pool:")


def pool_finding(meta: CheckMeta, pool: Pool, message: str, *, evidence: dict[str, Any],
                 remediation: list[str] | str | None = None, severity: Severity | None = None,
                 status: Status = Status.fail) -> Finding:
    f = finding(meta, None, pool.label, f"vram-pool:{pool.id}", message, evidence=evidence,
                remediation=remediation, severity=severity, status=status, object_type="pool")
    # The vCenter column names the vCenters, not the pool's scope id: "vc01, vc02" for a linked group.
    return f.model_copy(update={"vcenter": ", ".join(pool.vcenters) if pool.scope.startswith("group:") else pool.scope})


def pool_evidence(pool: Pool, a: Analysis, **extra: Any) -> dict[str, Any]:
    ev: dict[str, Any] = {
        "pool": pool.label, "pool_id": pool.id, "edition": pool.edition_title, "vcenters": pool.vcenters,
        "vram_table": a.table.name, "vram_per_cpu_gb": pool.per_cpu_gb, "per_vm_cap_gb": pool.cap_gb,
        "cpu_licenses_total": pool.cpu_total, "cpu_licenses_assigned": pool.cpu_assigned,
        "cpu_licenses_unassigned": pool.cpu_unassigned, "entitled_gb": pool.entitled_gb,
        "entitled_assigned_gb": pool.entitled_assigned_gb, "entitled_unassigned_gb": pool.entitled_unassigned_gb,
        "used_gb_now": pool.used_gb, "used_gb_uncapped": pool.used_raw_gb, "cap_effect_gb": pool.cap_effect_gb,
        "powered_on_vms": len(pool.vms), "rule": "docs/methodology.md#vram-pools",
    }
    ev.update(extra)
    return ev


def license_counts(v: PoolVerdict) -> str:
    """The two purchase figures, named and as digits, as every licensing text states them."""
    now = "unknown (no history)" if v.cpu_licenses_to_add_now is None else str(v.cpu_licenses_to_add_now)
    hold = "unknown" if v.cpu_licenses_to_add_to_hold_today is None else str(v.cpu_licenses_to_add_to_hold_today)
    return (f"CPU licenses to add: {now} to be compliant on the 12-month average now; {hold} so that today's "
            f"use ({gb(v.high_water_today_gb)}), if it stays, never crosses.")


def over_remediation(pool: Pool, a: Analysis, used: float, *, basis: str, licenses: int | None = None) -> list[str]:
    """Concrete ways out of an over-entitled pool: licenses to add, VMs to power off or
    right-size, an edition with a larger entitlement. ``licenses`` is the verdict's count for the
    basis (``average``: to be compliant now; ``today``: so that today's use never crosses)."""
    ent = pool.entitled_gb or 0.0
    excess = round(used - ent, 4)
    steps: list[str] = []
    per_cpu = pool.per_cpu_gb or 0.0
    if per_cpu and licenses:
        n = licenses
        goal = ("to be compliant on the 12-month average now" if basis == "average"
                else "so that today's use, if it stays, never takes the 12-month average over")
        steps.append(
            f"Add {counted(n, 'CPU license')} of {pool.edition_title} ({n} x {gb(per_cpu)} = {gb(n * per_cpu)} vRAM) to this "
            f"pool {goal}: buy them, then add the key in {LICENSES_PATH}. An added key counts even while unassigned "
            f"(docs/methodology.md#vram-pools)."
        )
    victims = pool.vms_to_free(excess)
    if victims:
        freed = sum(v.counted_gb for v in victims)
        names = ", ".join(f"{v.name} ({gb(v.counted_gb)})" for v in victims[:10])
        more = f" and {len(victims) - 10} more" if len(victims) > 10 else ""
        when = ("for the rest of the 12-month window (the average falls gradually)" if basis == "average"
                else "to get back under the entitlement today")
        steps.append(
            f"Or power off or right-size VMs to free {gb(excess)} {when}: the largest consumers are {names}{more} "
            f"(together {gb(freed)}). Right-sizing a VM above {gb(pool.cap_gb)} saves nothing until it is below the cap."
            if pool.cap_gb else
            f"Or power off or right-size VMs to free {gb(excess)} {when}: the largest consumers are {names}{more} "
            f"(together {gb(freed)})."
        )
    table = a.table
    for ed, per in sorted(table.per_cpu_gb.items(), key=lambda kv: (kv[1] is None, kv[1] or 0)):
        if ed in ("desktop", pool.edition) or per is None or per <= per_cpu:
            continue
        new_ent = pool.cpu_total * per
        covers = "covers" if new_ent >= used else "does not cover"
        steps.append(
            f"Or upgrade the pool's {counted(pool.cpu_total, 'CPU license')} to {a.rules.title(ed)}: {gb(per)} per CPU = "
            f"{gb(new_ent)} entitled, which {covers} {gb(used)}."
        )
    return steps
