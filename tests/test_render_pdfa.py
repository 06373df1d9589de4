"""audit-evidence.pdf: PDF/A-3b markers, embedded evidence, printed hashes and identities."""

from __future__ import annotations

import hashlib
import re

import pytest
import report_fixtures as rf
from pypdf import PdfReader

from reporter.render import get_renderer
from reporter.render.sheets import findings_json, inventory_sheets, sheet_csv

EXPECTED_NAMES = ["findings.json", "inventory-clusters.csv", "inventory-collection_errors.csv", "inventory-datastores.csv",
                  "inventory-disks.csv", "inventory-hosts.csv", "inventory-license_assignments.csv",
                  "inventory-licenses.csv", "inventory-snapshots.csv", "inventory-vcenters.csv", "inventory-vms.csv"]


@pytest.fixture(scope="module")
def audit(tmp_path_factory):
    out = tmp_path_factory.mktemp("pdfa")
    ctx = rf.context()
    files = get_renderer("pdfa").render(ctx, out)
    assert files == [out / "audit-evidence.pdf"]
    return ctx, files[0]


def test_pdfa3b_identification_and_associated_files(audit):
    _, path = audit
    reader = PdfReader(str(path))
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode("utf-8")
    assert re.search(r'pdfaid:part="3"|<pdfaid:part>3</pdfaid:part>', xmp)
    assert re.search(r'pdfaid:conformance="B"|<pdfaid:conformance>B</pdfaid:conformance>', xmp)
    root = reader.trailer["/Root"]
    assert "/OutputIntents" in root  # sRGB output intent, required by PDF/A
    af = [a.get_object() for a in root["/AF"]]
    assert sorted({str(a["/UF"]) for a in af}) == EXPECTED_NAMES
    assert {str(a["/AFRelationship"]) for a in af} == {"/Data"}


def test_attachments_are_the_evidence_bytes_and_hashes_are_printed(audit):
    ctx, path = audit
    reader = PdfReader(str(path))
    attached = {a.name: a.content for a in reader.attachment_list}
    assert sorted(attached) == EXPECTED_NAMES
    assert attached["findings.json"] == findings_json(ctx.results.findings)
    for sheet in inventory_sheets(ctx):
        assert attached[f"inventory-{sheet.id}.csv"] == sheet_csv(sheet)
    # The embedded evidence is masked like every other output.
    assert rf.KEY.encode() not in attached["findings.json"] and rf.MASKED.encode() in attached["findings.json"]
    assert rf.MASKED.encode() in attached["inventory-licenses.csv"]
    text = re.sub(r"\s+", " ", "\n".join(rf.pdf_pages(path)))
    for name, data in attached.items():
        assert f"SHA256 ({name}) = {hashlib.sha256(data).hexdigest()}" in text
    assert f"SHA256 (source snapshot) = {'ab' * 32}" in text
    descs = {a.name: a.description for a in reader.attachment_list}
    assert descs["findings.json"].endswith(f"SHA-256 {hashlib.sha256(attached['findings.json']).hexdigest()}")


def test_attached_findings_json_is_the_findings_json_file(audit, tmp_path):
    ctx, path = audit
    get_renderer("json").render(ctx, tmp_path)
    attached = {a.name: a.content for a in PdfReader(str(path)).attachment_list}
    assert attached["findings.json"] == (tmp_path / "findings.json").read_bytes()


def test_provenance_identities_and_collector_user(audit):
    _, path = audit
    text = "\n".join(rf.pdf_pages(path))
    assert "Collection time 2026-11-23 06:00:00 UTC" in text
    assert "Report generated 2026-11-23 07:15:00 UTC" in text
    assert "Tool vcenter-reporter 0.1.0" in text
    assert "Collection complete no — 1 collection error, listed below" in text
    for uuid in (rf.UUID1, rf.UUID2):
        assert uuid in text
    assert f"Instance UUID {rf.UUID1}" in text and f"Instance UUID {rf.UUID2}" in text
    assert text.count("Collector user svc-report@vsphere.local") == 2
    assert "vCenter vc01 (vc01.example.com)" in text
    assert "Version VMware vCenter Server 8.0.2 build-22617221" in text
    assert "Version 7.0.3 build 21477706" in text
    flowing = rf.pdf_text(path)
    assert "Waived: Kept for the CAB-42 migration (expires 2027-01-31)" in flowing
    assert f"Snapshot 'before patch' of {rf.HOSTILE} is 45 days old." in flowing


def test_audit_tables_have_fixed_columns_and_unevaluated_checks_say_so():
    """Every table of the audit edition has its column widths set (``table-layout: fixed``: each
    cell laid out once; measured automatically, the sample's edition took 61 s to print instead of
    5 s), and a check that could not be evaluated reads "not evaluated" with its reason, not 0 open."""
    from lxml import html as lhtml

    from reporter.checks.engine import CheckStatus
    from reporter.render.html import render_html

    ctx = rf.context()
    unevaluated = [r for r in ctx.results.checks if r.status in (CheckStatus.not_evaluated, CheckStatus.error)]
    assert unevaluated, "the fixture has a check that could not be evaluated"
    doc = lhtml.fromstring(render_html(ctx, "audit.html.j2", limit=50, paged=True, attachments=[], filename="x.pdf",
                                       signature=None))
    tables = doc.xpath("//table")
    assert len(tables) >= 2
    for table in tables:
        assert "fixed" in table.get("class", "").split()
        widths = [col.get("style") for col in table.xpath("./colgroup/col")]
        assert len(widths) == len(table.xpath("./thead/tr/th")) and all("width" in w for w in widths)
    summary = doc.xpath("//section[@id='summary']//table")[0]
    for r in unevaluated:
        row = next(tr for tr in summary.xpath("./tbody/tr") if tr[0].text_content().startswith(r.meta.id + " "))
        cells = [td.text_content().strip() for td in row]
        assert cells[3] == ("not evaluated" if r.status is CheckStatus.not_evaluated else "error") and cells[4] == "—"
        assert r.why.split(":")[0] in cells[0]
    passed = next(r for r in ctx.results.checks if r.status is CheckStatus.passed)
    row = next(tr for tr in summary.xpath("./tbody/tr") if tr[0].text_content().startswith(passed.meta.id + " "))
    assert row[3].text_content().strip() == "0"
