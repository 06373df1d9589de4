"""Stage progress of ``vcreport report``: on a terminal one line per stage, quiet otherwise."""

from __future__ import annotations

import io
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest
from test_snapshot_merge import snap

from reporter.core import snapshot_io
from reporter.pipeline.progress import StageProgress
from reporter.pipeline.report import report


def test_stage_lines_when_forced() -> None:
    stream = io.StringIO()
    stages = StageProgress(True, stream)
    with stages.stage("checks (2 VMs)"):
        pass
    assert re.fullmatch(r"\rchecks \(2 VMs\) \.\.\.\rchecks \(2 VMs\): 0\.\d s    \n", stream.getvalue())


def test_a_failed_stage_says_so() -> None:
    stream = io.StringIO()
    with pytest.raises(ValueError), StageProgress(True, stream).stage("writing pdf"):
        raise ValueError("boom")
    assert stream.getvalue().endswith("\rwriting pdf: failed after 0.0 s\n")


def test_quiet_when_stderr_is_not_a_terminal(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = snapshot_io.save(snap(1), tmp_path / "s.json")
    report(path, tmp_path / "r", formats="html,json")
    assert capsys.readouterr().err == ""


def test_forced_progress_through_the_api(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = snapshot_io.save(snap(1), tmp_path / "s.json")
    report(path, tmp_path / "r", formats="csv", progress=True)
    err = capsys.readouterr().err
    assert [line.rsplit("\r", 1)[-1].split(":")[0] for line in err.split("\n") if line] == [
        "loading the snapshot", "checks (2 VMs)", "writing csv", "writing json"]


def test_report_shows_every_stage_on_a_terminal(tmp_path: Path) -> None:
    a = snapshot_io.save(snap(1), tmp_path / "a.json")
    b = snapshot_io.save(snap(2), tmp_path / "b.json")
    primary, secondary = pty.openpty()
    try:
        proc = subprocess.run([sys.executable, "-m", "reporter.cli", "report", str(a), str(b), "--out",
                               str(tmp_path / "r"), "--format", "html,csv"],
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=secondary, timeout=120,
                              check=False, env={**os.environ, "PYTHONWARNINGS": "ignore"})
        os.close(secondary)
        secondary = -1
        chunks = []
        while True:
            try:
                data = os.read(primary, 4096)
            except OSError:  # EIO: the other end is closed and drained
                break
            if not data:
                break
            chunks.append(data)
    finally:
        os.close(primary)
        if secondary != -1:
            os.close(secondary)
    assert proc.returncode == 0, proc.stdout
    lines = [part.rsplit("\r", 1)[-1] for part in b"".join(chunks).decode().replace("\r\n", "\n").split("\n") if part]
    assert [re.sub(r"\d+\.\d s", "T", line).rstrip() for line in lines] == [
        "loading and merging 2 snapshot arguments: T",
        "checks (4 VMs): T",
        "writing html: T",
        "writing csv: T",
        "writing json: T",
    ]
