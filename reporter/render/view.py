"""What the HTML-based templates show, computed once from a ``ReportContext``.

Sections are data-driven: a family appears because it has checks or tables, in
the families' declared order first and then any other family, so a new check family
shows up in every format without a template edit.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from reporter.checks import CheckMeta
from reporter.checks.actions import all_groups, groups_of, top_actions
from reporter.checks.engine import CheckResult, CheckStatus
from reporter.checks.registry import families as declared_families
from reporter.checks.registry import family_title
from reporter.checks.tables import Table
from reporter.core import states
from reporter.core.detail import Detail
from reporter.core.findings import Finding, Severity, Status
from reporter.core.model import CollectionError
from reporter.render.base import ReportContext
from reporter.render.charts import PAGED_VRAM_CHART, SCREEN_VRAM_CHART, Chart, severity_chart, table_chart, vram_charts
from reporter.render.evidence import EvidenceItem, Methodology, methodology
from reporter.render.evidence import items as evidence_view
from reporter.render.groups_view import GroupView, build_group

SEVERITIES_DESC = [Severity.critical, Severity.high, Severity.medium, Severity.low, Severity.info]
OPEN = (Status.fail, Status.warn, Status.error)

def count_noun(n: int, object_type: str) -> str:
    return states.counted(n, *states.object_nouns(object_type))


@dataclass
class CheckView:
    meta: CheckMeta
    checked: int
    open: list[Finding]
    waived: list[Finding]
    passed: int
    notes: list[str]
    error: str | None
    new_keys: set[tuple[str, str]]
    new: int = 0
    fixed: list[Finding] = field(default_factory=list)
    still_open: int = 0
    status: CheckStatus = CheckStatus.passed
    why: str = ""
    nothing_applies: bool = False  # not evaluated because nothing it looks at is in the inventory
    groups: list[GroupView] = field(default_factory=list)
    methodology: Methodology | None = None

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def default_remediation(self) -> str:
        return "\n".join(self.meta.remediation)

    @property
    def has_custom_remediation(self) -> bool:
        """Whether any finding carries remediation beyond the check's own steps (then it gets a column)."""
        default = self.default_remediation
        return any(f.remediation and f.remediation != default for f in self.open)

    @property
    def needs_detail(self) -> bool:
        """Shown in full (description, steps, tables) rather than as a one-line pass."""
        return bool(self.open or self.waived or self.error or self.notes or self.fixed)

    @property
    def noun(self) -> str:
        one, many = states.object_nouns(self.meta.object_type)
        return one if self.checked == 1 else many

    @cached_property  # read by the area table, the contents and every check heading
    def worst(self) -> Severity | None:
        return max((f.severity for f in self.open), key=lambda s: s.rank, default=None)

    @property
    def summary(self) -> str:
        """'412 VMs checked, 3 findings (1 waived)'."""
        text = f"{count_noun(self.checked, self.meta.object_type)} checked, "
        n = len(self.open)
        text += "no findings" if n == 0 else f"{n:,} finding{'s' if n != 1 else ''}"
        if self.waived:
            text += f" ({len(self.waived):,} waived)"
        return text

    def is_new(self, f: Finding) -> bool:
        return f.key in self.new_keys


@dataclass
class FamilyView:
    id: str
    title: str
    checks: list[CheckView]
    tables: list[Table]  # in_summary tables only
    table_charts: dict[str, Chart]  # table id -> chart drawn from its chart hint
    charts: list[Chart]  # family-level charts (vRAM history for licensing)

    @property
    def open_count(self) -> int:
        return sum(len(c.open) for c in self.checks)


STATUS_LABELS = {CheckStatus.passed: "passed", CheckStatus.findings: "findings",
                 CheckStatus.not_evaluated: "not evaluated", CheckStatus.error: "error"}


@dataclass
class AreaView:
    """One line of the executive page: an area's verdict and counts."""

    id: str
    title: str
    verdict: str  # "Action needed" | "Review" | "Minor" | "OK" | "Partly evaluated" | "Not evaluated" | "Nothing to check"
    groups: int
    open: int
    worst: Severity | None
    not_evaluated: int
    checks: int


def area_verdict(checks: list[CheckView]) -> str:
    worst = max((c.worst for c in checks if c.worst), key=lambda s: s.rank, default=None)
    if worst in (Severity.critical, Severity.high):
        return "Action needed"
    if worst is Severity.medium:
        return "Review"
    if worst is not None:
        return "Minor"
    # No finding. "OK" only when every check either passed or had nothing to look at: a check whose
    # inputs were missing (or that failed) leaves the area partly unknown, and the verdict says so.
    unknown = any(c.status is CheckStatus.error or (c.status is CheckStatus.not_evaluated and not c.nothing_applies)
                  for c in checks)
    if checks and all(c.status in (CheckStatus.not_evaluated, CheckStatus.error) for c in checks):
        return "Not evaluated" if unknown else "Nothing to check"
    if unknown:
        return "Partly evaluated"
    return "OK"


