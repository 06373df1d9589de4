"""Every text a customer reads, from the bundled sample: no internal references, no source field
names, no JSON-looking evidence; not-evaluated checks never get a tick; the methodology is cited."""

from __future__ import annotations

import csv
import functools
import html as htmllib
import json
import re
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import openpyxl
import pytest
from lxml import html as lxml_html
from pypdf import PdfReader

from reporter import api
from reporter.checks import registry
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
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, api.ReportOutput]:
    """The bundled sample, rendered once for this file: every format a customer reads."""
    out = tmp_path_factory.mktemp("demo")
    return out, api.demo(out, formats="html,pdf,xlsx,csv,json")


@pytest.fixture(scope="module")
def outputs(demo: tuple[Path, api.ReportOutput]) -> dict[str, str]:
    out, res = demo
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


# -- the words a reader sees: no empty references, no API names or codes, no sentence cut ----------

# API property names a reader should not need (the vSphere Client has words for them). Commands
# (PowerCLI, govc, esxcli) and VMX keys (ctkEnabled, sched.scsi0:0.throughputCap) keep theirs.
# The CPU/MMU flags as the API spells them (virtualExecUsage, virtualMmuUsageIgnored; PowerCLI's
# Flags.VirtualExecUsage is a command, wrapped over lines in the PDF): the
# report's words are "CPU virtualization setting" and "MMU virtualization setting".
API_NAMES = re.compile(r"layoutEx|storageIOAllocation|(?<![\w$.])changeTrackingEnabled|\bguest\.guest\w+"
                       r"|\bruntime\.[a-z]\w+|\bconfig\.[a-z]\w+|(?<![\w.])virtual(?:Exec|Mmu)Usage"
                       r"|storageIORMSupported|\bexpirationDate\b")
# vSphere state codes; the vSphere Client says "Powered on", "Not responding".
STATE_CODES = re.compile(r"\b(poweredOn|poweredOff|notResponding|standBy|physicalMode|virtualMode"
                         r"|link_down|no_physical_nic|unknown_physical_nic|standby_uplinks|beacon_probing"
                         r"|at_risk|non_compliant|not_evaluated)\b|\bcpu(?:Package|Core)\(s\)|\d cpu(?:Package|Core)\b"
                         r"|^None[:(]", re.M)  # a recommendation that starts "None:" reads as an empty cell
STATE_CODE_CELLS = {"poweredOn", "poweredOff", "suspended", "standBy", "connected", "disconnected", "notResponding",
                    "physicalMode", "virtualMode", "vm-off", "physical-rdm",
                    "cpuPackage", "cpuCore", "at_risk", "non_compliant", "not_evaluated", "hvOn", "hvAuto", "hvOff",
                    "esxi", "vcenter", "vm", "pnic", "portgroup", "pool", "aug2011", "jul2011"}
# Where a text turns into a command an administrator types: from there to the line's end it is kept.
COMMAND = re.compile(r"PowerCLI:|PowerShell:|\bgovc |\besxcli |\bvim-cmd |ExtensionData|\$\w+ *=")
EMPTY_REFERENCE = re.compile(r"References:\s*[.;]|References:\s*\Z|;\s*;|;\s*\.(?!\w)")


def _prose(lines: list[str]) -> str:
    """``lines`` without their command text."""
    return "\n".join(COMMAND.split(line, maxsplit=1)[0] for line in lines)


@pytest.fixture(scope="module")
def reader_text(demo: tuple[Path, api.ReportOutput], outputs: dict[str, str]) -> dict[str, str]:
    """Each format's prose, line by line as the reader meets it (HTML: each block element's text,
    read with lxml; XLSX/CSV: each line of each cell; PDF and email: their text lines)."""
    out, _res = demo
    html_lines = _html_blocks(out / "report.html")
    cells = [line for sheet in _xlsx_cells(out).values() for _header, v in sheet if isinstance(v, str)
             for line in v.splitlines()]
    csv_lines = [line for rows in _csv_rows(out).values() for row in rows[1:] for c in row for line in c.splitlines()]
    return {"html": _prose(html_lines), "xlsx": _prose(cells), "csv": _prose(csv_lines),
            "pdf": _prose(outputs["pdf"].splitlines()), "email_text": _prose(outputs["email_text"].splitlines()),
            "email_html": _prose([outputs["email_html"]])}


BLOCKS = {"body", "div", "section", "header", "footer", "nav", "p", "li", "dl", "td", "th", "caption", "figcaption",
          "h1", "h2", "h3", "h4", "h5", "h6", "pre"}


