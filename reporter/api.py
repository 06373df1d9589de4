"""The library surface. The CLI is a thin layer over these functions.

Typical use::

    from reporter import api
    cfg = api.load_config("vcreport.toml")
    snap = api.collect(cfg)
    api.save_snapshot(snap, "snapshot.json.gz")
    out = api.report(snap, "reports/", formats=["html", "json"], cfg=cfg)
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reporter import __version__
from reporter.checks import all_checks, load_all
from reporter.config import Config, HistoryConfig
from reporter.config import load_config as _load_config
from reporter.config import parse_config as _parse_config
from reporter.config.settings import Settings
from reporter.core import snapshot_io
from reporter.core.findings import Finding
from reporter.core.formats import DEMO_FORMATS
from reporter.core.fsutil import set_file_mode
from reporter.core.model import Snapshot
from reporter.errors import SnapshotFormatError

if TYPE_CHECKING:
    from reporter.history import ImportResult, VramHistory
    from reporter.pipeline.report import (
        ReportOutput,
        check,
        check_context,
        compute_delta,
        load_findings,
        report,
        resolve_formats,
    )
    from reporter.render.signature_check import VerificationReport

# Re-exported from the report pipeline, imported on first use: ``vcreport collect`` needs
# none of it, and importing it (pandas, SQLAlchemy, the renderers, pyHanko) would add
# about a second to every collect.
_PIPELINE_NAMES = frozenset({"ReportOutput", "check", "check_context", "compute_delta", "load_findings", "report",
                             "resolve_formats"})


def __getattr__(name: str) -> Any:
    if name in _PIPELINE_NAMES:
        from reporter.pipeline import report as pipeline_report

        return getattr(pipeline_report, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "ReportOutput", "check", "check_context", "collect", "compute_delta", "demo", "find_sample", "history_export",
    "history_import", "list_checks", "load_config", "load_findings", "load_snapshot", "parse_config", "plan", "plan_json", "plan_text",
    "record_history", "report", "resolve_formats", "run", "sample_vram", "save_snapshot", "serve", "verify", "vram_sampler",
    "write_plan",
]


def load_config(path: str | Path) -> Config:
    """Load and validate a config file, thresholds included (raises ConfigError, exit 2)."""
    cfg = _load_config(path)
    if cfg.thresholds:  # the check families register their settings classes; without thresholds
        load_all()      # there is nothing to validate (and `collect` needs no checks: ~0.4 s)
    Settings.from_config(cfg)
    set_file_mode(cfg.output.file_mode)  # what this process writes from now on
    return cfg


def parse_config(data: dict[str, Any], source: str = "<config>") -> Config:
    cfg = _parse_config(data, source)
    if cfg.thresholds:
        load_all()
    Settings.from_config(cfg)
    set_file_mode(cfg.output.file_mode)
    return cfg


def collect(cfg: Config, *, insecure: bool = False, progress: bool | None = None) -> Snapshot:
    from reporter.collect import collect as _collect  # pyVmomi only loads when collecting

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
            "references": [r.label for r in c.meta.references],
        }
        for c in all_checks()
    ]


def find_sample(name: str) -> Traversable:
    """A file shipped in the package's ``samples`` (the bundled demo data)."""
    item = resources.files("reporter.samples") / name
    if not item.is_file():
        raise SnapshotFormatError(f"bundled sample {name} is not installed with this package")
    return item


@dataclass(frozen=True)
class DemoInputs:
    """What the demo reports from: the bundled sample (its file, for the report's SHA-256), the
    sample config, a year of vRAM history, and the same site a week earlier with its findings."""

    snapshot: Path
    cfg: Config
    history: VramHistory
    previous: Snapshot
    previous_findings: list[Finding]


