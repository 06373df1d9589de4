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
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from reporter import __version__
from reporter.checks import CheckContext, load_all
from reporter.checks.engine import Results, run_checks
from reporter.checks.tables import Table, build_tables
from reporter.config import Config
from reporter.config.settings import Settings
from reporter.core.findings import Finding
from reporter.core.formats import DEFAULT_FORMATS, Format, parse_formats
from reporter.core.gcpolicy import frozen_heap, paused_gc
from reporter.core.model import Snapshot
from reporter.errors import SnapshotFormatError, UsageError
from reporter.history import VramHistory, load_for_report
from reporter.pipeline.progress import StageProgress
from reporter.render.base import Delta, ReportContext, SourceFile, get_renderer
from reporter.render.signing import SignerFiles, SigningSetup

log = logging.getLogger(__name__)


def check_context(
    snapshot: Snapshot, cfg: Config | None = None, *, history: Any = None, previous: Snapshot | None = None
) -> CheckContext:
    load_all()  # the check families register their settings classes
    return CheckContext(snapshot=snapshot, settings=Settings.from_config(cfg), history=history, previous=previous)


def check(snapshot: Snapshot, cfg: Config | None = None, *, history: Any = None,
          previous: Snapshot | None = None, only: Iterable[str] | None = None) -> tuple[Results, list[Table]]:
    ctx = check_context(snapshot, cfg, history=history, previous=previous)
    waivers = cfg.waiver if cfg else []
    results = run_checks(ctx, waivers=waivers, today=datetime.now(UTC).date(), only=only)
    return results, build_tables(ctx)


def compute_delta(current: list[Finding], previous: list[Finding] | None) -> Delta | None:
    if previous is None:
        return None
    open_status = {"fail", "warn", "error"}
    cur = {f.key: f for f in current if f.status.value in open_status}
    prev = {f.key: f for f in previous if f.status.value in open_status}
    return Delta(
        new=[f for k, f in cur.items() if k not in prev],
        fixed=[f for k, f in prev.items() if k not in cur],
        still_open=[f for k, f in cur.items() if k in prev],
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


def report(
    snapshot: Snapshot | str | Path | Sequence[str | Path],
    out_dir: str | Path,
    *,
    formats: str | Iterable[str] | None = None,
    cfg: Config | None = None,
    show_license_keys: bool | None = None,
    previous_findings: list[Finding] | None = None,
    previous: Snapshot | None = None,
    history: Any = None,
    progress: bool | None = None,
) -> ReportOutput:
    """Run the checks and write the chosen formats into ``out_dir``.

    ``snapshot`` may also be a list of snapshot files, directories or glob patterns: they
    are merged into one report (``reporter.pipeline.sources``). The previous run's findings
    (for the new/fixed/still-open summary) default to the ``findings.json`` already in ``out_dir``.
    ``progress`` shows each stage on stderr (None: only when stderr is a terminal).
    """
    stages = StageProgress(progress)
    snapshot_sha = None
    sources: list[SourceFile] = []
    if isinstance(snapshot, Snapshot):
        snap = snapshot
    else:
        from reporter.pipeline.sources import load_sources

        paths = [snapshot] if isinstance(snapshot, (str, Path)) else list(snapshot)
        with stages.stage("loading the snapshot" if len(paths) == 1 else f"loading and merging {len(paths)} snapshot arguments"):
            snap, sources = load_sources(paths)
        snapshot_sha = sources[0].sha256 if len(sources) == 1 else None
    out = Path(out_dir)
    fmt = resolve_formats(formats, cfg)
    if previous_findings is None and (out / "findings.json").exists():
        try:
            previous_findings = load_findings(out / "findings.json")
        except SnapshotFormatError as exc:
            log.warning("ignoring previous findings: %s", exc)
    if history is None and cfg is not None and cfg.history is not None:
        history = history_for_report(cfg, snap)
    with stages.stage(f"checks ({snap.vm_count():,} VMs)"), paused_gc():  # no cycles made: reporter.core.gcpolicy
        results, tables = check(snap, cfg, history=history, previous=previous)
    show = cfg.output.show_license_keys if (show_license_keys is None and cfg) else bool(show_license_keys)
    ctx = ReportContext(
        snapshot=snap, results=results, tables=tables, tool_version=__version__,
        snapshot_sha256=snapshot_sha, source_files=tuple(sources), delta=compute_delta(results.findings, previous_findings),
        history=history, show_license_keys=show,
        audit_signing=audit_signing_setup(cfg) if Format.pdfa in fmt else None,
    )
    masked = ctx.masked()
    out.mkdir(parents=True, exist_ok=True)
    with frozen_heap():
        files = _render_all(masked, fmt, out, stages)
    return ReportOutput(files=files, results=results, tables=tables, context=masked)


def audit_signing_setup(cfg: Config | None) -> SigningSetup | None:
    """The ``[audit]`` section as a ``SigningSetup`` for the pdfa renderer; None: leave it unsigned."""
    if cfg is None or not cfg.audit.signs:
        return None
    audit = cfg.audit
    files = SignerFiles(key_file=audit.sign_key_file, cert_file=audit.sign_cert_file,
                        chain_files=tuple(audit.sign_chain_files), pkcs12_file=audit.sign_pkcs12_file,
                        passphrase=audit.resolve_passphrase())
    return SigningSetup(signer=files, tsa_url=audit.tsa_url, embed_validation_data=audit.embed_validation_data,
                        trust_files=tuple(audit.trust_files))


def _render_all(ctx: ReportContext, formats: list[Format], out: Path, stages: StageProgress) -> list[Path]:
    """Render every format into a staging directory beside the reports, then move the files
    into place. If any format fails, the previous report set is left exactly as it was."""
    staging = Path(tempfile.mkdtemp(prefix=".render-", dir=out))
    try:
        staged: list[Path] = []
        for name in formats:
            with stages.stage(f"writing {name}"):
                staged.extend(get_renderer(name).render(ctx, staging))
        files = []
        for path in staged:
            target = out / path.relative_to(staging)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(path, target)
            files.append(target)
        return files
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def history_for_report(cfg: Config, snap: Snapshot) -> VramHistory:
    """History data for checks and charts."""
    return load_for_report(cfg, snap)
