"""Run the registered checks over a snapshot and apply waivers."""

from __future__ import annotations

import fnmatch
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from reporter.checks import CheckContext, CheckMeta, Outcome, all_checks
from reporter.checks.base import Check
from reporter.checks.grouping import Risk, fingerprint, group_id
from reporter.checks.registry import families_missing_inputs
from reporter.checks.unreadable import notes_for
from reporter.config import WaiverConfig
from reporter.core import states
from reporter.core.findings import Finding, Severity, Status

OPEN_STATUSES = (Status.fail, Status.warn, Status.error)

log = logging.getLogger(__name__)


class CheckStatus(StrEnum):
    passed = "pass"
    findings = "findings"
    not_evaluated = "not_evaluated"
    error = "error"


@dataclass(frozen=True)
class GroupInfo:
    title: str
    risk: Risk


@dataclass
class CheckResult:
    meta: CheckMeta
    checked: int
    findings: list[Finding]
    notes: list[str] = field(default_factory=list)
    error: str | None = None
    not_evaluated: str | None = None  # why the check could not be evaluated, and what to do
    # Not evaluated because nothing it looks at is in the inventory (not because data was missing).
    nothing_applies: bool = False
    groups: dict[str, GroupInfo] = field(default_factory=dict)  # group id -> title and risk

    @property
    def open(self) -> list[Finding]:
        return [f for f in self.findings if f.status in OPEN_STATUSES]

    @property
    def waived(self) -> int:
        return sum(1 for f in self.findings if f.status == Status.waived)

    @property
    def status(self) -> CheckStatus:
        if self.error is not None:
            return CheckStatus.error
        if self.not_evaluated is not None:
            return CheckStatus.not_evaluated
        return CheckStatus.findings if self.open else CheckStatus.passed

    @property
    def why(self) -> str:
        """One sentence for the status: what was found, or why nothing could be."""
        status = self.status
        if status is CheckStatus.error:
            return f"The check could not run: {self.error}"
        if status is CheckStatus.not_evaluated:
            return self.not_evaluated or ""
        if status is CheckStatus.findings:
            n, g = len(self.open), len({f.group for f in self.open})
            return f"{n} open finding{'s' if n != 1 else ''} in {g} group{'s' if g != 1 else ''}."
        text = f"{self.checked} checked, none open."
        if self.waived:
            text = f"{self.checked} checked; {self.waived} finding{'s' if self.waived != 1 else ''} waived."
        return text


@dataclass
class Results:
    checks: list[CheckResult]

    @property
    def findings(self) -> list[Finding]:
        return [f for r in self.checks for f in r.findings]

    def by_family(self) -> dict[str, list[CheckResult]]:
        out: dict[str, list[CheckResult]] = {}
        for r in self.checks:
            out.setdefault(r.meta.family, []).append(r)
        return out

    def counts(self) -> dict[str, int]:
        """Open (fail/warn/error) findings by severity."""
        counts = {s.value: 0 for s in Severity}
        for f in self.findings:
            if f.status in (Status.fail, Status.warn, Status.error):
                counts[f.severity.value] += 1
        return counts


def _pool_vcenters(f: Finding) -> list[str]:
    """A pool finding of a linked group spans its vCenters: a waiver naming any of them applies."""
    vcs = f.evidence.get("vcenters") if f.object_type == "pool" else None
    return [str(v) for v in vcs] if isinstance(vcs, list) else []


def _waiver_matches(w: WaiverConfig, f: Finding) -> bool:
    if w.check_id != f.check_id and not fnmatch.fnmatchcase(f.check_id, w.check_id):
        return False
    if w.vcenter and w.vcenter != f.vcenter and w.vcenter not in _pool_vcenters(f):
        return False
    return fnmatch.fnmatchcase(f.object_name, w.object) or fnmatch.fnmatchcase(f.object_id, w.object)


def apply_waivers(findings: Iterable[Finding], waivers: list[WaiverConfig], today: date) -> list[Finding]:
    """Waived findings stay in the list with status ``waived`` and the waiver in the evidence.

    An expired waiver no longer applies; the finding says that it expired so the
    admin sees why an accepted risk came back.
    """
    out: list[Finding] = []
    for f in findings:
        if f.status not in (Status.fail, Status.warn):
            out.append(f)
            continue
        match = next((w for w in waivers if _waiver_matches(w, f)), None)
        if match is None:
            out.append(f)
        elif match.expires < today:
            ev = dict(f.evidence)
            ev["waiver_expired"] = {"reason": match.reason, "expired": match.expires.isoformat()}
            out.append(f.model_copy(update={"evidence": ev}))
        else:
            ev = dict(f.evidence)
            ev["waiver"] = {"reason": match.reason, "expires": match.expires.isoformat(), "pattern": match.object}
            out.append(f.model_copy(update={"status": Status.waived, "evidence": ev}))
    return out


