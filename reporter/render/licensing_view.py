"""The licensing verdict as display text for the executive summary (HTML, PDF, email).

Formatting only: every figure comes from the ``PoolVerdict`` the pipeline computed once
(``ReportContext.licensing``); nothing here decides a verdict or a count.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from reporter.domain.licensing.verdict import PoolVerdict, Verdict, fmt_gb, over_since_text, short_history_note

# Badge colours (text, background): red for over, amber for at risk, green, grey.
VERDICT_COLOURS: dict[Verdict, tuple[str, str]] = {
    Verdict.non_compliant: ("#ffffff", "#c62828"),
    Verdict.at_risk: ("#1b1f24", "#f9a825"),
    Verdict.compliant: ("#ffffff", "#2e7d32"),
    Verdict.not_evaluated: ("#ffffff", "#78909c"),
}


@dataclass(frozen=True)
class LicensingLine:
    pool: str  # the pool's label ("vc01 · vSphere Enterprise Plus")
    verdict: str  # machine value, e.g. "at_risk"
    label: str  # "at risk"
    fg: str
    bg: str
    use: str  # "12-month average 1,522.8 GB of 1,536 GB entitled (today's high-water 1,764 GB)" (+ short_history_note)
    when: str  # the crossing date sentence, "" when not evaluated
    buy: str  # "CPU licenses to add: 0 now, 3 to hold today's use" ("" when not evaluated)


def line_for(pv: PoolVerdict) -> LicensingLine:
    fg, bg = VERDICT_COLOURS[pv.verdict]
    if pv.verdict is Verdict.not_evaluated:
        use = pv.why if pv.entitled_gb is None else (
            f"{pv.why} Entitled {fmt_gb(pv.entitled_gb)}, today's high-water {fmt_gb(pv.high_water_today_gb)}.")
        return LicensingLine(pv.pool_label, pv.verdict.value, pv.verdict.label, fg, bg, use or pv.why, "", "")
    over = " — over the entitlement" if pv.today_over else ""
    use = (f"12-month average {fmt_gb(pv.avg_12m_gb)} of {fmt_gb(pv.entitled_gb)} entitled "
           f"(today's high-water {fmt_gb(pv.high_water_today_gb)}{over})")
    note = short_history_note(pv)
    if note:  # a few days' average must not pass for a year's at a glance
        use += f"; {note}"
    if pv.verdict is Verdict.non_compliant:
        when = over_since_text(pv)
    elif pv.crossing_date is not None:
        when = f"goes over on {pv.crossing_date.isoformat()} if use stays at today's level"
        if pv.crossing_date_trend is not None:
            when += f" ({pv.crossing_date_trend.isoformat()} at the recent trend)"
    else:
        when = "does not go over within 3 years at today's level"
    buy = (f"CPU licenses to add: {pv.cpu_licenses_to_add_now} now, "
           f"{pv.cpu_licenses_to_add_to_hold_today} to hold today's use")
    return LicensingLine(pv.pool_label, pv.verdict.value, pv.verdict.label, fg, bg, use, when, buy)


def licensing_lines(ctx: Any) -> list[LicensingLine]:
    """One line per pool, vRAM pools first (the order of the analysis)."""
    verdicts = getattr(ctx, "licensing", None)
    if verdicts is None:
        return []
    return [line_for(pv) for pv in verdicts.pools]


def subject_part(ctx: Any) -> str:
    """'licensing: 1 at risk' for the email subject ('' when every vRAM pool is compliant)."""
    verdicts = getattr(ctx, "licensing", None)
    if verdicts is None:
        return ""
    order = (Verdict.non_compliant, Verdict.at_risk)
    counts = [(v, sum(1 for p in verdicts.pools if p.verdict is v)) for v in order]
    parts = [f"{n} {v.label}" for v, n in counts if n]
    return f"licensing: {', '.join(parts)}" if parts else ""
