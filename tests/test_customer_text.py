"""Every text a customer reads, from the bundled sample: no internal references, no source field
names, no JSON-looking evidence; not-evaluated checks never get a tick; the methodology is cited."""

from __future__ import annotations

import csv
import html as htmllib
import json
import re
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import openpyxl
import pytest
from pypdf import PdfReader

from reporter import api
from reporter.config import EmailConfig
from reporter.core import snapshot_io
from reporter.deliver.email import build_message
from reporter.pipeline.report import report
from reporter.render.evidence import UNVERIFIED_CAVEAT, label, scalar

SAMPLE_SNAPSHOT = Path(__file__).resolve().parents[1] / "samples" / "sample-snapshot.json.gz"

INTERNAL = [
    re.compile(r"domain-reference", re.I),
    re.compile(r"\bissue \d+", re.I),
    re.compile(r"reporter/"),
    re.compile(r"\w\.py\b"),
    re.compile(r"\bseed", re.I),
]
# JSON or Python-dict text: {"key": … / {'key': …
JSON_LIKE = re.compile(r"""\{\s*["'][^"'{}]+["']\s*:""")


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    out = tmp_path_factory.mktemp("demo")
    res = api.demo(out, formats="html,pdf,xlsx,csv,json")
    cfg = EmailConfig(smtp_host="127.0.0.1", sender="vcreport@example.com", recipients=["ops@example.com"],
                      attach=["pdf"])
    raw = bytes(build_message(res.context, cfg, out))
    msg = message_from_bytes(raw, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    plain, html_part = msg.get_body(("plain",)), msg.get_body(("html",))
    assert plain is not None and html_part is not None
    cells = []
    wb = openpyxl.load_workbook(out / "report.xlsx", read_only=True)
    for ws in wb.worksheets:
        for row in ws.iter_rows(values_only=True):
            cells += [str(v) for v in row if v is not None]
    csv_text = []
    for f in sorted((out / "csv").glob("*.csv")):
        with f.open(encoding="utf-8-sig", newline="") as fh:
            csv_text += [c for row in csv.reader(fh) for c in row]
    html = (out / "report.html").read_text(encoding="utf-8")
    findings = json.loads((out / "findings.json").read_text(encoding="utf-8"))
    return {
        "html": _visible(html),
        "html_raw": html,
        "pdf": "\n".join(p.extract_text() or "" for p in PdfReader(out / "report.pdf").pages),
        "xlsx": "\n".join(cells),
        "csv": "\n".join(csv_text),
        "email_text": plain.get_content(),
        "email_html": _visible(html_part.get_content()),
        "evidence_keys": "\n".join(sorted({k for f in findings for k in _keys(f["evidence"]) if "_" in k})),
    }


def _keys(value: object) -> list[str]:
    if isinstance(value, dict):
        return [k for k in value] + [k2 for v in value.values() for k2 in _keys(v)]
    if isinstance(value, list):
        return [k for v in value for k in _keys(v)]
    return []


def _visible(markup: str) -> str:
    """The text a reader sees: no tags, no style/script blocks, entities decoded."""
    markup = re.sub(r"<(style|script)\b.*?</\1>", " ", markup, flags=re.S | re.I)
    text = htmllib.unescape(re.sub(r"<[^>]+>", " ", markup))
    return re.sub(r"\s+", " ", text)


FORMATS = ["html", "pdf", "xlsx", "csv", "email_text", "email_html"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_internal_references(outputs: dict[str, str], fmt: str) -> None:
    text = outputs[fmt]
    for pattern in INTERNAL:
        hits = [text[max(0, m.start() - 40):m.end() + 40] for m in pattern.finditer(text)]
        assert not hits, f"{fmt}: {pattern.pattern}: {hits[:3]}"


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_json_looking_evidence(outputs: dict[str, str], fmt: str) -> None:
    hits = [m.group(0) for m in JSON_LIKE.finditer(outputs[fmt])]
    assert not hits, f"{fmt}: {hits[:3]}"


@pytest.mark.parametrize("fmt", ["html", "pdf", "email_text", "email_html", "xlsx"])
def test_no_snake_case_evidence_field_names(outputs: dict[str, str], fmt: str) -> None:
    keys = outputs["evidence_keys"].split("\n")
    assert "oldest_age_days" in keys and "vram_per_cpu_gb" in keys  # the sample has them
    text = outputs[fmt]
    found = [k for k in keys if re.search(rf"(?<![\w.]){re.escape(k)}(?![\w])", text)]
    assert not found, f"{fmt}: {found}"


def test_unverified_rule_data_is_one_plain_caveat(outputs: dict[str, str]) -> None:
    assert UNVERIFIED_CAVEAT in outputs["html"] and UNVERIFIED_CAVEAT in outputs["pdf"].replace("\n", " ")
    assert "UNVERIFIED" not in outputs["html"] and "UNVERIFIED" not in outputs["pdf"]


def test_methodology_cited_per_check(outputs: dict[str, str]) -> None:
    assert "Methodology: vRAM pools (docs/methodology.md#vram-pools" in outputs["html"]
    assert "Methodology: Known CBT defects (docs/methodology.md#cbt-defects" in outputs["html"]
    methodology = (Path(__file__).resolve().parents[1] / "docs" / "methodology.md").read_text(encoding="utf-8")
    for anchor in set(re.findall(r"docs/methodology\.md#([\w-]+)", outputs["html"])):
        assert f'<a id="{anchor}"></a>' in methodology, anchor


def test_not_evaluated_never_gets_a_tick(outputs: dict[str, str], tmp_path: Path) -> None:
    raw = outputs["html_raw"]
    for cid in ("LIC-004", "LIC-005"):
        line = next(x for x in raw.splitlines() if f'id="check-{cid}"' in x)
        assert "not evaluated" in line and "✓" not in line, line
    text = outputs["html"]
    for area in ("NIC teaming and failover detection", "Host software and upgrade readiness"):
        assert re.search(rf"{area}\s+Action needed", text), area  # the sample has their data
    # A snapshot without host networking and software (taken by an older version): those areas
    # read "Not evaluated" on the executive page, not "OK", and their checks carry no tick.
    snap = snapshot_io.load(SAMPLE_SNAPSHOT)
    bare = snap.model_copy(update={"vcenters": {
        u: vc.model_copy(update={"hosts": {m: h.model_copy(update={"network": None, "software": None})
                                           for m, h in vc.hosts.items()}, "distributed_switches": None})
        for u, vc in snap.vcenters.items()}})
    report(bare, tmp_path, formats="html")
    bare_raw = (tmp_path / "report.html").read_text(encoding="utf-8")
    for cid in ("SW-002", "NET-001"):
        line = next(x for x in bare_raw.splitlines() if f'id="check-{cid}"' in x)
        assert "not evaluated" in line and "✓" not in line, line
    for area in ("NIC teaming and failover detection", "Host software and upgrade readiness"):
        assert re.search(rf"{area}\s+Not evaluated", _visible(bare_raw)), area


def test_executive_summary_comes_first_with_top_actions(outputs: dict[str, str]) -> None:
    pdf = outputs["pdf"]
    first_page = pdf[:pdf.index("Contents")]
    assert "Executive summary" in first_page and "Top actions" in first_page
    for title in ("Snapshots older than 7 days", "Backup snapshots left behind", "VM disks that need consolidation"):
        assert title in first_page.replace("\n", " ") and title in outputs["email_text"] and title in outputs["html"]


def test_labels_and_units() -> None:
    assert label("oldest_age_days") == "Oldest snapshot age" and scalar(120.0, "oldest_age_days") == "120 days"
    assert label("total_size_gb") == "Snapshot space" and scalar(360.0, "total_size_gb") == "360.0 GB"
    assert scalar(1522.8482, "avg_12m_gb") == "1,522.8 GB"
    assert scalar("2026-10-09T06:00:00+00:00", "created") == "2026-10-09 06:00 UTC"
    assert label("host_hw_exec_supported") == "Host has hardware CPU virtualization"
    assert label("spare_uplink_count") == "Spare uplink count"  # a key without a label of its own: its words
    assert label("ctkEnabled") == "ctkEnabled"  # vSphere names stay searchable
