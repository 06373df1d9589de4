"""A licence pool is named in words everywhere a reader looks ("vc01 · vSphere Enterprise Plus");
its id (``vc01/enterprise_plus``) stays the key of the history, findings.json and ``vcreport plan
--pool``, and shows only in its own "Pool ID" column (docs/methodology.md#vram-pools)."""

from __future__ import annotations

import csv
import re
from importlib import resources
from pathlib import Path

import lxml.html
import pytest
from click.testing import CliRunner
from licensing_helpers import AT, assign, lic, snapshot, vsphere5_site
from openpyxl import load_workbook

from reporter import api
from reporter.cli import main
from reporter.core import snapshot_io
from reporter.domain.licensing import LicensingOptions, Pool, analyze
from reporter.domain.licensing.plan import Scenario, plan
from reporter.domain.licensing.rules import load_rules
from reporter.domain.licensing.verdict import evaluate
from reporter.domain.licensing.vram import edition_title, pool_label, scope_label, unique_labels
from reporter.errors import ConfigError
from reporter.pipeline.report import report

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "sample-snapshot.json.gz"
# An edition key of licensing.toml (or a pseudo-edition), as a word on its own or after a scope.
_EDITIONS = sorted({*load_rules().edition_titles, "unknown", "unlicensed"}, key=len, reverse=True)
POOL_KEY = re.compile(r"(?:[\w.:-]+/)(?:" + "|".join(map(re.escape, _EDITIONS)) + r")(?:-v\d+)?\b"
                      r"|\b(?:enterprise_plus|per_core_other|essentials_plus|hypervisor_free|esx_other|per_core)\b")
ID_COLUMNS = ("Pool ID (vcreport plan --pool)", "Adds to pool ID (vcreport plan --pool)", "Object id")


def _an(snap, groups=None):
    return analyze(snap, options=LicensingOptions(linked_mode_groups=groups or {}))


def test_label_words_for_scope_and_edition():
    rules = load_rules()
    assert scope_label("vc01") == "vc01"
    assert scope_label("group:emea") == "linked group emea"
    assert edition_title(rules, "enterprise_plus") == "vSphere Enterprise Plus"
    assert edition_title(rules, "enterprise_plus-v6") == "vSphere 6 Enterprise Plus"
    assert edition_title(rules, "advanced-v4") == "vSphere 4 Advanced"  # the title says the version already
    assert edition_title(rules, "vcf-v8") == "VMware Cloud Foundation (per core) (vSphere 8)"
    assert edition_title(rules, "per_core_other") == "vSphere (per core)"
    assert edition_title(rules, "unlicensed") == "no license assigned"
    assert pool_label("group:emea", "vSphere Standard") == "linked group emea · vSphere Standard"
    p = Pool(id="vc01/enterprise_plus", scope="vc01", vcenters=["vc01"], edition="enterprise_plus",
             edition_title="vSphere Enterprise Plus", model="vsphere5", table="aug2011")
    assert p.label == "vc01 · vSphere Enterprise Plus"


def test_pools_of_a_site_get_words_and_keep_their_ids():
    site = vsphere5_site()
    # A vSphere 6 Enterprise Plus key on the 5.0 vCenter: a pool of its own, named for what it is.
    site = site.model_copy(update={
        "licenses": [*site.licenses, lic("66666-66666-66666-66666-SIXEP", "esxEnterprisePlus", 2, 2, version="6.0")],
        "license_assignments": [a for a in site.license_assignments if a.entity != "host-3"]
                               + [assign("host-3", "66666-66666-66666-66666-SIXEP", "esxEnterprisePlus")],
    })
    a = _an(snapshot(site))
    labels = {p.id: p.label for p in a.pools}
    assert labels["vc1/enterprise_plus"] == "vc1 · vSphere Enterprise Plus"
    assert labels["vc1/enterprise_plus-v6"] == "vc1 · vSphere 6 Enterprise Plus"
    assert len(set(labels.values())) == len(labels)
    # The verdict carries the label beside the id; summary.json gets both.
    v = evaluate(a, None, as_of=AT.date())
    pv = v.pool("vc1/enterprise_plus-v6")
    assert pv is not None and (pv.pool_id, pv.pool_label) == ("vc1/enterprise_plus-v6", "vc1 · vSphere 6 Enterprise Plus")
    assert pv.to_summary()["pool"] == "vc1/enterprise_plus-v6"
    assert pv.to_summary()["pool_label"] == "vc1 · vSphere 6 Enterprise Plus"


