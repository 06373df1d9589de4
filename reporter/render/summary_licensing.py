"""The ``licensing`` key of summary.json: one entry per pool (see the licensing verdict)."""

from __future__ import annotations

from typing import Any

from reporter.render.base import ReportContext


def licensing_summary(ctx: ReportContext) -> dict[str, Any]:
    return {"pools": []}  # filled from the per-pool verdict when it lands
