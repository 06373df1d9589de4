"""The library surface. The CLI is a thin layer over these functions.

Typical use::

    from reporter import api
    cfg = api.load_config("vcreport.toml")
    snap = api.collect(cfg)
    api.save_snapshot(snap, "snapshot.json.gz")
    out = api.report(snap, "reports/", formats=["html", "json"], cfg=cfg)
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable

from . import __version__, snapshot_io
from .checks import CheckContext, all_checks
from .config import Config, load_config as _load_config
from .engine import Results, run_checks
from .errors import RenderError, SnapshotFormatError
from .findings import Finding
from .model import Snapshot
from .render import Delta, ReportContext, available_formats, get_renderer, sha256_file
from .settings import Settings
from .tables import Table, build_tables

log = logging.getLogger(__name__)

SAMPLES_DIR = Path(__file__).resolve().parent.parent / "samples"


def load_config(path: str | Path) -> Config:
    return _load_config(path)


def collect(cfg: Config, *, insecure: bool = False, progress: bool | None = None) -> Snapshot:
    from .collect import collect as _collect  # pyVmomi only loads when collecting

    return _collect(cfg, insecure=insecure, progress=progress)


def save_snapshot(snapshot: Snapshot, path: str | Path) -> Path:
    return snapshot_io.save(snapshot, path)


def load_snapshot(path: str | Path) -> Snapshot:
    return snapshot_io.load(path)


def list_checks() -> list[dict[str, Any]]:
    return [
        {
            "id": c.meta.id, "title": c.meta.title, "family": c.meta.family,
            "severity": c.meta.severity.value, "object_type": c.meta.object_type,
            "references": [r.kb or r.url for r in c.meta.references],
        }
        for c in all_checks()
    ]


def check_context(
    snapshot: Snapshot, cfg: Config | None = None, *, history: Any = None, previous: Snapshot | None = None
) -> CheckContext:
    return CheckContext(snapshot=snapshot, settings=Settings.from_config(cfg), history=history, previous=previous)


def check(snapshot: Snapshot, cfg: Config | None = None, *, history: Any = None,
          previous: Snapshot | None = None, only: Iterable[str] | None = None) -> tuple[Results, list[Table]]:
    ctx = check_context(snapshot, cfg, history=history, previous=previous)
    waivers = cfg.waiver if cfg else []
    results = run_checks(ctx, waivers=waivers, today=datetime.now(timezone.utc).date(), only=only)
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


def parse_formats(formats: str | Iterable[str] | None, default: Iterable[str] = ("html", "json")) -> list[str]:
    if formats is None:
        items = list(default)
    elif isinstance(formats, str):
        items = [f.strip().lower() for f in formats.split(",") if f.strip()]
    else:
        items = [f.strip().lower() for f in formats]
    known = available_formats()
    bad = [f for f in items if f not in known]
    if bad:
        raise RenderError(f"unknown report format(s): {', '.join(bad)} (available: {', '.join(known)})")
    if "json" not in items:
        items.append("json")  # findings.json is written by every report run
    return list(dict.fromkeys(items))


def report(
    snapshot: Snapshot | str | Path,
    out_dir: str | Path,
    *,
    formats: str | Iterable[str] | None = None,
    cfg: Config | None = None,
    show_license_keys: bool | None = None,
    previous_findings: list[Finding] | None = None,
    previous: Snapshot | None = None,
    history: Any = None,
) -> ReportOutput:
    """Run the checks and write the chosen formats into ``out_dir``.

    The previous run's findings (for the new/fixed/still-open summary) default to the
    ``findings.json`` already in ``out_dir``.
    """
    snapshot_sha = None
    if not isinstance(snapshot, Snapshot):
        path = Path(snapshot)
        snap = load_snapshot(path)
        snapshot_sha = sha256_file(path)
    else:
        snap = snapshot
    out = Path(out_dir)
    fmt = parse_formats(formats, cfg.output.formats if cfg else ("html", "json"))
    if previous_findings is None and (out / "findings.json").exists():
        try:
            previous_findings = load_findings(out / "findings.json")
        except SnapshotFormatError as exc:
            log.warning("ignoring previous findings: %s", exc)
    if history is None and cfg is not None and cfg.history is not None:
        history = _history_for_report(cfg, snap)
    results, tables = check(snap, cfg, history=history, previous=previous)
    show = cfg.output.show_license_keys if (show_license_keys is None and cfg) else bool(show_license_keys)
    ctx = ReportContext(
        snapshot=snap, results=results, tables=tables, tool_version=__version__,
        snapshot_sha256=snapshot_sha, delta=compute_delta(results.findings, previous_findings),
        history=history, show_license_keys=show,
    )
    masked = ctx.masked()
    out.mkdir(parents=True, exist_ok=True)
    files = _render_all(masked, fmt, out)
    return ReportOutput(files=files, results=results, tables=tables, context=masked)


def _render_all(ctx: ReportContext, formats: list[str], out: Path) -> list[Path]:
    """Render every format into a staging directory beside the reports, then move the files
    into place. If any format fails, the previous report set is left exactly as it was."""
    import shutil
    import tempfile

    staging = Path(tempfile.mkdtemp(prefix=".render-", dir=out))
    try:
        staged: list[Path] = []
        for name in formats:
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


def _history_for_report(cfg: Config, snap: Snapshot) -> Any:
    """History data for checks and charts; None when the history module has none."""
    try:
        from .history import load_for_report
    except ImportError:
        return None
    return load_for_report(cfg, snap)


def demo(out_dir: str | Path = "demo-report", formats: str | Iterable[str] | None = None) -> ReportOutput:
    """Report on the bundled sample snapshot: no vCenter needed."""
    import tempfile

    from .config import Config, HistoryConfig
    from .history import import_csv, load_for_report

    sample = find_sample("sample-snapshot.json.gz")
    snap = load_snapshot(sample)
    # The sample config brings thresholds and a waiver, so the demo shows a waived finding too.
    sample_cfg = _load_config(find_sample("sample-config.toml"))
    # The sample ships a year of vRAM readings; load them into a throwaway history database
    # so the demo shows the 12-month compliance figures and chart as a real site would.
    with tempfile.TemporaryDirectory(prefix="vcreport-demo-") as tmp:
        cfg = Config(history=HistoryConfig(url=f"sqlite:///{Path(tmp) / 'history.db'}"))
        import_csv(cfg, find_sample("sample-vram-history.csv"))
        history = load_for_report(cfg, snap)
    return report(sample, out_dir, formats=formats or ("html", "json", "xlsx", "csv", "pdf"), history=history,
                  cfg=sample_cfg, show_license_keys=False)


def find_sample(name: str) -> Path:
    for base in (SAMPLES_DIR, Path(__file__).resolve().parent / "samples"):
        p = base / name
        if p.exists():
            return p
    raise SnapshotFormatError(f"bundled sample {name} not found (looked in {SAMPLES_DIR})")


# -- licensing: plans, light vRAM samples, history (issue 4) ------------------------------------

def plan(snapshot: Snapshot | str | Path, cfg: Config | None = None, *, scenario: Any = None,
         history: Any = None, **changes: Any) -> Any:
    """What-if license planning (``reporter.licensing.plan``): ``scenario`` is a Scenario or a
    path to a scenario TOML file; keyword ``changes`` (add_vms, power_off, edition,
    add_cpu_licenses, per_core, pool, vram_table) are applied on top of it."""
    from .licensing.plan import Scenario, load_scenario, merge
    from .licensing.plan import plan as _plan

    snap = snapshot if isinstance(snapshot, Snapshot) else load_snapshot(snapshot)
    base = load_scenario(scenario) if isinstance(scenario, (str, Path)) else scenario
    sc = merge(base if isinstance(base, Scenario) or base is None else Scenario.model_validate(base), **changes)
    if history is None and cfg is not None and cfg.history is not None:
        history = _history_for_report(cfg, snap)
    return _plan(snap, sc, Settings.from_config(cfg), history)


def write_plan(result: Any, out: str | Path, *, show_license_keys: bool = False) -> Path:
    from .licensing.plan_output import write_plan as _write

    return _write(result, out, show_license_keys=show_license_keys, tool_version=__version__)


def sample_vram(cfg: Config, *, insecure: bool = False, incremental: bool = False) -> Snapshot:
    """A light collection (power state + memory of VMs, hosts, licenses) for vRAM sampling.

    ``incremental=True`` resumes the previous run's session and filter from the state
    directory and transfers only the VMs that changed (``vcreport vram sample``)."""
    from .collect import sample_vram as _sample  # pyVmomi only loads when collecting

    return _sample(cfg, insecure=insecure, incremental=incremental)


def vram_sampler(cfg: Config, *, insecure: bool = False) -> Any:
    """A sampler for a long-running process: ``.sample()`` keeps sessions and filters warm, ``.close()``."""
    from .collect.incremental import VramSampler

    return VramSampler(cfg, insecure=insecure)


def record_history(cfg: Config, snapshot: Snapshot, *, source: str = "collect") -> int:
    """Store the snapshot's vRAM pool readings in the history database; returns rows added."""
    from .history import record_snapshot

    return record_snapshot(cfg, snapshot, source=source)


