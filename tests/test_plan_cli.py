"""``vcreport plan`` on the bundled sample snapshot and on small fixtures; key masking in
every plan output (terminal, HTML, XLSX)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from licensing_helpers import KEY_EP, KEY_EP_SPARE, snapshot, vsphere5_site
from openpyxl import load_workbook

from reporter.cli import main
from reporter.core import snapshot_io
from reporter.domain.licensing.plan import AddVms, Scenario, load_scenario, plan
from reporter.errors import ConfigError
from reporter.render.plan import display_rows, render_html, render_terminal, render_xlsx, title_of

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "sample-snapshot.json.gz"
RAW_KEY = re.compile(r"\b(?!XXXXX)[0-9A-Z]{5}-(?!XXXXX)[0-9A-Z]{5}-[0-9A-Z]{5}-[0-9A-Z]{5}-[0-9A-Z]{5}\b")


def lines(result):
    return {(l.pool, l.metric): (l.current, l.scenario) for l in result.lines}


def test_scenario_math_on_a_fixture():
    snap = snapshot(vsphere5_site())
    r = plan(snap, Scenario(pool="vc1/standard", power_off=["vm-vm-8"], add_vms=[{"count": 2, "memory_gb": 16}]))
    got = lines(r)
    # 40 + 30 on; power off the 30, add 2 x 16: 72 GB against 64
    assert got[("vc1 · vSphere Standard", "vRAM used (GB)")] == (70.0, 72.0)
    assert got[("vc1 · vSphere Standard", "VMs powered on")] == (2, 3)
    # No history: no verdict, but today's use still says what to buy to hold it (ceil(6/32), ceil(8/32)).
    assert got[("vc1 · vSphere Standard", "CPU licenses to hold today's use")] == (1, 1)
    assert got[("vc1 · vSphere Standard", "Verdict")] == ("not evaluated", "not evaluated")
    assert got[("vc1 · vSphere Standard", "CPU licenses to add now")] == (None, None)
    r2 = plan(snap, Scenario(pool="vc1/standard", edition="enterprise", add_cpu_licenses=1))
    got = lines(r2)
    key = "vc1 · vSphere Standard -> vc1 · vSphere Enterprise"
    assert got[(key, "vRAM entitled (GB)")] == (64.0, 192.0)  # 3 CPUs x 64 GB
    assert got[(key, "CPU licenses to hold today's use")] == (1, 0)
    assert got[(key, "Headroom (GB)")] == (-6.0, 122.0)
    r3 = plan(snap, Scenario(pool="vc1/enterprise_plus", per_core=True))
    got = lines(r3)
    assert got[("vc1 · vSphere Enterprise Plus", "vRAM applies")] == ("yes", "no (per-core subscription)")
    assert got[("vc1 · vSphere Enterprise Plus", "Per-core licensed cores (16 min)")] == (64, 64)
    assert got[("vc1 · vSphere Enterprise Plus", "vSAN TiB included (VCF)")] == (None, 64.0)
    r4 = plan(snap, Scenario(pool="vc1/enterprise_plus", vram_table="jul2011"))
    assert lines(r4)[("vc1 · vSphere Enterprise Plus", "vRAM entitled (GB)")] == (576.0, 288.0)


def test_scenario_errors():
    snap = snapshot(vsphere5_site())
    with pytest.raises(ConfigError, match="needs a pool"):
        plan(snap, Scenario(add_vms=[{"count": 1, "memory_gb": 4}]))
    with pytest.raises(ConfigError, match="no pool 'vc9/x'"):
        plan(snap, Scenario(pool="vc9/x"))
    with pytest.raises(ConfigError, match="unknown vSphere 5 edition"):
        plan(snap, Scenario(pool="vc1/standard", edition="platinum"))


def test_scenario_file(tmp_path):
    f = tmp_path / "q3.toml"
    f.write_text('name = "Q3"\npool = "vc1/standard"\npower_off = ["vm-vm-7"]\n\n[[add_vms]]\ncount = 1\nmemory_gb = 8\n')
    sc = load_scenario(f)
    r = plan(snapshot(vsphere5_site()), sc)
    assert lines(r)[("vc1 · vSphere Standard", "vRAM used (GB)")] == (70.0, 38.0)
    bad = tmp_path / "bad.toml"
    bad.write_text("pools = 1\n")
    with pytest.raises(ConfigError, match="pools: unknown key"):
        load_scenario(bad)


def test_keys_masked_in_terminal_html_xlsx():
    r = plan(snapshot(vsphere5_site()), Scenario(pool="vc1/enterprise_plus"))
    term = render_terminal(r)
    html = render_html(r)
    book = load_workbook(filename=__import__("io").BytesIO(render_xlsx(r)))
    cells = " ".join(str(c.value) for ws in book.worksheets for row in ws.iter_rows() for c in row if c.value is not None)
    for out in (term, html, cells):
        assert KEY_EP not in out and KEY_EP_SPARE not in out
        assert "XXXXX-XXXXX-XXXXX-11111-EPLUS" in out
        assert not RAW_KEY.search(out)
    shown = render_html(r, show_license_keys=True)
    assert KEY_EP in shown


def test_html_is_escaped():
    snap = snapshot(vsphere5_site())
    r = plan(snap, Scenario(name="<script>alert(1)</script>", pool="vc1/standard"))
    html = render_html(r)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html


@pytest.mark.skipif(not SAMPLE.exists(), reason="sample snapshot not generated")
def test_plan_command_on_sample_snapshot(tmp_path):
    runner = CliRunner()
    out_html, out_xlsx = tmp_path / "plan.html", tmp_path / "plan.xlsx"
    res = runner.invoke(main, ["plan", str(SAMPLE), "--pool", "vc01/standard", "--add-vms", "5", "--vm-memory-gb", "8",
                               "--edition", "enterprise", "--add-cpu-licenses", "2", "--out", str(out_html)])
    assert res.exit_code == 0, res.output
    snap = snapshot_io.load(SAMPLE)
    std = next(p for p in __import__("reporter.domain.licensing", fromlist=["analyze"]).analyze(snap).pools if p.id == "vc01/standard")
    assert re.search(r"│ vc01 · vSphere Standard +│ Pool ID \(vcreport plan --pool\) +│ +vc01/standard │ +vc01/enterprise \*", res.output)
    assert re.search(r"│ -> vc01 · vSphere Enterprise +│", res.output)
    # 6 + 2 CPU licenses x 64 GB (Enterprise, aug2011) = 512 GB; use grows by 5 x 8 GB
    assert re.search(r"vRAM entitled \(GB\)\s+│\s+192 │\s+512 \*", res.output)
    assert re.search(rf"vRAM used \(GB\)\s+│\s+{std.used_gb:,.0f} │\s+{std.used_gb + 40:,.0f} \*", res.output)
    assert not RAW_KEY.search(res.output)
    html = out_html.read_text()
    assert "vc01 · vSphere Standard -&gt; vc01 · vSphere Enterprise" in html and not RAW_KEY.search(html)
    res = runner.invoke(main, ["plan", str(SAMPLE), "--pool", "vc01/enterprise_plus", "--per-core", "--out", str(out_xlsx)])
    assert res.exit_code == 0, res.output
    ws = load_workbook(out_xlsx)["plan"]
    rows = {(r[0].value, r[1].value): (r[2].value, r[3].value) for r in ws.iter_rows(min_row=5)}
    assert rows[("vc01 · vSphere Enterprise Plus", "Per-core licensed cores (16 min)")] == (192, 192)  # 6 hosts x 2 x 16
    assert rows[("vc01 · vSphere Enterprise Plus", "vSAN TiB included (VCF)")] == ("-", 192)


def test_plan_command_errors(tmp_path):
    runner = CliRunner()
    snap_file = tmp_path / "s.json"
    snapshot_io.save(snapshot(vsphere5_site()), snap_file)
    res = runner.invoke(main, ["plan", str(snap_file), "--add-vms", "3"])
    assert res.exit_code == 2 and "--add-vms and --vm-memory-gb go together" in res.output
    res = runner.invoke(main, ["plan", str(snap_file), "--out", str(tmp_path / "p.pdf")])
    assert res.exit_code == 2 and "must end in .html or .xlsx" in res.output
    res = runner.invoke(main, ["plan", str(snap_file), "--add-vms", "3", "--vm-memory-gb", "4"])
    assert res.exit_code == 2 and "needs a pool" in res.output


def test_plan_shows_history_for_the_current_state():
    from datetime import timedelta

    import pandas as pd
    from licensing_helpers import AT

    from reporter.history import history_from_samples

    df = pd.DataFrame([{"ts": AT - timedelta(days=i), "pool_id": "vc1/standard", "edition": "standard",
                        "used_gb_raw": 60.0, "used_gb_capped": 60.0, "entitled_gb": 64.0} for i in range(1, 11)])
    df["ts"] = pd.to_datetime(df["ts"], utc=True)
    h = history_from_samples(df, AT.date())
    r = plan(snapshot(vsphere5_site()), Scenario(pool="vc1/standard", add_cpu_licenses=1), history=h)
    got = lines(r)
    # Today (70 GB from the snapshot) is day 0 of the window: (10 x 60 + 70) / 11 = 60.9.
    assert got[("vc1 · vSphere Standard", "12-month average (GB)")] == (60.9, 60.9)
    assert got[("vc1 · vSphere Standard", "Days of history")] == (11, 11)
    # Now: at risk, the first k with (670 + 70k) / (11 + k) > 64 is k = 6: 2026-11-29. With one more
    # CPU license (96 GB) today's 70 GB never crosses.
    assert got[("vc1 · vSphere Standard", "Verdict")] == ("at risk", "compliant")
    assert got[("vc1 · vSphere Standard", "Crossing date")] == ("2026-11-29", "none within 3 years")
    assert got[("vc1 · vSphere Standard", "CPU licenses to add now")] == (0, 0)
    assert got[("vc1 · vSphere Standard", "CPU licenses to hold today's use")] == (1, 0)
    assert r.outcomes() == ["+1 CPU licenses -> vc1 · vSphere Standard compliant: does not go over within 3 years "
                            "(now: at risk: goes over on 2026-11-29)"]
    doc = r.to_json()
    assert [p["pool"] for p in doc["current"]["licensing"]["pools"]] == [p.id for p in r.current.pools]
    std = next(p for p in doc["scenario"]["licensing"]["pools"] if p["pool"] == "vc1/standard")
    assert (std["verdict"], std["entitled_gb"], std["crossing_date"]) == ("compliant", 96.0, None)
    assert plan(snapshot(vsphere5_site()), Scenario(pool="vc1/standard"), history=h).to_json()["scenario"] is None
    assert got[("vc1 · vSphere Standard", "vRAM entitled (GB)")] == (64.0, 96.0)
    assert not any("no vRAM history" in n for n in r.notes)
    # 11 days are not a year: the plan says so, as the report's summary line does.
    assert "vc1 · vSphere Standard: the average rests on 11 days of history so far, not 365, and may still " \
           "change a lot" in r.notes


def test_an_unchanged_outcome_says_as_now():
    """A scenario that leaves the verdict as it is says so, instead of repeating the verdict."""
    from datetime import timedelta

    import pandas as pd
    from licensing_helpers import AT

    from reporter.history import history_from_samples

    df = pd.DataFrame([{"ts": AT - timedelta(days=i), "pool_id": "vc1/standard", "edition": "standard",
                        "used_gb_raw": 100.0, "used_gb_capped": 100.0, "entitled_gb": 64.0} for i in range(1, 11)])
    df["ts"] = pd.to_datetime(df["ts"], utc=True)
    h = history_from_samples(df, AT.date())
    r = plan(snapshot(vsphere5_site()), Scenario(pool="vc1/standard", add_vms=[AddVms(count=1, memory_gb=1)]), history=h)
    (line,) = r.outcomes()
    # Worded as the report's summary line words it ("over since"), not "non-compliant now".
    assert line.startswith("+1 x 1 GB -> vc1 · vSphere Standard non-compliant: over since 2026-11-13")
    assert line.endswith(" (as now)")
    assert "(now:" not in line


def test_html_plan_reads_like_the_terminal_one():
    """The HTML plan has the outcome lines the terminal prints, the snapshot time in the report's
    words, and each pool named once above its metrics."""
    from lxml import html as lhtml

    r = plan(snapshot(vsphere5_site()), Scenario(pool="vc1/standard", add_cpu_licenses=1))
    doc = lhtml.fromstring(render_html(r))
    text = " ".join(doc.text_content().split())
    assert r.outcomes() and all(o in text for o in r.outcomes())
    assert re.search(r"Snapshot collected \d{4}-\d\d-\d\d \d\d:\d\d UTC ·", text) and "+00:00" not in text
    firsts = [tr.xpath("./td")[0].text_content() for tr in doc.xpath("//tbody/tr")]
    named = [p for p in firsts if p]
    assert len(named) == len(set(named)) == len({row.pool for row in display_rows(r, False)})
    assert re.match(rf"{re.escape(title_of(r))} \(snapshot \d{{4}}-\d\d-\d\d \d\d:\d\d UTC,", render_terminal(r))
    # The vRAM table in words, with the value of [licensing] vram_table beside it (was "vRAM table aug2011").
    table = "vRAM table: Revised entitlements of 3 August 2011 (aug2011)"
    assert table in text and table in render_terminal(r)
    book = load_workbook(filename=__import__("io").BytesIO(render_xlsx(r)))
    assert table in str(book.active["A2"].value)


def test_plan_date_is_the_utc_day_the_verdicts_use():
    # Collected at 00:30 on 2 March at UTC+2, which is still 1 March in UTC: the plan's "as of"
    # is the day its verdicts were worked out for, not the local calendar day.
    from datetime import datetime, timedelta, timezone
    at = datetime(2026, 3, 2, 0, 30, tzinfo=timezone(timedelta(hours=2)))
    r = plan(snapshot(vsphere5_site(), at=at), Scenario(pool="vc1/standard"))
    assert r.current_verdicts.as_of.isoformat() == "2026-03-01"
    assert r.as_of.isoformat() == "2026-03-01"


def test_plan_xlsx_says_what_its_highlight_means():
    """plan.xlsx highlighted the scenario values that differ from today, but only the terminal
    and the HTML said what the colour means ("* = differs from the current state")."""
    from reporter.render.plan import CHANGED_LEGEND

    r = plan(snapshot(vsphere5_site()), Scenario(pool="vc1/enterprise_plus", add_vms=[{"count": 3, "memory_gb": 8}]))
    ws = load_workbook(filename=__import__("io").BytesIO(render_xlsx(r))).active
    marked = [row for row in ws.iter_rows(min_row=5) if row[3].fill.fgColor.rgb == "00FFF3CD"]
    legend = [row for row in marked if row[3].value == CHANGED_LEGEND]
    assert len(legend) == 1 and legend[0][0].value is None  # once, below the table, in the highlight's colour
    changed = [row for row in marked if row not in legend]
    assert changed and all(row[2].value != row[3].value for row in changed)
    assert ("vc1 · vSphere Enterprise Plus", "VMs powered on") in {(row[0].value, row[1].value) for row in changed}
    assert ws.freeze_panes == "A5"
