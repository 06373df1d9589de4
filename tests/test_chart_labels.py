"""A bar chart's label stays inside its drawing: cut with "…" at the width measured in the
charts' font, the whole name kept as the bar's tooltip (<title>).

The widths are checked three ways: against DejaVu Sans' own advance table (fontTools), in
headless Chromium (the SVG's text boxes) and, for the PDF, in tests/test_long_names_layout.py
(the chart's characters inside the text area)."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont
from PIL import ImageFont

from reporter.checks.tables import Table
from reporter.render.charts import LABEL_GAP, table_chart
from reporter.render.templating import environment
from reporter.render.text_width import ELLIPSIS, fit_text, text_width

LONG_NAME = "ds" + "q" * 118  # 120 letters, no break opportunity
FONT_SIZE = 12


def _advances(text: str, size: float) -> float:
    """Sum of DejaVu Sans' advance widths for ``text``, read from the font file's tables (no
    kerning: the names here have no kerned pairs)."""
    font = TTFont(ImageFont.truetype("DejaVuSans.ttf", 10).path, lazy=True)
    cmap, hmtx = font.getBestCmap(), font["hmtx"]
    upm: int = font["head"].unitsPerEm
    units: int = sum(hmtx[cmap[ord(ch)]][0] for ch in text)
    return units * size / upm


def _chart_svg(names: list[str]) -> str:
    table = Table(id="ds", family="snapshots", title="Datastores", columns=["Datastore", "Snapshot space (GB)"],
                  rows=[[n, 10.0 * (len(names) - i)] for i, n in enumerate(names)],
                  chart={"label": "Datastore", "value": "Snapshot space (GB)", "unit": "GB",
                         "title": "Snapshot space per datastore"})
    chart = table_chart(table)
    assert chart is not None
    module = environment().get_template("_charts.html.j2").module
    return str(module.render(chart))  # type: ignore[attr-defined]


def test_text_width_is_the_fonts_advances() -> None:
    assert text_width("q" * 28, FONT_SIZE) == pytest.approx(_advances("q" * 28, FONT_SIZE), abs=0.3)
    assert text_width("q" * 28, FONT_SIZE) == pytest.approx(213.3, abs=0.3)  # 28 × 1300/2048 em
    assert text_width("日本", 10) == 20  # no DejaVu glyph: the fallback font's em each


def test_fit_text_keeps_what_fits_and_cuts_the_rest_with_an_ellipsis() -> None:
    assert fit_text("datastore-01", 100, FONT_SIZE) == "datastore-01"
    cut = fit_text(LONG_NAME, 182, FONT_SIZE)
    assert cut.endswith(ELLIPSIS) and LONG_NAME.startswith(cut[:-1])
    assert _advances(cut, FONT_SIZE) <= 182 < _advances(cut[:-1] + "q" + ELLIPSIS, FONT_SIZE)
    assert cut == "ds" + "q" * 20 + ELLIPSIS  # "ds" 13.9 units, 20 × 7.6, "…" 12


def test_long_label_starts_inside_the_drawing_and_keeps_its_name_as_tooltip() -> None:
    svg = _chart_svg([LONG_NAME, "ds-short"])
    labels = re.findall(r'<text x="([\d.]+)" y="[\d.]+" text-anchor="end"[^>]*>([^<]*)</text>', svg)
    assert [text for _, text in labels] == ["ds" + "q" * 20 + ELLIPSIS, "ds-short"]
    for x, text in labels:
        assert float(x) - _advances(html.unescape(text), FONT_SIZE) >= 0
    assert float(labels[0][0]) == 190 - LABEL_GAP
    assert f"<title>{LONG_NAME}: 20.0 GB</title>" in svg


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

# Appended to the page: the left edge of every end-anchored label, in its SVG's own units.
MEASURE = """<script>
addEventListener("load", () => {
  const out = [...document.querySelectorAll('text[text-anchor="end"]')].map(t => t.getBBox().x);
  const pre = document.createElement("pre");
  pre.id = "measure";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>"""


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (scripts/test.sh installs it)")
def test_long_label_starts_inside_the_drawing_in_chromium(tmp_path: Path) -> None:
    page = tmp_path / "chart.html"
    page.write_text(f"<!DOCTYPE html><html><body>{_chart_svg([LONG_NAME, 'ds-short'])}{MEASURE}</body></html>",
                    encoding="utf-8")
    assert CHROMIUM is not None
    proc = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                           f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", page.as_uri()],
                          capture_output=True, text=True, timeout=120, check=True)
    found = re.search(r'<pre id="measure">([^<]*)</pre>', proc.stdout)
    assert found, proc.stderr[-2000:]
    starts = json.loads(html.unescape(found.group(1)))
    assert len(starts) == 2 and all(x >= 0 for x in starts), starts
    assert starts[0] < 10  # the cut name uses the room it has
