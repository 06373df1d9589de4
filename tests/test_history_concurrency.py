"""Many jobs sharing one history database: 8 writer processes start at the same instant
against a fresh database (each runs the migrations on first open), then record samples.

Each writer stands for one per-vCenter CronJob: it records 48 hourly samples of its own pool,
one sample per transaction, and, mid-way, the same 24-row batch of a shared pool (in its own
shuffled order: a re-run or overlapping job) and the same snapshot (one sample per pool).
Afterwards every sample must be stored exactly once, the writers' "rows added" must add up
to the rows stored, every migration must be recorded once, and the daily high-water marks must
come out exactly.

Runs on SQLite and on PostgreSQL (a fresh database created on the server that
VCREPORT_TEST_PG_URL names; skipped without it).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from licensing_helpers import snapshot, vsphere5_site
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from reporter.config import parse_config
from reporter.history import load_for_report
from reporter.history.store import MIGRATIONS, dispose_all, open_store

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("VCREPORT_TEST_PG_URL")

WRITERS = 8
OWN_SAMPLES = 48  # hourly over two UTC days
SHARED_SAMPLES = 1440  # one a minute over a UTC day: long enough statements for writers to overlap
SNAPSHOT_AT = datetime(2026, 1, 2, 23, 30, tzinfo=UTC)  # after the last hourly sample

# One writer process. Waits for the go file so that all of them open the fresh database
# (and race to migrate it) at the same instant.
WRITER = textwrap.dedent("""
    import json, random, sys, time
    from datetime import datetime, timedelta, timezone
    from pathlib import Path
    sys.path.insert(0, {root!r})
    sys.path.insert(0, {tests!r})
    from reporter.config import parse_config
    from reporter.history import _insert_new, record_snapshot
    from reporter.history.store import open_store
    from licensing_helpers import snapshot, vsphere5_site

    url, index, ready, go, out = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4]), Path(sys.argv[5])
    cfg = parse_config({{"history": {{"url": url}}}})
    snap = snapshot(vsphere5_site(), at=datetime.fromisoformat({snapshot_at!r}))
    t0 = datetime(2026, 1, 1)

    def row(pool, ts, used):
        return {{"ts": ts, "pool_id": pool, "vcenter": pool.split("/")[0], "edition": "enterprise_plus",
                "used_gb_raw": used, "used_gb_capped": used, "entitled_gb": 1000.0, "source": "sample",
                "vram_applies": True, "vcenter_reported_gb": None}}

    shared = [row("shared/enterprise_plus", t0 + timedelta(minutes=k), float(k)) for k in range({shared})]
    random.Random(index).shuffle(shared)  # same rows, another order in every writer
    ready.joinpath(str(index)).touch()
    deadline = time.monotonic() + 120
    while not go.exists():
        if time.monotonic() > deadline:
            sys.exit("no go signal")
        time.sleep(0.005)
    started = time.monotonic()
    store = open_store(url)  # first open: runs the migrations, racing the other writers
    own = shared_added = snapshot_added = 0
    for k in range({own}):
        used = 100.0 * (index + 1) + k % 24 + 50 * (k // 24)
        own += _insert_new(store, [row(f"job{{index}}/enterprise_plus", t0 + timedelta(hours=k), used)])
        if k == {own} // 2:
            shared_added = _insert_new(store, shared)
            snapshot_added = record_snapshot(cfg, snap, source="sample")
    out.write_text(json.dumps({{"own": own, "shared": shared_added, "snapshot": snapshot_added,
                               "seconds": time.monotonic() - started}}))
""")


def _fresh_pg_database(server_url: str) -> Iterator[str]:
    """A new, empty database on the server of ``server_url``; dropped afterwards."""
    name = f"vcreport_conc_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        dispose_all()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    dispose_all()
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'history.db'}"
    else:
        if not PG_URL:
            pytest.skip("set VCREPORT_TEST_PG_URL to run the history tests against PostgreSQL")
        yield from _fresh_pg_database(PG_URL)
    dispose_all()


def _run_writers(url: str, tmp_path: Path) -> tuple[list[dict[str, float]], float]:
    script = tmp_path / "writer.py"
    script.write_text(WRITER.format(root=str(ROOT), tests=str(ROOT / "tests"), snapshot_at=SNAPSHOT_AT.isoformat(),
                                    shared=SHARED_SAMPLES, own=OWN_SAMPLES))
    ready, go = tmp_path / "ready", tmp_path / "go"
    ready.mkdir()
    outs = [tmp_path / f"out-{i}.json" for i in range(WRITERS)]
    procs = [subprocess.Popen([sys.executable, str(script), url, str(i), str(ready), str(go), str(outs[i])],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in range(WRITERS)]
    deadline = time.monotonic() + 120
    while len(list(ready.iterdir())) < WRITERS and time.monotonic() < deadline and all(p.poll() is None for p in procs):
        time.sleep(0.01)
    started = time.monotonic()
    go.touch()
    results = [p.communicate(timeout=180) for p in procs]
    elapsed = time.monotonic() - started
    assert [p.returncode for p in procs] == [0] * WRITERS, [(p.returncode, r[1][-1500:]) for p, r in zip(procs, results)]
    return [json.loads(o.read_text()) for o in outs], elapsed


def test_eight_writers_on_a_fresh_database(fresh_url: str, tmp_path: Path, record_property: Callable[[str, object], None]) -> None:
    reports, elapsed = _run_writers(fresh_url, tmp_path)
    record_property("writers_wall_seconds", round(elapsed, 2))
    print(f"\n{make_url(fresh_url).get_backend_name()}: {WRITERS} writers, {elapsed:.2f} s wall "
          f"(slowest writer {max(r['seconds'] for r in reports):.2f} s after the go signal)")

    store = open_store(fresh_url)
    with store.read() as conn:
        migrations = conn.execute(text("SELECT name, COUNT(*) FROM schema_migrations GROUP BY name ORDER BY name")).fetchall()
        per_pool: dict[str, int] = dict(conn.execute(text("SELECT pool_id, COUNT(*) FROM vram_samples GROUP BY pool_id")).fetchall())
        duplicates = conn.execute(text(
            "SELECT COUNT(*) FROM (SELECT pool_id, ts FROM vram_samples GROUP BY pool_id, ts HAVING COUNT(*) > 1) d"
        )).scalar_one()
        if conn.dialect.name == "sqlite":
            assert conn.execute(text("PRAGMA integrity_check")).scalar_one() == "ok"
    assert [tuple(m) for m in migrations] == [(name, 1) for name, _ in MIGRATIONS]
    assert "ux_vram_samples_pool_ts" in {ix["name"] for ix in inspect(store.engine).get_indexes("vram_samples")}

    expected = {f"job{i}/enterprise_plus": OWN_SAMPLES for i in range(WRITERS)}
    expected |= {"shared/enterprise_plus": SHARED_SAMPLES, "vc1/enterprise_plus": 1, "vc1/standard": 1}
    assert per_pool == expected
    assert duplicates == 0
    # "rows added" as each writer saw it: every stored row counted by exactly one writer
    assert [r["own"] for r in reports] == [OWN_SAMPLES] * WRITERS
    assert sum(r["shared"] for r in reports) == SHARED_SAMPLES
    assert sum(r["snapshot"] for r in reports) == 2

    cfg = parse_config({"history": {"url": fresh_url}})
    history = load_for_report(cfg, snapshot(vsphere5_site(), at=SNAPSHOT_AT))
    for i in range(WRITERS):
        series = history.series(f"job{i}/enterprise_plus")
        assert series["day"].dt.date.tolist() == [date(2026, 1, 1), date(2026, 1, 2)]
        assert series["high_water_gb"].tolist() == [100.0 * (i + 1) + 23, 100.0 * (i + 1) + 73]
        assert series["samples"].tolist() == [24, 24]
        assert history.pools[f"job{i}/enterprise_plus"].avg_12m_gb == pytest.approx(100.0 * (i + 1) + 48)
    shared = history.series("shared/enterprise_plus")
    assert (shared["high_water_gb"].tolist(), shared["samples"].tolist()) == ([float(SHARED_SAMPLES - 1)], [SHARED_SAMPLES])
    assert history.pools["vc1/enterprise_plus"].today_high_water_gb == 192.0