def history_import(cfg: Config, path: str | Path) -> Any:
    from .history import import_csv

    return import_csv(cfg, path)


def history_export(cfg: Config, out: str | Path | None = None) -> tuple[str, int]:
    from .history import export_csv

    return export_csv(cfg, out)


# -- delivery: audit verification, scheduled runs (issue 8) ---------------------------------------

def verify(pdf: str | Path, snapshot: str | Path | None = None) -> Any:
    """Check an audit-evidence PDF: every embedded attachment's SHA-256 against the hashes printed
    in it (and, with ``snapshot``, that file against the printed source-snapshot hash). Returns a
    ``VerifyResult``; raises ``VerificationFailed`` naming the first mismatch."""
    from .render.pdfa import verify_pdf

    return verify_pdf(pdf, snapshot)


def run(cfg: Config, *, insecure: bool = False) -> Any:
    """One full run: collect, keep the snapshot, record history, report into ``[output] dir``, email.
    Returns a ``RunOutcome`` (``.partial`` when some of the inventory could not be read)."""
    from .deliver.scheduler import run_once

    return run_once(cfg, insecure=insecure)


def serve(cfg: Config) -> None:
    """Run the weekly report, vRAM samples and daily maintenance on ``[schedule]`` until SIGTERM."""
    from .deliver.scheduler import serve as _serve

    _serve(cfg)
