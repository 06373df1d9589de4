"""report.html: standalone, escaped, data-driven sections, masking, waivers, deltas, charts."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
import report_fixtures as rf

from reporter.checks import family_title
from reporter.render import get_renderer
from reporter.render.html import render_html


@pytest.fixture(scope="module")
def html() -> str:
    return render_html(rf.context())


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def _parse(html: str) -> _Collect:
    p = _Collect()
    p.feed(html)
    return p


def test_hostile_names_render_as_text(html):
    parsed = _parse(html)
    assert not [t for t, _ in parsed.tags if t == "script"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert rf.HOSTILE not in html
    text = "".join(parsed.text)
    # The name reaches the reader intact, as text: object cell, message, evidence, table cell, the
    # changes since the last run (a new finding's object), and in the chart the bar label plus one
    # tooltip per bar (snapshot GB, free GB).
    assert text.count(rf.HOSTILE) == 8
    assert rf.UNICODE in text


def test_standalone_no_external_assets(html):
    parsed = _parse(html)
    assert not [t for t, _ in parsed.tags if t in ("link", "script", "img", "iframe", "object")]
    assert "@import" not in html and "url(" not in html
    hrefs = [a.get("href") for t, a in parsed.tags if t == "a"]
    # Only in-page anchors and the KB reference link.
    assert sorted(h for h in hrefs if not h.startswith("#")) == [
        "https://knowledge.broadcom.com/external/article?legacyId=1025279"]
    assert ('meta', {'name': 'viewport', 'content': 'width=device-width, initial-scale=1'}) in parsed.tags
    assert "@media (max-width: 640px)" in html


def test_headline_counts_and_summary(html):
    assert '<p class="headline">4 VMs checked, 3 findings, 1 waived</p>' in html
    tiles = re.findall(r'<div class="tile tile-(\w+)"><span class="n">(\d+)</span>', html)
    assert tiles == [("critical", "0"), ("high", "1"), ("medium", "1"), ("low", "1"), ("info", "0"), ("waived", "1")]
    assert "4 checks run over 2 vCenters, 4 VMs, 1 host, 0 clusters, 1 datastore." in html
    assert "4 VMs checked, 2 findings (1 waived)" in html  # the check's own line


def test_collection_and_check_errors_come_first(html):
    errors = html.index("Collection incomplete: 1 error")
    assert errors < html.index("1 check could not run") < html.index("Executive summary")
    assert "<b>vc02</b> — hosts: NoPermission: Permission to perform this operation was denied." in html
    assert "<b>LAB-002</b> A check that crashed: ZeroDivisionError: division by zero" in html


def test_family_sections_in_order_then_unknown_families(html):
    sections = re.findall(r'<section class="family" id="family-([\w-]+)">\s*<h2>([^<]+)</h2>', html)
    assert sections == [("licensing", family_title("licensing")), ("snapshots", family_title("snapshots")),
                        ("zz-lab", "Zz lab")]
    # A check with nothing to say is one line; the crashed one is shown in full.
    assert ('<span class="st st-pass">passed</span> Lab check with nothing to report <span class="cid">LAB-001</span>: '
            "1 host checked, no findings") in html
    assert 'id="check-LAB-002"' in html and "This check could not run: ZeroDivisionError" in html


def test_findings_show_evidence_remediation_and_kb(html):
    block = html[html.index('id="check-TST-001"'):html.index('id="check-TST-001"') + 8000]
    assert "Old deltas grow until the datastore fills." in block
    assert "<li class=\"pre\">govc snapshot.remove -vm &lt;vm&gt; &lt;name&gt;</li>" in block
    assert '<a href="https://knowledge.broadcom.com/external/article?legacyId=1025279">KB1025279</a>' in block
    # Evidence with a human label and its unit, never the field name.
    # (the age differs per object: a column of the group's object table)
    assert "<th>Age</th>" in block and "<td><bdi>45 days</bdi></td>" in block and "age_days" not in block
    # One finding has its own remediation: the group gets an "Exact fix" column, one entry per object.
    assert block.count("<th>Exact fix</th>") == 1 and block.count("<summary>steps</summary>") == 2
    assert "Delete the snapshot of Ünïcødé-VM-日本 in the vSphere Client." in block


def test_waived_findings_are_shown_with_reason_and_expiry(html):
    waived = html[html.index("<b>Waived (1):</b>"):]
    waived = waived[:waived.index("</p>")]
    assert "web-01" in waived
    assert "Kept for the CAB-42 migration" in waived
    assert "until 2027-01-31" in waived


def test_delta_new_fixed_still_open(html):
    assert "<p>1 new, 1 fixed, 2 still open.</p>" in html
    rows = re.findall(r'<tr><td>(TST-\d+) — [^<]+(.*?)</td><td class="num">(\d+)</td><td class="num">(\d+)</td>'
                      r'<td class="num">(\d+)</td></tr>', html)
    # What changed names its objects: the new finding's VM, the fixed one's.
    assert rows == [("TST-001", '<br><span class="muted">new: <bdi>&lt;script&gt;alert(1)&lt;/script&gt;</bdi></span>'
                     '<br><span class="muted">fixed: <bdi>db-07</bdi></span>', "1", "1", "1"),
                    ("TST-002", "", "0", "0", "1")]
    assert "<b>Fixed since the last run (1):</b> <bdi>db-07</bdi>" in html
    new_badges = re.findall(r'<span class="badge">new</span>', html)
    assert len(new_badges) == 1


def test_first_run_says_there_is_nothing_to_compare():
    html = render_html(rf.context(with_delta=False))
    assert "No previous run to compare with" in html
    assert "since the last run" not in html.split('id="contents"')[1]


def test_license_keys_masked_unless_asked():
    masked = render_html(rf.context())
    assert rf.KEY not in masked
    assert masked.count(rf.MASKED) >= 4  # object, message, evidence, family table
    shown = render_html(rf.context(show_keys=True))
    assert rf.KEY in shown


def test_tables_and_charts(html):
    # in_summary tables are in the page; inventory-sized ones only in XLSX/CSV.
    assert "<h4>Snapshot space per datastore</h4>" in html
    assert "Every snapshot file" not in html
    svg = re.findall(r"<svg.*?</svg>", html, re.S)
    assert len(svg) == 2  # findings by severity, snapshot space per datastore
    assert "Open findings by severity" in svg[0]
    assert ">ds-prod-01</text>" in svg[1] and ">1,024.0</text>" in svg[1]
    assert ">&lt;script&gt;alert(1)&lt;/script&gt;</text>" in svg[1]
    assert "<script" not in "".join(svg)


def test_renderer_writes_report_html(tmp_path):
    files = get_renderer("html").render(rf.context(), tmp_path)
    assert files == [tmp_path / "report.html"]
    assert files[0].read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