@functools.lru_cache(maxsize=2)  # the same file for several tests: parsed once
def _html_blocks(path: Path) -> list[str]:
    """report.html's visible text, one line per block element (a paragraph, a list item, a table
    cell, an evidence list): every text node goes to its nearest block, so none is left out."""
    tree = lxml_html.parse(str(path))
    for junk in tree.xpath("//style|//script|//title"):
        junk.drop_tree()
    lines: dict[int, list[str]] = {}
    order: list[int] = []
    for node in tree.xpath("//body//text()"):
        block = node.getparent()
        while block is not None and block.tag not in BLOCKS:
            block = block.getparent()
        key = id(block)
        if key not in lines:
            lines[key] = []
            order.append(key)
        lines[key].append(str(node))
    return [" ".join("".join(lines[k]).split()) for k in order]


@functools.lru_cache(maxsize=2)  # the same file for several tests: parsed once
def _xlsx_cells(out: Path) -> dict[str, list[tuple[str, object]]]:
    """Every sheet's cells as (column title, value), values with their types."""
    wb = openpyxl.load_workbook(out / "report.xlsx", read_only=True)
    sheets: dict[str, list[tuple[str, object]]] = {}
    for ws in wb.worksheets:
        rows = ws.iter_rows(values_only=True)
        header = [str(h) for h in next(rows, ())]
        sheets[ws.title] = [(header[i] if i < len(header) else "", v) for row in rows for i, v in enumerate(row)
                            if v is not None]
    return sheets


@functools.lru_cache(maxsize=2)  # the same file for several tests: parsed once
def _csv_rows(out: Path) -> dict[str, list[list[str]]]:
    rows = {}
    for f in sorted((out / "csv").glob("*.csv")):
        with f.open(encoding="utf-8-sig", newline="") as fh:
            rows[f.name] = list(csv.reader(fh))
    return rows


READER_FORMATS = ["html", "pdf", "xlsx", "csv", "email_text", "email_html"]


@pytest.mark.parametrize("fmt", READER_FORMATS)
def test_sample_no_api_property_names_outside_commands(reader_text: dict[str, str], fmt: str) -> None:
    text = reader_text[fmt]
    hits = [text[max(0, m.start() - 50):m.end() + 30] for m in API_NAMES.finditer(text)]
    assert not hits, f"{fmt}: {hits[:5]}"


@pytest.mark.parametrize("fmt", READER_FORMATS)
def test_sample_no_state_codes(reader_text: dict[str, str], fmt: str) -> None:
    text = reader_text[fmt]
    hits = [text[max(0, m.start() - 50):m.end() + 30] for m in STATE_CODES.finditer(text)]
    assert not hits, f"{fmt}: {hits[:5]}"
    assert not re.search(r"state: (connected|disconnected|suspended)\b", text)


def test_sample_states_in_the_vsphere_clients_words(reader_text: dict[str, str]) -> None:
    # The sample has a host that does not respond and powered-on VMs in CBT and CPU/MMU findings.
    for fmt in ("html", "pdf"):
        text = " ".join(reader_text[fmt].split())
        assert "Host is not responding: its VMs and settings cannot be verified." in text, fmt
        assert "Connection state: Not responding" in text and "Power state: Powered on" in text, fmt
        assert "host is not responding: option not readable" in text, fmt
    assert "Not responding" in reader_text["xlsx"] and "Powered on" in reader_text["csv"]


def test_sample_state_cells_are_words(demo: tuple[Path, api.ReportOutput]) -> None:
    out, _res = demo
    xlsx = [(sheet, h, v) for sheet, cells in _xlsx_cells(out).items() for h, v in cells if v in STATE_CODE_CELLS]
    assert not xlsx, xlsx[:5]
    csv_cells = [(f, rows[0][i], c) for f, rows in _csv_rows(out).items() for row in rows[1:]
                 for i, c in enumerate(row) if c in STATE_CODE_CELLS]
    assert not csv_cells, csv_cells[:5]
    tree = lxml_html.parse(str(out / "report.html"))
    tds = [" ".join(td.text_content().split()) for td in tree.xpath("//td")]
    assert not [t for t in tds if t in STATE_CODE_CELLS]
    assert "Powered on" in tds and "Not responding" in tds  # the check saw the columns


