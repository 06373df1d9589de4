"""Run the registered checks over a snapshot and apply waivers."""

from __future__ import annotations

import fnmatch
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from reporter.checks import CheckContext, CheckMeta, Outcome, all_checks
from reporter.checks.unreadable import notes_for
from reporter.core.findings import Finding, Severity, Status

log = logging.getLogger(__name__)


@dataclass
class CheckResult:
    meta: CheckMeta
    checked: int
    findings: list[Finding]
    notes: list[str] = field(default_factory=list)
    error: str | None = None


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


def _waiver_matches(w: Any, f: Finding) -> bool:
    if w.check_id != f.check_id and not fnmatch.fnmatchcase(f.check_id, w.check_id):
        return False
    if getattr(w, "vcenter", None) and w.vcenter != f.vcenter:
        return False
    return fnmatch.fnmatchcase(f.object_name, w.object) or fnmatch.fnmatchcase(f.object_id, w.object)


def apply_waivers(findings: Iterable[Finding], waivers: list[Any], today: date) -> list[Finding]:
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
    waivers: list[Any] | None = None,
    today: date | None = None,
    only: Iterable[str] | None = None,
) -> Results:
    wanted = set(only) if only else None
    results: list[CheckResult] = []
    for check in all_checks():
        if wanted is not None and check.meta.id not in wanted and check.meta.family not in wanted:
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
            results.append(CheckResult(check.meta, 0, [err], error=str(exc)))
            continue
        found = outcome.findings
        if waivers:
            found = apply_waivers(found, waivers, today or ctx.snapshot.collected_at.date())
        found.sort(key=lambda f: (-f.severity.rank, f.vcenter, f.object_name, f.object_id))
        # Objects whose properties this check reads could not be read: say so on the check.
        gaps = notes_for(check.meta.id, ctx.snapshot) if ctx.memo("unreadable.any", lambda: _any_unreadable(ctx)) else []
        results.append(CheckResult(check.meta, outcome.checked, found, list(outcome.notes) + gaps))
    return Results(results)
