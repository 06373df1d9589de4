"""report.pdf: running headers/footers, page numbers, repeated table headers, escaping, masking."""

from __future__ import annotations

import re
from dataclasses import replace

import pdfplumber
import pytest
import report_fixtures as rf
from pypdf import PdfReader

from reporter.checks.engine import CheckResult, Results
from reporter.core.detail import STANDARD_OBJECTS, Detail
from reporter.core.findings import Finding, Severity, Status
from reporter.render import get_renderer

_pages = rf.pdf_pages


@pytest.fixture(scope="module")
def pdf_file(tmp_path_factory):
    out = tmp_path_factory.mktemp("pdf")
    files = get_renderer("pdf").render(rf.context(), out)
    assert files == [out / "report.pdf"]
    return files[0]


@pytest.fixture(scope="module")
def pdf_pages(pdf_file) -> list[str]:
    return _pages(pdf_file)


def test_every_page_has_header_and_numbered_footer(pdf_file, pdf_pages):
    n = len(pdf_pages)
    assert n == len(PdfReader(str(pdf_file)).pages) >= 2
    for i, text in enumerate(pdf_pages, start=1):
        lines = text.splitlines()
        assert lines[0] == "vc01, vc02 Collected 2026-11-23 06:00 UTC", f"page {i}: {lines[0]!r}"
        assert lines[-1] == f"vCenter report Page {i} of {n}", f"page {i}: {lines[-1]!r}"


def test_content_escaped_masked_and_complete(pdf_file):
    text = rf.pdf_text(pdf_file)
    assert "4 VMs checked, 3 findings, 1 waived" in text
    assert "Collection incomplete: 1 error" in text
    assert f"Snapshot 'before patch' of {rf.HOSTILE} is 45 days old." in text  # shown as text, not markup
    assert "Ünïcødé-VM-" in text
    assert "Kept for the CAB-42 migration" in text
    assert rf.KEY not in text and rf.MASKED in text
    # Collection errors come before the summary, the summary before the sections.
    assert (text.index("Collection incomplete") < text.index("Executive summary") < text.index("Top actions")
            < text.index("Contents") < text.index("Why it matters: Old deltas"))


def _many_findings(n: int) -> Results:
    meta = rf.SNAP_META
    long = " ".join(["The delta keeps growing with every write to the base disk."] * 4)
    fs = [Finding(check_id=meta.id, severity=Severity.high, status=Status.fail, vcenter="vc01", object_type="vm",
                  object_name=f"vm-{i:03d}", object_id=f"{rf.UUID1}/vm-{i}", message=f"Finding number {i:03d}. {long}",
                  evidence={"age_days": i, "note": long}, remediation="\n".join(meta.remediation)) for i in range(n)]
    return Results([CheckResult(meta, n, fs)])


def test_long_lists_are_capped_in_the_standard_edition(tmp_path):
    # One group of many objects: the standard edition lists the first 50, one row each (the age
    # differs per object, so it is a column).
    n = STANDARD_OBJECTS + 7
    get_renderer("pdf").render(rf.context(res=_many_findings(n), errors=False, with_delta=False), tmp_path)
    pages = _pages(tmp_path / "report.pdf")
    text = "\n".join(pages)
    with pdfplumber.open(tmp_path / "report.pdf") as pdf:  # no glyph is missing here: pdfminer reads it too
        assert len(pdf.pages) == len(pages)
    shown = sorted(set(re.findall(r"(vm-\d{3}) \d+ days", text)))
    assert shown == [f"vm-{i:03d}" for i in range(STANDARD_OBJECTS)]
    # The messages differ per object: paper shows one as an example; each is in the other formats.
    assert "For example, vm-000: Finding number 000." in text and "Finding number 001." not in text
    assert "7 more not listed here (the first 50 are)" in text


def test_table_header_repeats_on_every_page(tmp_path):
    # The full edition lists every object: 150 rows take several pages, each starting with the
    # table's header.
    n = 150
    ctx = replace(rf.context(res=_many_findings(n), errors=False, with_delta=False), detail=Detail.full)
    get_renderer("pdf").render(ctx, tmp_path)
    pages = _pages(tmp_path / "report.pdf")
    with_rows = [p for p in pages if re.search(r"vm-\d{3} ", p)]
    assert len(with_rows) >= 2
    for p in with_rows:
        assert "Object Age" in p, p[:300]
    shown = sorted(set(re.findall(r"(vm-\d{3}) \d+ days", "\n".join(pages))))
    assert shown == [f"vm-{i:03d}" for i in range(n)]
