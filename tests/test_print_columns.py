"""report.pdf's family tables: fixed layout, column widths computed from their text
(reporter/render/print_columns.py). The words staying inside their columns, with 120-letter names,
is tests/test_long_names_layout.py's; whole column titles, tests/test_pdf_layout.py's."""

from __future__ import annotations

import re
from itertools import pairwise
from pathlib import Path
from typing import Any

import pdfplumber
import pytest

from reporter import api
from reporter.render.pdf import report_pdf_html
from reporter.render.print_columns import (
    DATA,
    LANDSCAPE,
    WIDE,
    TableFont,
    colgroup,
    column_widths,
    evidence_colgroup,
    font_for,
    title_pieces,
)
from reporter.render.text_width import _BOLD, _REGULAR, text_width

FONTS = Path("/usr/share/fonts/truetype/dejavu")
HEADER_FILL = (0xEE / 255, 0xF1 / 255, 0xF5 / 255)  # <th> background (_report.css)
_TABLE = re.compile(r'<div class="table-block[^"]*">\s*<h4>([^<]*)</h4>.*?<table class="data[^"]*"[^>]*>(.*?)</table>', re.S)


@pytest.mark.parametrize(("table", "name"), [(_REGULAR, "DejaVuSans.ttf"), (_BOLD, "DejaVuSans-Bold.ttf")])
def test_advance_widths_are_the_fonts_own(table: tuple[int, ...], name: str) -> None:
    if not (FONTS / name).exists():
        pytest.skip(f"{name} not installed")
    from fontTools.ttLib import TTFont  # type: ignore[import-untyped]

    font = TTFont(FONTS / name)
    cmap, metrics, upm = font.getBestCmap(), font["hmtx"], font["head"].unitsPerEm
    assert list(table) == [round(metrics[cmap[c]][0] * 1000 / upm) for c in range(32, 127)]


def test_text_width_adds_the_advances_and_ignores_break_marks() -> None:
    # "Host" bold: H 837 + o 687 + s 595 + t 478 = 2597/1000 em; at 10 pt, 25.97 pt.
    assert text_width("Host", 10, bold=True) == pytest.approx(25.97)
    assert text_width("esx01.\u200bcorp", 7) == pytest.approx(text_width("esx01.corp", 7))
    assert text_width("Ω", 1) == 1.0  # outside ASCII: as wide as the widest letter


def test_font_follows_the_print_css_by_column_count() -> None:
    assert font_for(7) is DATA and font_for(8) is WIDE and font_for(11) is WIDE and font_for(12) is LANDSCAPE


def test_a_table_that_fits_shares_its_width_by_natural_widths() -> None:
    font = TableFont(10, 0, width_pt=1000)
    # No padding, spare 0.25 pt per cell: "Host" 25.97 + 0.25, "vc01" (v 592, c 550, 0 636, 1 636 = 2414) 24.39 pt.
    shares = column_widths(["Host", "x"], [["vc01", 5]], font)
    host, x = 25.97 + 0.25, max(text_width("x", 10, bold=True), text_width("5", 10)) + 0.25
    assert shares == [round(host / (host + x) * 100, 2), round(x / (host + x) * 100, 2)]
    assert sum(shares) == pytest.approx(100)


def test_a_table_that_wraps_keeps_numbers_and_title_words_whole() -> None:
    font = TableFont(7, 3, width_pt=120)
    long_text = "word " * 60
    shares = column_widths(["Objects counted", "Notes"], [[1234567, long_text]], font)
    number = text_width("1,234,567", 7) + 6.25
    title_word = text_width("Objects", 7, bold=True) + 6.25
    assert shares[0] / 100 * 120 >= max(number, title_word) - 0.01
    assert sum(shares) == pytest.approx(100)
    # The notes take the rest: they wrap, the number does not.
    assert shares[1] > shares[0]


def test_columns_too_narrow_for_their_minimums_share_in_proportion_to_them() -> None:
    font = TableFont(10, 0, width_pt=10)
    shares = column_widths(["aaaa", "aa"], [], font)
    a4, a2 = text_width("aaaa", 10, bold=True) + 0.25, text_width("aa", 10, bold=True) + 0.25
    assert shares == pytest.approx([a4 / (a4 + a2) * 100, a2 / (a4 + a2) * 100], abs=0.011)


