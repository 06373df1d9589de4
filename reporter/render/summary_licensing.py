"""The ``licensing`` key of summary.json: one entry per pool, from the verdict the checks used.

Every pool is listed, vRAM or not (``not_evaluated`` with why). The entry shape is
``PoolVerdict.to_summary()``, shared with ``vcreport plan --json`` so both read alike.
"""

from __future__ import annotations

from typing import Any

from reporter.render.base import ReportContext


def licensing_summary(ctx: ReportContext) -> dict[str, Any]:
    if ctx.licensing is None:  # a context built without the pipeline (no checks run)
        return {"pools": []}
    return ctx.licensing.to_summary()
