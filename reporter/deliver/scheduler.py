"""``vcreport run`` (one full run) and ``vcreport serve`` (runs forever on a schedule).

A run: collect → keep the snapshot under ``<output dir>/snapshots/`` → record history →
checks and reports (compared with the previous run's snapshot and findings) → email.
A partial collection still produces the reports and the email, then says so (exit 3).

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
import fcntl
import logging
import os
import signal
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from types import FrameType
from typing import Any, Callable, Iterator

import schedule

from ..config import Config
from ..errors import ReporterError, SnapshotFormatError
from ..model import Snapshot

log = logging.getLogger(__name__)

SNAPSHOT_DIR = "snapshots"
SNAPSHOT_GLOB = "snapshot-*.json.gz"
SERVE_LOCK = ".vcreport-serve.lock"
JOB_LOCK = ".vcreport-job.lock"


class Busy(ReporterError):
    """Another run or serve process holds the lock."""

    exit_code = 1


class FileLock:
    """An exclusive, non-blocking ``flock`` on a file; released when the process dies."""

    def __init__(self, path: Path, what: str):
        self.path = path
        self.what = what
        self._fd: int | None = None

    def acquire(self) -> "FileLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            try:
                holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "?"
            finally:
                os.close(fd)
            raise Busy(f"{self.what} is already running (pid {holder}, lock {self.path})") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> "FileLock":
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


# -- one run ----------------------------------------------------------------------------------------

@dataclass
class RunOutcome:
    snapshot_path: Path
    files: list[Path]
    counts: dict[str, int]
    collection_errors: int
    emailed: bool = False
    email_error: str | None = None
    previous: Path | None = None
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def partial(self) -> bool:
        return self.collection_errors > 0


def snapshot_files(out_dir: Path) -> list[Path]:
    """This output directory's kept snapshots, oldest first (names sort by UTC time)."""
    return sorted((out_dir / SNAPSHOT_DIR).glob(SNAPSHOT_GLOB))


def snapshot_name(snap: Snapshot) -> str:
    return f"snapshot-{snap.collected_at.astimezone(timezone.utc):%Y%m%dT%H%M%SZ}.json.gz"


def _load_previous(path: Path | None) -> Snapshot | None:
    if path is None:
        return None
    from .. import api

    try:
        return api.load_snapshot(path)
    except SnapshotFormatError as exc:
        log.warning("previous snapshot ignored (no trends this run): %s", exc)
        return None


def _record_history(cfg: Config, snap: Snapshot, source: str) -> None:
    if cfg.history is None:
        return
    try:
        from ..history import record_snapshot
    except ImportError:  # history support not installed in this build
        return
    record_snapshot(cfg, snap, source=source)


def _formats(cfg: Config) -> list[str]:
    """The configured formats, plus whatever the email attaches (it must exist to be attached)."""
    fmts = list(cfg.output.formats)
    if cfg.email and cfg.email.enabled:
        fmts += [f for f in cfg.email.attach if f not in fmts]
    return fmts


def run_once(cfg: Config, *, insecure: bool = False, collect: Callable[..., Snapshot] | None = None,
             sleep: Callable[[float], None] = time.sleep, lock: bool = True) -> RunOutcome:
    """Collect, keep the snapshot, record history, report, email. Raises DeliveryError when the
    email fails (the reports are on disk by then); the caller decides what a partial run means."""
    from .. import api
    from .email import deliver

    out_dir = Path(cfg.output.dir)
    guard = FileLock(out_dir / JOB_LOCK, f"a vcreport run for {out_dir}") if lock else None
    if guard:
        guard.acquire()
    try:
        timings: dict[str, float] = {}
        t0 = time.monotonic()
        snap = (collect or api.collect)(cfg, insecure=insecure)
        timings["collect"] = time.monotonic() - t0
        kept = snapshot_files(out_dir)
        snap_path = out_dir / SNAPSHOT_DIR / snapshot_name(snap)
        previous_path = next((p for p in reversed(kept) if p.name < snap_path.name), None)
        api.save_snapshot(snap, snap_path)
        if not cfg.output.keep_snapshots:
            # Keep only what the next run needs for its trends: this snapshot and the one before.
            for old in snapshot_files(out_dir)[:-2]:
                old.unlink(missing_ok=True)
        t0 = time.monotonic()
        _record_history(cfg, snap, "collect")
        timings["history"] = time.monotonic() - t0
        t0 = time.monotonic()
        report = api.report(snap_path, out_dir, formats=_formats(cfg), cfg=cfg, previous=_load_previous(previous_path))
        timings["report"] = time.monotonic() - t0
        outcome = RunOutcome(snap_path, report.files, report.results.counts(), len(snap.collection_errors),
                             previous=previous_path, timings=timings)
        if cfg.email is not None and cfg.email.enabled:
            t0 = time.monotonic()
            deliver(report.context, cfg.email, out_dir, sleep=sleep)  # raises DeliveryError after retries
            outcome.emailed = True
            timings["email"] = time.monotonic() - t0
        return outcome
    finally:
        if guard:
            guard.release()


# -- the service ----------------------------------------------------------------------------------

def _vram_sampler() -> Callable[[Config], Any] | None:
    """The licensing helper's light vRAM sampling (``api.vram_sampler`` + ``api.record_history``).

    One sampler for the life of the service: it keeps each vCenter's session and
    PropertyCollector filter between samples, so every sample after the first
    transfers only the VMs that changed.
    """
    from .. import api

    make = getattr(api, "vram_sampler", None)
    record = getattr(api, "record_history", None)
    if not callable(make) or not callable(record):
        return None
    warm: dict[int, Any] = {}  # id(cfg) -> its sampler (a service has one cfg)

    def sample(cfg: Config) -> Any:
        sampler = warm.get(id(cfg))
        if sampler is None:
            sampler = warm[id(cfg)] = make(cfg)
        snap = sampler.sample()
        added = record(cfg, snap, source="sample")
        log.info("serve: vRAM sample: %d VMs, %d pool sample(s) recorded", snap.vm_count(), added)
        return snap

    return sample


def _maintenance(cfg: Config) -> None:
    """Daily: open the history database (applies pending migrations, proves it is reachable) or
    run the history module's own housekeeping when it has one; prune kept snapshots."""
    if cfg.history is not None:
        try:
            from .. import history
        except ImportError:
            history = None  # type: ignore[assignment]
        if history is not None:
            maintain = getattr(history, "maintain", None)
            if callable(maintain):
                maintain(cfg)
            else:
                store = history.open_history(cfg)
                log.info("serve: maintenance: history database %s is reachable and migrated", history.safe_url(store.url))
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
        self.report_job = report_job or (lambda c: run_once(c, lock=False))
        self.sample_job = sample_job if sample_job is not None else _vram_sampler()
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
        if self.sample_job is None:
            log.warning("serve: this build has no vRAM sampling; only the weekly report and maintenance are scheduled")
        elif self.cfg.history is None:
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
        started, t0 = datetime.now(timezone.utc), time.monotonic()
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