CHANGED_NAMES = 3  # objects named per check in "what changed" (templates, email text); the rest are counted


@dataclass
class DeltaRow:
    check_id: str
    title: str
    new: int
    fixed: int
    still_open: int
    new_names: tuple[str, ...] = ()  # the objects with new findings, by name
    fixed_names: tuple[str, ...] = ()  # the objects with fixed findings, by name

    @property
    def changed(self) -> bool:
        return bool(self.new or self.fixed)

    @property
    def new_named(self) -> tuple[tuple[str, ...], int]:
        return named(self.new_names)

    @property
    def fixed_named(self) -> tuple[tuple[str, ...], int]:
        return named(self.fixed_names)


def named(names: tuple[str, ...]) -> tuple[tuple[str, ...], int]:
    """The first CHANGED_NAMES of ``names`` and how many more there are: "a, b, c and 4 more"."""
    return names[:CHANGED_NAMES], max(0, len(names) - CHANGED_NAMES)


def _object_names(findings: list[Finding]) -> tuple[str, ...]:
    return tuple(sorted({f.object_name for f in findings}, key=str.casefold))


@dataclass
class ReportView:
    ctx: ReportContext
    vcenters: list[Any]
    collection_errors: list[CollectionError]
    counts: list[tuple[str, int]]  # (severity, open count), critical first
    open_total: int
    waived_total: int
    checks_run: int
    checks_failed: list[CheckView]  # checks that raised an error
    inventory: list[tuple[str, int]]  # (object type, count): ("vm", 404) ...
    families: list[FamilyView]
    delta_rows: list[DeltaRow]
    fixed: list[Finding]
    severity_chart: Chart | None
    check_views: list[CheckView]
    top_actions: list[GroupView] = field(default_factory=list)
    areas: list[AreaView] = field(default_factory=list)
    detail: Detail = Detail.standard

    @property
    def show_objects(self) -> bool:
        return self.detail is not Detail.summary

    @property
    def not_rechecked_reasons(self) -> list[tuple[str, int]]:
        return self.ctx.delta.not_rechecked_reasons if self.ctx.delta else []

    @property
    def title(self) -> str:
        return self.ctx.title

    @property
    def snapshot(self) -> Any:
        return self.ctx.snapshot

    @property
    def has_delta(self) -> bool:
        return self.ctx.delta is not None

    @property
    def changed_rows(self) -> list[DeltaRow]:
        """The checks with new or fixed findings since the last run: what changed, by check."""
        return [d for d in self.delta_rows if d.changed]

    @property
    def unchanged_rows(self) -> list[DeltaRow]:
        """The checks whose findings are the same as last time (still open, none new or fixed)."""
        return [d for d in self.delta_rows if not d.changed]

    @property
    def vcenter_names(self) -> str:
        return ", ".join(vc.name for vc in self.vcenters) or "no vCenter"

    @property
    def inventory_text(self) -> str:
        """'2 vCenters, 404 VMs, 1 host, 5 clusters, 8 datastores'."""
        return ", ".join(count_noun(n, kind) for kind, n in self.inventory)

    @property
    def headline(self) -> str:
        """'404 VMs checked, 3 findings' — the one line an admin reads."""
        vms = next((n for kind, n in self.inventory if kind == "vm"), 0)
        text = f"{vms:,} VM{'s' if vms != 1 else ''} checked, {self.open_total:,} finding{'s' if self.open_total != 1 else ''}"
        if self.waived_total:
            text += f", {self.waived_total:,} waived"
        return text

    @property
    def counts_text(self) -> str:
        parts = [f"{n} {sev}" for sev, n in self.counts if n]
        return ", ".join(parts) if parts else "no open findings"



def _family_order(families: set[str]) -> list[str]:
    declared = declared_families()
    known = [f for f in declared if f in families]
    return known + sorted(families - set(declared))


