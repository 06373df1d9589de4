"""Output formats: one interface, one plugin per format.

A renderer takes a ``ReportContext`` (plain data: snapshot, check results,
tables, delta against the previous run) and writes files into a directory.
License keys are masked in the context before any renderer sees it, unless the
user asked to show them.
"""

from __future__ import annotations

import abc
import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from reporter.checks.actions import DEFAULT_TOP_ACTIONS
from reporter.checks.engine import Results
from reporter.checks.tables import Table
from reporter.config.sections import EmailConfig
from reporter.core.detail import Detail
from reporter.core.findings import Finding
from reporter.core.masking import mask_obj, mask_rows, mask_text
from reporter.core.model import Snapshot
from reporter.errors import RenderError

log = logging.getLogger(__name__)

if TYPE_CHECKING:  # types only: the CLI imports this package, and these pull in pandas, SQLAlchemy, pyHanko
    from reporter.domain.licensing.verdict import LicensingVerdicts
    from reporter.history import VramHistory
    from reporter.render.signing import SigningSetup


@dataclass(frozen=True)
class Delta:
    """Findings compared with the previous run, by fingerprint (see ``Finding.key``).

    ``not_rechecked``: previous open findings on objects this run could not read (a vCenter or an
    object type whose collection failed): neither fixed nor still open, just unknown;
    ``not_rechecked_why`` gives the reason per finding key, e.g. "vCenter vc02 could not be read".
    """

    new: list[Finding]
    fixed: list[Finding]
    still_open: list[Finding]
    not_rechecked: list[Finding] = field(default_factory=list)
    not_rechecked_why: dict[tuple[str, str], str] = field(default_factory=dict)

    @property
    def counts_text(self) -> str:
        """'6 new, 1 fixed, 325 still open' (and how many not re-checked), for the prompt and logs."""
        text = f"{len(self.new):,} new, {len(self.fixed):,} fixed, {len(self.still_open):,} still open"
        return text + (f", {len(self.not_rechecked):,} not re-checked" if self.not_rechecked else "")

    @property
    def not_rechecked_reasons(self) -> list[tuple[str, int]]:
        """Each distinct reason with how many findings it covers, most first."""
        counts: dict[str, int] = {}
        for f in self.not_rechecked:
            why = self.not_rechecked_why.get(f.key, "")
            counts[why] = counts.get(why, 0) + 1
        return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


@dataclass(frozen=True)
class SourceFile:
    """A snapshot file the report was built from (several when per-vCenter snapshots were merged)."""

    name: str
    sha256: str


@dataclass(frozen=True)
class ReportContext:
    snapshot: Snapshot
    results: Results
    tables: list[Table]
    generated_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    tool_version: str = ""
    snapshot_sha256: str | None = None  # of the source snapshot file, when there is exactly one
    source_files: tuple[SourceFile, ...] = ()  # every source snapshot file, merged in this order
    delta: Delta | None = None
    history: VramHistory | None = None  # vRAM over 12 months for charts, None when no history
    history_error: str | None = None  # history configured but unreadable: why (said in reports and email)
    show_license_keys: bool = False
    title: str = "vCenter report"
    licensing: LicensingVerdicts | None = None  # the per-pool verdict the checks used (one computation)
    audit_signing: SigningSetup | None = None  # sign audit-evidence.pdf; None leaves it unsigned
    detail: Detail = Detail.standard  # how much of each finding group HTML/PDF/email show
    top_actions: int = DEFAULT_TOP_ACTIONS  # length of the ranked action list
    email: EmailConfig | None = None  # [email]: sender, recipients and attachments of report.eml

    def masked(self) -> ReportContext:
        """The context as every renderer must see it."""
        if self.show_license_keys:
            return self
        # The delta's findings are mostly the results' own objects: mask each object once.
        done: dict[int, Finding] = {}

        def mask(f: Finding) -> Finding:
            m = done.get(id(f))
            if m is None:
                m = done[id(f)] = _mask_finding(f)
            return m

        findings_by_check = []
        for r in self.results.checks:
            groups = {mask_text(g): replace(info, title=mask_text(info.title)) for g, info in r.groups.items()}
            findings_by_check.append(replace(r, findings=[mask(f) for f in r.findings], groups=groups))
        tables = [replace(t, rows=mask_rows(t.rows), title=mask_text(t.title),
                          note=mask_text(t.note) if t.note else t.note) for t in self.tables]
        vcenters = {}
        for uuid, vc in self.snapshot.vcenters.items():
            upd: dict[str, Any] = {}
            if vc.licenses is not None:
                upd["licenses"] = [lic.model_copy(update={"key": mask_text(lic.key), "properties": mask_obj(lic.properties)}) for lic in vc.licenses]
            if vc.license_assignments is not None:
                upd["license_assignments"] = [a.model_copy(update={"license_key": mask_text(a.license_key)}) for a in vc.license_assignments]
            vcenters[uuid] = vc.model_copy(update=upd)
        delta = self.delta
        if delta is not None:
            def masked(part: list[Finding]) -> list[Finding]:
                return [mask(f) for f in part]
            delta = replace(delta, new=masked(delta.new), fixed=masked(delta.fixed),
                            still_open=masked(delta.still_open), not_rechecked=masked(delta.not_rechecked))
        return replace(self, results=Results(findings_by_check), tables=tables,
                       snapshot=self.snapshot.model_copy(update={"vcenters": vcenters}), delta=delta)


