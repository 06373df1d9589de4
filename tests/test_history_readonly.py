"""A history database this process cannot write (an auditor's read-only copy, another user's file):
the reading commands read it, the writing ones fail in one line, nothing in it changes.

Real permissions: file 0444 and directory 0555, and the command run with every capability dropped
(``setpriv``), since root ignores file modes otherwise.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import report_fixtures as rf
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from reporter.core import snapshot_io
from reporter.history.store import dispose_all, open_store, run_migrations, safe_url

SETPRIV = shutil.which("setpriv")
NO_CAPS = [SETPRIV or "setpriv", "--inh-caps=-all", "--bounding-set=-all"]
VCREPORT = [sys.executable, "-m", "reporter.cli"]
CSV = "date,pool,used_gb,entitled_gb\n2026-01-01,vc1/ent,10.5,64\n2026-01-02,vc1/ent,11.5,64\n"


def _unprivileged(argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*NO_CAPS, *argv], cwd=cwd, capture_output=True, text=True, timeout=60)


@pytest.fixture
def readonly_dir(tmp_path: Path) -> Iterator[Path]:
    """A directory for the database, made read-only by ``lock`` (and writable again at the end)."""
    if SETPRIV is None:
        pytest.skip("setpriv (util-linux) is not installed: cannot run a command without root's capabilities")
    probe = subprocess.run([*NO_CAPS, "true"], capture_output=True, timeout=30)
    if probe.returncode != 0:
        pytest.skip(f"setpriv cannot drop capabilities here: {probe.stderr.decode(errors='replace').strip()}")
    d = tmp_path / "db"
    d.mkdir()
    yield d
    d.chmod(0o755)
    for f in d.iterdir():
        f.chmod(0o644)
    dispose_all()


def _lock(d: Path) -> dict[str, bytes]:
    """Checkpoint (a copy is the main file alone), then 0444 files in a 0555 directory."""
    sqlite3.connect(d / "h.db").execute("PRAGMA wal_checkpoint(TRUNCATE)").close()
    for f in d.iterdir():
        if f.name != "h.db":
            f.unlink()
    (d / "h.db").chmod(0o444)
    d.chmod(0o555)
    denied = subprocess.run([*NO_CAPS, "sh", "-c", f"echo x >> '{d / 'h.db'}'"], capture_output=True, timeout=30)
    if denied.returncode == 0:
        pytest.skip("dropping capabilities does not make the file read-only here")
    return {f.name: f.read_bytes() for f in d.iterdir()}


def _config(tmp_path: Path, d: Path) -> Path:
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[history]\nurl = "sqlite:///{d}/h.db"\n')
    return cfg


def test_reading_commands_read_a_read_only_database(tmp_path: Path, readonly_dir: Path) -> None:
    """``history export`` and ``report --config`` said "attempt to write a readonly database"
    (opening the store always began a write: the schema check)."""
    cfg = _config(tmp_path, readonly_dir)
    (tmp_path / "h.csv").write_text(CSV)
    assert subprocess.run([*VCREPORT, "history", "import", "h.csv", "--config", str(cfg)], cwd=tmp_path,
                          capture_output=True, timeout=60).returncode == 0
    expected = subprocess.run([*VCREPORT, "history", "export", "--config", str(cfg)], cwd=tmp_path,
                              capture_output=True, text=True, timeout=60).stdout
    assert expected.count("\n") == 3
    snap = snapshot_io.save(rf.snapshot(errors=False), tmp_path / "s.json")
    stored = _lock(readonly_dir)

    res = _unprivileged([*VCREPORT, "history", "export", "--config", str(cfg)], tmp_path)
    assert (res.returncode, res.stderr, res.stdout) == (0, "", expected)
    res = _unprivileged([*VCREPORT, "report", str(snap), "--out", str(tmp_path / "r"), "--config", str(cfg),
                         "--format", "json"], tmp_path)
    assert (res.returncode, res.stderr) == (0, "")  # not 3 "history not available ..."

    # A writing command: one line, nothing stored changes.
    res = _unprivileged([*VCREPORT, "history", "import", "h.csv", "--config", str(cfg)], tmp_path)
    assert (res.returncode, res.stdout) == (1, "")
    assert res.stderr == (f"vcreport: error: history database sqlite:///{readonly_dir}/h.db: "
                          "attempt to write a readonly database\n")
    assert {f.name: f.read_bytes() for f in readonly_dir.iterdir()} == stored


def test_a_read_only_database_that_needs_migrating_is_one_line(tmp_path: Path, readonly_dir: Path) -> None:
    url = f"sqlite:///{readonly_dir}/h.db"
    run_migrations(open_store(url, migrate=False), upto="0001_vram_samples")  # as an older version left it
    dispose_all()
    stored = _lock(readonly_dir)
    res = _unprivileged([*VCREPORT, "history", "export", "--config", str(_config(tmp_path, readonly_dir))], tmp_path)
    assert (res.returncode, res.stdout) == (1, "")
    assert res.stderr == (f"vcreport: error: history database {url} is read-only and its schema needs migrating "
                          "(0002_sample_source_and_unique): open it once with write access\n")
    assert {f.name: f.read_bytes() for f in readonly_dir.iterdir()} == stored


PG_URL = os.environ.get("VCREPORT_TEST_PG_URL")


@pytest.fixture
def pg_reader(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """The worker's PostgreSQL database emptied, and a login role granted SELECT only (as a report
    job or an auditor gets): (the owner's URL, the reader's URL)."""
    if not PG_URL:
        pytest.skip("set VCREPORT_TEST_PG_URL to run the history tests against PostgreSQL")
    owner = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    role = f"vcr_reader_{os.getpid()}"
    with owner.connect() as conn:
        conn.execute(text("DROP TABLE IF EXISTS vram_samples, schema_migrations"))
        conn.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
        conn.execute(text(f"CREATE ROLE \"{role}\" LOGIN PASSWORD 'r3ader-pw'"))
        conn.execute(text(f'ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO "{role}"'))
        conn.execute(text(f'REVOKE CREATE ON SCHEMA public FROM PUBLIC, "{role}"'))
    reader = make_url(PG_URL).set(username=role, password="r3ader-pw").render_as_string(hide_password=False)
    dispose_all()
    yield PG_URL, reader
    dispose_all()
    with owner.connect() as conn:
        conn.execute(text("DROP TABLE IF EXISTS vram_samples, schema_migrations"))
        conn.execute(text(f'ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE SELECT ON TABLES FROM "{role}"'))
        conn.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
    owner.dispose()


def _url_config(tmp_path: Path, name: str, url: str) -> Path:
    cfg = tmp_path / f"{name}.toml"
    cfg.write_text(f'[history]\nurl = "{url}"\n')
    return cfg


def _vcreport(argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*VCREPORT, *argv], cwd=cwd, capture_output=True, text=True, timeout=60)


def test_a_postgresql_role_granted_select_only_reads_the_history(tmp_path: Path, pg_reader: tuple[str, str]) -> None:
    """A report job or an auditor with a SELECT-only role reads the 12-month history; a writing
    command with that role fails in one line (no password in it) and nothing stored changes."""
    owner_url, reader_url = pg_reader
    owner, reader = _url_config(tmp_path, "owner", owner_url), _url_config(tmp_path, "reader", reader_url)
    (tmp_path / "h.csv").write_text(CSV)
    assert _vcreport(["history", "import", "h.csv", "--config", str(owner)], tmp_path).returncode == 0
    expected = _vcreport(["history", "export", "--config", str(owner)], tmp_path).stdout
    assert expected.count("\n") == 3

    res = _vcreport(["history", "export", "--config", str(reader)], tmp_path)
    assert (res.returncode, res.stderr, res.stdout) == (0, "", expected)
    snap = snapshot_io.save(rf.snapshot(errors=False), tmp_path / "s.json")
    res = _vcreport(["report", str(snap), "--out", str(tmp_path / "r"), "--config", str(reader), "--format", "json"],
                    tmp_path)
    assert (res.returncode, res.stderr) == (0, "")  # not 3 "history not available ..."

    (tmp_path / "more.csv").write_text(CSV.replace("2026-01-0", "2026-02-0"))
    res = _vcreport(["history", "import", "more.csv", "--config", str(reader)], tmp_path)
    assert (res.returncode, res.stdout) == (1, "")
    assert res.stderr == (f"vcreport: error: history database {safe_url(reader_url)}: "
                          "permission denied for table vram_samples\n")
    assert "r3ader-pw" not in res.stderr
    assert _vcreport(["history", "export", "--config", str(owner)], tmp_path).stdout == expected


def test_a_postgresql_role_that_cannot_migrate_an_older_schema_says_so(tmp_path: Path,
                                                                      pg_reader: tuple[str, str]) -> None:
    """The same role on a schema an older version left: it said "must be owner of table
    vram_samples", which names neither the cause (a migration is due) nor the fix."""
    owner_url, reader_url = pg_reader
    run_migrations(open_store(owner_url, migrate=False), upto="0001_vram_samples")
    dispose_all()
    res = _vcreport(["history", "export", "--config", str(_url_config(tmp_path, "reader", reader_url))], tmp_path)
    assert (res.returncode, res.stdout) == (1, "")
    assert res.stderr == (f"vcreport: error: history database {safe_url(reader_url)} is read-only for this role and "
                          "its schema needs migrating (0002_sample_source_and_unique): open it once with write access\n")
