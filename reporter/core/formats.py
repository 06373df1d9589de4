"""The report formats a run can write, and which of them an email can attach.

One enum for config validation, the CLI and the renderer registry, so an unknown format is
an error at config load (exit 2) and never a surprise at render time.
"""

from __future__ import annotations

from enum import StrEnum


class Format(StrEnum):
    html = "html"
    pdf = "pdf"
    pdfa = "pdfa"
    xlsx = "xlsx"
    csv = "csv"
    json = "json"
    eml = "eml"  # report.eml: the email `vcreport run` would send, written instead of sent


DEFAULT_FORMATS: tuple[Format, ...] = (Format.html, Format.json)
DEMO_FORMATS: tuple[Format, ...] = (Format.html, Format.json, Format.xlsx, Format.csv, Format.pdf)


def parse_formats(text: str) -> list[Format]:
    """``"html, PDF"`` -> ``[Format.html, Format.pdf]``; raises ValueError naming what is wrong."""
    items = [part.strip().lower() for part in text.split(",")]
    if not any(items):
        raise ValueError(f"no format given (choose from {', '.join(Format)})")
    bad = [item for item in items if item and item not in Format.__members__]
    if bad:
        raise ValueError(f"unknown format(s): {', '.join(bad)} (choose from {', '.join(Format)})")
    return list(dict.fromkeys(Format(item) for item in items if item))
