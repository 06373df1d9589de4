"""A history database this process cannot write (an auditor's read-only copy, another user's file):
the reading commands read it, the writing ones fail in one line, nothing in it changes.

Real permissions: file 0444 and directory 0555, and the command run with every capability dropped
(``setpriv``), since root ignores file modes otherwise.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import report_fixtures as rf

from reporter.core import snapshot_io
from reporter.history.store import dispose_all, open_store, run_migrations

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
