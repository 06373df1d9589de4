"""report.pdf's prose breaks its lines where the width ends, not earlier.

WeasyPrint 70 mismeasures the trailing space of a text box that wraps and ends in a space (the one
before "<b>Why it matters:</b>"), and then breaks the first line at an earlier opportunity: the
sample's SNAP-001 description printed its first word, "A", alone on a line. The template follows
that space with a zero-width space (templates/_pdf.html.j2, about), which draws nothing and is
not in the extracted text; the space itself still is (copied text reads "time. Why")."""

from __future__ import annotations

import subprocess
from pathlib import Path

from reporter import api
from reporter.render.base import ReportContext
from reporter.render.pdf import html_to_pdf, report_pdf_html

SAMPLE = Path(__file__).resolve().parent.parent / "samples" / "sample-snapshot.json.gz"


def test_the_sample_snap_001_description_fills_its_first_line(tmp_path: Path) -> None:
    snap = api.load_snapshot(SAMPLE)
    results, tables = api.check(snap)
    html = report_pdf_html(ReportContext(snapshot=snap, results=results, tables=tables, tool_version="test").masked())
    # The check's section alone, with the report's styles: the same width and type as in the report.
    head = html[: html.index("<main>") + len("<main>")]
    def section_of(check_id: str) -> int:  # the link target is the check's heading, in its section
        return html.rindex('<section class="check">', 0, html.index(f'id="check-{check_id}"'))

    check = html[section_of("SNAP-001"):section_of("SNAP-002")]
    path = tmp_path / "snap-001.pdf"
    path.write_bytes(html_to_pdf(head + check + "</main></body></html>"))
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    title = next(i for i, line in enumerate(lines) if "SNAP-001" in line)
    assert lines[title + 1].startswith("A VM with a snapshot older than the warning age (default 3 days, medium)"), \
        lines[title + 1: title + 3]
    assert "collection time. Why it matters:" in " ".join(lines) and "\u200b" not in text
