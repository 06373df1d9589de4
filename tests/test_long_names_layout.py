"""Names of 120 characters without a break opportunity (a VM called "vm" and 118 letters) stay on
the paper and in the window.

PDF (WeasyPrint), read back with pdfplumber: no word leaves the page's content box, every word of
a data table lies inside one of its columns, the long names are printed whole over several lines
of their cell, and the break marks that let them wrap (reporter/render/print_text.py) are not in
the extracted text. HTML and email (headless Chromium): the document is no wider than the window.

The fleet is the benchmark's synthetic one (benchmarks/report.py), small, with every VM, host,
datastore and snapshot renamed. Letters only: a hyphen or a digit is a break opportunity already.
"""

from __future__ import annotations

import html
import importlib.util
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pdfplumber
import pytest

from reporter import api
from reporter.core.detail import Detail
from reporter.core.model import Snapshot, SnapshotNode
from reporter.deliver.email import html_body
from reporter.render.base import ReportContext, SourceFile
from reporter.render.html import render_html
from reporter.render.pdf import html_to_pdf, report_pdf_html
from reporter.render.pdfa import PdfaRenderer, verify_pdf
from reporter.render.view import build_view

ROOT = Path(__file__).resolve().parent.parent
N_VMS = 60  # enough for every table that lists VMs, hosts or datastores to hold several
FULL_VMS = 20
NAME_LENGTH = 120  # textsafe.NAME_LIMIT: the longest name a table cell prints whole
MM = 72 / 25.4
SIDE_MARGIN = 12 * MM  # report.pdf's left and right page margins, portrait and landscape (_print.css)
AUDIT_SIDE_MARGIN = 14 * MM  # audit-evidence.pdf's (the @page rule of _print.css)
EDGE = 0.5  # pt a glyph box may pass an edge by (the anti-aliasing of the measure, not of the text)
HEADER_FILL = (0xEE / 255, 0xF1 / 255, 0xF5 / 255)  # <th> background (_report.css)
ROW_RULE = (0xE3 / 255, 0xE7 / 255, 0xEC / 255)  # a data table cell's bottom border (_report.css)
MAX_ROW = 150  # pt: no row of a data table is taller (a long name wraps to a few lines)


