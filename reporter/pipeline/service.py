"""``vcreport serve``: runs forever on a schedule.

``serve`` uses the ``schedule`` library: the weekly report at ``[schedule] weekly_day`` /
``weekly_time`` (the machine's local time — set ``TZ`` in a container), a vRAM sample every
``vram_sample_minutes``, and daily maintenance at ``maintenance_time``. Jobs never overlap:
one job at a time inside the process, and a lock file in the output directory keeps a
second ``serve`` (or a ``vcreport run`` from cron) from running at the same time. A failed
job is logged and the schedule goes on. SIGTERM/SIGINT: the current job finishes, then the
process exits 0; a second signal aborts the job (files are written atomically, so nothing
half-written is left behind).
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

import schedule

from reporter.config import Config
from reporter.errors import ReporterError
from reporter.pipeline.locks import Busy, FileLock
from reporter.pipeline.run import JOB_LOCK, SNAPSHOT_DIR, RunOutcome, run_once, snapshot_files

log = logging.getLogger(__name__)

SERVE_LOCK = ".vcreport-serve.lock"


def _weekly_report(cfg: Config) -> RunOutcome:
    """The weekly report job: one run (the service holds the job lock), its outcome in the log."""
    outcome = run_once(cfg, lock=False)
    log.info("serve: weekly report: %s%s", outcome.summary_line(),
             f"; since the last run: {outcome.changes}" if outcome.changes else "")
    return outcome


def _vram_sampler() -> Callable[[Config], None]:
    """The vRAM sample job: light samples recorded in the history.

    One sampler for the life of the service: it keeps each vCenter's session and
    PropertyCollector filter between samples, so every sample after the first
    transfers only the VMs that changed.
    """
    warm: dict[int, Any] = {}  # id(cfg) -> its sampler (a service has one cfg)

    def sample(cfg: Config) -> None:
        from reporter.collect.incremental import VramSampler  # pyVmomi loads only when sampling
        from reporter.history import record_snapshot

        sampler = warm.get(id(cfg))
        if sampler is None:
            sampler = warm[id(cfg)] = VramSampler(cfg)
        snap = sampler.sample()
        added = record_snapshot(cfg, snap, source="sample")
        log.info("serve: vRAM sample: %d VMs, %d pool sample(s) recorded", snap.vm_count(), added)

    return sample


def _maintenance(cfg: Config) -> None:
    """Daily: open the history database (applies pending migrations, proves it is reachable);
    prune kept snapshots."""
    if cfg.history is not None:
        from reporter.history import open_history
        from reporter.history.store import safe_url

        store = open_history(cfg)
        log.info("serve: maintenance: history database %s is reachable and migrated", safe_url(store.url))
    out_dir = Path(cfg.output.dir)
    if not cfg.output.keep_snapshots:
        for old in snapshot_files(out_dir)[:-2]:
            old.unlink(missing_ok=True)
    kept = snapshot_files(out_dir)
    log.info("serve: maintenance: %d snapshot(s) kept in %s (%.1f MB)", len(kept), out_dir / SNAPSHOT_DIR,
             sum(p.stat().st_size for p in kept) / 1e6)


@dataclass
class JobRecord:
    name: str
    started: datetime
    seconds: float
    ok: bool
    error: str | None = None


class Service:
    """The scheduled jobs of ``vcreport serve``.

    ``scheduler`` and the job callables are injectable so tests can drive the schedule with a
    fake clock and fake jobs; ``tick()`` runs whatever is due once.
    """

    def __init__(self, cfg: Config, *, scheduler: schedule.Scheduler | None = None,
                 report_job: Callable[[Config], Any] | None = None,
                 sample_job: Callable[[Config], Any] | None = None,
                 maintenance_job: Callable[[Config], Any] | None = None):
        self.cfg = cfg
        self.scheduler = scheduler or schedule.Scheduler()
        self.report_job = report_job or _weekly_report
        self.sample_job = sample_job or _vram_sampler()
        self.maintenance_job = maintenance_job or _maintenance
        self.stop_requested = threading.Event()
        self.history: list[JobRecord] = []
        self._busy = threading.Lock()
        self._job_lock = FileLock(Path(cfg.output.dir) / JOB_LOCK, f"a vcreport run for {cfg.output.dir}")
        self._install()

    def _install(self) -> None:
        sc = self.cfg.schedule
        at = sc.weekly_time.strftime("%H:%M:%S")
        getattr(self.scheduler.every(), sc.weekly_day).at(at).do(self.run_job, "weekly report", self.report_job)
        if self.cfg.history is None:
            log.warning("serve: no [history] section: vRAM samples are not taken (they are only useful stored)")
        else:
            self.scheduler.every(sc.vram_sample_minutes).minutes.do(self.run_job, "vram sample", self.sample_job)
        self.scheduler.every().day.at(sc.maintenance_time.strftime("%H:%M:%S")).do(
            self.run_job, "maintenance", self.maintenance_job)

    def run_job(self, name: str, fn: Callable[[Config], Any]) -> None:
        """Run one job unless another is running; log the outcome; never raise (the schedule goes on)."""
        if self.stop_requested.is_set():
            return
        if not self._busy.acquire(blocking=False):
            log.warning("serve: %s skipped: another job is still running", name)
            return
        started, t0 = datetime.now(UTC), time.monotonic()
        record = JobRecord(name, started, 0.0, ok=False)
        try:
            with self._job_lock:
                log.info("serve: %s started", name)
                fn(self.cfg)
            record.ok = True
            log.info("serve: %s finished in %.1f s", name, time.monotonic() - t0)
        except Busy as exc:
            record.error = str(exc)
            log.warning("serve: %s skipped: %s", name, exc)
        except ReporterError as exc:
            record.error = str(exc)
            log.error("serve: %s failed after %.1f s: %s", name, time.monotonic() - t0, exc)
        except Exception as exc:  # a bug in one run must not stop the service
            record.error = f"{type(exc).__name__}: {exc}"
            log.exception("serve: %s failed after %.1f s", name, time.monotonic() - t0)
        finally:
            record.seconds = time.monotonic() - t0
            self.history.append(record)
            self._busy.release()

    def tick(self) -> None:
        self.scheduler.run_pending()

    def next_runs(self) -> list[tuple[str, datetime | None]]:
        return [(str(job.job_func.args[0]) if job.job_func else "?", job.next_run) for job in self.scheduler.get_jobs()]

    def request_stop(self, signum: int | None = None, frame: FrameType | None = None) -> None:
        if self.stop_requested.is_set():
            log.warning("serve: second signal: aborting the current job")
            raise SystemExit(0)
        log.info("serve: stop requested%s; finishing the current job first", f" (signal {signum})" if signum else "")
        self.stop_requested.set()

    def run_forever(self, *, wait: Callable[[float], Any] | None = None, max_wait_s: float = 30.0) -> None:
        wait = wait or self.stop_requested.wait
        for name, when in self.next_runs():
            log.info("serve: next %s at %s", name, when)
        while not self.stop_requested.is_set():
            self.tick()
            idle = self.scheduler.idle_seconds
            wait(max(0.5, min(max_wait_s, idle if idle is not None else max_wait_s)))
        log.info("serve: stopped")


@contextlib.contextmanager
def _signals_stop(service: Service) -> Iterator[None]:
    previous = {s: signal.signal(s, service.request_stop) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


def serve(cfg: Config, *, wait: Callable[[float], Any] | None = None, **service_kwargs: Any) -> Service:
    """Run the schedule until SIGTERM/SIGINT; one ``serve`` per output directory.

    ``wait`` replaces the idle wait between ticks (tests pass one that moves a fake clock)."""
    out_dir = Path(cfg.output.dir)
    with FileLock(out_dir / SERVE_LOCK, f"vcreport serve for {out_dir}"):
        service = Service(cfg, **service_kwargs)
        with _signals_stop(service):
            service.run_forever(wait=wait)
    return service