def test_sample_vram_pool_evidence_in_words(demo: tuple[Path, api.ReportOutput],
                                           reader_text: dict[str, str]) -> None:
    # The sample's vSphere 5.0 pools over their entitlement today (LIC-002), at risk (LIC-003) and
    # a licence adding spare capacity to a pool (LIC-009).
    out, _res = demo
    table, source = "Revised entitlements of 3 August 2011 (aug2011)", "this collection's inventory"
    for fmt in ("html", "pdf"):
        text = " ".join(reader_text[fmt].split())
        assert f"vRAM table: {table}" in text or f"vRAM table {table}" in text, fmt
    html = " ".join(reader_text["html"].split())
    assert f"Today's high-water read from: {source}" in html
    assert "Crossing date (at the recent trend): 2026-12-07" in html and "At-risk horizon: 90 days" in html
    assert "Headroom warning threshold: 10 %" in html
    sheet = _xlsx_cells(out)["Licensing Evidence"]
    titles = list(dict.fromkeys(h for h, _v in sheet))
    assert {"vRAM pool", "Adds to vRAM pool", "Pool ID (vcreport plan --pool)",
            "Adds to pool ID (vcreport plan --pool)"} <= set(titles)
    assert "Pool" not in titles and "vRAM pool ID (vcreport plan --pool)" not in titles  # one title per meaning
    assert {v for h, v in sheet if h == "vRAM table"} == {table}
    assert {v for h, v in sheet if h == "Today's high-water read from"} == {source}
    assert {"Crossing date (at the recent trend)", "At-risk horizon (days)", "Headroom warning threshold (%)",
            "Headroom, share of the entitlement (%)"} <= set(titles)
    csv_rows = _csv_rows(out)["licensing_evidence.csv"]
    col = csv_rows[0].index("vRAM table")
    assert {r[col] for r in csv_rows[1:] if r[col]} == {table}


def test_sample_flags_are_yes_no_in_every_sheet_and_csv(demo: tuple[Path, api.ReportOutput]) -> None:
    out, _res = demo
    sheets = _xlsx_cells(out)
    booleans = [(s, h) for s, cells in sheets.items() for h, v in cells if isinstance(v, bool)]
    assert booleans == []
    # The same words in the inventory sheets and the SIOC sheets.
    assert {v for h, v in sheets["VMs"] if h == "Template"} == {"no"}
    assert {v for h, v in sheets["SIOC Datastores"] if h == "SIOC enabled"} <= {"yes", "no"}
    # TRUE/FALSE is only the value of a VMX key an administrator types (ctkEnabled = "TRUE"), never
    # a flag of the report's.
    def typed_setting(column: str) -> bool:
        return "ctk" in column.lower()

    flags = {(f, rows[0][i]) for f, rows in _csv_rows(out).items() for row in rows[1:] for i, c in enumerate(row)
             if c.lower() in ("true", "false")}
    assert flags and all(typed_setting(column) for _f, column in flags), flags
    xlsx_flags = {(s, h) for s, cells in sheets.items() for h, v in cells if str(v).lower() in ("true", "false")}
    assert all(typed_setting(h) for _s, h in xlsx_flags), xlsx_flags


CPU_MMU_LABELS = ("CPU virtualization setting", "MMU virtualization setting", "Host ignores the per-VM CPU setting",
                  "Host ignores the per-VM MMU setting")


def test_sample_cpu_mmu_settings_in_the_report_words(demo: tuple[Path, api.ReportOutput],
                                                     reader_text: dict[str, str]) -> None:
    """The CPU/MMU family names a VM's two flags by the report's labels in every format (evidence,
    the Windows 2003 table, sheet and CSV column titles), values in words with the value PowerCLI
    sets beside them ("Hardware (hvOn)"); the API
    names appear only in the PowerCLI commands (test_sample_no_api_property_names_outside_commands)."""
    out, _res = demo
    both = ("Host ignores the per-VM CPU setting: no", "Host ignores the per-VM MMU setting: no",
            "[CPU setting hvOn, MMU setting on]", "Whether it ignores it, known from: host's own report",
            "ignores the per-VM setting (as the host itself reports; ESXi 6.7 and later)")
    # The PDF prints a group's shared evidence and a few differing columns; the HTML all of it.
    html_only = ("CPU virtualization setting: Hardware (hvOn)", "MMU virtualization setting: Hardware (on)",
                 "Recommended: Hardware CPU and MMU (CPU setting hvOn, MMU setting on)")
    for fmt, wanted in (("html", both + html_only), ("pdf", both)):
        text = " ".join(reader_text[fmt].split())
        assert [w for w in wanted if w not in text] == [], fmt
        assert "known from: capability" not in text, fmt
    # The same titles head the sheets' and the CSV files' columns, each once.
    wb = openpyxl.load_workbook(out / "report.xlsx", read_only=True)
    headers = {ws.title: [str(h) for h in next(ws.iter_rows(values_only=True))] for ws in wb.worksheets}
    csv_headers = {f: rows[0] for f, rows in _csv_rows(out).items()}
    for name, header in (("CPU MMU Evidence", headers["CPU MMU Evidence"]),
                         ("CPU MMU Win2003 VMs", headers["CPU MMU Win2003 VMs"]),
                         ("cpu_mmu_evidence.csv", csv_headers["cpu_mmu_evidence.csv"]),
                         ("cpu_mmu_win2003_vms.csv", csv_headers["cpu_mmu_win2003_vms.csv"])):
        wanted = CPU_MMU_LABELS if "evidence" in name.lower() else CPU_MMU_LABELS[:2]
        assert all(header.count(t) == 1 for t in wanted), (name, header)
        assert len(set(header)) == len(header), name
        assert not [h for h in header if API_NAMES.search(h)], (name, header)
    for fmt in ("xlsx", "csv"):
        assert "CPU setting hvOff, MMU setting off" in reader_text[fmt], fmt


