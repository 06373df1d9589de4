"""Staging directories left by a killed `report` are removed at the start of the next one; only
this tool's (prefix + marker file), only of processes that are gone, only older than this run."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import report_fixtures as rf

from reporter.pipeline import staging
from reporter.pipeline.report import report


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _staging(out: Path, name: str, pid: int | None, age_s: float, size: int = 1000) -> Path:
    d = out / name
    d.mkdir(parents=True)
    (d / "report.pdf").write_bytes(b"x" * size)
    if pid is not None:
        (d / staging.MARKER).write_text(f"{pid}\n", encoding="ascii")
    then = time.time() - age_s
    os.utime(d, (then, then))
    return d


def test_stale_staging_dirs_are_removed_and_nothing_else(tmp_path: Path) -> None:
    out = tmp_path / "out"
    killed = _staging(out, ".render-killed1", _dead_pid(), age_s=3600, size=230_000)
    killed2 = _staging(out, ".render-killed2", _dead_pid(), age_s=7200)
    users = _staging(out, ".render-mine", None, age_s=3600)  # no marker: not ours
    live = _staging(out, ".render-live", os.getppid(), age_s=3600)  # a run still in progress
    young = _staging(out, ".render-young", _dead_pid(), age_s=-60)  # newer than this process
    other = _staging(out, "render-keep", _dead_pid(), age_s=3600)  # not the prefix

    res = report(rf.snapshot(), out, formats="json")
    assert (out / "findings.json") in res.files
    assert not killed.exists() and not killed2.exists()
    assert users.exists() and live.exists() and young.exists() and other.exists()
    # The run's own staging directory is gone too, and no marker reached the report set.
    assert sorted(p.name for p in out.iterdir() if p.name.startswith(".render-")) == [
        ".render-live", ".render-mine", ".render-young"]
    assert not (out / staging.MARKER).exists()


def test_staging_made_by_this_process_carries_its_pid(tmp_path: Path) -> None:
    d = staging.make_staging(tmp_path)
    assert d.name.startswith(".render-")
    assert (d / staging.MARKER).read_text(encoding="ascii") == f"{os.getpid()}\n"
    assert staging.remove_stale(tmp_path, started=time.time() + 60) == []  # our own: alive
