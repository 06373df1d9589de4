"""One verdict everywhere: the same pool's verdict, both license counts and crossing date read from
summary.json, the HTML text, the PDF text, the XLSX cells and ``vcreport plan --json`` are equal."""

from __future__ import annotations

import json
import re
from pathlib import Path

import lxml.html
import pdfplumber
import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from reporter.cli import main

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "sample-snapshot.json.gz"
HISTORY = ROOT / "samples" / "sample-vram-history.csv"
POOL = "vc01/enterprise_plus"  # the id: summary.json, findings.json object ids, plan --pool
POOL_LABEL = "vc01 · vSphere Enterprise Plus"  # what every reader sees
LABELS = {"compliant": "compliant", "at_risk": "at risk", "non_compliant": "non-compliant",
          "not_evaluated": "not evaluated"}


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def _summary_line(text: str) -> dict[str, str]:
    """The executive-summary line of POOL (by its label): badge, average, entitlement, crossing date, both counts."""
    # The badge is upper case on screen and in the PDF (CSS), lower case in the HTML source.
    m = re.search(rf"(?i:(at risk|compliant|non-compliant|not evaluated)) {re.escape(POOL_LABEL)} — 12-month average "
                  r"([\d,.]+) GB of ([\d,.]+) GB entitled .*? goes over on (\d{4}-\d\d-\d\d) .*? "
                  r"CPU licenses to add: (\d+) now, (\d+) to hold today's use", _squash(text))
    assert m, f"no licensing line for {POOL_LABEL}"
    return {"verdict": m.group(1).lower(), "avg": m.group(2), "entitled": m.group(3), "crossing": m.group(4),
            "now": m.group(5), "hold": m.group(6)}


