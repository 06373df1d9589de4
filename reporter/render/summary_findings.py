"""The findings keys of summary.json: ``counts``, ``delta``, ``checks``, ``top_actions``.

``group`` in ``top_actions`` is the same string as the findings' ``group`` in findings.json, so
an integration can list a top action's objects from findings.json.
"""

from __future__ import annotations

from typing import Any

from reporter.checks.actions import FindingGroup, all_groups, top_actions
from reporter.checks.engine import CheckStatus, Results
from reporter.render.base import Delta, ReportContext


def findings_summary(ctx: ReportContext, limit: int | None = None) -> dict[str, Any]:
    results = ctx.results
    return {
        "counts": counts(results),
        "delta": delta_counts(ctx.delta),
        "checks": checks(results),
        "top_actions": [action(g) for g in top_actions(results, limit or ctx.top_actions)],
    }


def counts(results: Results) -> dict[str, Any]:
    open_groups = [g for g in all_groups(results) if g.open]
    return {
        "by_severity": results.counts(),
        "groups": len(open_groups),
        "objects": len({f.object_id for g in open_groups for f in g.open}),
    }


def delta_counts(delta: Delta | None) -> dict[str, Any] | None:
    if delta is None:
        return None
    return {
        "new": len(delta.new),
        "fixed": len(delta.fixed),
        "still_open": len(delta.still_open),
        "not_rechecked": len(delta.not_rechecked),
        "not_rechecked_reasons": [{"reason": why, "findings": n} for why, n in delta.not_rechecked_reasons],
    }


def checks(results: Results) -> list[dict[str, Any]]:
    out = []
    for r in results.checks:
        entry: dict[str, Any] = {"id": r.meta.id, "status": r.status.value, "why": r.why,
                                 "checked": r.checked, "open": len(r.open)}
        if r.status is CheckStatus.passed and r.waived:
            entry["waived"] = r.waived
        out.append(entry)
    return out


def action(g: FindingGroup) -> dict[str, Any]:
    return {"check_id": g.meta.id, "group": g.id, "title": g.title, "severity": g.severity.value,
            "objects": g.objects}
