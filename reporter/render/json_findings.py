"""findings.json (the fixed finding contract, one list) and summary.json (see ``summary``), for machines."""

from __future__ import annotations

import json
from pathlib import Path

from reporter.core.fsutil import atomic_write_text
from reporter.render.base import Renderer, ReportContext, register
from reporter.render.summary import build_summary


@register
class JsonRenderer(Renderer):
    format = "json"

    def render(self, ctx: ReportContext, out_dir: Path) -> list[Path]:
        doc = [f.model_dump(mode="json") for f in ctx.results.findings]
        summary = build_summary(ctx)
        return [
            atomic_write_text(out_dir / "findings.json", json.dumps(doc, indent=2, ensure_ascii=False) + "\n"),
            atomic_write_text(out_dir / "summary.json", json.dumps(summary, indent=2, ensure_ascii=False) + "\n"),
        ]
