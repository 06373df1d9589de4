"""`vcreport serve` with a fake clock (no sleeping), locks, failures, SIGTERM; `vcreport run` end to end."""

from __future__ import annotations

import datetime as real_dt
import itertools
import logging
import os
import signal
import types
from pathlib import Path

import pytest
import report_fixtures as rf
import schedule
from click.testing import CliRunner

import reporter.collect
import reporter.collect.incremental
import reporter.history
from reporter import api
from reporter.api import parse_config
from reporter.cli import main
from reporter.core.model import Host
from reporter.errors import DeliveryError, ReporterError
from reporter.pipeline import run as sched_run
from reporter.pipeline import service as sched
from reporter.pipeline.locks import Busy, FileLock
from reporter.pipeline.run import JOB_LOCK, run_once
from reporter.pipeline.service import SERVE_LOCK, Service, serve


class Clock:
    """Stands in for datetime.datetime.now() inside the schedule library."""

    def __init__(self, start: real_dt.datetime):
        self.now = start

    def advance(self, **kw) -> None:
        self.now += real_dt.timedelta(**kw)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    c = Clock(real_dt.datetime(2026, 11, 23, 0, 0))  # a Monday, local time as schedule uses it

    class FakeDatetime(real_dt.datetime):
        @classmethod
        def now(cls, tz=None):
            return c.now if tz is None else c.now.replace(tzinfo=tz)

    shim = types.SimpleNamespace(datetime=FakeDatetime, timedelta=real_dt.timedelta, time=real_dt.time,
                                 date=real_dt.date, timezone=real_dt.timezone, tzinfo=real_dt.tzinfo)
    monkeypatch.setattr(schedule, "datetime", shim)
    return c


def config(tmp_path: Path, **over):
    data = {"output": {"dir": str(tmp_path / "out"), "formats": ["html", "json"]},
            "schedule": {"weekly_day": "wednesday", "weekly_time": "06:00", "vram_sample_minutes": 15,
                         "maintenance_time": "02:30"},
            "history": {"url": f"sqlite:///{tmp_path / 'h.db'}"}}
    for k, v in over.items():
        if v is None:
            data.pop(k, None)
        else:
            data[k] = v
    return parse_config(data)


def recorder(clock: Clock, log: list, name: str, fail: BaseException | None = None):
    def job(cfg):
        log.append((name, clock.now))
        if fail is not None and len([x for x in log if x[0] == name]) == 1:
            raise fail
    return job


def test_jobs_fire_at_their_configured_times(clock, tmp_path):
    calls: list = []
    svc = Service(config(tmp_path), scheduler=schedule.Scheduler(),
                  report_job=recorder(clock, calls, "report"), sample_job=recorder(clock, calls, "sample"),
                  maintenance_job=recorder(clock, calls, "maintenance"))
    for _ in range(3 * 24 * 60):  # three days, minute by minute
        clock.advance(minutes=1)
        svc.tick()
    reports = [t for n, t in calls if n == "report"]
    maint = [t for n, t in calls if n == "maintenance"]
    samples = [t for n, t in calls if n == "sample"]
    assert reports == [real_dt.datetime(2026, 11, 25, 6, 0)]  # Wednesday 06:00
    assert maint == [real_dt.datetime(2026, 11, d, 2, 30) for d in (23, 24, 25)]
    assert len(samples) == 3 * 24 * 4
    assert samples[0] == real_dt.datetime(2026, 11, 23, 0, 15)
    assert all((b - a) == real_dt.timedelta(minutes=15) for a, b in itertools.pairwise(samples))
    assert all(r.ok for r in svc.history)


