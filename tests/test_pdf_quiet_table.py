"""The table of checks without findings in report.pdf: fixed layout, its first column's border box
42% of the table, as the automatic layout made it (templates/_print.css)."""

from __future__ import annotations

from pathlib import Path

import pdfplumber
import pytest

from reporter import api

HEADER_FILL = (0xEE / 255, 0xF1 / 255, 0xF5 / 255)  # <th> background (_report.css)


@pytest.fixture(scope="module")
def sample_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("quiet")
    api.demo(out, formats="pdf")
    return out / "report.pdf"


def _header_rects(page: pdfplumber.page.Page) -> list[dict[str, float]]:
    return [r for r in page.rects if r.get("non_stroking_color") is not None
            and tuple(round(c, 3) for c in r["non_stroking_color"]) == tuple(round(c, 3) for c in HEADER_FILL)]


def test_quiet_checks_table_first_column_is_42_percent_of_the_table(sample_pdf: Path) -> None:
    widths = []
    with pdfplumber.open(sample_pdf) as pdf:
        for page in pdf.pages:
            for first in _header_rects(page):
                cell = page.within_bbox((first["x0"], first["top"], first["x1"], first["bottom"]))
                if (cell.extract_text() or "").split() != ["Checks", "without", "findings"]:
                    continue
                row = [r for r in _header_rects(page) if abs(r["top"] - first["top"]) < 0.1]
                table = max(r["x1"] for r in row) - min(r["x0"] for r in row)
                widths.append(round((first["x1"] - first["x0"]) / table, 3))
    assert len(widths) >= 3  # the sample has several areas without findings in some checks
    assert set(widths) == {0.42}