@pytest.mark.skipif(not SAMPLE.exists(), reason="sample snapshot not generated")
def test_one_pool_reads_the_same_in_summary_html_pdf_xlsx_and_plan(tmp_path):
    cfg = tmp_path / "cfg.toml"
    cfg.write_text(f'[history]\nurl = "sqlite:///{tmp_path / "history.db"}"\n')
    runner = CliRunner()
    res = runner.invoke(main, ["history", "import", "--config", str(cfg), str(HISTORY)])
    assert res.exit_code == 0, res.output
    out = tmp_path / "report"
    res = runner.invoke(main, ["report", str(SAMPLE), "--out", str(out), "--config", str(cfg),
                               "--format", "html,pdf,xlsx,json"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(main, ["plan", str(SAMPLE), "--config", str(cfg), "--json"])
    assert res.exit_code == 0, res.output
    plan_doc = json.loads(res.output)

    # 1. summary.json: the contract, with the sample's figures.
    summary = json.loads((out / "summary.json").read_text())
    pools = summary["licensing"]["pools"]
    entry = next(p for p in pools if p["pool"] == POOL)
    assert {k: entry[k] for k in ("verdict", "entitled_gb", "high_water_today_gb", "avg_12m_gb", "history_days",
                                  "cpu_licenses_to_add_now", "cpu_licenses_to_add_to_hold_today", "crossing_date",
                                  "crossing_date_trend")} == {
        "verdict": "at_risk", "entitled_gb": 1536.0, "high_water_today_gb": 1764.0, "avg_12m_gb": 1522.8,
        "history_days": 355, "cpu_licenses_to_add_now": 0, "cpu_licenses_to_add_to_hold_today": 3,
        "crossing_date": "2026-12-05", "crossing_date_trend": "2026-12-07"}
    # 2. plan --json: the same entries for every pool, and no scenario when no change is asked for.
    assert plan_doc["current"]["licensing"]["pools"] == pools
    assert plan_doc["scenario"] is None
    assert [p["verdict"] for p in pools if p["pool"].startswith("vc02/")] == ["not_evaluated"] * 3

    expected = {"verdict": LABELS[entry["verdict"]], "avg": f"{entry['avg_12m_gb']:,.1f}",
                "entitled": f"{entry['entitled_gb']:,.0f}", "crossing": entry["crossing_date"],
                "now": str(entry["cpu_licenses_to_add_now"]), "hold": str(entry["cpu_licenses_to_add_to_hold_today"])}

    # 3. HTML: the executive-summary line and the pools table row.
    doc = lxml.html.fromstring((out / "report.html").read_text(encoding="utf-8"))
    line = _summary_line(doc.get_element_by_id("licensing-verdict").text_content())
    assert line == expected
    row = next(tr for tr in doc.get_element_by_id("table-vram_pools").iter("tr")
               if tr.find("td") is not None and tr.find("td").text_content().strip() == POOL_LABEL)  # names sit in <bdi>
    cells = {td.get("data-label"): td.text_content().strip() for td in row.iter("td")}
    assert cells["Pool ID (vcreport plan --pool)"] == POOL
    assert (cells["Verdict"], cells["12-month average (GB)"], cells["Entitled (GB)"], cells["Crossing date"],
            cells["CPU licenses to add now"], cells["CPU licenses to hold today's use"]) == (
        expected["verdict"], expected["avg"], expected["entitled"], expected["crossing"], expected["now"],
        expected["hold"])
    # The LIC findings print the same two numbers.
    findings = json.loads((out / "findings.json").read_text())
    mine = [f for f in findings if f["object_id"] == f"vram-pool:{POOL}" and f["check_id"] in ("LIC-002", "LIC-003")]
    assert {f["object_name"] for f in mine} == {POOL_LABEL}
    assert {f["group"] for f in mine} == {f"LIC-002/{POOL}", f"LIC-003/{POOL}"}  # group keys stay the id
    msgs = [f["message"] for f in mine]
    assert len(msgs) == 2
    assert all(f"CPU licenses to add: {expected['now']} to be compliant on the 12-month average now; "
               f"{expected['hold']} so that today's use" in m for m in msgs)

    # 4. PDF text: page 1 carries the same line.
    with pdfplumber.open(out / "report.pdf") as pdf:
        page1 = pdf.pages[0].extract_text() or ""
    assert _summary_line(page1) == expected

    # 5. XLSX cells of the pools sheet.
    ws = load_workbook(out / "report.xlsx", read_only=True)["vRAM Pools"]
    rows = list(ws.iter_rows(values_only=True))
    header = list(rows[0])
    xrow = dict(zip(header, next(r for r in rows[1:] if r[0] == POOL_LABEL), strict=True))
    assert xrow["Pool ID (vcreport plan --pool)"] == POOL
    crossing = xrow["Crossing date"]  # an Excel date cell
    assert (xrow["Verdict"], xrow["12-month average (GB)"], xrow["Entitled (GB)"],
            crossing.date().isoformat() if crossing is not None else None,
            xrow["CPU licenses to add now"], xrow["CPU licenses to hold today's use"]) == (
        expected["verdict"], entry["avg_12m_gb"], entry["entitled_gb"], entry["crossing_date"],
        entry["cpu_licenses_to_add_now"], entry["cpu_licenses_to_add_to_hold_today"])


@pytest.mark.skipif(not SAMPLE.exists(), reason="sample snapshot not generated")
def test_plan_scenario_json_and_text_give_the_scenario_crossing_date(tmp_path):
    cfg = tmp_path / "cfg.toml"
    cfg.write_text(f'[history]\nurl = "sqlite:///{tmp_path / "history.db"}"\n')
    runner = CliRunner()
    assert runner.invoke(main, ["history", "import", "--config", str(cfg), str(HISTORY)]).exit_code == 0
    args = ["plan", str(SAMPLE), "--config", str(cfg), "--pool", POOL, "--add-vms", "20", "--vm-memory-gb", "16"]
    res = runner.invoke(main, [*args, "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    scen = next(p for p in doc["scenario"]["licensing"]["pools"] if p["pool"] == POOL)
    # 1,764 + 320 GB from today: the average (day 0 now at 2,084) goes over on 2026-11-29.
    assert (scen["verdict"], scen["high_water_today_gb"], scen["crossing_date"],
            scen["cpu_licenses_to_add_now"], scen["cpu_licenses_to_add_to_hold_today"]) == (
        "at_risk", 2084.0, "2026-11-29", 0, 6)
    assert [p["pool"] for p in doc["scenario"]["licensing"]["pools"]] == [
        p["pool"] for p in doc["current"]["licensing"]["pools"]]
    text = runner.invoke(main, args).output
    assert ("outcome: +20 x 16 GB -> vc01 · vSphere Enterprise Plus at risk: goes over on 2026-11-29 "
            "(now: at risk: goes over on 2026-12-05)") in text


def test_email_subject_html_and_text_carry_the_same_pool_line(tmp_path):
    from datetime import timedelta

    import pandas as pd
    from licensing_helpers import AT, snapshot, vsphere5_site

    from reporter.deliver.email import html_body, subject, text_body
    from reporter.history import history_from_samples
    from reporter.pipeline.report import report
    from reporter.render.view import build_view

    # 364 days at 560 GB and today 700 GB against 576 GB: at risk, over on 2027-01-03.
    df = pd.DataFrame([{"ts": AT - timedelta(days=i), "pool_id": "vc1/enterprise_plus", "edition": "x",
                        "used_gb_raw": 700.0 if i == 0 else 560.0, "used_gb_capped": 700.0 if i == 0 else 560.0,
                        "entitled_gb": 576.0} for i in range(365)])
    df["ts"] = pd.to_datetime(df["ts"], utc=True)
    out = report(snapshot(vsphere5_site()), tmp_path, formats=["json"], history=history_from_samples(df, AT.date()))
    view = build_view(out.context)
    line = ("vc1 · vSphere Enterprise Plus — 12-month average 560.4 GB of 576 GB entitled (today's high-water 700 GB — over "
            "the entitlement) · goes over on 2027-01-03 if use stays at today's level (2027-08-29 at the recent "
            "trend) · CPU licenses to add: 0 now, 2 to hold today's use")
    assert f"  [AT RISK] {line}" in text_body(view, [], None).splitlines()
    html = lxml.html.fromstring(html_body(view, "s", [], None))
    assert line in _squash(html.get_element_by_id("licensing-verdict").text_content())
    assert subject(view).startswith("[vCenter report] ") and " — licensing: 1 at risk — vc1" in subject(view)
