"""What a check is: metadata + a pure function over a CheckContext."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from reporter.checks.grouping import HYGIENE, GroupFn, GroupKey, RiskFn, SubkeyFn, no_subkey
from reporter.config.settings import Settings
from reporter.core.findings import Finding, Severity, Status
from reporter.core.model import Snapshot, VCenter

if TYPE_CHECKING:  # pandas and SQLAlchemy: not for loading the check families (collect validates thresholds)
    from reporter.domain.licensing.verdict import LicensingVerdicts
    from reporter.history import VramHistory

M = TypeVar("M")


@dataclass(frozen=True)
class Family:
    """A check family, declared once in its package's ``__init__``: the id used in settings
    (``[thresholds.<id>]``) and in every check's metadata, and the title reports show."""

    id: str
    title: str
    order: int = 100  # position of the family's section in reports (lower first)
    # What the whole family needs from the snapshot, checked before any of its checks runs:
    # returns why the family cannot be evaluated (inputs not collected), or None. Then every
    # check of the family is "not evaluated" with that reason, never "passed".
    inputs_missing: Callable[[Snapshot], str | None] | None = field(default=None, compare=False)


def not_collected_on_any_host(attribute: str, why: str) -> Callable[[Snapshot], str | None]:
    """A family's ``inputs_missing``: ``why`` when no host of the snapshot has ``attribute``
    (e.g. ``network``) at all; None when at least one has it (the checks then note the others)."""
    def missing(snapshot: Snapshot) -> str | None:
        hosts = [h for vc in snapshot.vcenters.values() for h in vc.hosts.values()]
        if not hosts or any(getattr(h, attribute) is not None for h in hosts):
            return None
        return why
    return missing


@dataclass(frozen=True)
class Reference:
    kb: str | None  # "KB1025279" — the number admins search by
    title: str
    url: str | None = None

    @property
    def label(self) -> str:
        """What a reader looks it up by: the KB number, else (a guide, a matrix) its title."""
        return self.kb or self.title


@dataclass(frozen=True)
class CheckMeta:
    id: str  # stable, e.g. "SNAP-001"
    title: str
    family: str  # licensing | snapshots | cbt | cpu-mmu | sioc | general ...
    severity: Severity  # default severity of a failure
    object_type: str
    description: str  # what it finds
    rationale: str  # why it matters
    remediation: tuple[str, ...]  # concrete steps
    references: tuple[Reference, ...] = ()
    # What the check looks at, when "<object type> this check applies to" says too little: with
    # nothing of it, the check reads "Nothing to evaluate: no VMs whose snapshots could be read in the collected inventory."
    applies_to: str = ""


@dataclass(frozen=True)
class CheckContext:
    """The data a check may read. Pure data: no vCenter, no database handle."""

    snapshot: Snapshot
    settings: Settings = field(default_factory=Settings)
    history: VramHistory | None = None  # vRAM history (12-month figures), None when no history
    # The previous run's snapshot, for snapshot growth; `vcreport run` gives it with only the VMs
    # that had VM snapshots (reporter.core.snapshot_io.load): nothing else may be read from its VMs.
    previous: Snapshot | None = None
    # The per-pool licensing verdict, computed once by the pipeline (reporter.pipeline.report) and
    # read by the LIC checks and tables; None: the licensing checks compute it once via memo.
    licensing: LicensingVerdicts | None = None
    history_error: str | None = None  # the history is configured but could not be read (why)
    _memo: dict[Hashable, Any] = field(default_factory=dict, compare=False, repr=False)

    def memo(self, key: Hashable, compute: Callable[[], M]) -> M:
        """A value computed once per check run and shared by the checks and tables of a family
        (e.g. the vRAM analysis, the I/O-cap evaluation): ``ctx.memo("sioc.groups", build)``."""
        if key not in self._memo:
            self._memo[key] = compute()
        value: M = self._memo[key]
        return value


@dataclass
class Outcome:
    """What one check run produced: how many objects it looked at, and its findings."""

    checked: int = 0
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # e.g. "license data not readable"
    # Set when the check's inputs are missing: which, and what to do (then ``checked`` is 0 and
    # the check is listed as "not evaluated", never as passed).
    not_evaluated: str | None = None
    # With ``not_evaluated``: nothing this check looks at exists here (no Windows Server 2003 VM, no
    # Essentials kit), so there is nothing to be unknown about; else the inputs were missing.
    nothing_applies: bool = False


CheckFn = Callable[[CheckContext], Outcome]


@dataclass(frozen=True)
class Check:
    meta: CheckMeta
    run: CheckFn
    # Declared by the check module (see checks.grouping); defaults: one group, no sub-key, hygiene.
    group_of: GroupFn | None = None
    subkey_of: SubkeyFn = no_subkey
    risk_of: RiskFn = HYGIENE

    def group(self, f: Finding) -> GroupKey:
        return self.group_of(f) if self.group_of else GroupKey("", self.meta.title)


def object_id(vc: VCenter, moid: str) -> str:
    return f"{vc.instance_uuid}/{moid}"


def finding(
    meta: CheckMeta,
    vc: VCenter | None,
    object_name: str,
    object_id_: str,
    message: str,
    *,
    evidence: dict[str, Any] | None = None,
    remediation: str | Iterable[str] | None = None,
    severity: Severity | None = None,
    status: Status = Status.fail,
    object_type: str | None = None,
) -> Finding:
    """Build a Finding with the check's defaults filled in."""
    if remediation is None:
        remediation = meta.remediation
    if not isinstance(remediation, str):
        remediation = "\n".join(remediation)
    return Finding(
        check_id=meta.id,
        severity=severity or meta.severity,
        status=status,
        vcenter=vc.name if vc else "",
        object_type=object_type or meta.object_type,
        object_name=object_name,
        object_id=object_id_,
        message=message,
        evidence=evidence or {},
        remediation=remediation,
    )
