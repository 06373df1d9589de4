"""What a finding group shows: the fix once, what all its objects share once, and a compact
object table with only the evidence that differs per object."""

from __future__ import annotations

import operator
import re
from dataclasses import dataclass, field
from itertools import islice, repeat
from typing import Any

from reporter.checks.actions import FindingGroup
from reporter.core.findings import Finding, Severity
from reporter.render import evidence as ev

MAX_COLUMNS = 4  # differing evidence columns in the object table; the rest is in XLSX/findings.json

# Per family, the evidence a reader tells the objects of a group apart by, in that order (only
# keys whose values differ within the group become columns; other differing keys follow).
PREFERRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "CBT": ("host", "host_version", "host_build", "hw_version", "power_state"),
    "CPU": ("host", "configured_mode", "effective_mode", "service_pack", "power_state"),
    "SNAP": ("oldest_snapshot", "oldest_age_days", "total_size_gb", "snapshot_count", "chain_depth"),
    "IOCAP": ("host", "scheduler", "effective_limit", "enforced"),
    "SIOC": ("type", "hosts", "powered_on_vms", "congestion_threshold_ms"),
    "LIC": ("edition", "expires", "days_left", "used_gb_now", "entitled_gb"),
    "GEN": ("connection_state", "version", "build", "stage"),
}


@dataclass
class GroupRow:
    finding: Finding
    cells: list[str]
    details: str = ""  # differing structured evidence, full detail only
    message: str = ""  # the finding's own message, when the group's objects do not share one


@dataclass
class GroupView:
    group: FindingGroup
    anchor: str
    statement: str | None  # the message when every object shares it
    fix: list[str]  # the steps, once
    shared: list[ev.EvidenceItem]  # evidence every object has in common
    columns: list[str]
    rows: list[GroupRow]
    waived: list[Finding]
    caveats: list[str]
    limit: int | None  # rows listed (None: all)
    per_object_fix: bool = False
    example: tuple[str, str] | None = None  # (object, message) when messages differ per object
    new: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def title(self) -> str:
        return self.group.title

    @property
    def severity(self) -> Severity:
        return self.group.severity

    @property
    def objects(self) -> int:
        """Objects with an open finding, or for a group that is all waived, the waived ones."""
        return self.group.objects or len({f.object_id for f in self.waived})

    @property
    def all_waived(self) -> bool:
        return not self.group.open

    @property
    def shown(self) -> list[GroupRow]:
        return self.rows if self.limit is None else self.rows[: self.limit]

    @property
    def hidden(self) -> int:
        return len(self.rows) - len(self.shown)


def anchor(group_id: str) -> str:
    return "g-" + re.sub(r"[^A-Za-z0-9_-]+", "-", group_id).strip("-").lower()


def _same(values: list[Any]) -> bool:
    """All equal (the comparisons in C: a 10,000-object group has ~300,000 evidence values)."""
    return not values or all(map(operator.eq, islice(values, 1, None), repeat(values[0])))


def _shared(key: str, findings: list[Finding]) -> bool:
    """Every finding has ``key`` in its evidence, with the same value."""
    try:
        values = [f.evidence[key] for f in findings]
    except KeyError:
        return False
    return _same(values)


def build_group(g: FindingGroup, limit: int | None, full: bool, new_keys: set[tuple[str, str]]) -> GroupView:
    open_ = g.open
    shown = open_ or g.waived
    messages = [f.message for f in shown]
    statement = messages[0] if shown and _same(messages) else None
    remediations = [f.remediation for f in shown]
    default = list(g.meta.remediation)
    same_fix = bool(shown) and _same(remediations)
    fix = remediations[0].splitlines() if same_fix and remediations[0] else default
    # Every finding's keys, in the order they first appear; dict.update and map/operator.eq keep
    # the per-value work in C (a 10,000-object group has ~300,000 evidence values).
    seen: dict[str, None] = {}
    for f in shown:
        seen.update(dict.fromkeys(f.evidence))
    keys = [k for k in seen if k not in ev.HIDDEN]
    shared_keys = [k for k in keys if _shared(k, shown)]
    differing = [k for k in keys if k not in shared_keys]
    # A column that repeats the object's name (IOCAP's "vm") tells nothing.
    scalar_diff = [k for k in differing if all(not isinstance(f.evidence.get(k), (dict, list)) for f in shown)
                   and not all(f.evidence.get(k) == f.object_name for f in shown)]
    nested_diff = [k for k in differing if k not in scalar_diff]
    preferred = PREFERRED_COLUMNS.get(g.meta.id.split("-", 1)[0], ())
    ordered = [k for k in preferred if k in scalar_diff] + [k for k in scalar_diff if k not in preferred]
    cols = ordered[:MAX_COLUMNS]
    columns = ["Object"]
    multi_vc = len({f.vcenter for f in shown}) > 1
    if multi_vc:
        columns.append("vCenter")
    vary_sev = len({f.severity for f in shown}) > 1
    if vary_sev:
        columns.append("Severity")
    columns += [ev.label(k, g.meta.id) for k in cols]
    rows = []
    for i, f in enumerate(open_):
        if limit is not None and i >= limit:  # counted ("N more in report.xlsx"), never printed: no cells
            rows.append(GroupRow(f, []))
            continue
        cells = [f.object_name] + ([f.vcenter] if multi_vc else []) + ([f.severity.value] if vary_sev else [])
        cells += [ev.scalar(f.evidence[k], k) if k in f.evidence else "—" for k in cols]
        details = ""
        if full:
            details = "; ".join(f"{ev.label(k, g.meta.id)}: {ev.flat(f.evidence[k], k)}" for k in nested_diff + ordered[MAX_COLUMNS:]
                                if k in f.evidence)
        rows.append(GroupRow(f, cells, details, message=f.message if statement is None else ""))
    example = (open_[0].object_name, open_[0].message) if statement is None and open_ else None
    shared = ev.items({k: shown[0].evidence[k] for k in shared_keys}, g.meta.id) if shown else []
    caveats = ev.caveats_of(shown)
    return GroupView(
        group=g, anchor=anchor(g.id), statement=statement, fix=fix, shared=shared, columns=columns, rows=rows,
        waived=g.waived, caveats=caveats, limit=limit, per_object_fix=not same_fix,
        new=sum(1 for f in open_ if f.key in new_keys), example=example,
    )
