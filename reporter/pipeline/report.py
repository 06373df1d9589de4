"""Checks and reports from a snapshot: the ``check → findings → render`` half of the pipeline.

``report`` runs the checks, compares with the previous run's findings, masks what must be
masked once, and renders every format into a staging directory that replaces the previous
report set only when all formats succeeded.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager, ExitStack, nullcontext
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from reporter import __version__
from reporter.checks import CheckContext, load_all
from reporter.checks.actions import DEFAULT_TOP_ACTIONS
from reporter.checks.engine import OPEN_STATUSES, Results, run_checks
from reporter.checks.licensing.common import compute_verdicts
from reporter.checks.tables import Table, build_tables
from reporter.config import Config
from reporter.config.settings import Settings
from reporter.core import snapshot_io
from reporter.core.detail import Detail
from reporter.core.findings import Finding
from reporter.core.formats import DEFAULT_FORMATS, Format, parse_formats
from reporter.core.fsutil import make_dirs, missing_dirs
from reporter.core.gcpolicy import frozen_heap, paused_gc
from reporter.core.model import Snapshot
from reporter.errors import RenderError, SnapshotFormatError, UsageError
from reporter.pipeline import parallel
from reporter.pipeline.progress import StageProgress
from reporter.pipeline.staging import interrupts_deferred, make_staging, remove_stale
from reporter.pipeline.unread import unread_scope
from reporter.render.base import Delta, ReportContext, SourceFile, get_renderer

if TYPE_CHECKING:
    # History (pandas, SQLAlchemy: ~1 s to import) loads only when [history] is configured;
    # pyHanko (~0.5 s) only when a report is signed.
    from reporter.history import VramHistory
    from reporter.render.signing import SigningSetup

log = logging.getLogger(__name__)


def check_context(
    snapshot: Snapshot, cfg: Config | None = None, *, history: VramHistory | None = None, previous: Snapshot | None = None,
    history_error: str | None = None,
) -> CheckContext:
    load_all()  # the check families register their settings classes
    ctx = CheckContext(snapshot=snapshot, settings=Settings.from_config(cfg), history=history, previous=previous,
                       history_error=history_error)
    # The licensing verdict is computed here, once, and read by the checks, the tables, every
    # renderer and the plan (docs/methodology.md#vram-compliance).
    return replace(ctx, licensing=compute_verdicts(ctx))


def check(snapshot: Snapshot, cfg: Config | None = None, *, history: VramHistory | None = None,
          previous: Snapshot | None = None, only: Iterable[str] | None = None,
          history_error: str | None = None) -> tuple[Results, list[Table]]:
    results, tables, _ = check_with_context(snapshot, cfg, history=history, previous=previous, only=only,
                                            history_error=history_error)
    return results, tables


def check_with_context(snapshot: Snapshot, cfg: Config | None = None, *, history: VramHistory | None = None,
                       previous: Snapshot | None = None,
                       only: Iterable[str] | None = None,
                       history_error: str | None = None) -> tuple[Results, list[Table], CheckContext]:
    """The checks' results and tables, and the context they read (with the licensing verdict)."""
    ctx = check_context(snapshot, cfg, history=history, previous=previous, history_error=history_error)
    waivers = cfg.waiver if cfg else []
    results = run_checks(ctx, waivers=waivers, today=datetime.now(UTC).date(), only=only)
    return results, build_tables(ctx), ctx


def compute_delta(current: list[Finding], previous: list[Finding] | None,
                  snapshot: Snapshot | None = None) -> Delta | None:
    """New, fixed and still-open findings by fingerprint. A previous finding that is gone from
    this run only counts as fixed if its object was read this time: on a vCenter or object type
    whose collection failed (``snapshot.collection_errors``) it is "not re-checked"."""
    if previous is None:
        return None
    cur = {f.key: f for f in current if f.status in OPEN_STATUSES}
    prev = {f.key: f for f in previous if f.status in OPEN_STATUSES}
    unread = unread_scope(snapshot) if snapshot is not None else None
    fixed: list[Finding] = []
    not_rechecked: list[Finding] = []
    why: dict[tuple[str, str], str] = {}
    for k, f in prev.items():
        if k in cur:
            continue
        reason = unread.reason(f) if unread is not None else None
        if reason is None:
            fixed.append(f)
        else:
            not_rechecked.append(f)
            why[k] = reason
    return Delta(
        new=[f for k, f in cur.items() if k not in prev],
        fixed=fixed,
        still_open=[f for k, f in cur.items() if k in prev],
        not_rechecked=not_rechecked,
        not_rechecked_why=why,
    )