def test_a_failed_run_is_logged_and_the_next_one_still_happens(clock, tmp_path, caplog):
    calls: list = []
    svc = Service(config(tmp_path), scheduler=schedule.Scheduler(),
                  report_job=recorder(clock, calls, "report", fail=RuntimeError("vCenter exploded")),
                  sample_job=recorder(clock, calls, "sample", fail=ReporterError("vc01: connection refused")),
                  maintenance_job=lambda c: None)
    caplog.set_level(logging.INFO, logger="reporter.pipeline.service")
    for _ in range(15 * 24 * 4):  # fifteen days in 15-minute steps
        clock.advance(minutes=15)
        svc.tick()
    assert [t for n, t in calls if n == "report"] == [real_dt.datetime(2026, 11, 25, 6, 0),
                                                      real_dt.datetime(2026, 12, 2, 6, 0)]
    failed = [r for r in svc.history if not r.ok]
    assert [(r.name, r.error) for r in failed] == [("vram sample", "vc01: connection refused"),
                                                   ("weekly report", "RuntimeError: vCenter exploded")]
    assert "serve: vram sample failed after" in caplog.text and "vc01: connection refused" in caplog.text
    assert "serve: weekly report failed after" in caplog.text
    assert sum(1 for n, _ in calls if n == "sample") == 15 * 24 * 4


def test_jobs_never_overlap(clock, tmp_path, caplog):
    cfg = config(tmp_path)
    calls: list = []
    svc: Service

    def long_report(c):
        calls.append("report-start")
        svc.run_job("vram sample", lambda c: calls.append("sample"))  # due meanwhile: must wait its turn
        calls.append("report-end")

    svc = Service(cfg, scheduler=schedule.Scheduler(), report_job=long_report, sample_job=lambda c: None,
                  maintenance_job=lambda c: None)
    svc.run_job("weekly report", long_report)
    assert calls == ["report-start", "report-end"]
    assert "serve: vram sample skipped: another job is still running" in caplog.text

    # Another process (a cron `vcreport run`) holding the job lock: the scheduled job is skipped.
    with FileLock(Path(cfg.output.dir) / JOB_LOCK, "test"):
        svc.run_job("vram sample", lambda c: calls.append("sample"))
    assert calls == ["report-start", "report-end"]
    assert svc.history[-1].error.startswith("a vcreport run for")
    svc.run_job("vram sample", lambda c: calls.append("sample"))
    assert calls[-1] == "sample"


def test_one_serve_per_output_directory(tmp_path):
    cfg = config(tmp_path)
    with FileLock(Path(cfg.output.dir) / SERVE_LOCK, "vcreport serve for test"), \
            pytest.raises(Busy, match=rf"vcreport serve for .* is already running \(pid {os.getpid()}"):
        serve(cfg, report_job=lambda c: None, sample_job=lambda c: None, maintenance_job=lambda c: None)


def test_sigterm_finishes_the_current_job_then_exits_cleanly(clock, tmp_path, caplog):
    calls: list = []

    def sample(c):
        calls.append("sample-start")
        os.kill(os.getpid(), signal.SIGTERM)  # docker stop, mid-job
        calls.append("sample-end")  # the job still completes

    caplog.set_level(logging.INFO, logger="reporter.pipeline.service")
    before = signal.getsignal(signal.SIGTERM)
    svc = serve(config(tmp_path), wait=lambda s: clock.advance(minutes=15), scheduler=schedule.Scheduler(),
                report_job=lambda c: calls.append("report"), sample_job=sample, maintenance_job=lambda c: None)
    assert calls == ["sample-start", "sample-end"]
    assert svc.stop_requested.is_set() and svc.history[-1].ok
    assert "serve: stop requested (signal 15)" in caplog.text and "serve: stopped" in caplog.text
    assert signal.getsignal(signal.SIGTERM) == before
    # A second signal aborts instead of waiting (exit code 0).
    with pytest.raises(SystemExit) as exit_:
        svc.request_stop(signal.SIGTERM)
    assert exit_.value.code == 0


def test_without_history_no_vram_samples_are_scheduled(tmp_path, caplog):
    svc = Service(config(tmp_path, history=None), scheduler=schedule.Scheduler(), report_job=lambda c: None,
                  sample_job=lambda c: None, maintenance_job=lambda c: None)
    assert sorted(name for name, _ in svc.next_runs()) == ["maintenance", "weekly report"]
    assert "no [history] section" in caplog.text


