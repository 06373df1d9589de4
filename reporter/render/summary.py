"""summary.json: the machine-readable summary written beside findings.json by every report run.

A contract integrations rely on: top-level keys are owned by one module each and only ever
added to. ``schema`` is bumped when a key changes meaning.

- ``licensing`` — one entry per pool, the verdict computed once (``summary_licensing``);
- ``counts``, ``delta``, ``checks``, ``top_actions`` — open findings, changes since the last
  run, every check's status and the ranked actions (``summary_findings``).
"""

from __future__ import annotations

from typing import Any

from reporter.render.base import ReportContext
from reporter.render.summary_findings import findings_summary
from reporter.render.summary_licensing import licensing_summary

SCHEMA = 1


def build_summary(ctx: ReportContext) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "schema": SCHEMA,
        "generated_at": ctx.generated_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "licensing": licensing_summary(ctx),
    }
    doc.update(findings_summary(ctx))
    return doc