def load_findings(path: str | Path) -> list[Finding]:
    p = Path(path)
    try:
        raw = json.loads(p.read_text(encoding="utf-8"))
        return [Finding.model_validate(x) for x in raw]
    except (OSError, ValueError) as exc:
        raise SnapshotFormatError(f"{p}: not a findings.json file: {exc}") from None


@dataclass
class ReportOutput:
    files: list[Path]
    results: Results
    tables: list[Table]
    context: ReportContext


def previous_findings_in(out_dir: Path, *, warn: bool = True) -> list[Finding] | None:
    """The previous report's findings in ``out_dir`` (None: none there, or unreadable; said in
    the log when ``warn``)."""
    path = out_dir / "findings.json"
    if not path.exists():
        return None
    try:
        return load_findings(path)
    except SnapshotFormatError as exc:
        if warn:
            log.warning("ignoring previous findings: %s", exc)
        return None


def resolve_formats(formats: str | Iterable[str] | None, cfg: Config | None) -> list[Format]:
    """The formats to write: as asked, else the config's, else the default; ``json`` always
    (findings.json is written by every report run). Raises UsageError for an unknown or empty
    list (exit 2)."""
    if formats is None:
        items = list(cfg.output.formats) if cfg else list(DEFAULT_FORMATS)
    else:
        text = formats if isinstance(formats, str) else ",".join(formats)
        try:
            items = parse_formats(text)
        except ValueError as exc:
            raise UsageError(f"--format: {exc}") from None
    if Format.json not in items:
        items.append(Format.json)
    return list(dict.fromkeys(items))


# The full PDF edition lists every object: measured at 10,000 VMs (benchmarks/RESULTS.md), 572
# pages, about a minute of CPU and 2.1 GB of memory. Above this many VMs the run says so first.
FULL_PDF_WARN_VMS = 2_000


def full_pdf_warning(vms: int, detail: Detail, formats: Iterable[Format]) -> str | None:
    """The warning before a full PDF edition of a large inventory (None: nothing to say)."""
    if detail is not Detail.full or Format.pdf not in formats or vms <= FULL_PDF_WARN_VMS:
        return None
    return (f"report.pdf at --detail full lists every object of {vms:,} VMs: at 10,000 VMs that is about "
            "570 pages, a minute or more of CPU and 2 GB of memory. --detail standard prints up to 50 "
            "objects a group; report.xlsx and the CSV files hold every object at any detail.")


def resolve_detail(detail: Detail | str | None, cfg: Config | None) -> Detail:
    """As asked, else the config's, else standard; UsageError (exit 2) for an unknown level."""
    if detail is None:
        return cfg.output.detail if cfg else Detail.standard
    try:
        return Detail(detail)
    except ValueError:
        raise UsageError(f"--detail: unknown level {detail!r} (choose {', '.join(d.value for d in Detail)})") from None
def with_email_attachments(formats: list[Format], cfg: Config | None) -> list[Format]:
    """For ``eml``: the formats the email attaches are rendered too, and the email last (it
    attaches the files just rendered). Raises UsageError without an ``[email]`` section."""
    from reporter.render.eml import NEEDS_EMAIL

    if cfg is None or cfg.email is None:
        raise UsageError(NEEDS_EMAIL)
    others = [f for f in formats if f != Format.eml]
    return list(dict.fromkeys([*others, *cfg.email.attach, Format.eml]))