def test_a_long_api_name_as_title_breaks_only_after_its_punctuation() -> None:
    assert title_pieces("sched.scsi0:0.throughputCap") == [("sched.", False), ("scsi0:", False), ("0.", False),
                                                           ("throughputCap", True)]
    # Short words: after a hyphen or a slash only, and whole otherwise ("(GB)" keeps its brackets).
    assert title_pieces("VMs off/suspended (GB)") == [("VMs", True), ("off/", False), ("suspended", True), ("(GB)", True)]
    # Too narrow a table: each column in proportion to its longest title piece.
    shares = column_widths(["storageIOAllocation.limit", "Disk"], [], TableFont(10, 0, width_pt=10))
    token, disk = text_width("storageIOAllocation.", 10, bold=True) + 0.25, text_width("Disk", 10, bold=True) + 0.25
    assert shares == pytest.approx([token / (token + disk) * 100, disk / (token + disk) * 100], abs=0.011)


def test_titles_take_two_lines_and_hosts_one_before_the_rest_goes_to_titles() -> None:
    """A number column titled "VMs with CBT on" next to host names, in a table 1 pt wider than the
    title on two lines ("VMs with" / "CBT on") and the host names on one: exactly that, and the
    point left over to the title, the only text still wrapping."""
    two_lines = text_width("VMs with", 10, bold=True) + 0.25
    host = text_width("esx01.corp.example", 10) + 0.25
    total = two_lines + host + 1
    shares = column_widths(["VMs with CBT on", "Host"], [[19, "esx01.corp.example"]] * 3, TableFont(10, 0, width_pt=total))
    assert shares == [round((two_lines + 1) / total * 100, 2), round(host / total * 100, 2)]


def test_rows_of_two_lines_come_before_a_host_on_one_line() -> None:
    """Room for a long "Fixed in" on two lines and the host on two ("esx01.corp." / "example"),
    but 5 pt short of the host on one line: the host wraps, so that the rows stay two lines tall
    (the automatic layout's widths would give the host its line and every row a third)."""
    fixed = "ESXi 5.0 Patch 10 (ESXi500-201412001, build 2312428, 2014-12-04) or later"
    space = text_width(" ", 7)
    first, second = fixed[:fixed.index(" build")], fixed[fixed.index("build"):]
    fixed_two = max(text_width(first, 7), text_width(second, 7)) + 6.25  # the best split, by hand
    assert fixed_two < text_width(fixed, 7) / 2 + space + 6.25 + 10  # (a split near the middle)
    host_one = text_width("esx01.corp.example", 7) + 6.25
    host_two = text_width("esx01.corp.", 7) + 6.25
    total = host_one + fixed_two - 5
    shares = column_widths(["Host", "Fixed in"], [["esx01.corp.example", fixed]] * 4, TableFont(7, 3, width_pt=total))
    host, fixed_in = (share / 100 * total for share in shares)
    assert fixed_in >= fixed_two - 0.06  # two lines
    assert host_two <= host < host_one - 1  # the host wraps after "corp." (the room left goes by overflow)


def test_colgroup_markup() -> None:
    html = str(colgroup(["ab", "ba"], [["xy", "yx"]]))  # the same letters: the same widths
    assert re.fullmatch(r'<colgroup><col style="width:50%"><col style="width:50%"></colgroup>', html)


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("columns")
    res = api.demo(out, formats="pdf")
    return out / "report.pdf", report_pdf_html(res.context)


def _tables(html: str) -> list[tuple[str, list[float], int]]:
    """(title, col widths in %, number of header cells) of every family table."""
    out = []
    for title, body in _TABLE.findall(html):
        widths = [float(w) for w in re.findall(r'<col style="width:([0-9.]+)%">', body)]
        out.append((title, widths, body.count("<th>")))
    return out


def test_every_family_table_has_a_width_per_column_summing_to_100(sample: tuple[Path, str]) -> None:
    _path, html = sample
    tables = _tables(html)
    assert len(tables) >= 10  # the sample's vRAM, snapshot, CBT, SIOC and software tables
    for title, widths, headers in tables:
        assert len(widths) == headers, title
        assert sum(widths) == pytest.approx(100, abs=0.001), title
        assert min(widths) > 0, title
    assert ".paged-report .table-block table.data { table-layout: fixed; }" in html


def test_printed_columns_have_the_computed_widths(sample: tuple[Path, str]) -> None:
    """WeasyPrint prints the widths it was given (the fixed layout is in force): the header cells
    of "Hosts on builds with a known CBT defect" measured on the page."""
    path, html = sample
    title = "Hosts on builds with a known CBT defect"
    widths = next(w for t, w, _ in _tables(html) if t == title)
    with pdfplumber.open(path) as pdf:
        page = next(p for p in pdf.pages if title in (p.extract_text() or ""))
        fills = [r for r in page.rects if r.get("non_stroking_color") is not None
                 and tuple(round(c, 3) for c in r["non_stroking_color"]) == tuple(round(c, 3) for c in HEADER_FILL)]
        heading = next(w for w in page.extract_words() if w["text"] == "Hosts")
        row_top = min(r["top"] for r in fills if r["top"] > heading["bottom"])
        row = sorted((r for r in fills if abs(r["top"] - row_top) < 0.1), key=lambda r: r["x0"])
    total = row[-1]["x1"] - row[0]["x0"]
    printed = [round((r["x1"] - r["x0"]) / total * 100, 1) for r in row]
    assert printed == pytest.approx(widths, abs=0.3)


