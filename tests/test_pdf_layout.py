"""Print quality of report.pdf: nothing drawn outside the page, column titles wrap between words.

Two levels: a small fixture with the two tables that used to break the layout (a column holding
one long advanced-option name; a 23-column table on a landscape page), and the bundled sample's
PDF as ``vcreport demo --format pdf`` writes it, at every detail level the tool offers.
"""

from __future__ import annotations

import functools
import inspect
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pdfplumber
import pypdfium2 as pdfium
import pytest
import report_fixtures as rf

from reporter import api
from reporter.checks.engine import Results
from reporter.checks.tables import Table
from reporter.core.detail import Detail
from reporter.render import print_text
from reporter.render.base import ReportContext
from reporter.render.pdf import html_to_pdf, report_pdf_html

# The background of <th> cells (_report.css: #eef1f5): how a header cell is found in the PDF.
HEADER_FILL = (0xEE / 255, 0xF1 / 255, 0xF5 / 255)
LONG_OPTION = "VMkernel.Boot.isPerFileSchedModelActive"
# Line breaks a column title may take besides spaces: after a hyphen or a slash of the title, and
# in a long token (an API name) after its punctuation (reporter/render/print_text.header_breaks).
BREAK_AFTER = ("-", "/")
TOKEN_BREAK_AFTER = tuple(print_text.BREAK_AFTER)
VRAM_POOL_COLUMNS = [
    "Pool", "vCenter(s)", "Edition", "vRAM applies", "CPU licenses assigned", "CPU licenses unassigned",
    "vRAM per CPU (GB)", "Entitled assigned (GB)", "Entitled unassigned (GB)", "Entitled total (GB)",
    "VMs powered on", "VMs off/suspended", "Used uncapped (GB)", "Used (GB)", "96 GB cap saves (GB)",
    "Today's high-water (GB)", "12-month average (GB)", "Days of history", "Headroom (GB)", "Headroom (%)",
    "CPU licenses to add", "vCenter-reported used (GB)", "Verdict"]


class _HeaderTitles(HTMLParser):
    """The text of every <th> of an HTML document, whitespace-normalised."""

    def __init__(self) -> None:
        super().__init__()
        self.titles: set[str] = set()
        self._parts: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "th":
            self._parts = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "th" and self._parts is not None:
            self.titles.add(" ".join("".join(self._parts).split()))
            self._parts = None

    def handle_data(self, data: str) -> None:
        if self._parts is not None:
            self._parts.append(data.replace(print_text.WBR, ""))  # the PDF's break marks


def header_titles(html: str) -> set[str]:
    parser = _HeaderTitles()
    parser.feed(html)
    return parser.titles


def _is_header_fill(rect: dict[str, Any]) -> bool:
    color = rect.get("non_stroking_color")
    return (isinstance(color, tuple | list) and len(color) == 3
            and all(abs(a - b) < 0.01 for a, b in zip(color, HEADER_FILL, strict=True)))


@dataclass(frozen=True)
class PageScan:
    """What the checks below read from one page, taken in one pdfplumber pass over the file:
    the sample PDF has hundreds of pages and laying them out is most of these tests' time, so
    each page is laid out once for every check instead of once per check."""

    number: int
    landscape: bool
    text: str  # extract_text(), "" for a page without text
    visible_chars: int  # characters that are not whitespace
    outside: tuple[tuple[int, str, float, float, float, float], ...]  # chars not inside the page box
    small: tuple[tuple[str, float], ...]  # (char, size rounded to 0.1 pt) of visible chars under 5.5 pt
    header_cells: tuple[tuple[str, ...], ...]  # words, in reading order, of each table header cell


@functools.cache
def scan_pdf(pdf_path: Path) -> tuple[PageScan, ...]:
    pages = []
    with pdfplumber.open(pdf_path) as pdf:
        for page in pdf.pages:
            w, h = float(page.width), float(page.height)
            cells = []
            for r in page.rects:
                if not _is_header_fill(r) or r["x1"] - r["x0"] < 2:
                    continue
                box = page.within_bbox((max(r["x0"], 0), max(r["top"], 0), min(r["x1"], page.width),
                                        min(r["bottom"], page.height)))
                words = tuple(w["text"] for w in box.extract_words(keep_blank_chars=False))
                if words:
                    cells.append(words)
            chars = page.chars
            pages.append(PageScan(
                number=page.page_number, landscape=page.width > page.height, text=page.extract_text() or "",
                visible_chars=sum(1 for c in chars if c["text"].strip()),
                outside=tuple((page.page_number, c["text"], c["x0"], c["top"], c["x1"], c["bottom"]) for c in chars
                              if c["x0"] < 0 or c["top"] < 0 or c["x1"] > w or c["bottom"] > h),
                small=tuple((c["text"], round(c["size"], 1)) for c in chars if c["size"] < 5.5 and c["text"].strip()),
                header_cells=tuple(cells)))
            page.close()  # drop the page's parsed objects: only the scan is kept
    return tuple(pages)


