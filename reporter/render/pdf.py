"""report.pdf (WeasyPrint): paginated, running headers/footers, table headers repeated across pages.

Kept to findings and summaries; the full inventory goes to the XLSX.
"""

from __future__ import annotations

import logging
from pathlib import Path

from reporter.core.detail import Detail
from reporter.core.fsutil import atomic_write_bytes
from reporter.core.gcpolicy import paused_gc, release_garbage
from reporter.errors import RenderError
from reporter.render.base import Renderer, ReportContext, register
from reporter.render.html import render_html
from reporter.render.pdf_leaders import merge_leader_dots
from reporter.render.print_text import for_print
from reporter.render.templating import precompile

# Paper is for reading: a check with more findings than this lists the first ones and points to
# report.xlsx / findings.json for the rest (the note in the PDF says how many were left out).
PDF_FINDINGS_LIMIT = 25
# Rows of each detail table on paper: the standard edition keeps the report short (every row is
# in report.xlsx); --detail full prints them all.
PDF_TABLE_ROWS = {Detail.summary: 0, Detail.standard: 25, Detail.full: 1_000_000}


def html_to_pdf(html: str, **options: object) -> bytes:
    # WeasyPrint logs every unsupported CSS property at WARNING; that is noise for our users.
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    try:
        from weasyprint import HTML
    except OSError as exc:  # Pango/HarfBuzz missing on this machine
        raise RenderError(f"PDF output needs WeasyPrint's system libraries (Pango): {exc}") from None
    finisher = options.pop("finisher", None)  # write_pdf's; the others go to both steps, as WeasyPrint's own
    # The document references nothing outside itself; refuse any fetch so that no value in a
    # snapshot can ever make the renderer read a local file or reach the network.
    # Automatic collection is off while WeasyPrint works: its box trees and layouts are tens of
    # thousands of objects each page, so the collector's full passes ran ~8 times on the sample
    # and took 1.2-1.4 s of its ~10 s, yet found next to nothing to free (peak RSS +3 MB
    # without them). The cycles it leaves go in one collection when the document is done.
    with paused_gc():
        document = HTML(string=html, url_fetcher=_refuse_fetch).render(**options)
        merge_leader_dots(document.pages)  # the contents' dots: one text each line (pdf_leaders)
        pdf: bytes | None = document.write_pdf(finisher=finisher, **options)
        # The cycles WeasyPrint leaves (every computed style refers to itself: ~470,000 objects,
        # 0.5-0.6 s to collect at 10,000 VMs): collected, or in a one-shot render child left to
        # its exit, where collecting only delays its answer on the report's longest path.
        release_garbage()
    assert pdf is not None
    return pdf


def _refuse_fetch(url: str, *args: object, **kwargs: object) -> dict[str, object]:
    raise ValueError(f"report documents do not load external resources ({url[:60]})")


def report_pdf_html(ctx: ReportContext) -> str:
    """The HTML document report.pdf is laid out from (the layout tests read its column titles)."""
    html = render_html(ctx, "report_pdf.html.j2", limit=PDF_FINDINGS_LIMIT, table_limit=PDF_TABLE_ROWS[ctx.detail], paged=True)
    return for_print(html)


@register
class PdfRenderer(Renderer):
    format = "pdf"

    def render(self, ctx: ReportContext, out_dir: Path) -> list[Path]:
        return [atomic_write_bytes(out_dir / "report.pdf", html_to_pdf(report_pdf_html(ctx)))]

    @classmethod
    def prepare(cls) -> None:
        prepare_pdf()


def prepare_pdf() -> None:
    """WeasyPrint imported (~0.8 s) and the templates compiled, ahead of rendering."""
    import weasyprint  # noqa: F401  # an OSError (no Pango) is reported by html_to_pdf when it renders

    precompile()
