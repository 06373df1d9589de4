"""Snapshots, history databases and reports are private by default (files 0600, directories
0700): snapshots hold full licence keys. ``[output] file_mode = "umask"`` widens them to what
the process umask gives."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
import report_fixtures as rf

from reporter.api import parse_config
from reporter.core import fsutil, snapshot_io
from reporter.history import record_snapshot
from reporter.pipeline.report import report


def _mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


@pytest.fixture(autouse=True)
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    yield
    os.umask(old)
    fsutil.set_file_mode("private")


def _write_everything(tmp_path: Path, **output: str) -> tuple[Path, Path, Path]:
    cfg = parse_config({"output": {"dir": str(tmp_path / "out"), **output},
                        "history": {"url": f"sqlite:///{tmp_path / 'hist' / 'h.db'}"}})
    snap = rf.snapshot()
    snap_path = snapshot_io.save(snap, tmp_path / "snaps" / "s.json.gz")
    record_snapshot(cfg, snap)
    report(snap, tmp_path / "out" / "weekly", formats="html,csv,xlsx,json", cfg=cfg)
    return snap_path, tmp_path / "hist" / "h.db", tmp_path / "out" / "weekly"


def test_private_by_default(tmp_path: Path) -> None:
    snap_path, db, out = _write_everything(tmp_path)
    assert _mode(snap_path) == 0o600 and _mode(snap_path.parent) == 0o700
    assert _mode(db) == 0o600 and _mode(db.parent) == 0o700
    assert _mode(out) == 0o700 and _mode(out.parent) == 0o700
    files = [p for p in out.rglob("*") if p.is_file()]
    assert {p.name for p in files} >= {"report.html", "report.xlsx", "findings.json", "summary.json", "vms.csv"}
    assert {oct(_mode(p)) for p in files} == {"0o600"}
    assert _mode(out / "csv") == 0o700


def test_umask_mode_widens(tmp_path: Path) -> None:
    snap_path, db, out = _write_everything(tmp_path, file_mode="umask")
    assert _mode(snap_path) == 0o644 and _mode(snap_path.parent) == 0o755
    assert _mode(db) == 0o644
    assert {oct(_mode(p)) for p in out.rglob("*") if p.is_file()} == {"0o644"}
    assert _mode(out / "csv") == 0o755


def test_existing_directories_keep_their_mode(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    os.chmod(shared, 0o755)
    fsutil.atomic_write_text(shared / "new" / "f.txt", "x")
    assert _mode(shared) == 0o755 and _mode(shared / "new") == 0o700 and _mode(shared / "new" / "f.txt") == 0o600


def test_bad_file_mode_names_the_key(tmp_path: Path) -> None:
    from reporter.errors import ConfigError
    with pytest.raises(ConfigError, match="file_mode"):
        parse_config({"output": {"file_mode": "0644"}})