def report(
    snapshot: Snapshot | str | Path | Sequence[str | Path],
    out_dir: str | Path,
    *,
    formats: str | Iterable[str] | None = None,
    cfg: Config | None = None,
    show_license_keys: bool | None = None,
    previous_findings: list[Finding] | None = None,
    previous: Snapshot | None = None,
    history: VramHistory | None = None,
    detail: Detail | str | None = None,
    history_error: str | None = None,
    progress: bool | None = None,
    source_files: Sequence[SourceFile] = (),
) -> ReportOutput:
    """Run the checks and write the chosen formats into ``out_dir``.

    ``snapshot`` may also be a list of snapshot files, directories or glob patterns: they are
    merged into one report (``reporter.pipeline.sources``). The previous run's findings (for the
    new/fixed/still-open summary) default to the ``findings.json`` already in ``out_dir``.
    ``detail`` (summary | standard | full) defaults to the config's ``[output] detail``. A
    configured history that cannot be read (``history_error``, or found here) does not stop the
    report: it says so instead. ``progress`` shows each stage on stderr (None: only on a terminal).
    ``source_files``: for a ``Snapshot`` already in memory, the file(s) it was saved to (``run``
    saves, then reports from memory): the report names them and their SHA-256 as if it had read them.
    """
    # Usage first: a wrong --format is reported before any file is read.
    fmt = resolve_formats(formats, cfg)
    if Format.eml in fmt:
        fmt = with_email_attachments(fmt, cfg)
    stages = StageProgress(progress)
    snapshot_sha = None
    sources: list[SourceFile] = []
    if isinstance(snapshot, Snapshot):
        snap = snapshot
        sources = list(source_files)
    else:
        from reporter.pipeline.sources import load_sources

        paths = [snapshot] if isinstance(snapshot, (str, Path)) else list(snapshot)
        max_bytes = cfg.output.snapshot_max_bytes if cfg else snapshot_io.DEFAULT_MAX_BYTES
        with stages.stage("loading the snapshot" if len(paths) == 1 else f"loading and merging {len(paths)} snapshot arguments"):
            snap, sources = load_sources(paths, max_bytes=max_bytes)
    snapshot_sha = sources[0].sha256 if len(sources) == 1 else None
    out = Path(out_dir)
    if previous_findings is None:
        previous_findings = previous_findings_in(out)
    if history is None and history_error is None and cfg is not None and cfg.history is not None:
        from reporter.history import HISTORY_FAILURES, history_failure

        try:
            history = history_for_report(cfg, snap)
        except HISTORY_FAILURES as exc:
            history_error = history_failure(cfg, exc)
            # Said to the reader by the report (licensing, LIC-001) and by `vcreport report`'s exit line.
            log.info("history not available for this report: %s", history_error)
    # No cycles are made by the checks, the delta or the masking: reporter.core.gcpolicy
    with ExitStack() as rendering:
        with stages.stage(f"checks ({snap.vm_count():,} VMs)"), paused_gc():
            results, tables, check_ctx = check_with_context(snap, cfg, history=history, previous=previous,
                                                            history_error=history_error)
            show = cfg.output.show_license_keys if (show_license_keys is None and cfg) else bool(show_license_keys)
            ctx = ReportContext(
                snapshot=snap, results=results, tables=tables, tool_version=__version__,
                snapshot_sha256=snapshot_sha, source_files=tuple(sources),
                delta=compute_delta(results.findings, previous_findings, snap),
                history=history, history_error=history_error, show_license_keys=show, licensing=check_ctx.licensing,
                audit_signing=audit_signing_setup(cfg) if Format.pdfa in fmt else None,
                detail=resolve_detail(detail, cfg),
                top_actions=cfg.output.top_actions if cfg else DEFAULT_TOP_ACTIONS,
                email=cfg.email if cfg is not None and Format.eml in fmt else None,
            )
            masked = ctx.masked()
            if (warning := full_pdf_warning(snap.vm_count(), ctx.detail, fmt)) is not None:
                log.warning("%s", warning)
            # Frozen before automatic collection resumes, whose first pass would walk every object
            # made while it was paused (0.4 s of CPU at 10,000 VMs) only to find it alive, at the
            # start of the critical path (the PDF process is forked after it).
            rendering.enter_context(frozen_heap())
        made = missing_dirs(out)
        try:
            make_dirs(out)
        except OSError as exc:
            raise _cannot_write(out, exc) from None
        try:
            files = _render_all(masked, fmt, out, stages)
        except BaseException:
            _remove_empty(made)  # a report that failed leaves no empty --out behind it either
            raise
    return ReportOutput(files=files, results=results, tables=tables, context=masked)


def _remove_empty(dirs: list[Path]) -> None:
    for d in dirs:  # deepest first: each goes only if nothing was left in it
        try:
            d.rmdir()
        except OSError:
            return