def chars_outside_page(pdf_path: Path) -> list[tuple[int, str, float, float, float, float]]:
    """(page, char, x0, top, x1, bottom) of every character whose box is not inside its page."""
    return [o for page in scan_pdf(pdf_path) for o in page.outside]


def unread_pages(pdf_path: Path) -> list[int]:
    """Pages where pdfplumber extracts clearly fewer characters than PDFium draws: a character
    pdfplumber cannot see would pass the page-box check unseen."""
    pdfium_doc = pdfium.PdfDocument(pdf_path)
    try:
        drawn = ["".join(pdfium_doc[i].get_textpage().get_text_range().split()) for i in range(len(pdfium_doc))]
    finally:
        pdfium_doc.close()
    read = [page.visible_chars for page in scan_pdf(pdf_path)]
    return [i + 1 for i, (d, r) in enumerate(zip(drawn, read, strict=True)) if r < 0.97 * len(d)]


def header_cells(pdf_path: Path) -> list[tuple[int, list[str]]]:
    """(page, words in reading order) of every table header cell in the PDF."""
    return [(page.number, list(words)) for page in scan_pdf(pdf_path) for words in page.header_cells]


def split_mid_word(words: list[str], title: str) -> bool:
    """True when the PDF words of a header cell break one of the title's words anywhere but after
    a hyphen or a slash ("Headro", "om" for "Headroom"), or the punctuation of a long token
    ("storageIOAllocation.", "limit", never "storageIOAlloc", "ation.limit")."""
    pieces = iter(words)
    for token in title.split():
        marks = TOKEN_BREAK_AFTER if len(token) >= print_text.LONG_TOKEN else BREAK_AFTER
        built = next(pieces, None)
        if built is None:
            return True
        while built != token:
            if not token.startswith(built) or not built.endswith(marks):
                return True
            nxt = next(pieces, None)
            if nxt is None:
                return True
            built += nxt
    return next(pieces, None) is not None


def header_problems(pdf_path: Path, titles: set[str]) -> list[str]:
    by_squashed = {"".join(t.split()): t for t in titles}
    problems = []
    for page, words in header_cells(pdf_path):
        title = by_squashed.get("".join(words))
        if title is None:
            problems.append(f"p.{page}: header {' '.join(words)!r} is no column title (cut off?)")
        elif split_mid_word(words, title):
            problems.append(f"p.{page}: header {title!r} drawn as {words}")
    return problems


# -- the rules themselves ----------------------------------------------------------------------

def test_split_mid_word_accepts_spaces_hyphens_and_slashes_only() -> None:
    assert not split_mid_word(["Headroom", "(GB)"], "Headroom (GB)")
    assert not split_mid_word(["Today's", "high-", "water", "(GB)"], "Today's high-water (GB)")
    assert not split_mid_word(["VMs", "off/", "suspended"], "VMs off/suspended")
    assert split_mid_word(["Headro", "om", "(GB)"], "Headroom (GB)")
    assert split_mid_word(["complian", "t"], "compliant")
    assert split_mid_word(["Headroom"], "Headroom (GB)")  # a word missing is not a clean wrap


# -- a small fixture with the tables that used to break the layout --------------------------------

def _fixture_context() -> ReportContext:
    # The sample's vRAM pool table (23 columns), with a longer pool name than the sample's.
    wide = Table(id="wide_pools", family="snapshots", title="Wide pools", columns=VRAM_POOL_COLUMNS,
                 rows=[["vcenter-prod-01.corp.example/enterprise_plus", "vcenter-prod-01", "vSphere Enterprise Plus",
                        "yes", 12, 4, 96.0, 1152.0, 384.0, 1536.0, 164, 21, 1892.0, 1764.0, 128.0, 1764.0,
                        1522.8, 355, -228.0, -14.8, 0, None, "compliant (355 of 365 days of history)"]])
    scheduler = Table(
        id="host_schedulers", family="snapshots", title="Disk I/O caps per VM and datastore",
        columns=["vCenter", "VM", "Host", "Scheduler", "Datastore", "Disks", "Configured", "Effective limit",
                 "Enforced", "Why not"],
        # Two rows of the sample's table: the second one used to push "Why not" off the page.
        rows=[["vc02", "a-backup-proxy", "esxa02.dc2.example", "per-file", "vsanDatastore", "scsi0:0, scsi0:1",
               "scsi0:0: limit 800 IOPS; scsi0:1: bandwidthCap='100MBps'", "scsi0:0 ≤ 800 IOPS; scsi0:1 ≤ 100 MB/s",
               "yes", None],
              ["vc02", "old-reporting-02", "esx-spare.dc2.example", "unknown", "old60-vmfs-01", "scsi0:0, scsi0:1",
               "scsi0:0: limit 400 IOPS; scsi0:1: none", "legacy: nothing enforced | per-disk: scsi0:0 ≤ 400 IOPS",
               "unknown", f"scheduler unknown: {LONG_OPTION} could not be read on this host (host is "
               "notResponding: option not readable)"]])
    # No findings and plain names: the fixture is about the two tables (the report fixtures' CJK
    # names come in a fallback font whose text pdfminer does not extract, which would blind the check).
    return ReportContext(snapshot=rf.snapshot(errors=False).model_copy(update={"vcenters": {}}),
                         results=Results(checks=[]), tables=[wide, scheduler], generated_at=rf.GENERATED,
                         detail=Detail.full)  # the standard edition leaves tables over 11 columns to XLSX


