"""The history store: named migrations on an existing database, transactions, concurrent
writers, CSV import/export. Runs on SQLite, and also on PostgreSQL when
VCREPORT_TEST_PG_URL is set (e.g. postgresql+psycopg2://postgres@127.0.0.1:5432/vcreport_test)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from licensing_helpers import AT, snapshot, vsphere5_site
from sqlalchemy import inspect, text

from reporter.api import parse_config
from reporter.errors import HistoryError
from reporter.history import export_csv, import_csv, load_for_report, record_snapshot
from reporter.history.store import MIGRATIONS, dispose_all, open_store, run_migrations

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("VCREPORT_TEST_PG_URL")


def _reset_pg(url: str) -> None:
    from sqlalchemy import create_engine

    eng = create_engine(url)
    with eng.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS vram_samples"))
        conn.execute(text("DROP TABLE IF EXISTS schema_migrations"))
    eng.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    dispose_all()
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'sub' / 'history.db'}"
    else:
        if not PG_URL:
            pytest.skip("set VCREPORT_TEST_PG_URL to run the history tests against PostgreSQL")
        url = PG_URL
        _reset_pg(url)
    yield url
    dispose_all()


def cfg_for(url: str):
    return parse_config({"history": {"url": url}})


def test_fresh_database_gets_every_migration(db_url):
    store = open_store(db_url)
    assert store.applied() == [name for name, _ in MIGRATIONS]
    cols = {c["name"] for c in inspect(store.engine).get_columns("vram_samples")}
    assert {"ts", "pool_id", "used_gb_raw", "used_gb_capped", "entitled_gb", "source", "vram_applies",
            "vcenter_reported_gb"} <= cols
    assert run_migrations(store) == []  # idempotent


def test_existing_older_database_is_migrated_keeping_its_data(db_url):
    store = open_store(db_url, migrate=False)
    assert run_migrations(store, upto="0001_vram_samples") == ["0001_vram_samples"]
    with store.write() as conn:
        for used in (100.0, 150.0):  # the same pool and instant twice: allowed before 0002
            conn.execute(text("INSERT INTO vram_samples (ts, pool_id, vcenter, edition, used_gb_raw, used_gb_capped, "
                              "entitled_gb) VALUES (:ts, 'vc1/enterprise_plus', 'vc1', 'enterprise_plus', :u, :u, 576)"),
                         {"ts": datetime(2026, 1, 1, 12), "u": used})
    cols = {c["name"] for c in inspect(store.engine).get_columns("vram_samples")}
    assert "source" not in cols
    dispose_all()
    store = open_store(db_url)  # a newer version opens the old file
    assert store.applied() == ["0001_vram_samples", "0002_sample_source_and_unique"]
    with store.read() as conn:
        rows = conn.execute(text("SELECT used_gb_capped, source FROM vram_samples")).fetchall()
    assert [tuple(r) for r in rows] == [(100.0, "collect")]  # duplicate dropped, the first kept, default source


def test_record_is_idempotent_and_feeds_the_report(db_url):
    cfg = cfg_for(db_url)
    snap = snapshot(vsphere5_site())
    assert record_snapshot(cfg, snap) == 2
    assert record_snapshot(cfg, snap) == 0  # same snapshot again: stored once
    later = snapshot(vsphere5_site(), at=AT + timedelta(hours=1))
    assert record_snapshot(cfg, later, source="sample") == 2
    earlier_day = snapshot(vsphere5_site(), at=AT - timedelta(days=3))
    record_snapshot(cfg, earlier_day)
    h = load_for_report(cfg, snap)
    ph = h.pool("vc1/enterprise_plus")
    assert (ph.days_available, ph.today_high_water_gb, ph.avg_12m_gb) == (2, 192.0, 192.0)
    # a report of an older snapshot does not see later samples
    assert h.daily["samples"].tolist() == [1, 1, 1, 1]


def test_report_includes_the_unrecorded_snapshot(db_url):
    cfg = cfg_for(db_url)
    h = load_for_report(cfg, snapshot(vsphere5_site()))
    assert h.pool("vc1/standard").today_high_water_gb == 70.0
    assert h.pool("vc1/standard").days_available == 1


def test_csv_import_export_roundtrip(db_url, tmp_path):
    cfg = cfg_for(db_url)
    src = tmp_path / "past.csv"
    src.write_text("date,pool,used_gb,entitled_gb\n"
                   "2026-01-01,vc1/enterprise_plus,500,576\n"
                   "2026-01-02,vc1/enterprise_plus,600.5,576\n"
                   "2026-01-02T23:30:00-02:00,vc1/standard,70,64\n"
                   "2026-01-03,vc1/standard,71,\n", encoding="utf-8")
    res = import_csv(cfg, src)
    assert (res.rows, res.inserted, res.pools) == (4, 4, ["vc1/enterprise_plus", "vc1/standard"])
    assert import_csv(cfg, src).inserted == 0  # re-import: nothing new
    text_, n = export_csv(cfg, tmp_path / "out.csv")
    assert n == 4
    assert (tmp_path / "out.csv").read_text() == text_
    assert text_.splitlines() == [
        "timestamp,pool,vcenter,edition,used_gb_raw,used_gb_capped,entitled_gb,source",
        "2026-01-01T00:00:00Z,vc1/enterprise_plus,vc1,enterprise_plus,500.0,500.0,576.0,import",
        "2026-01-02T00:00:00Z,vc1/enterprise_plus,vc1,enterprise_plus,600.5,600.5,576.0,import",
        "2026-01-03T00:00:00Z,vc1/standard,vc1,standard,71.0,71.0,,import",
        "2026-01-03T01:30:00Z,vc1/standard,vc1,standard,70.0,70.0,64.0,import",
    ]
    # the export format imports back into an empty database unchanged
    dispose_all()
    other = cfg_for(f"sqlite:///{tmp_path / 'copy.db'}")
    assert import_csv(other, tmp_path / "out.csv").inserted == 4
    assert export_csv(other)[0] == text_


@pytest.mark.parametrize("content,error", [
    ("", "empty file"),
    ("when,pool,used\n", "header must name"),
    ("date,pool,used_gb\n2026-13-01,p,1\n", ":2: not a date"),
    ("date,pool,used_gb\n2026-01-01,p,lots\n", ":2: used_gb is not a number"),
    ("date,pool,used_gb\n2026-01-01,p,-1\n", ":2: used_gb must be a number >= 0"),
    ("date,pool,used_gb\n2026-01-01,,1\n", ":2: pool is empty"),
])
def test_csv_errors_are_typed(tmp_path, content, error):
    f = tmp_path / "bad.csv"
    f.write_text(content)
    with pytest.raises(HistoryError, match=error):
        import_csv(cfg_for(f"sqlite:///{tmp_path / 'h.db'}"), f)


def test_bad_url_is_a_history_error():
    dispose_all()
    with pytest.raises(HistoryError, match="not a database URL"):
        open_store("not a url at all")
    with pytest.raises(HistoryError, match="driver not available"):
        open_store("nosuchdb://x/y")


def test_an_unreachable_server_is_one_line_without_the_password():
    """libpq adds a hint line ("Is the server running on that host …"): the error stays one line."""
    dispose_all()
    with pytest.raises(HistoryError) as err:
        open_store("postgresql+psycopg2://reader:s3cret-pw@127.0.0.1:1/history")
    message = str(err.value)
    assert "\n" not in message and "s3cret-pw" not in message
    assert message.startswith("history database postgresql+psycopg2://reader:***@127.0.0.1:1/history: ")
    assert "Connection refused" in message
    dispose_all()


WRITER = textwrap.dedent("""
    import sys
    from datetime import datetime, timedelta
    sys.path.insert(0, {root!r})
    from reporter.history import _insert_new
    from reporter.history.store import open_store
    url, pool = sys.argv[1], sys.argv[2]
    store = open_store(url)
    t0 = datetime(2026, 1, 1)
    for i in range(150):  # 150 separate transactions, interleaved with the other writer
        _insert_new(store, [{{"ts": t0 + timedelta(minutes=i), "pool_id": pool, "vcenter": "vc", "edition": "e",
                             "used_gb_raw": float(i), "used_gb_capped": float(i), "entitled_gb": 1.0,
                             "source": "sample", "vram_applies": True, "vcenter_reported_gb": None}}])
    print("ok")
""")


def test_two_processes_writing_at_once(db_url, tmp_path):
    script = tmp_path / "writer.py"
    script.write_text(WRITER.format(root=str(ROOT)))
    procs = [subprocess.Popen([sys.executable, str(script), db_url, f"pool-{n}"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for n in (1, 2)]
    results = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [r[1][-2000:] for r in results]
    store = open_store(db_url)
    with store.read() as conn:
        counts = dict(conn.execute(text("SELECT pool_id, COUNT(*) FROM vram_samples GROUP BY pool_id")).fetchall())
        applied = conn.execute(text("SELECT COUNT(*) FROM schema_migrations")).scalar_one()
        if conn.dialect.name == "sqlite":
            assert conn.execute(text("PRAGMA integrity_check")).scalar_one() == "ok"
            assert conn.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
    assert counts == {"pool-1": 150, "pool-2": 150}
    assert applied == len(MIGRATIONS)  # both raced to migrate a fresh database; each migration ran once