def _header_cells(page: Any, heading: str) -> dict[str, int]:
    """Title -> lines drawn, of the header cells of the first table below ``heading`` on ``page``
    (cells found by their background, as test_printed_columns_have_the_computed_widths does)."""
    first = heading.split()[0]
    top = next(w for w in page.extract_words() if w["text"] == first
               and heading in (page.crop((0, w["top"] - 1, page.width, w["bottom"] + 1)).extract_text() or ""))
    fills = [r for r in page.rects if r.get("non_stroking_color") is not None and r["top"] > top["bottom"]
             and tuple(round(c, 3) for c in r["non_stroking_color"]) == tuple(round(c, 3) for c in HEADER_FILL)]
    row_top = min(r["top"] for r in fills)
    cells = {}
    for r in (r for r in fills if abs(r["top"] - row_top) < 0.1):
        words = page.crop((r["x0"], r["top"], r["x1"], r["bottom"])).extract_words()
        cells[" ".join(w["text"] for w in words)] = len({round(w["top"]) for w in words})
    return cells


def test_sample_titles_take_two_lines_and_host_names_one(sample: tuple[Path, str]) -> None:
    """On paper: "VMs with CBT on" and "Fix verified" on two lines each in "Hosts on builds with a
    known CBT defect" (the automatic layout's widths drew four: "VMs / with / CBT / on"), and the
    host names of "Host image and acceptance level" whole on one line each."""
    path, _html = sample
    title = "Hosts on builds with a known CBT defect"
    with pdfplumber.open(path) as pdf:
        cbt = next(p for p in pdf.pages if title in (p.extract_text() or ""))
        cells = _header_cells(cbt, title)
        # (the last page naming it: the first is the contents')
        at = [i for i, p in enumerate(pdf.pages) if "Host image and acceptance level" in (p.extract_text() or "")][-1]
        page = pdf.pages[at]
        words = page.extract_words()
        below = next(w for w, nxt in pairwise(words) if w["text"] == "Host" and nxt["text"] == "image")
        # down to the next table's title, when it follows on the same page
        after = next((w["top"] for w, nxt in pairwise(words) if w["text"] == "Upgrade" and nxt["text"] == "readiness"
                      and w["top"] > below["top"]), page.height)
        texts = [w["text"] for w in page.crop((0, below["top"], page.width, after)).extract_words()
                 if w["text"].startswith("esx")]
    assert cells["VMs with CBT on"] == 2 and cells["Fix verified"] == 2
    assert max(cells.values()) <= 3  # "Of those with / a CBT disk > / 128 GB" (the widths drew 4 lines)
    # Each of esx01..esx09.corp.example whole on its line (the automatic layout's widths wrapped
    # them after "corp."); only the longest name, esx-spare.dc2.example, still wraps.
    assert [t for t in texts if t.endswith(".corp.example")] == [f"esx0{i}.corp.example" for i in range(1, 10)]
    assert not [t for t in texts if t.endswith(".corp.")]


def test_evidence_tables_get_widths_from_their_text(sample: tuple[Path, str]) -> None:
    """An evidence table's option-name titles break at their dots ("sched.scsi0:0." /
    "throughputCap"): its columns are no longer equal shares."""
    path, html = sample
    assert str(evidence_colgroup(["Disk", "sched.scsi0:0.throughputCap"], [["Hard disk 1", "not set"]])).count("<col ") == 2
    assert re.search(r'<table class="evt"><colgroup><col style="width:[0-9.]+%">', html)
    with pdfplumber.open(path) as pdf:
        words = [w["text"] for p in pdf.pages for w in p.extract_words()]
    assert "sched.scsi0:0." in words  # the title, broken after its dot
    # never inside the name's last word ("throughputCa" / "p")
    assert not [t for t in words if "throughputCa" in t and "throughputCap" not in t]


def test_evidence_table_words_fit_their_columns(sample: tuple[Path, str]) -> None:
    """Evidence cells may break anywhere: a KB number or a bold title measured a hair too narrow
    broke inside ("KB209063" / "9", "Releas" / "e") in the CBT defect table."""
    path, _html = sample
    with pdfplumber.open(path) as pdf:
        words = [w["text"] for p in pdf.pages for w in p.extract_words()]
    assert "KB2090639" in words and "Release" in words
    assert not [w for w in words if w in ("KB209063", "Releas")]