def _mask_finding(f: Finding) -> Finding:
    masked = {"object_name": mask_text(f.object_name), "object_id": mask_text(f.object_id),
              "message": mask_text(f.message), "remediation": mask_text(f.remediation),
              "evidence": mask_obj(f.evidence), "group": mask_text(f.group)}
    changed = {k: v for k, v in masked.items() if v is not getattr(f, k)}
    return f.model_copy(update=changed) if changed else f


class Renderer(abc.ABC):
    format: ClassVar[str]

    @abc.abstractmethod
    def render(self, ctx: ReportContext, out_dir: Path) -> list[Path]:
        """Write this format's files into out_dir (atomically) and return their paths."""

    @classmethod
    def prepare(cls) -> None:
        """Load ahead what ``render`` will need (libraries, templates); see ``prepare_renderers``.
        Nothing by default: most formats need nothing that is slow to load."""
        return None


_RENDERERS: dict[str, type[Renderer]] = {}

# Formats are rendered into "<out>/.render-XXXX" and moved into <out> when all succeeded.
STAGING_PREFIX = ".render-"


def final_dir(out_dir: Path) -> Path:
    """Where files rendered into ``out_dir`` end up: its parent when it is a staging directory."""
    return out_dir.parent if out_dir.name.startswith(STAGING_PREFIX) else out_dir


def register(cls: type[Renderer]) -> type[Renderer]:
    _RENDERERS[cls.format] = cls
    return cls


def _load_plugins() -> None:
    import importlib
    import pkgutil

    package = importlib.import_module("reporter.render")
    for info in pkgutil.iter_modules(package.__path__, prefix="reporter.render."):
        importlib.import_module(info.name)


def available_formats() -> list[str]:
    _load_plugins()
    return sorted(_RENDERERS)


# A format's renderer lives in the module of its name, but for these. Loading only the one
# asked for keeps WeasyPrint and pyHanko (~1 s of imports) out of reports that don't need them.
_PLUGIN_MODULES = {"json": "json_findings"}


def _load_plugin(name: str) -> None:
    if name in _RENDERERS:
        return
    import importlib

    module = f"reporter.render.{_PLUGIN_MODULES.get(name, name)}"
    try:
        importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name != module:
            raise
    if name not in _RENDERERS:
        _load_plugins()


def prepare_renderers(formats: Iterable[str]) -> None:
    """Import and compile what the renderers of ``formats`` need, so that the report does not
    wait for it: ``vcreport run`` does this in a thread while the collection waits on vCenter.
    Whatever fails here is left for the rendering itself to report, in its own words."""
    for name in formats:
        try:
            _load_plugin(name)
            cls = _RENDERERS.get(name)
            if cls is not None:
                cls.prepare()
        except Exception as exc:
            log.debug("could not prepare the %s renderer ahead: %s", name, exc)


def get_renderer(name: str) -> Renderer:
    _load_plugin(name)
    try:
        return _RENDERERS[name]()
    except KeyError:
        raise RenderError(f"unknown report format {name!r} (available: {', '.join(available_formats())})") from None


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