def build_view(ctx: ReportContext, *, paged: bool = False) -> ReportView:
    """What the templates show; ``paged``: for the paginated editions (charts drawn for paper)."""
    delta = ctx.delta
    new_keys = {f.key for f in delta.new} if delta else set()
    limit = ctx.detail.object_limit
    full = ctx.detail is Detail.full
    group_views = {(g.meta.id, g.id): build_group(g, limit, full, new_keys) for g in all_groups(ctx.results)}
    still_keys = {f.key for f in delta.still_open} if delta else set()
    fixed_by_check: dict[str, list[Finding]] = {}
    if delta:
        for f in delta.fixed:
            fixed_by_check.setdefault(f.check_id, []).append(f)

    check_views: list[CheckView] = []
    by_family: dict[str, list[CheckView]] = {}
    for r in ctx.results.checks:
        cv = _check_view(r, new_keys, fixed_by_check.get(r.meta.id, []), still_keys)
        cv.groups = [group_views[(g.meta.id, g.id)] for g in groups_of(r)]
        check_views.append(cv)
        by_family.setdefault(r.meta.family, []).append(cv)

    tables_by_family: dict[str, list[Table]] = {}
    for t in ctx.tables:
        if t.in_summary:
            tables_by_family.setdefault(t.family, []).append(t)

    vram: list[Chart] = list(vram_charts(ctx.history, ctx.licensing, size=PAGED_VRAM_CHART if paged else SCREEN_VRAM_CHART))
    families: list[FamilyView] = []
    for fam in _family_order(set(by_family) | set(tables_by_family) | ({"licensing"} if vram else set())):
        tables = tables_by_family.get(fam, [])
        charts: dict[str, Chart] = {t.id: c for t in tables if (c := table_chart(t)) is not None}
        families.append(FamilyView(
            id=fam, title=family_title(fam), checks=by_family.get(fam, []), tables=tables,
            table_charts=charts, charts=vram if fam == "licensing" else [],
        ))

    counts_map = ctx.results.counts()
    counts = [(s.value, counts_map.get(s.value, 0)) for s in SEVERITIES_DESC]
    open_total = sum(n for _, n in counts)
    waived_total = sum(len(c.waived) for c in check_views)

    delta_rows: list[DeltaRow] = []
    if delta:
        titles = {r.meta.id: r.meta.title for r in ctx.results.checks}
        new_by: dict[str, list[Finding]] = {}
        fixed_by: dict[str, list[Finding]] = {}
        for f in delta.new:
            new_by.setdefault(f.check_id, []).append(f)
        for f in delta.fixed:
            fixed_by.setdefault(f.check_id, []).append(f)
        still_c = Counter(f.check_id for f in delta.still_open)
        # The checks that changed first, so that the screen's table opens with them.
        for cid in sorted(set(new_by) | set(fixed_by) | set(still_c), key=lambda c: (c not in new_by and c not in fixed_by, c)):
            new_fs, fixed_fs = new_by.get(cid, []), fixed_by.get(cid, [])
            delta_rows.append(DeltaRow(cid, titles.get(cid, cid), len(new_fs), len(fixed_fs), still_c[cid],
                                       _object_names(new_fs), _object_names(fixed_fs)))

    snap = ctx.snapshot
    vcs = list(snap.vcenters.values())
    inventory = [
        ("vcenter", len(vcs)),
        ("vm", sum(len(v.vms) for v in vcs)),
        ("host", sum(len(v.hosts) for v in vcs)),
        ("cluster", sum(len(v.clusters) for v in vcs)),
        ("datastore", sum(len(v.datastores) for v in vcs)),
    ]
    areas = []
    for fv in families:
        if not fv.checks:
            continue
        open_groups = [g for c in fv.checks for g in c.groups if g.group.open]
        areas.append(AreaView(
            id=fv.id, title=fv.title, verdict=area_verdict(fv.checks), groups=len(open_groups),
            open=fv.open_count, worst=max((c.worst for c in fv.checks if c.worst), key=lambda s: s.rank, default=None),
            not_evaluated=sum(1 for c in fv.checks if c.status is CheckStatus.not_evaluated), checks=len(fv.checks),
        ))
    return ReportView(
        top_actions=[group_views[(g.meta.id, g.id)] for g in top_actions(ctx.results, ctx.top_actions)], areas=areas,
        detail=ctx.detail,
        ctx=ctx, vcenters=vcs, collection_errors=list(snap.collection_errors), counts=counts,
        open_total=open_total, waived_total=waived_total, checks_run=len(check_views),
        checks_failed=[c for c in check_views if c.error], inventory=inventory, families=families,
        delta_rows=delta_rows, fixed=list(delta.fixed) if delta else [],
        severity_chart=severity_chart(counts), check_views=check_views,
    )


def _check_view(r: CheckResult, new_keys: set[tuple[str, str]], fixed: list[Finding],
                still_keys: set[tuple[str, str]]) -> CheckView:
    open_ = [f for f in r.findings if f.status in OPEN]
    waived = [f for f in r.findings if f.status == Status.waived]
    passed = sum(1 for f in r.findings if f.status == Status.passed)
    mine_new = {f.key for f in open_ if f.key in new_keys}
    return CheckView(
        meta=r.meta, checked=r.checked, open=open_, waived=waived, passed=passed, notes=list(r.notes),
        error=r.error, new_keys=mine_new, new=len(mine_new), fixed=fixed,
        still_open=sum(1 for f in open_ if f.key in still_keys), status=r.status, why=r.why,
        nothing_applies=r.nothing_applies,
        methodology=methodology(r.meta.id),
    )


def evidence_items(f: Finding) -> list[EvidenceItem]:
    """Evidence with human labels, without the waiver bookkeeping (the templates show it separately)."""
    return evidence_view(f.evidence, f.check_id)
