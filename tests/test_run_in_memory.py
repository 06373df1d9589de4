"""``vcreport run`` reports from the snapshot it has in memory (not read back from the file it
saved): the same reports as from the file; saved and history recorded in a thread meanwhile,
with the old order of failures (no history sample for a snapshot that could not be saved)."""

from __future__ import annotations

import datetime as real_dt
import shutil
import sqlite3
from pathlib import Path

import pytest
from test_parallel_render import assert_same_reports
from test_scheduler_service import WEEK1, WEEK2, _week, config

import reporter.render.base as render_base
from reporter.core import snapshot_io
from reporter.pipeline.report import report
from reporter.pipeline.run import run_once
from reporter.render.base import sha256_file

GENERATED = real_dt.datetime(2026, 11, 23, 7, 0, tzinfo=real_dt.UTC)
FORMATS = ["html", "xlsx", "csv", "json", "pdf"]


class FrozenClock(real_dt.datetime):
    """``generated_at`` is printed in every report: one value for both ways of reporting."""

    @classmethod
    def now(cls, tz: real_dt.tzinfo | None = None) -> FrozenClock:
        return cls.fromtimestamp(GENERATED.timestamp(), tz)


def test_a_run_reports_what_the_saved_file_reports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(render_base, "datetime", FrozenClock)
    cfg = config(tmp_path, output={"dir": str(tmp_path / "out"), "formats": FORMATS})
    weeks = iter([_week(WEEK1, {"a": "disconnected"}), _week(WEEK2, {"b": "notResponding", "c": "disconnected"})])
    out = tmp_path / "out"
    first = run_once(cfg, collect=lambda c, insecure=False: next(weeks))
    shutil.copytree(out, tmp_path / "from-file")  # the state the second run starts from
    second = run_once(cfg, collect=lambda c, insecure=False: next(weeks))
    assert second.previous is not None and second.previous.name == "snapshot-20261116T060000Z.json.gz"
    # Host a reconnected, b and c dropped: what `vcreport run` prints below its first line.
    assert first.changes is None and second.changes == "2 new, 1 fixed, 8 still open"

    # What run_once did before: report from the file just saved, the previous snapshot from its file.
    from_file = report(second.snapshot_path, tmp_path / "from-file", formats=[*FORMATS], cfg=cfg,
                       previous=snapshot_io.load(second.previous))
    assert [p.name for p in second.files] == [p.name for p in from_file.files]
    sha = sha256_file(second.snapshot_path)
    shutil.rmtree(out / "snapshots")
    shutil.rmtree(tmp_path / "from-file" / "snapshots")
    assert_same_reports(out, tmp_path / "from-file")
    # The report names the saved file's SHA-256, as when it read the file.
    html = (out / "report.html").read_text(encoding="utf-8")
    assert f'(SHA-256 <span class="mono">{sha}</span>)' in html
    assert "No previous run to compare with" not in html  # compared with week 1


def test_the_saved_snapshot_is_complete_when_the_run_returns(tmp_path: Path) -> None:
    cfg = config(tmp_path, output={"dir": str(tmp_path / "out"), "formats": ["json"]})
    snap = _week(WEEK2, {})
    outcome = run_once(cfg, collect=lambda c, insecure=False: snap)
    assert snapshot_io.dumps(snapshot_io.load(outcome.snapshot_path)) == snapshot_io.dumps(snap)
    assert [p.name for p in outcome.snapshot_path.parent.iterdir()] == [outcome.snapshot_path.name]  # no temp file
    assert set(outcome.timings) == {"collect", "save", "report"}
    with sqlite3.connect(tmp_path / "h.db") as db:
        assert db.execute("select count(*) from vram_samples").fetchone()[0] > 0


def test_a_snapshot_that_cannot_be_saved_stops_the_run_before_history_and_reports(tmp_path: Path) -> None:
    cfg = config(tmp_path, output={"dir": str(tmp_path / "out"), "formats": ["html", "json"]})
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "snapshots").write_text("a file where the directory should be")
    with pytest.raises(OSError):
        run_once(cfg, collect=lambda c, insecure=False: _week(WEEK2, {}))
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [".vcreport-job.lock", "snapshots"]
    with sqlite3.connect(tmp_path / "h.db") as db:  # nothing recorded for a run that saved nothing
        tables = {r[0] for r in db.execute("select name from sqlite_master where type = 'table'")}
        assert "vram_samples" not in tables or db.execute("select count(*) from vram_samples").fetchone()[0] == 0