@contextmanager
def demo_inputs(*, email: bool = False) -> Iterator[DemoInputs]:
    """The demo's inputs, valid inside the block (the sample files may be unpacked for it).
    ``email``: give the config an ``[email]`` section when it has none, for report.eml."""
    with resources.as_file(find_sample("sample-snapshot.json.gz")) as sample, \
            resources.as_file(find_sample("sample-config.toml")) as sample_config, \
            resources.as_file(find_sample("sample-vram-history.csv")) as sample_history, \
            resources.as_file(find_sample("sample-snapshot-previous.json.gz")) as previous_sample:
        from reporter.history import import_csv, load_for_report
        from reporter.pipeline.report import check_with_context

        snap = load_snapshot(sample)
        # The sample config brings thresholds and a waiver, so the demo shows a waived finding too.
        sample_cfg = load_config(sample_config)
        if email and sample_cfg.email is None:
            # The weekly email as report.eml (never sent): addressed as the sample config's
            # commented-out [email] example.
            from reporter.config.sections import EmailConfig

            sample_cfg = sample_cfg.model_copy(update={"email": EmailConfig(
                smtp_host="smtp.corp.example", sender="vcreport@corp.example",
                recipients=["vmware-admins@corp.example"])})
        # The sample ships a year of vRAM readings; load them into a throwaway history database
        # so the demo shows the 12-month compliance figures and chart as a real site would.
        with tempfile.TemporaryDirectory(prefix="vcreport-demo-") as tmp:
            cfg = Config(history=HistoryConfig(url=f"sqlite:///{Path(tmp) / 'history.db'}"))
            import_csv(cfg, sample_history)
            history = load_for_report(cfg, snap)
            previous = load_snapshot(previous_sample)
            previous_history = load_for_report(cfg, previous)
        # Last week's run of the same site, so "Changes since the last run" shows what a weekly
        # report shows: the snapshots taken during the week are new, the one deleted is fixed.
        previous_results, _tables, _ctx = check_with_context(previous, sample_cfg, history=previous_history)
        yield DemoInputs(snapshot=sample, cfg=sample_cfg, history=history, previous=previous,
                         previous_findings=previous_results.findings)


def demo(out_dir: str | Path = "demo-report", formats: str | Iterable[str] | None = None,
         detail: str | None = None) -> ReportOutput:
    """Report on the bundled sample snapshot, compared with the same site a week earlier: no
    vCenter needed."""
    from reporter.pipeline.report import report

    with demo_inputs(email=_asks_for_email(formats)) as d:
        return report(d.snapshot, out_dir, formats=formats if formats is not None else list(DEMO_FORMATS),
                      history=d.history, cfg=d.cfg, show_license_keys=False, detail=detail,
                      previous=d.previous, previous_findings=d.previous_findings)


def _asks_for_email(formats: str | Iterable[str] | None) -> bool:
    if formats is None:
        return False
    items = formats.split(",") if isinstance(formats, str) else list(formats)
    return any(str(item).strip().lower() == "eml" for item in items)


# -- licensing: plans, light vRAM samples, history ------------------------------------------------

def plan(snapshot: Snapshot | str | Path, cfg: Config | None = None, *, scenario: Any = None,
         history: VramHistory | None = None, **changes: Any) -> Any:
    """What-if license planning: ``scenario`` is a Scenario or a path to a scenario TOML file;
    keyword ``changes`` (add_vms, power_off, edition, add_cpu_licenses, per_core, pool,
    vram_table) are applied on top of it."""
    from reporter.domain.licensing.plan import Scenario, load_scenario, merge
    from reporter.domain.licensing.plan import plan as _plan
    from reporter.pipeline.report import check_context, history_for_report

    snap = snapshot if isinstance(snapshot, Snapshot) else load_snapshot(snapshot)
    base = load_scenario(scenario) if isinstance(scenario, (str, Path)) else scenario
    sc = merge(base if isinstance(base, Scenario) or base is None else Scenario.model_validate(base), **changes)
    if history is None and cfg is not None and cfg.history is not None:
        history = history_for_report(cfg, snap)
    # The current state's verdict is the report's: the same computation, the same settings.
    current = check_context(snap, cfg, history=history).licensing
    return _plan(snap, sc, Settings.from_config(cfg), history, current_verdicts=current)