def test_the_default_sampler_takes_a_light_sample_and_records_it(tmp_path, monkeypatch):
    made, taken, recorded = [], [], []
    snap = rf.snapshot(errors=False)

    class Sampler:  # the warm sampler: made once, then sampled every time
        def __init__(self, cfg):
            made.append(cfg)

        def sample(self):
            taken.append(self)
            return snap

    monkeypatch.setattr(reporter.collect.incremental, "VramSampler", Sampler)
    monkeypatch.setattr(reporter.history, "record_snapshot",
                        lambda cfg, s, source="collect": recorded.append((s, source)) or 2)
    cfg = config(tmp_path)
    sample = sched._vram_sampler()
    sample(cfg)
    sample(cfg)
    assert made == [cfg] and len(taken) == 2 and taken[0] is taken[1]
    assert recorded == [(snap, "sample"), (snap, "sample")]


def test_daily_maintenance_opens_history_and_prunes_snapshots(tmp_path, caplog):
    cfg = config(tmp_path, output={"dir": str(tmp_path / "out"), "keep_snapshots": False})
    snaps = Path(cfg.output.dir) / "snapshots"
    snaps.mkdir(parents=True)
    for day in (1, 2, 3):
        (snaps / f"snapshot-202611{day:02d}T060000Z.json.gz").write_bytes(b"x" * 1000)
    caplog.set_level(logging.INFO, logger="reporter.pipeline.service")
    sched._maintenance(cfg)
    assert [p.name for p in sched_run.snapshot_files(Path(cfg.output.dir))] == [
        "snapshot-20261102T060000Z.json.gz", "snapshot-20261103T060000Z.json.gz"]
    assert (tmp_path / "h.db").exists()  # created and migrated
    assert f"history database sqlite:///{tmp_path / 'h.db'} is reachable and migrated" in caplog.text
    assert "2 snapshot(s) kept" in caplog.text


# -- vcreport run -------------------------------------------------------------------------------------

def _week(collected, disconnected: dict[str, str], *, errors: bool = False):
    snap = rf.snapshot(errors=errors, collected=collected)
    vc = snap.vcenters[rf.UUID1]
    hosts = {f"host-{n}": Host(moid=f"host-{n}", name=f"esx-{n}.example.com", connection_state=disconnected.get(n, "connected"))
             for n in ("a", "b", "c")}
    return snap.model_copy(update={"vcenters": {**snap.vcenters, rf.UUID1: vc.model_copy(update={"hosts": hosts})}})


WEEK1 = real_dt.datetime(2026, 11, 16, 6, 0, tzinfo=real_dt.UTC)
WEEK2 = real_dt.datetime(2026, 11, 23, 6, 0, tzinfo=real_dt.UTC)


def test_run_keeps_snapshots_and_reports_week_over_week(tmp_path):
    cfg = config(tmp_path, history=None)
    weeks = iter([_week(WEEK1, {"a": "disconnected", "b": "notResponding"}),
                  _week(WEEK2, {"b": "notResponding", "c": "disconnected"})])
    first = run_once(cfg, collect=lambda c, insecure=False: next(weeks))
    out = Path(cfg.output.dir)
    assert first.snapshot_path == out / "snapshots" / "snapshot-20261116T060000Z.json.gz"
    assert first.previous is None and not first.partial and not first.emailed
    assert "No previous run to compare with" in (out / "report.html").read_text(encoding="utf-8")

    second = run_once(cfg, collect=lambda c, insecure=False: next(weeks))
    assert second.previous == first.snapshot_path
    assert [p.name for p in sched_run.snapshot_files(out)] == ["snapshot-20261116T060000Z.json.gz",
                                                            "snapshot-20261123T060000Z.json.gz"]
    html = (out / "report.html").read_text(encoding="utf-8")
    row = ('<tr><td>GEN-001 — Host disconnected or not responding'
           '<br><span class="muted">new: <bdi>esx-c.example.com</bdi></span>'
           '<br><span class="muted">fixed: <bdi>esx-a.example.com</bdi></span></td><td class="num">1</td>'
           '<td class="num">1</td><td class="num">1</td></tr>')
    assert row in html  # esx-c new, esx-a fixed, esx-b still open
    assert "<b>Fixed since the last run (1):</b> <bdi>esx-a.example.com</bdi>" in html
    # The report carries the real snapshot file's hash.
    assert api.load_findings(out / "findings.json")
    assert sched_run.snapshot_name(_week(WEEK2, {})) == "snapshot-20261123T060000Z.json.gz"


