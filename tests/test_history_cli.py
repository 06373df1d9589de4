"""``vcreport history import/export`` and ``vcreport vram sample``; history reaching the checks."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from click.testing import CliRunner
from licensing_helpers import AT, snapshot, vsphere5_site

from reporter import api
from reporter.cli import main
from reporter.core import snapshot_io
from reporter.history.store import dispose_all


@pytest.fixture
def config(tmp_path):
    dispose_all()
    f = tmp_path / "vcreport.toml"
    f.write_text('[history]\nurl = "sqlite:///hist/vram.db"\n')  # relative to the config file
    yield f
    dispose_all()


def _year_csv(path, pool, gb, days, entitled):
    rows = ["date,pool,used_gb,entitled_gb"]
    for i in range(days):
        rows.append(f"{(AT - timedelta(days=i)).date().isoformat()},{pool},{gb},{entitled}")
    path.write_text("\n".join(rows) + "\n")


def test_import_export_commands(config, tmp_path):
    runner = CliRunner()
    csv_file = tmp_path / "year.csv"
    _year_csv(csv_file, "vc1/standard", 66, 365, 64)
    res = runner.invoke(main, ["history", "import", str(csv_file), "--config", str(config)])
    assert res.exit_code == 0, res.output
    assert res.output.strip() == f"imported 365 of 365 row(s) from {csv_file} (0 already present) for 1 pool(s)"
    assert (tmp_path / "hist" / "vram.db").exists()
    res = runner.invoke(main, ["history", "export", "--config", str(config)])
    assert res.exit_code == 0
    out = res.output.splitlines()
    assert out[0] == "timestamp,pool,vcenter,edition,used_gb_raw,used_gb_capped,entitled_gb,source"
    assert len(out) == 366 and out[-1] == f"{AT.date().isoformat()}T00:00:00Z,vc1/standard,vc1,standard,66.0,66.0,64.0,import"
    res = runner.invoke(main, ["history", "export", "--config", str(config), "--out", str(tmp_path / "e.csv")])
    assert res.output.strip() == f"wrote 365 sample(s) to {tmp_path / 'e.csv'}"


def test_history_commands_need_a_history_section(tmp_path):
    f = tmp_path / "c.toml"
    f.write_text("")
    res = CliRunner().invoke(main, ["history", "export", "--config", str(f)])
    assert res.exit_code == 2 and "no [history] section" in res.output
    bad = tmp_path / "bad.csv"
    bad.write_text("date,pool,used_gb\n2026-01-01,p,x\n")
    f.write_text('[history]\nurl = "sqlite:///h.db"\n')
    res = CliRunner().invoke(main, ["history", "import", str(bad), "--config", str(f)])
    assert res.exit_code == 1 and res.output.strip() == f"vcreport: error: {bad}:2: used_gb is not a number: 'x'"


def test_report_uses_history_for_the_12_month_verdict(config, tmp_path):
    cfg = api.load_config(config)
    csv_file = tmp_path / "year.csv"
    _year_csv(csv_file, "vc1/standard", 66, 365, 64)  # a year at 66 GB against 64 GB
    api.history_import(cfg, csv_file)
    snap_file = tmp_path / "s.json"
    snapshot_io.save(snapshot(vsphere5_site()), snap_file)
    out = api.report(snap_file, tmp_path / "r", formats=["json"], cfg=cfg)
    f001 = [f for f in out.results.findings if f.check_id == "LIC-001"]
    assert [f.object_name for f in f001] == ["vc1 · vSphere Standard"]
    # 364 imported days at 66 GB; on the snapshot's day the high-water is max(66 imported, 70 now) = 70
    avg = round((364 * 66 + 70) / 365, 4)
    assert f001[0].evidence["avg_12m_gb"] == avg
    assert f001[0].evidence["days_of_history"] == 365
    pools = next(t for t in out.tables if t.id == "vram_pools")
    row = next(r for r in pools.rows if r[0] == "vc1 · vSphere Standard")
    assert row[pools.columns.index("Pool ID (vcreport plan --pool)")] == "vc1/standard"
    assert row[pools.columns.index("Verdict")] == "non-compliant"
    # Over since the first day of the year of history, in the words of the summary line
    assert row[pools.columns.index("Crossing date")] == "over since 2025-11-24"
    # ceil((66.0110 - 64) / 32) and ceil((70 - 64) / 32)
    assert row[pools.columns.index("CPU licenses to add now")] == 1
    assert row[pools.columns.index("CPU licenses to hold today's use")] == 1
    details = next(t for t in out.tables if t.id == "vram_pool_details")
    drow = next(r for r in details.rows if r[0] == "vc1 · vSphere Standard")
    assert drow[details.columns.index("Days of history")] == 365


def test_reading_commands_leave_no_empty_history_behind(config, tmp_path):
    """`report` and `plan` read history; with nothing recorded yet (no database file) they read
    none and create no database in the user's directory; the snapshot's own day still counts."""
    snap_file = tmp_path / "s.json"
    snapshot_io.save(snapshot(vsphere5_site()), snap_file)
    db = tmp_path / "hist" / "vram.db"
    runner = CliRunner()
    res = runner.invoke(main, ["plan", str(snap_file), "--config", str(config), "--pool", "vc1/standard",
                               "--add-cpu-licenses", "1"])
    assert res.exit_code == 0, res.output
    assert "Days of history" in res.output
    res = runner.invoke(main, ["report", str(snap_file), "--config", str(config), "--out", str(tmp_path / "r"),
                               "--format", "json"])
    assert res.exit_code == 0, res.output
    assert not db.exists() and not (tmp_path / "hist").exists()
    out = api.report(snap_file, tmp_path / "r2", formats=["json"], cfg=api.load_config(config))
    details = next(t for t in out.tables if t.id == "vram_pool_details")
    drow = next(r for r in details.rows if r[0] == "vc1 · vSphere Standard")
    assert drow[details.columns.index("Days of history")] == 1
    assert not db.exists()
    # Once something is recorded, the same commands read it.
    csv_file = tmp_path / "year.csv"
    _year_csv(csv_file, "vc1/standard", 66, 10, 64)
    api.history_import(api.load_config(config), csv_file)
    out = api.report(snap_file, tmp_path / "r3", formats=["json"], cfg=api.load_config(config))
    details = next(t for t in out.tables if t.id == "vram_pool_details")
    drow = next(r for r in details.rows if r[0] == "vc1 · vSphere Standard")
    assert drow[details.columns.index("Days of history")] == 10


@pytest.mark.vcsim
def test_vram_sample_command(vcsim, tmp_path):
    dispose_all()
    cfg = vcsim.config_file(tmp_path)
    cfg.write_text(cfg.read_text() + '\n[history]\nurl = "sqlite:///vram.db"\n')
    runner = CliRunner()
    res = runner.invoke(main, ["vram", "sample", "--config", str(cfg)])
    assert res.exit_code == 0, res.output
    m = re.fullmatch(r"sampled 1 vCenter\(s\), 8 VMs in \d+\.\d\d s; recorded (\d+) pool sample\(s\)\n", res.output)
    assert m, res.output
    res = runner.invoke(main, ["history", "export", "--config", str(cfg)])
    rows = res.output.splitlines()[1:]
    assert len(rows) == int(m.group(1)) >= 1
    assert all(r.endswith(",sample") for r in rows)
    # the 8 powered-on vcsim VMs are all in the sample: the pools' use adds up to their memory
    assert sum(float(r.split(",")[5]) for r in rows) > 0
    dispose_all()