def write_plan(result: Any, out: str | Path, *, show_license_keys: bool = False) -> Path:
    from reporter.render.plan import write_plan as _write

    return _write(result, out, show_license_keys=show_license_keys, tool_version=__version__)


def plan_text(result: Any, *, show_license_keys: bool = False) -> str:
    """The plan as the terminal table ``vcreport plan`` prints."""
    from reporter.render.plan import render_terminal

    return render_terminal(result, show_license_keys=show_license_keys)


def plan_json(result: Any) -> str:
    """The plan's pool verdicts as ``vcreport plan --json`` prints them (pool entries as in summary.json)."""
    from reporter.render.plan import render_json

    return render_json(result)


def sample_vram(cfg: Config, *, insecure: bool = False, incremental: bool = False) -> Snapshot:
    """A light collection (power state + memory of VMs, hosts, licenses) for vRAM sampling.

    ``incremental=True`` resumes the previous run's session and filter from the state
    directory and transfers only the VMs that changed (``vcreport vram sample``)."""
    from reporter.collect import sample_vram as _sample  # pyVmomi only loads when collecting

    return _sample(cfg, insecure=insecure, incremental=incremental)


def vram_sampler(cfg: Config, *, insecure: bool = False) -> Any:
    """A sampler for a long-running process: ``.sample()`` keeps sessions and filters warm, ``.close()``."""
    from reporter.collect.incremental import VramSampler

    return VramSampler(cfg, insecure=insecure)


def record_history(cfg: Config, snapshot: Snapshot, *, source: str = "collect") -> int:
    """Store the snapshot's vRAM pool readings in the history database; returns rows added."""
    if cfg.history is None:  # nothing to record: don't import pandas and SQLAlchemy for it (~35 MB)
        return 0
    from reporter.history import record_snapshot

    return record_snapshot(cfg, snapshot, source=source)


def history_import(cfg: Config, path: str | Path) -> ImportResult:
    from reporter.history import import_csv

    return import_csv(cfg, path)


def history_export(cfg: Config, out: str | Path | None = None) -> tuple[str, int]:
    from reporter.history import export_csv

    return export_csv(cfg, out)


# -- delivery: audit verification, scheduled runs --------------------------------------------------

def verify(pdf: str | Path, snapshot: str | Path | None = None, *, trust: Iterable[str | Path] = (),
           cfg: Config | None = None, allow_unsigned: bool = False) -> VerificationReport:
    """Check an audit-evidence PDF: its signature (covers the whole file, chains to a root in
    ``trust`` or ``[audit] trust_files``, timestamp, certificate valid at signing time), every
    embedded attachment's SHA-256 against the hashes printed in it, and with ``snapshot`` that
    file against the printed source-snapshot hash. Returns a ``VerificationReport`` (``.valid``,
    ``.checks``); raises ``VerificationInputError`` for a missing file, a non-PDF or a bad trust file."""
    from reporter.render.signature_check import verify_audit_pdf

    trust_files = [Path(t) for t in trust] + (list(cfg.audit.trust_files) if cfg is not None else [])
    return verify_audit_pdf(pdf, trust_files=trust_files, snapshot=snapshot, allow_unsigned=allow_unsigned)


def run(cfg: Config, *, insecure: bool = False, send: bool = True) -> Any:
    """One full run: collect, keep the snapshot, record history, report into ``[output] dir``, email
    (``send=False``: write the email as ``report.eml`` instead). Returns a ``RunOutcome``
    (``.partial`` when some of the inventory could not be read)."""
    from reporter.pipeline.run import run_once

    return run_once(cfg, insecure=insecure, send=send)


def serve(cfg: Config) -> None:
    """Run the weekly report, vRAM samples and daily maintenance on ``[schedule]`` until SIGTERM."""
    from reporter.pipeline.service import serve as _serve

    _serve(cfg)



