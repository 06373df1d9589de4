"""A table cell's value as the reports print it, without markup: numbers with thousands
separators, floats to two places, yes/no, "—" for absent, times in UTC. The templates' cell filter
(reporter/render/templating.py) prints these, and report.pdf's column widths
(reporter/render/print_columns.py) are measured from them."""

from __future__ import annotations

import math
import re
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


# A date-time a table carries as ISO text (the snapshot list's "Created"): XLSX makes it a date cell,
# HTML and PDF print it as every other time is printed.
_ISO_DATETIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)?")


def text_cell(text: str) -> str:
    """A text cell as printed: ``2026-11-15T06:00+00:00`` reads ``2026-11-15 06:00 UTC``; other text as it is."""
    if len(text) < 16 or text[10] != "T" or not _ISO_DATETIME.fullmatch(text):
        return text
    return format_datetime(text.replace("Z", "+00:00"))


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