@pytest.fixture(scope="module")
def fixture_pdf(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    html = report_pdf_html(_fixture_context())
    path = tmp_path_factory.mktemp("pdf-layout") / "fixture.pdf"
    path.write_bytes(html_to_pdf(html))
    return path, html


def test_fixture_long_option_name_stays_on_the_page(fixture_pdf: tuple[Path, str]) -> None:
    path, _html = fixture_pdf
    assert unread_pages(path) == []
    assert chars_outside_page(path) == []
    with pdfplumber.open(path) as pdf:
        page = next(p for p in pdf.pages if "Why not" in (p.extract_text() or ""))
        title = next(w for w in page.extract_words() if w["text"] == "Why")
        column = page.crop((title["x0"] - 1, title["bottom"], page.width, page.height))
        text = (column.extract_text() or "").replace("\n", "")
    assert LONG_OPTION in text  # broken across lines, perhaps, but all of it printed


def test_fixture_wide_table_gets_a_landscape_page_and_whole_title_words(fixture_pdf: tuple[Path, str]) -> None:
    path, html = fixture_pdf
    landscape = [p.number for p in scan_pdf(path) if p.landscape]
    wide_pages = [p.number for p in scan_pdf(path) if "Wide pools" in p.text]
    assert landscape == wide_pages and len(landscape) == 1
    assert header_problems(path, header_titles(html)) == []
    # The check is not vacuous: all 23 titles of the wide table were found and read.
    assert sum(1 for page, _w in header_cells(path) if page in landscape) == len(VRAM_POOL_COLUMNS)


# -- the bundled sample, as `vcreport demo --format pdf` writes it --------------------------------

def _detail_levels() -> list[str | None]:
    """None = the default output; "full" too once the tool has detail levels."""
    return [None, "full"] if "detail" in inspect.signature(api.demo).parameters else [None]


@pytest.fixture(scope="module", params=_detail_levels(), ids=lambda d: d or "default")
def sample_pdf(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("sample-pdf")
    kwargs: dict[str, Any] = {} if request.param is None else {"detail": request.param}
    res = api.demo(out, formats="pdf", **kwargs)
    return out / "report.pdf", report_pdf_html(res.context)


def test_sample_pdf_every_character_inside_its_page(sample_pdf: tuple[Path, str]) -> None:
    path, _html = sample_pdf
    assert unread_pages(path) == []
    outside = chars_outside_page(path)
    assert outside == [], f"{len(outside)} characters off the page, first: {outside[:5]}"


def test_sample_pdf_column_titles_wrap_between_words(sample_pdf: tuple[Path, str]) -> None:
    path, html = sample_pdf
    assert header_problems(path, header_titles(html)) == []
    assert len(header_cells(path)) > 100  # the sample has dozens of tables: the check saw them


def test_sample_pdf_opens_with_the_executive_summary_and_the_standard_edition_fits_30_pages(
        sample_pdf: tuple[Path, str], request: pytest.FixtureRequest) -> None:
    path, _html = sample_pdf
    scan = scan_pdf(path)
    pages = len(scan)
    first = " ".join(scan[0].text.split())
    second = " ".join(scan[1].text.split())
    # Page 1 is the executive summary, all of it: area verdicts, licensing verdicts, top actions,
    # changes since the last run; the contents start on page 2.
    for text in ("Executive summary", "409 VMs checked", "Area Verdict Groups Open findings Worst Not evaluated",
                 "Snapshots Action needed", "Licensing: are we compliant, until when, what to buy",
                 "AT RISK vc01 · vSphere Enterprise Plus", "Top actions", "Snapshots older than 7 days",
                 "Changes since the last run"):
        assert text in first, text
    assert "Contents" not in first and second.split(" Contents ")[0].startswith("vc01, vc02 Collected")
    if request.node.callspec.params["sample_pdf"] is None:  # the default edition: standard
        assert pages <= 30


def test_sample_pdf_prints_no_text_smaller_than_5_5_pt(sample_pdf: tuple[Path, str]) -> None:
    """Paper is read at arm's length: the smallest text (chart axes, legends, notes) stays at
    5.5 pt or more. The vRAM charts' axes printed at 2.9-4.2 pt when drawn at the screen's size."""
    path, _html = sample_pdf
    scan = scan_pdf(path)
    small = [(n, text, size) for n, page in enumerate(scan, 1) for text, size in page.small]
    charts = sum(1 for page in scan if "vRAM use vs entitlement" in page.text)
    assert charts >= 1  # the sample's vRAM charts are in this edition
    assert small == [], f"{len(small)} characters under 5.5 pt, first: {small[:10]}"
