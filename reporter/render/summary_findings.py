"""The findings keys of summary.json: ``counts``, ``delta``, ``checks``, ``top_actions``."""

from __future__ import annotations

from typing import Any

from reporter.render.base import ReportContext


def findings_summary(ctx: ReportContext) -> dict[str, Any]:
    return {}  # counts, delta, checks and top_actions land with finding groups
