"""Finding groups and the ranked top actions: pure functions over check results.

A group is the unit a person acts on: one root cause, one fix, the objects it affects. The top
actions rank open groups across checks by what is at risk (data loss and outage first, then
performance, then hygiene), then by severity and by how many objects the group affects; no
check takes more than ``per_check`` of the places, so one noisy check cannot crowd out the rest.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

from reporter.checks.base import CheckMeta
from reporter.checks.engine import CheckResult, Results
from reporter.checks.grouping import Risk
from reporter.core.findings import Finding, Severity, Status

DEFAULT_TOP_ACTIONS = 10
PER_CHECK = 2
_OPEN = (Status.fail, Status.warn, Status.error)


@dataclass(frozen=True)
class FindingGroup:
    id: str  # the ``group`` string of findings.json
    meta: CheckMeta
    title: str
    risk: Risk
    findings: tuple[Finding, ...]  # open and waived, in the check's order

    @cached_property  # the findings never change: a view is built once and read many times
    def open(self) -> list[Finding]:
        return [f for f in self.findings if f.status in _OPEN]

    @property
    def waived(self) -> list[Finding]:
        return [f for f in self.findings if f.status == Status.waived]

    @cached_property
    def severity(self) -> Severity:
        """The worst open severity (the check's default when nothing is open)."""
        return max((f.severity for f in self.open), key=lambda s: s.rank, default=self.meta.severity)

    @property
    def objects(self) -> int:
        """Distinct objects with an open finding."""
        return len({f.object_id for f in self.open})


def groups_of(result: CheckResult) -> list[FindingGroup]:
    """The check's groups in first-finding order (findings are sorted by severity, so the worst first)."""
    members: dict[str, list[Finding]] = {}
    for f in result.findings:
        if f.status in _OPEN or f.status == Status.waived:
            # Findings built outside the engine (tests, older findings.json) have no group yet.
            members.setdefault(f.group or result.meta.id, []).append(f)
    out = []
    for gid, fs in members.items():
        info = result.groups.get(gid)
        out.append(FindingGroup(gid, result.meta, info.title if info else result.meta.title,
                                info.risk if info else Risk.hygiene, tuple(fs)))
    return out


def all_groups(results: Results) -> list[FindingGroup]:
    return [g for r in results.checks for g in groups_of(r)]


def rank_key(g: FindingGroup) -> tuple[int, int, int, str, str]:
    return (int(g.risk), -g.severity.rank, -g.objects, g.meta.id, g.id)


def rank(groups: Iterable[FindingGroup]) -> list[FindingGroup]:
    """Open groups, most urgent first."""
    return sorted((g for g in groups if g.open), key=rank_key)


def top_actions(results: Results, limit: int = DEFAULT_TOP_ACTIONS, per_check: int = PER_CHECK) -> list[FindingGroup]:
    """The first ``limit`` ranked open groups, at most ``per_check`` from any one check. The list is
    shorter than ``limit`` rather than give a check more places."""
    taken: dict[str, int] = {}
    out: list[FindingGroup] = []
    for g in rank(all_groups(results)):
        if taken.get(g.meta.id, 0) >= per_check:
            continue
        taken[g.meta.id] = taken.get(g.meta.id, 0) + 1
        out.append(g)
        if len(out) == limit:
            break
    return out