def test_run_prunes_snapshots_when_not_kept(tmp_path):
    cfg = config(tmp_path, history=None, output={"dir": str(tmp_path / "out"), "formats": ["json"], "keep_snapshots": False})
    for day in (2, 9, 16):
        when = real_dt.datetime(2026, 11, day, 6, 0, tzinfo=real_dt.UTC)
        run_once(cfg, collect=lambda c, insecure=False, w=when: _week(w, {}))
    assert [p.name for p in sched_run.snapshot_files(Path(cfg.output.dir))] == [
        "snapshot-20261109T060000Z.json.gz", "snapshot-20261116T060000Z.json.gz"]


def test_failed_email_leaves_the_reports_on_disk(tmp_path):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cfg = config(tmp_path, history=None, email={"smtp_host": "127.0.0.1", "smtp_port": port, "security": "none",
                                               "sender": "r@example.com", "recipients": ["a@example.com"],
                                               "attach": ["xlsx"], "retries": 1, "retry_delay_s": 0})
    with pytest.raises(DeliveryError, match="failed after 2 attempt"):
        run_once(cfg, collect=lambda c, insecure=False: _week(WEEK2, {}))
    out = Path(cfg.output.dir)
    # The email's attachment format is rendered even though [output] formats does not list it.
    reports = sorted(p.name for p in out.iterdir() if p.is_file() and not p.name.startswith("."))
    assert reports == ["findings.json", "report.html", "report.xlsx", "summary.json"]
    FileLock(out / JOB_LOCK, "x").acquire().release()  # the failed run released its lock


def test_cli_run_partial_collection_exits_3_after_reporting(tmp_path, monkeypatch):
    cfg_file = tmp_path / "vcreport.toml"
    cfg_file.write_text(f'[output]\ndir = "{tmp_path / "out"}"\nformats = ["html", "json"]\n', encoding="utf-8")
    monkeypatch.setattr(reporter.collect, "collect", lambda cfg, insecure=False, progress=None: _week(WEEK2, {}, errors=True))
    result = CliRunner().invoke(main, ["run", "--config", str(cfg_file)])
    assert result.exit_code == 3, result.output
    assert result.output.splitlines()[-1] == "vcreport: error: collection incomplete: 1 error(s); reports written anyway"
    assert (tmp_path / "out" / "report.html").exists()
    assert "Collection incomplete: 1 error" in (tmp_path / "out" / "report.html").read_text(encoding="utf-8")


def test_the_weekly_job_logs_what_the_run_found(tmp_path, monkeypatch, caplog):
    service = sched
    cfg = config(tmp_path, history=None)
    weeks = iter([_week(WEEK1, {"a": "disconnected"}), _week(WEEK2, {"b": "notResponding", "c": "disconnected"})])
    real_run = service.run_once
    monkeypatch.setattr(service, "run_once",
                        lambda c, lock: real_run(c, lock=lock, collect=lambda c2, insecure=False: next(weeks)))
    with caplog.at_level(logging.INFO, logger="reporter.pipeline.service"):
        service.Service(cfg).run_job("weekly report", service._weekly_report)
        service.Service(cfg).run_job("weekly report", service._weekly_report)
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("serve: weekly report: ")]
    out = Path(cfg.output.dir)
    assert lines[0].startswith(f"serve: weekly report: snapshot {out / 'snapshots' / 'snapshot-20261116T060000Z.json.gz'}; ")
    assert "since the last run" not in lines[0]  # the first run: nothing to compare with
    assert lines[1].endswith("; since the last run: 2 new, 1 fixed, 8 still open")