@pytest.mark.parametrize("fmt", ["html", "pdf", "email_text", "email_html"])
def test_sample_no_empty_reference(demo: tuple[Path, api.ReportOutput], outputs: dict[str, str], fmt: str) -> None:
    text = outputs[fmt]
    assert not [m.group(0) for m in EMPTY_REFERENCE.finditer(text)], fmt
    if fmt == "html":  # a block of its own there: "References:" with nothing after it
        refs = [b for b in _html_blocks(demo[0] / "report.html") if "References:" in b]
        assert refs and [b for b in refs if re.search(r"References:\s*(?:[.;]|$)", b)] == []
    if fmt in ("html", "pdf"):  # NET-005's reference has neither a KB number nor a link: its title
        assert "References: VMware vSphere Networking guide: Teaming and Failover Policy" in " ".join(text.split())


def test_every_registered_reference_prints_something() -> None:
    refs = [(c.meta.id, r) for c in registry.all_checks() for r in c.meta.references]
    assert len(refs) > 20
    assert [cid for cid, r in refs if not r.label.strip() or not r.title.strip()] == []
    for item in api.list_checks():
        assert all(isinstance(x, str) and x.strip() for x in item["references"]), item
    net = next(c for c in api.list_checks() if c["id"] == "NET-005")
    assert net["references"] == ["VMware vSphere Networking guide: Teaming and Failover Policy"]


def test_sample_no_sentence_cut_in_a_cell(demo: tuple[Path, api.ReportOutput], outputs: dict[str, str]) -> None:
    """A name may be cut with "…" (its full text in the tooltip); a sentence prints whole."""
    out, _res = demo
    tree = lxml_html.parse(str(out / "report.html"))
    cut = [el.get("title") for el in tree.xpath("//bdi[@title]") if el.text_content().endswith("…")]
    assert [t for t in cut if len(t.split()) >= 6] == []
    pdf = "".join(outputs["pdf"].split())  # without spaces: pypdf joins a cell's wrapped lines unevenly
    # Cells and messages the sample's report.pdf used to cut mid-sentence, whole.
    for whole in ("the average covers the days that exist",
                  "vCenter may report only its descriptor or its provisioned size (docs/methodology.md#snapshot-space)",
                  "IOPS cap on scsi0:1 but not on scsi0:0"):
        assert "".join(whole.split()) in pdf, whole


def test_sample_sheet_references_name_the_workbooks_sheets(demo: tuple[Path, api.ReportOutput],
                                                           reader_text: dict[str, str]) -> None:
    # "(sheet 'vRAM Consumers')": a reader looks for that tab, so the name must be the tab's.
    out, _res = demo
    from openpyxl import load_workbook

    tabs = set(load_workbook(out / "report.xlsx", read_only=True).sheetnames)
    for fmt in ("html", "pdf", "xlsx"):
        text = " ".join(reader_text[fmt].split())
        named = set(re.findall(r"""\(sheet ['"]([^'"]+)['"]\)""", text))
        assert named or fmt == "xlsx", fmt  # the report's notes name sheets (the workbook's own, rarely)
        assert named <= tabs, (fmt, named - tabs)
        assert not re.search(r"\(sheet [a-z]+_", text), fmt
