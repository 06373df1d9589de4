"""The evidence lists: one macro (_macros.html.j2 ev_items) for every edition. On paper they read
"Label: value · Label: value": the separators are spans, not ::after content, because WeasyPrint
computes each pseudo-element's style anew while elements styled alike share one (the printed page
is the same either way). On screen they are a grid of labels and values, the separators hidden."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import report_fixtures as rf

from reporter.render.html import render_html
from reporter.render.pdf import report_pdf_html
from reporter.render.templating import environment

PRINT_CSS = Path(__file__).resolve().parent.parent / "templates" / "_print.css"
REPORT_CSS = PRINT_CSS.with_name("_report.css")


def _ev_items(items: list[SimpleNamespace]) -> str:
    module: Any = environment().get_template("_macros.html.j2").make_module({})
    return str(module.ev_items(items))


def _item(label: str, text: str = "", table: object = None) -> SimpleNamespace:
    return SimpleNamespace(label=label, text=text, table=table)


def test_separators_are_spans_and_the_last_value_has_none() -> None:
    html = _ev_items([_item("Connection state", "notResponding"), _item("Version", "7.0.3"), _item("Build", "21930508")])
    assert html == (
        '<dl class="ev">'
        "<dt>Connection state<span>: </span></dt><dd>notResponding<span class=\"ev-sep\"> · </span></dd>"
        "<dt>Version<span>: </span></dt><dd>7.0.3<span class=\"ev-sep\"> · </span></dd>"
        "<dt>Build<span>: </span></dt><dd>21930508</dd>"
        "</dl>"
    )


def test_one_item_has_no_separator_and_no_items_no_list() -> None:
    assert _ev_items([_item("RDM", "no")]) == '<dl class="ev"><dt>RDM<span>: </span></dt><dd>no</dd></dl>'
    assert _ev_items([]).strip() == ""


def test_labels_and_values_are_escaped() -> None:
    html = _ev_items([_item("<b>", "a & b")])
    assert html == '<dl class="ev"><dt>&lt;b&gt;<span>: </span></dt><dd>a &amp; b</dd></dl>'


def test_a_table_value_keeps_its_table_and_no_separator_follows_it() -> None:
    # On paper the table takes the text width, so the next label starts a line of its own: a
    # separator there began that line with a lone "·".
    table = SimpleNamespace(columns=["Disk", "Limit"], rows=[["scsi0:0", "16 IOPS"]])
    html = _ev_items([_item("Disks", table=table), _item("Host", "esx07")])
    assert re.fullmatch(
        r'<dl class="ev"><dt>Disks<span>: </span></dt><dd><table class="evt">.*</table>'
        r'\s*</dd><dt>Host<span>: </span></dt><dd>esx07</dd></dl>', html, re.S)
    assert "<th>Disk</th><th>Limit</th>" in html and "scsi0:0" in html


def test_print_css_generates_no_evidence_separators_itself() -> None:
    css = PRINT_CSS.read_text()
    assert not re.search(r"dl\.ev[^{]*::(after|before)", css)
    assert "dl.ev .ev-sep { color: #8d99a6; }" in css


def test_screen_css_hides_the_separators_and_generates_none() -> None:
    css = REPORT_CSS.read_text()
    assert not re.search(r"dl\.ev[^{]*::(after|before)", css)
    screen = css[css.index("@media screen {"):]
    assert "dl.ev dt > span, dl.ev .ev-sep { display: none; }" in screen
    assert css.count("ev-sep") == 1  # only there: paper shows them


def test_screen_and_paper_write_the_same_evidence_markup() -> None:
    ctx = rf.context()
    screen = re.findall(r'<dl class="ev">.*?</dl>', render_html(ctx), re.S)
    # (paper's long tokens carry zero-width break marks: reporter/render/print_text.py)
    paper = re.findall(r'<dl class="ev">.*?</dl>', report_pdf_html(ctx).replace("\u200b", ""), re.S)
    assert paper and set(paper) <= set(screen)
    assert all("<span>: </span></dt>" in dl for dl in screen)


def test_link_targets_are_on_headings_and_every_internal_link_has_one() -> None:
    # An id gives an element, and all inside it, styles of their own in WeasyPrint: the check,
    # group and area sections carry none; their headings do (_pdf.html.j2).
    html = report_pdf_html(rf.context())
    assert not re.search(r'<section class="(check|group|family)"[^>]* id=', html)
    assert re.findall(r'<h2 id="(family-[^"]+)"', html) == ["family-licensing", "family-snapshots", "family-zz-lab"]
    assert '<h3 id="check-TST-001">' in html and '<h4 id="g-tst-001">' in html
    assert '<nav class="toc">\n  <h2 id="contents">Contents</h2>' in html
    ids = set(re.findall(r' id="([^"]+)"', html))
    hrefs = set(re.findall(r'href="#([^"]+)"', html))
    assert hrefs and hrefs <= ids