def test_linked_group_label_and_a_clash_is_numbered():
    a1 = vsphere5_site(name="vcA", uuid="uA")
    a2 = vsphere5_site(name="vcB", uuid="uB")
    # A vCenter whose config label reads like the group: the two pools would share a name.
    lookalike = vsphere5_site(name="linked group emea", uuid="uC")
    a = _an(snapshot(a1, a2, lookalike), groups={"vcA": "emea", "vcB": "emea"})
    assert a.pool("group:emea/standard").label == "linked group emea · vSphere Standard (1)"
    assert a.pool("linked group emea/standard").label == "linked group emea · vSphere Standard (2)"
    labels = [p.label.casefold() for p in a.pools]
    assert len(labels) == len(set(labels))
    # Without the look-alike, no numbers.
    b = _an(snapshot(a1, a2), groups={"vcA": "emea", "vcB": "emea"})
    assert b.pool("group:emea/enterprise_plus").label == "linked group emea · vSphere Enterprise Plus"


def test_unique_labels_skips_a_name_already_taken():
    def pool(pid: str, label: str) -> Pool:
        return Pool(id=pid, scope="s", vcenters=["s"], edition=pid, edition_title="t", model="none", table="aug2011",
                    label=label)
    pools = [pool("s/b", "x"), pool("s/a", "X"), pool("s/c", "x (1)")]
    unique_labels(pools)
    assert [p.label for p in pools] == ["x (3)", "X (2)", "x (1)"]  # in id order, each keeps its case


def test_plan_takes_the_label_and_lists_both_names():
    snap = snapshot(vsphere5_site())
    r = plan(snap, Scenario(pool="  VC1 ·  vsphere STANDARD ", add_vms=[{"count": 1, "memory_gb": 8}]))
    assert r.scenario.pool == "vc1/standard"
    got = {(line.pool, line.metric): (line.current, line.scenario) for line in r.lines}
    assert got[("vc1 · vSphere Standard", "Pool ID (vcreport plan --pool)")] == ("vc1/standard", "vc1/standard")
    assert got[("vc1 · vSphere Standard", "vRAM used (GB)")] == (70.0, 78.0)
    assert r.changes == ["add 1 powered-on VM of 8 GB to vc1 · vSphere Standard (placed on host-3.example)"]
    # add_vms may name its pool by label too
    r2 = plan(snap, Scenario(add_vms=[{"count": 1, "memory_gb": 8, "pool": "vc1 · vSphere Enterprise Plus"}]))
    assert r2.scenario.add_vms[0].pool == "vc1/enterprise_plus"
    with pytest.raises(ConfigError) as exc:
        plan(snap, Scenario(pool="vc1 · vSphere Platinum"))
    assert "vc1 · vSphere Enterprise Plus (vc1/enterprise_plus)" in str(exc.value)
    assert "vc1 · vSphere Standard (vc1/standard)" in str(exc.value)


def test_plan_command_accepts_the_label(tmp_path):
    snap_file = tmp_path / "s.json"
    snapshot_io.save(snapshot(vsphere5_site()), snap_file)
    res = CliRunner().invoke(main, ["plan", str(snap_file), "--pool", "vc1 · vsphere enterprise plus", "--json"])
    assert res.exit_code == 0, res.output
    res = CliRunner().invoke(main, ["plan", str(snap_file), "--pool", "nope"])
    assert res.exit_code == 2 and "vc1 · vSphere Enterprise Plus (vc1/enterprise_plus)" in res.output


def _keys_in(where: str, text: str) -> list[str]:
    return [f"{where}: {m.group(0)!r} in …{text[max(0, m.start() - 60):m.end() + 20]}…" for m in POOL_KEY.finditer(text)]


