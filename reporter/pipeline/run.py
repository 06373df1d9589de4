"""``vcreport run``: one full run — collect → keep the snapshot under ``<output dir>/snapshots/``
→ record history → checks and reports (compared with the previous run's snapshot and
findings) → email. A partial collection still produces the reports and the email, then says
so (exit 3).

The reports are made from the snapshot in memory, not read back from the file just written
(2 s at 10,000 VMs; the file is that snapshot's JSON, so the reports are the same). Saving and
recording the history run in a thread while the previous run's snapshot and findings are read.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path

from reporter.checks import load_all
from reporter.config import Config
from reporter.core import snapshot_io
from reporter.core.formats import Format
from reporter.core.gcpolicy import frozen_heap
from reporter.core.model import Snapshot
from reporter.errors import DeliveryError, SnapshotFormatError, UsageError
from reporter.pipeline.background import Background
from reporter.pipeline.locks import FileLock
from reporter.pipeline.report import previous_findings_in, report
from reporter.render.base import SourceFile, prepare_renderers, sha256_file

log = logging.getLogger(__name__)

SNAPSHOT_DIR = "snapshots"
SNAPSHOT_GLOB = "snapshot-*.json.gz"
JOB_LOCK = ".vcreport-job.lock"


@dataclass
class RunOutcome:
    snapshot_path: Path
    files: list[Path]
    counts: dict[str, int]
    collection_errors: int
    emailed: bool = False
    previous: Path | None = None
    timings: dict[str, float] = field(default_factory=dict)
    history_error: str | None = None  # history could not be read or written; reports and email went out anyway
    changes: str | None = None  # "6 new, 1 fixed, 325 still open" since the last run (None: nothing to compare with)

    @property
    def partial(self) -> bool:
        return self.collection_errors > 0

    def summary_line(self) -> str:
        """'snapshot PATH; 3 high, 5 medium open; emailed': what `vcreport run` prints first."""
        sev = ", ".join(f"{n} {s}" for s, n in reversed(list(self.counts.items())) if n)
        return f"snapshot {self.snapshot_path}; {sev or 'no open findings'}" + ("; emailed" if self.emailed else "")


def snapshot_files(out_dir: Path) -> list[Path]:
    """This output directory's kept snapshots, oldest first (names sort by UTC time)."""
    return sorted((out_dir / SNAPSHOT_DIR).glob(SNAPSHOT_GLOB))


def snapshot_name(snap: Snapshot) -> str:
    return f"snapshot-{snap.collected_at.astimezone(UTC):%Y%m%dT%H%M%SZ}.json.gz"


def _load_previous(path: Path | None) -> Snapshot | None:
    """The previous run's snapshot as the checks compare with it: for snapshot growth, so with
    only its VMs that had VM snapshots (``snapshot_io.load``)."""
    if path is None:
        return None
    try:
        return snapshot_io.load(path, only_vms_with_snapshots=True)
    except SnapshotFormatError as exc:
        log.warning("previous snapshot ignored (no trends this run): %s", exc)
        return None


def _keep(cfg: Config, snap: Snapshot, path: Path) -> tuple[SourceFile, str | None]:
    """Save the snapshot (atomically), prune the old ones, record the history: the snapshot
    file's name and SHA-256 (as the report names it), and why history failed (None: it did not)."""
    snapshot_io.save(snap, path)
    source = SourceFile(name=path.name, sha256=sha256_file(path))
    if not cfg.output.keep_snapshots:
        # Keep only what the next run needs for its trends: this snapshot and the one before.
        for old in snapshot_files(path.parent.parent)[:-2]:
            old.unlink(missing_ok=True)
    if cfg.history is None:  # nothing to record: pandas and SQLAlchemy (~1.5 s to import) stay out
        return source, None
    from reporter.history import HISTORY_FAILURES, history_failure, record_snapshot

    try:
        record_snapshot(cfg, snap, source="collect")
    except HISTORY_FAILURES as exc:  # the snapshot is saved: report and email without history, then say so
        error = history_failure(cfg, exc)
        log.warning("history not recorded: %s", error)
        return source, error
    return source, None


def _saved_but_not_reported(cfg: Config, snap_path: Path, out_dir: Path) -> str:
    """What an interrupted report stage leaves: the saved snapshot, and the command that reports it."""
    config = f" --config {cfg.source}" if cfg.source else ""
    return (f"the snapshot was saved to {snap_path}, the reports were not written "
            f"(vcreport report {snap_path} --out {out_dir}{config} writes them)")


def _prepare_report(formats: Sequence[str]) -> None:
    """What the report will import: the checks (~0.3 s) and the renderers. A check module that
    fails to import fails again, in the report, where its error is shown."""
    try:
        load_all()
    except Exception as exc:
        log.debug("could not load the checks ahead: %s", exc)
    prepare_renderers(formats)


