"""api.report with every format on a hostile snapshot and the real checks: keys masked everywhere,
names escaped everywhere, every file written."""

from __future__ import annotations

import zipfile

import pytest
import report_fixtures as rf
from pypdf import PdfReader

from reporter import api

ALL = ["html", "pdf", "pdfa", "xlsx", "csv", "json"]


def _all_text(out) -> dict[str, str]:
    texts: dict[str, str] = {}
    for p in sorted(out.rglob("*")):
        if not p.is_file():
            continue
        rel = str(p.relative_to(out))
        if p.suffix == ".xlsx":
            with zipfile.ZipFile(p) as zf:
                texts[rel] = "".join(zf.read(n).decode("utf-8") for n in zf.namelist() if n.endswith(".xml"))
        elif p.suffix == ".pdf":
            texts[rel] = rf.pdf_text(p)
            for att in PdfReader(str(p)).attachment_list:
                texts[f"{rel}#{att.name}"] = att.content.decode("utf-8")
        else:
            texts[rel] = p.read_text(encoding="utf-8")
    return texts


@pytest.fixture(scope="module")
def snap_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("e2e") / "snapshot.json.gz"
    api.save_snapshot(rf.snapshot(), path)
    return path


def test_every_format_masks_license_keys(snap_file, tmp_path):
    out = api.report(snap_file, tmp_path, formats=ALL)
    names = sorted(str(f.relative_to(tmp_path)) for f in out.files)
    inventory = {f"csv/{n}.csv" for n in ("summary", "findings", "collection_errors", "vcenters", "vms", "hosts",
                                           "clusters", "datastores", "disks", "snapshots", "licenses",
                                           "license_assignments")}
    assert inventory | {"report.html", "report.pdf", "audit-evidence.pdf", "report.xlsx", "findings.json"} <= set(names)
    texts = _all_text(tmp_path)
    leaked = [name for name, text in texts.items() if rf.KEY in text]
    assert leaked == []
    for name in ("report.html", "report.xlsx", "csv/licenses.csv", "audit-evidence.pdf#inventory-licenses.csv"):
        assert rf.MASKED in texts[name], name


def test_show_license_keys_shows_them(snap_file, tmp_path):
    api.report(snap_file, tmp_path, formats=["html", "xlsx", "csv"], show_license_keys=True)
    texts = _all_text(tmp_path)
    for name in ("report.html", "report.xlsx", "csv/licenses.csv"):
        assert rf.KEY in texts[name], name


def test_hostile_names_from_real_checks(snap_file, tmp_path):
    api.report(snap_file, tmp_path, formats=ALL)
    texts = _all_text(tmp_path)
    html = texts["report.html"]
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert rf.UNICODE in html
    assert rf.HOSTILE in texts["report.pdf"] and rf.HOSTILE in texts["audit-evidence.pdf#inventory-vms.csv"]
    # XLSX stores it as escaped XML text; the formula-looking name is a string, never a <f> formula.
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in texts["report.xlsx"]
    assert "<f>" not in texts["report.xlsx"]
    assert "'" + rf.FORMULA.replace('"', '""') in texts["csv/vms.csv"]