def test_sample_report_names_pools_in_words_in_html_xlsx_csv(tmp_path):
    with resources.as_file(api.find_sample("sample-snapshot.json.gz")) as sample:
        snap = api.load_snapshot(sample)
    out = report(snap, tmp_path, formats=["html", "xlsx", "csv", "json"])
    ids = {p.pool_id for p in out.context.licensing.pools}
    assert {"vc01/enterprise_plus", "vc02/enterprise_plus-v6", "vc02/per_core_other", "vc02/vcf"} <= ids
    bad: list[str] = []

    # HTML: every text outside the Pool ID cells.
    doc = lxml.html.fromstring((tmp_path / "report.html").read_text(encoding="utf-8"))
    for el in doc.xpath("//script|//style|//td[@data-label='Pool ID (vcreport plan --pool)']"):
        el.drop_tree()
    html_text = doc.text_content()
    bad += _keys_in("report.html", html_text)
    for label in ("vc01 · vSphere Enterprise Plus", "vc02 · vSphere 6 Enterprise Plus", "vc02 · vSphere (per core)"):
        assert label in html_text
    assert "vRAM pool vc01 · vSphere Enterprise Plus over its entitlement today" in " ".join(html_text.split())

    # XLSX: every cell outside the id columns.
    book = load_workbook(tmp_path / "report.xlsx", read_only=True)
    for ws in book.worksheets:
        rows = list(ws.iter_rows(values_only=True))
        header = rows[0] if rows else ()
        for row in rows:
            for i, v in enumerate(row):
                if isinstance(v, str) and not (i < len(header) and header[i] in ID_COLUMNS):
                    bad += _keys_in(f"report.xlsx {ws.title}", v)
    hosts = list(book["License Hosts"].iter_rows(values_only=True))
    editions = {r[hosts[0].index("Edition")] for r in hosts[1:]}
    assert "vSphere (per core)" in editions and "vSphere 6 Enterprise Plus" in editions
    pools = list(book["vRAM Pools"].iter_rows(values_only=True))
    assert {r[pools[0].index("Pool ID (vcreport plan --pool)")] for r in pools[1:]} == ids

    # CSV: every field outside the id columns.
    for f in sorted((tmp_path / "csv").glob("*.csv")):
        with f.open(encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.reader(fh))
        header = rows[0] if rows else []
        for row in rows:
            for i, v in enumerate(row):
                if not (i < len(header) and header[i] in ID_COLUMNS):
                    bad += _keys_in(f"csv/{f.name}", v)
    assert not bad, "\n".join(bad[:20])

    # findings.json keeps the id as the key.
    findings = out.results.findings
    pool_findings = [f for f in findings if f.object_type == "pool"]
    assert pool_findings and all(f.object_id.startswith("vram-pool:") and "/" in f.object_id for f in pool_findings)
    assert all(f.object_name == f.evidence["pool"] and f.evidence["pool_id"] == f.object_id.removeprefix("vram-pool:")
               for f in pool_findings)


def test_a_linked_group_finding_names_its_vcenters_and_a_waiver_on_one_of_them_applies():
    from datetime import date

    from reporter.checks import CheckContext
    from reporter.checks.engine import apply_waivers
    from reporter.checks.licensing import lic_002_vram_today as vram_today
    from reporter.config.sections import WaiverConfig
    from reporter.config.settings import Settings
    from reporter.core.findings import Status

    snap = snapshot(vsphere5_site(name="vcA", uuid="uA"), vsphere5_site(name="vcB", uuid="uB"))
    settings = Settings(linked_mode_groups={"vcA": "emea", "vcB": "emea"})
    found = vram_today.run(CheckContext(snapshot=snap, settings=settings)).findings
    [f] = [x for x in found if x.object_id == "vram-pool:group:emea/standard"]
    # The vCenter column names the two vCenters, never the scope id "group:emea".
    assert (f.object_name, f.vcenter) == ("linked group emea · vSphere Standard", "vcA, vcB")
    waiver = WaiverConfig(check_id="LIC-002", vcenter="vcB", reason="true-up booked", expires=date(2027, 1, 1))
    [w] = apply_waivers([f], [waiver], date(2026, 12, 1))
    assert w.status == Status.waived
    other = WaiverConfig(check_id="LIC-002", vcenter="vcC", reason="another site", expires=date(2027, 1, 1))
    assert apply_waivers([f], [other], date(2026, 12, 1))[0].status == f.status