def _formats(cfg: Config) -> list[Format]:
    """The configured formats, plus whatever the email attaches (it must exist to be attached)."""
    fmts = list(cfg.output.formats)
    if cfg.email and cfg.email.enabled:
        fmts += [f for f in cfg.email.attach if f not in fmts]
    return fmts


def run_once(cfg: Config, *, insecure: bool = False, collect: Callable[..., Snapshot] | None = None,
             sleep: Callable[[float], None] = time.sleep, lock: bool = True, send: bool = True) -> RunOutcome:
    """Collect, keep the snapshot, record history, report, email. Raises DeliveryError when the
    email fails (the reports are on disk by then); the caller decides what a partial run means.
    ``send=False`` writes the email as ``report.eml`` in the output directory instead of sending it."""
    if not send and cfg.email is None:
        raise UsageError("--no-send writes the email a run would send as report.eml: it needs an [email] "
                         "section (sender, recipients)")
    from reporter.collect import collect as collect_inventory  # pyVmomi loads only for a real run
    from reporter.deliver.email import deliver
    out_dir = Path(cfg.output.dir)
    guard = FileLock(out_dir / JOB_LOCK, f"a vcreport run for {out_dir}") if lock else None
    if guard:
        guard.acquire()
    try:
        timings: dict[str, float] = {}
        formats = _formats(cfg) if send else [*_formats(cfg), "eml"]
        # The check modules, the renderers' libraries and templates load while the collection
        # waits on vCenter (WeasyPrint alone ~0.8 s), not after it. Joined before the report, which may fork.
        preparing = Background(lambda: _prepare_report(formats), name="vcreport-prepare-report")
        t0 = time.monotonic()
        snap = (collect or collect_inventory)(cfg, insecure=insecure)
        preparing.wait()  # (after a failed collection the error is shown first; the exit waits for it)
        timings["collect"] = time.monotonic() - t0
        # The collected snapshot lives to the end: frozen out of the collector's scans, whose next
        # pass over it (0.4 s of CPU at 10,000 VMs) came while the previous snapshot was read.
        # report() freezes what it adds and hands everything back at its end (gc.unfreeze is not nested).
        with frozen_heap():
            kept = snapshot_files(out_dir)
            snap_path = out_dir / SNAPSHOT_DIR / snapshot_name(snap)
            previous_path = next((p for p in reversed(kept) if p.name < snap_path.name), None)
            t0 = time.monotonic()
            # Saving (zlib) and recording history (the database) wait on I/O and C code most of the
            # time: they run in a thread while this one parses the previous run's snapshot and
            # findings. In that order, as before: no history sample for a snapshot that was not saved.
            # A previous snapshot that this save prunes (only when the clock went back) is read after it,
            # i.e. not at all, as before.
            pruned = not cfg.output.keep_snapshots and previous_path in sorted({*kept, snap_path})[:-2]
            keeping = Background(lambda: _keep(cfg, snap, snap_path), name="vcreport-save-snapshot")
            try:
                previous = None if pruned else _load_previous(previous_path)
                # Unreadable: None here, and report() reads it again and says why it ignores it.
                previous_findings = previous_findings_in(out_dir, warn=False)
            except BaseException:
                keeping.wait()  # Ctrl-C: the save finishes (or removes its temporary file) before the exit
                raise
            source, history_error = keeping.result()  # the snapshot's save error (OSError), if any, is raised here
            if pruned:
                previous = _load_previous(previous_path)
            timings["save"] = time.monotonic() - t0
            t0 = time.monotonic()
            # The snapshot in memory, not read back from the file: the same data (the file is its JSON).
            try:
                result = report(snap, out_dir, formats=formats, cfg=cfg, previous=previous,
                                previous_findings=previous_findings, history_error=history_error, source_files=[source])
            except KeyboardInterrupt as exc:  # Ctrl-C or SIGTERM: the collection is not lost, say where it is
                raise type(exc)(_saved_but_not_reported(cfg, snap_path, out_dir)) from None
            timings["report"] = time.monotonic() - t0
        outcome = RunOutcome(snap_path, result.files, result.results.counts(), len(snap.collection_errors),
                             previous=previous_path, timings=timings, history_error=result.context.history_error,
                             changes=result.context.delta.counts_text if result.context.delta else None)
        if send and cfg.email is not None and cfg.email.enabled:
            t0 = time.monotonic()
            try:
                deliver(result.context, cfg.email, out_dir, sleep=sleep)  # raises DeliveryError after retries
            except DeliveryError as exc:  # the one line says what is lost (the email), and what is not
                raise DeliveryError(f"{exc}; the reports were written to {out_dir}") from None
            except KeyboardInterrupt as exc:
                raise type(exc)(f"the reports were written to {out_dir}; sending the email was interrupted") from None
            outcome.emailed = True
            timings["email"] = time.monotonic() - t0
        return outcome
    finally:
        if guard:
            guard.release()