def hostile_name(prefix: str, i: int) -> str:
    """``prefix`` and letters up to NAME_LENGTH, ending in ``i`` written in the letters a-p."""
    tail = "".join(chr(ord("a") + (i // 16 ** k) % 16) for k in range(3))
    return prefix + "q" * (NAME_LENGTH - len(prefix) - len(tail)) + tail


HOSTILE_VM = re.compile(r"vmq+[a-p]{3}")


def _synthetic(n_vms: int) -> Snapshot:
    spec = importlib.util.spec_from_file_location("bench_report", ROOT / "benchmarks" / "report.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("bench_report", module)
    spec.loader.exec_module(module)
    snap: Snapshot = module.synthetic(n_vms)
    return snap


def _renamed_tree(nodes: list[SnapshotNode], counter: list[int]) -> list[SnapshotNode]:
    out = []
    for node in nodes:
        counter[0] += 1
        out.append(node.model_copy(update={"name": hostile_name("snap", counter[0]),
                                           "children": _renamed_tree(node.children, counter)}))
    return out


def hostile_fleet(snap: Snapshot) -> Snapshot:
    """``snap`` with every VM, host, datastore and snapshot renamed to a hostile name (the models
    are frozen: copies)."""
    vcenters = {}
    numbers = iter(range(10**6))
    snapshots = [0]
    for key, vc in snap.vcenters.items():
        vms = {m: vm.model_copy(update={"name": hostile_name("vm", next(numbers)),
                                        "snapshots": _renamed_tree(vm.snapshots, snapshots)})
               for m, vm in vc.vms.items()}
        hosts = {m: h.model_copy(update={"name": hostile_name("esx", next(numbers))}) for m, h in vc.hosts.items()}
        stores = {m: d.model_copy(update={"name": hostile_name("ds", next(numbers))}) for m, d in vc.datastores.items()}
        vcenters[key] = vc.model_copy(update={"vms": vms, "hosts": hosts, "datastores": stores})
    return snap.model_copy(update={"vcenters": vcenters})


def _context(snap: Snapshot, detail: Detail) -> ReportContext:
    results, tables = api.check(snap)
    return ReportContext(snapshot=snap, results=results, tables=tables, tool_version="test",
                         detail=detail).masked()


@pytest.fixture(scope="module")
def plain_fleet() -> Snapshot:
    return _synthetic(N_VMS)


@pytest.fixture(scope="module")
def hostile(plain_fleet: Snapshot) -> ReportContext:
    return _context(hostile_fleet(plain_fleet), Detail.standard)


@pytest.fixture(scope="module")
def hostile_pdf_html(hostile: ReportContext) -> str:
    return report_pdf_html(hostile)


@pytest.fixture(scope="module")
def hostile_pdf(hostile_pdf_html: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("long-names") / "report.pdf"
    path.write_bytes(html_to_pdf(hostile_pdf_html))
    return path


# -- on paper ---------------------------------------------------------------------------------------

def poppler_words(pdf_path: Path) -> list[tuple[int, float, float, float, str]]:
    """(page number, page width, x0, x1, text) of every word, as poppler's pdftotext reads the
    PDF (what a PDF viewer copies and searches; 20 times faster than pdfplumber)."""
    proc = subprocess.run(["pdftotext", "-bbox", str(pdf_path), "-"], capture_output=True, text=True, check=True)
    words = []
    number, width = 0, 0.0
    for line in proc.stdout.splitlines():
        if (page := re.search(r'<page width="([\d.]+)"', line)):
            number, width = number + 1, float(page.group(1))
        elif (word := re.search(r'<word xMin="([\d.-]+)" yMin="[\d.-]+" xMax="([\d.-]+)" yMax="[\d.-]+">(.*)</word>', line)):
            words.append((number, width, float(word.group(1)), float(word.group(2)), html.unescape(word.group(3))))
    return words


def words_off_the_content_box(pdf_path: Path, margin: float = SIDE_MARGIN) -> list[str]:
    """Words that cross the left or right edge of the page's content box (the bar charts' labels
    included: they are cut to the room left of their bars, see tests/test_chart_labels.py)."""
    return [f"p.{n}: {text[:40]!r} x {x0:.0f}-{x1:.0f}" for n, width, x0, x1, text in poppler_words(pdf_path)
            if x0 < margin - EDGE or x1 > width - margin + EDGE]


def chart_labels(pdf_html: str) -> set[str]:
    """The texts of the bar charts' labels (right-aligned left of their bars)."""
    return {html.unescape(t).replace("\u200b", "")
            for t in re.findall(r'<text [^>]*text-anchor="end"[^>]*>([^<]*)</text>', pdf_html)}


def _close(color: Any, want: tuple[float, float, float]) -> bool:
    return (isinstance(color, tuple | list) and len(color) == 3
            and all(abs(a - b) < 0.01 for a, b in zip(color, want, strict=True)))


def data_tables(page: Any) -> list[tuple[float, float, list[tuple[float, float]]]]:
    """(top, bottom, columns' (x0, x1)) of each data table on the page: its header cells (their
    background, ruled below in the data tables' colour) and the rows under them, whose bottom
    rules line up with those cells."""
    heads: dict[float, list[dict[str, Any]]] = {}
    for r in page.rects:
        if _close(r.get("non_stroking_color"), HEADER_FILL) and r["x1"] - r["x0"] >= 2:
            heads.setdefault(round(r["top"], 1), []).append(r)
    rules = [ln for ln in page.lines
             if _close(ln.get("stroking_color"), ROW_RULE) and abs(ln["top"] - ln["bottom"]) < 0.1]
    tables = []
    tops = sorted(heads)
    for i, top in enumerate(tops):
        cells = heads[top]
        columns = sorted((c["x0"], c["x1"]) for c in cells)
        header_bottom = max(c["bottom"] for c in cells)
        below = tops[i + 1] if i + 1 < len(tops) else float(page.height)  # the next table's header
        aligned = sorted({round(ln["top"], 1) for ln in rules if top < ln["top"] <= below + 0.1
                          and any(abs(ln["x0"] - x0) < 0.6 and abs(ln["x1"] - x1) < 0.6 for x0, x1 in columns)})
        if not aligned or abs(aligned[0] - header_bottom) > 1.5:
            continue  # no data table's header
        bottom = aligned[0]
        for y in aligned[1:]:
            if y - bottom > MAX_ROW:
                break  # the next table of the same widths, further down
            bottom = y
        if bottom > aligned[0]:  # at least one row of cells
            tables.append((top, bottom, columns))
    return tables


def _in_band(top: float, bottom: float) -> Callable[[dict[str, Any]], bool]:
    def test(obj: dict[str, Any]) -> bool:
        return "top" in obj and top - 0.5 <= obj["top"] and obj["bottom"] <= bottom + 0.5
    return test


def read_data_tables(pdf_path: Path) -> tuple[int, list[str], list[str]]:
    """(tables seen, words outside their column, hostile VM names read down their column).

    A word of a data table must lie inside one of the table's columns. A name is the words of one
    column joined in reading order (the lines of its cell); one cut with "…" (a cell listing
    several) is left out."""
    problems: list[str] = []
    names: list[str] = []
    seen = 0
    with pdfplumber.open(pdf_path) as pdf:
        for page in pdf.pages:
            for top, bottom, columns in data_tables(page):
                seen += 1
                # Not page.crop: that would drop whatever ran off the page's edge. A gap of 1.5 pt
                # ends a word (the padding between two cells is 4 pt at least), so a value that ran
                # into the next column is one word across the edge.
                words = page.filter(_in_band(top, bottom)).extract_words(x_tolerance=1.5)
                down: dict[int, list[str]] = {}
                for w in words:
                    column = next((i for i, (x0, x1) in enumerate(columns)
                                   if x0 - EDGE <= w["x0"] and w["x1"] <= x1 + EDGE), None)
                    if column is None:
                        problems.append(f"p.{page.page_number} y={w['top']:.0f}: {w['text'][:40]!r} "
                                        f"x {w['x0']:.0f}-{w['x1']:.0f}, columns {[(round(a), round(b)) for a, b in columns]}")
                    else:
                        down.setdefault(column, []).append(w["text"])
                for texts in down.values():
                    names += re.findall(rf"{HOSTILE_VM.pattern}(?!…)", "".join(texts))
    return seen, problems, names


@pytest.fixture(scope="module")
def hostile_tables(hostile_pdf: Path) -> tuple[int, list[str], list[str]]:
    return read_data_tables(hostile_pdf)


def test_hostile_names_stay_inside_the_page_content_box(hostile_pdf: Path) -> None:
    problems = words_off_the_content_box(hostile_pdf)
    assert problems == [], f"{len(problems)} words off the content box:\n" + "\n".join(problems[:20])


def test_chart_labels_stay_inside_the_text_area(hostile_pdf: Path, hostile_pdf_html: str) -> None:
    """A bar chart's label is cut with "…" to the room left of its bars: every character of the
    cut names, as pdfplumber reads them, lies inside the page's content box (they used to start
    up to ~14 pt into the left margin)."""
    cut = {t for t in chart_labels(hostile_pdf_html) if t.endswith("…")}
    assert cut, "no long label in the charts"
    drawn = []
    with pdfplumber.open(hostile_pdf) as pdf:
        for page in pdf.pages:
            for word in page.extract_words(x_tolerance=1.5, return_chars=True):
                if word["text"] in cut:
                    drawn.append((page.page_number, float(page.width), word["chars"]))
    assert len(drawn) >= len(cut), (len(drawn), cut)
    outside = [(n, c["text"], round(c["x0"], 1)) for n, width, chars in drawn for c in chars
               if c["x0"] < SIDE_MARGIN - EDGE or c["x1"] > width - SIDE_MARGIN + EDGE]
    assert outside == [], outside[:10]


def test_hostile_names_wrap_inside_their_columns(hostile_tables: tuple[int, list[str], list[str]]) -> None:
    seen, problems, _ = hostile_tables
    assert seen >= 10  # the data tables with a header row on their page
    assert problems == [], "\n".join(problems[:20])


def test_hostile_names_print_whole_over_the_lines_of_their_cell(
        hostile: ReportContext, hostile_tables: tuple[int, list[str], list[str]]) -> None:
    # Nothing clipped, and no break mark in the text read back: the VMs of the vRAM consumers'
    # and the disk-caps tables, each one a VM's whole name.
    names = hostile_tables[2]
    vm_names = {vm.name for vc in hostile.snapshot.vcenters.values() for vm in vc.vms.values()}
    assert len(names) >= 20 and set(names) <= vm_names, names[:3]


def test_break_marks_are_not_in_the_extracted_text(hostile_pdf: Path, hostile_pdf_html: str) -> None:
    """Copying or searching a name in the PDF finds it whole: the zero-width spaces that let it
    wrap (in the HTML WeasyPrint lays out) draw nothing and extract as nothing."""
    assert "\u200b" in hostile_pdf_html
    text = "".join(t for *_, t in poppler_words(hostile_pdf))
    assert "\u200b" not in text and "vm" + "q" * 20 in text


def test_the_full_edition_keeps_hostile_names_on_the_page(tmp_path: Path) -> None:
    # A few VMs: every object of every group is listed, landscape tables included.
    ctx = _context(hostile_fleet(_synthetic(FULL_VMS)), Detail.full)
    pdf_html = report_pdf_html(ctx)
    path = tmp_path / "report.pdf"
    path.write_bytes(html_to_pdf(pdf_html))
    assert any(width > 700 for _, width, *_ in poppler_words(path))  # a landscape page is among them
    problems = words_off_the_content_box(path)
    assert problems == [], f"{len(problems)} words off the content box:\n" + "\n".join(problems[:20])


def test_the_audit_edition_keeps_hostile_names_on_the_page(tmp_path: Path) -> None:
    """The audit evidence edition (PDF/A-3b, its own template and 14 mm margins): the findings'
    tables with hostile names, and the integrity lines of merged snapshot files with long names
    (they were one unbreakable line each: a 50-character file name ran ~70 pt off the page),
    which `vcreport verify` still reads back."""
    ctx = replace(_context(hostile_fleet(_synthetic(FULL_VMS)), Detail.standard), source_files=(
        SourceFile("snapshot-vc01.corp.example-2026-11-23T060000Z.json.gz", "0" * 64),
        SourceFile(hostile_name("snapshot", 1) + ".json.gz", "1" * 64)))
    [path] = PdfaRenderer().render(ctx, tmp_path)
    problems = words_off_the_content_box(path, AUDIT_SIDE_MARGIN)
    assert problems == [], f"{len(problems)} words off the content box:\n" + "\n".join(problems[:20])
    seen, outside_columns, names = read_data_tables(path)
    assert seen >= 5 and outside_columns == [], outside_columns[:20]
    vm_names = {vm.name for vc in ctx.snapshot.vcenters.values() for vm in vc.vms.values()}
    assert len(names) >= 20 and set(names) <= vm_names, names[:3]
    assert verify_pdf(path).source_sha256 == ["0" * 64, "1" * 64]


# -- in the window ----------------------------------------------------------------------------------

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

# Appended to a copy of the page: writes what it measured into the top document's DOM, which
# --dump-dom prints.
MEASURE = """<script>
addEventListener("load", () => {
  const doc = document.scrollingElement, view = doc.clientWidth;
  const out = [...document.querySelectorAll("body *")].filter(e => e.getBoundingClientRect().right > view + 0.5)
    .map(e => e.tagName + "." + e.className);
  const top = window.parent.document;
  const pre = top.createElement("pre");
  pre.id = "layout-measure";
  pre.textContent = JSON.stringify({scrollWidth: doc.scrollWidth, clientWidth: view, outside: out.slice(0, 10)});
  top.body.appendChild(pre);
});
</script>"""


def chromium_layout(page_html: str, width: int, tmp_path: Path, script: str = MEASURE) -> dict[str, Any]:
    """Headless Chromium's measure of ``page_html`` in a window ``width`` px wide.

    The page is laid out in an iframe of that width (its srcdoc: the same origin as the page
    around it, so the script can write there): headless Chromium keeps its own window at least
    500 px wide, a phone's is ~360-400."""
    assert CHROMIUM is not None
    page = tmp_path / f"page-{width}.html"
    framed = html.escape(page_html.replace("</body>", script + "</body>"), quote=True)
    page.write_text(f'<!DOCTYPE html><html><body style="margin:0"><iframe width="{width}" height="900" '
                    f'style="border:0; display:block" srcdoc="{framed}"></iframe></body></html>', encoding="utf-8")
    proc = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                           "--no-first-run", "--disable-background-networking", "--disable-component-update",
                           "--disable-sync", f"--user-data-dir={tmp_path / f'profile-{width}'}",
                           "--window-size=1400,1000", "--dump-dom", page.as_uri()],
                          capture_output=True, text=True, timeout=120, check=True)
    found = re.search(r'<pre id="layout-measure">([^<]*)</pre>', proc.stdout)
    assert found, proc.stderr[-2000:]
    measured: dict[str, Any] = json.loads(html.unescape(found.group(1)))
    assert measured["clientWidth"] == width, measured  # the width asked for (no scrollbar drawn)
    return measured


needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (scripts/test.sh installs it)")


@needs_chromium
@pytest.mark.parametrize("width", [1280, 500, 390])
@pytest.mark.parametrize("names", ["plain", "hostile"])
def test_html_report_is_no_wider_than_the_window(names: str, width: int, request: pytest.FixtureRequest,
                                                 tmp_path: Path) -> None:
    # At 390 px (a phone) the summary's areas table drops two count columns and an evidence value
    # goes under its label (_report.css): six columns squeezed the area names, a disk table beside
    # its label widened the page.
    got = chromium_layout(render_html(request.getfixturevalue(names)), width, tmp_path)
    # Wide tables may scroll inside their own box (div.scroll); the page itself never does.
    assert got["scrollWidth"] <= got["clientWidth"], got
    if width == 1280:
        assert got["outside"] == [], got


def _email(ctx: ReportContext) -> str:
    return html_body(build_view(ctx), "vCenter report", ["report.pdf"], None)


@pytest.fixture(scope="module")
def plain(plain_fleet: Snapshot) -> ReportContext:
    return _context(plain_fleet, Detail.standard)


@needs_chromium
@pytest.mark.parametrize("width", [390, 500])
@pytest.mark.parametrize("names", ["plain", "hostile"])
def test_email_fits_a_phone_window(names: str, width: int, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """A phone's mail app (~360-400 px) or a narrow reading pane (500 px): the message is no wider
    than the window, short names or long (the severity tiles are three a row)."""
    body = _email(request.getfixturevalue(names))
    got = chromium_layout(body, width, tmp_path)
    assert got["scrollWidth"] <= got["clientWidth"] and got["outside"] == [], got
    # Numbers stay on one line when their column narrows (the 10th top action read "1" over "0").
    numbers = re.findall(r'<td class="num" style="([^"]*)"', body)
    assert numbers and all("white-space: nowrap" in style for style in numbers)


# The object tables' name columns (host, datastore, cluster, vCenter, VM): which names of up to 20
# characters take more than one line.
NAME_LINES = """<script>
addEventListener("load", () => {
  const cells = [...document.querySelectorAll("table.objects td.name")]
    .filter(td => td.textContent.trim().length > 0 && td.textContent.trim().length <= 20);
  const lines = td => { const r = document.createRange(); r.selectNodeContents(td);
                        return new Set([...r.getClientRects()].map(x => Math.round(x.top))).size; };
  const broken = cells.filter(td => lines(td) > 1).map(td => td.textContent.trim());
  const top = window.parent.document;
  const pre = top.createElement("pre");
  pre.id = "layout-measure";
  pre.textContent = JSON.stringify({clientWidth: document.scrollingElement.clientWidth, cells: cells.length,
                                    broken: broken.slice(0, 10)});
  top.body.appendChild(pre);
});
</script>"""


@needs_chromium
def test_usual_host_names_stay_on_one_line_on_a_wide_screen(tmp_path: Path) -> None:
    """The bundled sample at 1280 px: "esx06.corp.example" beside long sentences broke inside a
    label ("esx06.corp.exa" / "mple") when the table squeezed its column."""
    sample = Path(__file__).resolve().parent.parent / "samples" / "sample-snapshot.json.gz"
    snap = api.load_snapshot(sample)
    results, tables = api.check(snap)
    ctx = ReportContext(snapshot=snap, results=results, tables=tables, tool_version="test",
                        snapshot_sha256="0" * 64).masked()
    got = chromium_layout(render_html(ctx), 1280, tmp_path, script=NAME_LINES)
    assert got["cells"] >= 50, got
    assert got["broken"] == [], got