def audit_signing_setup(cfg: Config | None) -> SigningSetup | None:
    """The ``[audit]`` section as a ``SigningSetup`` for the pdfa renderer; None: leave it unsigned."""
    if cfg is None or not cfg.audit.signs:
        return None
    from reporter.render.signing import SignerFiles, SigningSetup  # pyHanko: only for a signed report

    audit = cfg.audit
    files = SignerFiles(key_file=audit.sign_key_file, cert_file=audit.sign_cert_file,
                        chain_files=tuple(audit.sign_chain_files), pkcs12_file=audit.sign_pkcs12_file,
                        passphrase=audit.resolve_passphrase())
    return SigningSetup(signer=files, tsa_url=audit.tsa_url, embed_validation_data=audit.embed_validation_data,
                        trust_files=tuple(audit.trust_files))


def _render_all(ctx: ReportContext, formats: list[Format], out: Path, stages: StageProgress) -> list[Path]:
    """Render every format into a staging directory beside the reports, then move the files
    into place. If any format fails, the previous report set is left exactly as it was."""
    try:
        remove_stale(out)
        staging = make_staging(out)
    except OSError as exc:
        raise _cannot_write(out, exc) from None
    background: dict[Format, parallel.BackgroundRender] = {}
    try:
        staged = _render_into(ctx, formats, staging, stages, background)
        files = []
        with interrupts_deferred():  # the whole new set in place, not half of it
            for path in staged:
                target = out / path.relative_to(staging)
                make_dirs(target.parent)
                os.replace(path, target)
                files.append(target)
        return files
    except OSError as exc:
        # The user asked for --out: name it, not the internal staging directory inside it.
        raise _cannot_write(out, exc) from None
    finally:
        with interrupts_deferred():  # a second Ctrl-C does not leave the staging directory behind
            for job in background.values():  # killed and reaped before their directory goes
                job.stop()
            shutil.rmtree(staging, ignore_errors=True)


def _render_into(ctx: ReportContext, formats: list[Format], staging: Path, stages: StageProgress,
                 background: dict[Format, parallel.BackgroundRender]) -> list[Path]:
    """Every format's files in ``staging``, listed in the order of ``formats``. The PDF editions
    render in child processes (``reporter.pipeline.parallel``) while this process writes the
    others; a failure is the one serial rendering would have met first."""
    for name in parallel.background_formats(formats):
        try:
            background[name] = parallel.start(name, ctx, staging)
        except OSError as exc:  # no fork now (EAGAIN, ENOMEM): this process renders it in its turn
            log.info("rendering %s in this process: cannot start a process for it: %s", name, exc)
    by_format: dict[Format, list[Path]] = {}
    current = formats[0]
    shared: AbstractContextManager[None] = nullcontext()
    if {Format.xlsx, Format.csv} <= set(formats) - set(background):
        from reporter.render.sheets import sharing_sheets

        shared = sharing_sheets(ctx)  # the workbook and the CSV files: the same sheets, built once
    try:
        with shared:
            for current in formats:
                if current in background:
                    continue
                if current == Format.eml:  # it attaches the files rendered before it
                    _wait_for(background, by_format, stages)
                with stages.stage(f"writing {current}"):
                    by_format[current] = get_renderer(current).render(ctx, staging)
    except Exception:
        earlier = {n: job for n, job in background.items() if formats.index(n) < formats.index(current)}
        _wait_for(earlier, by_format, stages)  # raises theirs, if one of them failed too
        raise
    _wait_for(background, by_format, stages)
    return [path for name in formats for path in by_format[name]]


def _wait_for(jobs: dict[Format, parallel.BackgroundRender], by_format: dict[Format, list[Path]],
              stages: StageProgress) -> None:
    for name, job in jobs.items():
        if name not in by_format:
            with stages.stage(f"writing {name}", started=job.started):
                by_format[name] = job.wait()


def _cannot_write(out: Path, exc: OSError) -> RenderError:
    return RenderError(f"{out}: cannot write the reports there: {exc.strerror or type(exc).__name__}")


def history_for_report(cfg: Config, snap: Snapshot) -> VramHistory:
    """History data for checks and charts."""
    from reporter.history import load_for_report

    return load_for_report(cfg, snap)
