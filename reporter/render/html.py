"""report.html: one standalone file (CSS inline, charts as inline SVG, no script, no external asset)."""

from __future__ import annotations

from pathlib import Path

from reporter.core.fsutil import atomic_write_text
from reporter.render.base import Renderer, ReportContext, register
from reporter.render.templating import precompile, render_template
from reporter.render.view import build_view

# Per-check and per-table row caps for the page; everything is in report.xlsx / findings.json.
FINDINGS_LIMIT = 500
TABLE_LIMIT = 500


def render_html(ctx: ReportContext, template: str = "report.html.j2", *, limit: int = FINDINGS_LIMIT,
                table_limit: int = TABLE_LIMIT, paged: bool = False, **extra: object) -> str:
    """``paged``: the paginated editions (no interactive elements, everything expanded)."""
    return render_template(template, r=build_view(ctx, paged=paged), limit=limit, table_limit=table_limit, paged=paged,
                           **extra)


@register
class HtmlRenderer(Renderer):
    format = "html"

    def render(self, ctx: ReportContext, out_dir: Path) -> list[Path]:
        return [atomic_write_text(out_dir / "report.html", render_html(ctx))]

    @classmethod
    def prepare(cls) -> None:
        precompile()
