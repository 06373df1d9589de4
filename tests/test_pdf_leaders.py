"""The contents' dot leaders are drawn as one text each line, at the places WeasyPrint laid the
dots out (reporter/render/pdf_leaders.py): same characters, same positions to 0.1 pt, same links."""

from __future__ import annotations

import io
import logging
import re

import pdfplumber
import pytest
from pypdf import PdfReader

from reporter.render.pdf import html_to_pdf
from reporter.render.pdf_leaders import merge_leader_dots

weasyprint = pytest.importorskip("weasyprint")

# The report's rule (templates/_print.css), in a contents of three lines, one of them wrapping.
CONTENTS = """<!doctype html><html lang="en"><head><style>
@page { size: A5; margin: 15mm; }
body { font-family: 'DejaVu Sans'; font-size: 8pt; }
nav ol { list-style: none; padding: 0; width: 60%; }
nav a::after { content: leader(". ") target-counter(attr(href), page); }
section { break-before: page; }
</style></head><body>
<nav><ol>
<li><a href="#one">One</a></li>
<li><a href="#two">A title long enough to take the whole width of its column and wrap</a></li>
<li><a href="#three">Three <span>TRE-003</span></a></li>
</ol></nav>
<section><h2 id="one">One</h2></section>
<section><h2 id="two">Two</h2></section>
""" + "".join(f'<section><h2 id="{"three" if i == 9 else f"x{i}"}">Page {i + 4}</h2></section>' for i in range(10)) + """
</body></html>"""


def _laid_out() -> object:
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    return weasyprint.HTML(string=CONTENTS).render()


def _leaders(document: object) -> list[object]:
    return [box for page in document.pages for box in page._page_box.descendants()  # type: ignore[attr-defined]
            if getattr(box, "is_leader", False)]


def _chars(pdf: bytes) -> list[tuple[str, float, float]]:
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        return sorted(((c["text"], c["x0"], c["top"]) for c in doc.pages[0].chars), key=lambda c: (round(c[2]), c[1]))


def test_each_leader_becomes_one_text_of_the_same_dots() -> None:
    document = _laid_out()
    copies = [len(box.children) for box in _leaders(document)]  # type: ignore[attr-defined]
    assert len(copies) == 3 and min(copies) > 5
    dots = [sum(child.text.count(".") for child in box.children) for box in _leaders(document)]  # type: ignore[attr-defined]

    assert merge_leader_dots(document.pages) == 3  # type: ignore[attr-defined]

    assert [len(box.children) for box in _leaders(document)] == [1, 1, 1]  # type: ignore[attr-defined]
    assert [box.children[0].text.count(".") for box in _leaders(document)] == dots  # type: ignore[attr-defined]
    assert dots == copies
    assert merge_leader_dots(document.pages) == 0  # type: ignore[attr-defined]  # nothing left to merge


def test_the_printed_page_keeps_every_dot_number_and_link_in_place() -> None:
    plain = _laid_out().write_pdf()  # type: ignore[attr-defined]
    merged_document = _laid_out()
    merge_leader_dots(merged_document.pages)  # type: ignore[attr-defined]
    merged = merged_document.write_pdf()  # type: ignore[attr-defined]

    before, after = _chars(plain), _chars(merged)
    assert [c[0] for c in after] == [c[0] for c in before]
    assert max(abs(a[1] - b[1]) + abs(a[2] - b[2]) for a, b in zip(after, before, strict=True)) < 0.1
    page_text = PdfReader(io.BytesIO(merged)).pages[0].extract_text()
    assert re.search(r"One( \.)+ ?2", page_text) and re.search(r"TRE-003( \.)+ ?13", page_text), page_text

    def links(pdf: bytes) -> list[tuple[float, ...]]:
        annots = PdfReader(io.BytesIO(pdf)).pages[0].get("/Annots") or []
        return [tuple(round(float(v), 2) for v in a.get_object()["/Rect"]) for a in annots]

    assert len(links(plain)) >= 3 and links(merged) == links(plain)  # a link area per box of each entry


def test_copies_that_differ_are_left_as_weasyprint_made_them() -> None:
    document = _laid_out()
    first = _leaders(document)[0]
    children = list(first.children)  # type: ignore[attr-defined]
    children[1] = children[1].copy_with_text("-")
    first.children = tuple(children)  # type: ignore[attr-defined]

    assert merge_leader_dots(document.pages) == 2  # type: ignore[attr-defined]
    assert len(first.children) == len(children)  # type: ignore[attr-defined]


def test_the_pdf_renderer_draws_a_leader_as_one_text() -> None:
    # One BT ... ET text object a text box: the contents page's count says whether its dots were merged.
    document = _laid_out()
    texts_per_leader = [len(box.children) for box in _leaders(document)]  # type: ignore[attr-defined]
    plain = document.write_pdf()  # type: ignore[attr-defined]

    def text_objects(pdf: bytes) -> int:
        return PdfReader(io.BytesIO(pdf)).pages[0].get_contents().get_data().count(b"BT\n")  # type: ignore[union-attr]

    assert text_objects(plain) - text_objects(html_to_pdf(CONTENTS)) == sum(n - 1 for n in texts_per_leader)