def _any_unreadable(ctx: CheckContext) -> bool:
    return any(o.unreadable for vc in ctx.snapshot.vcenters.values()
               for objects in (vc.vms, vc.hosts, vc.datastores) for o in objects.values())


def run_checks(
    ctx: CheckContext,
    waivers: list[WaiverConfig] | None = None,
    today: date | None = None,
    only: Iterable[str] | None = None,
) -> Results:
    wanted = set(only) if only else None
    results: list[CheckResult] = []
    missing = families_missing_inputs(ctx)
    for check in all_checks():
        if wanted is not None and check.meta.id not in wanted and check.meta.family not in wanted:
            continue
        if check.meta.family in missing:
            results.append(CheckResult(check.meta, 0, [], not_evaluated=missing[check.meta.family]))
            continue
        try:
            outcome = check.run(ctx)
            if not isinstance(outcome, Outcome):
                raise TypeError(f"check returned {type(outcome).__name__}, expected Outcome")
        except Exception as exc:  # a broken check must not take the report down
            log.exception("check %s failed", check.meta.id)
            err = Finding(
                check_id=check.meta.id,
                severity=Severity.info,
                status=Status.error,
                vcenter="",
                object_type="check",
                object_name=check.meta.title,
                object_id=check.meta.id,
                message=f"The check could not run: {type(exc).__name__}: {exc}",
            )
            err = err.model_copy(update={"group": check.meta.id, "fingerprint": fingerprint(check.meta.id, "check")})
            results.append(CheckResult(check.meta, 0, [err], error=str(exc),
                                       groups={check.meta.id: GroupInfo(check.meta.title, Risk.hygiene)}))
            continue
        found, groups = identify(check, outcome.findings)
        if waivers:
            found = apply_waivers(found, waivers, today or ctx.snapshot.collected_at.date())
        found.sort(key=lambda f: (-f.severity.rank, f.vcenter, f.object_name, f.object_id))
        why_not = outcome.not_evaluated
        nothing_applies = outcome.nothing_applies and why_not is not None
        notes = list(outcome.notes)
        if why_not is None and outcome.checked == 0 and not found:
            # Nothing was looked at: that is not a pass (no tick for a check that saw nothing). When the
            # check noted why it skipped objects (a property vCenter did not report), that is the reason.
            scope = check.meta.applies_to or f"{states.object_nouns(check.meta.object_type)[1]} this check applies to"
            why_not = (f"Nothing could be evaluated. {' '.join(notes)}" if notes else
                       f"Nothing to evaluate: no {scope} in the collected inventory.")
            nothing_applies = not notes
            notes = []
        # Objects whose properties this check reads could not be read: say so on the check.
        gaps = notes_for(check.meta.id, ctx.snapshot) if ctx.memo("unreadable.any", lambda: _any_unreadable(ctx)) else []
        results.append(CheckResult(check.meta, outcome.checked, found, notes + gaps,
                                   not_evaluated=why_not, nothing_applies=nothing_applies, groups=groups))
    return Results(results)


def identify(check: Check, findings: list[Finding]) -> tuple[list[Finding], dict[str, GroupInfo]]:
    """Give every finding its group and fingerprint (from the unmasked object id)."""
    out: list[Finding] = []
    groups: dict[str, GroupInfo] = {}
    seen: dict[str, int] = {}
    for f in findings:
        gk = check.group(f)
        gid = group_id(check.meta.id, gk.key)
        fp = fingerprint(check.meta.id, f.object_id, check.subkey_of(f))
        # Two findings of one object without a sub-key would collapse in the delta: number the
        # repeats (in report order, which is stable for the same snapshot) and say so in the log.
        n = seen.get(fp, 0)
        seen[fp] = n + 1
        if n:
            log.warning("check %s: findings share the identity of %s; add a subkey_of()", check.meta.id, f.object_name)
            fp = f"{fp}.{n}"
        risk = check.risk_of(f)
        prev = groups.get(gid)
        if prev is None or risk < prev.risk:
            groups[gid] = GroupInfo(gk.title, risk)
        out.append(f.model_copy(update={"group": gid, "fingerprint": fp}))
    return out, groups
