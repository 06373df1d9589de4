"""A table cell's value as the reports print it, without markup: numbers with thousands
separators, floats to two places, yes/no, "—" for absent, times in UTC. The templates' cell filter
(reporter/render/templating.py) prints these, and report.pdf's column widths
(reporter/render/print_columns.py) are measured from them."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from typing import Any


def format_datetime(value: datetime | date | str | None, with_seconds: bool = False) -> str:
    """UTC, unambiguous: ``2026-11-23 06:00 UTC``."""
    if value is None:
        return "—"
    if isinstance(value, str):
        try:
            parsed: datetime | date = datetime.fromisoformat(value)
        except ValueError:
            return value
        value = parsed
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value.strftime("%Y-%m-%d %H:%M:%S UTC" if with_seconds else "%Y-%m-%d %H:%M UTC")
    return value.isoformat()


def is_numeric(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def scalar_text(value: Any) -> str:
    """A cell that is not text (text is isolated and shortened by the templates' ``name`` filter)."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if not math.isfinite(value) or value != int(value):
            return f"{value:,.2f}".rstrip("0").rstrip(".")
        return f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, datetime):
        return format_datetime(value)
    return str(value)
