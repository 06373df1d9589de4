"""Names and cell values for spreadsheet output: one naming style, typed cells.

Sheet names are derived from the stable sheet id (which is also the CSV file stem), so the
two never drift apart: ``vram_pools`` is the sheet "vRAM Pools" and the file
``csv/vram_pools.csv``. Words are title-cased; product terms keep VMware's spelling.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

from reporter.core import states
from reporter.core.states import yes_no
from reporter.render.cells import format_datetime
from reporter.render.evidence import LABELS, column_title
from reporter.render.words import PRODUCT_WORDS

Cell = str | int | float | bool | datetime | date | None

SMALL_WORDS = {"of", "per", "and", "by", "to", "with", "on", "in", "or", "for", "from", "if"}
EXCEL_SHEET_NAME_MAX = 31


def _words(stem: str) -> list[str]:
    return [w for w in re.split(r"[_\s]+", stem) if w]


def sheet_title(sheet_id: str) -> str:
    """``"cbt_defect_hosts"`` -> ``"CBT Defect Hosts"`` (at most 31 characters, Excel's limit)."""
    words = []
    for i, w in enumerate(_words(sheet_id)):
        low = w.lower()
        if low in PRODUCT_WORDS:
            words.append(PRODUCT_WORDS[low])
        elif i and low in SMALL_WORDS:
            words.append(low)
        else:
            words.append(w[:1].upper() + w[1:])
    # "/" is one of the characters Excel forbids in a sheet name.
    return " ".join(words).replace("I/O", "IO")[:EXCEL_SHEET_NAME_MAX].rstrip() or "Sheet"


# A unit at the end of an evidence key becomes the column's unit in brackets.
UNIT_SUFFIXES = {"gb": "GB", "mb": "MB", "pct": "%", "days": "days", "hours": "hours", "ms": "ms",
                 "iops": "IOPS", "mbps": "MB/s", "bytes": "bytes"}


# Evidence keys are a small vocabulary repeated on every finding (160,000 calls for a 10,000-VM
# report): cached, the labels cost nothing after the first finding.
@lru_cache(maxsize=4096)
def column_label(key: str) -> str:
    """An evidence key as a column title: ``"avg_12m_gb"`` -> ``"Avg 12-month (GB)"``.

    (A column of evidence takes the report's label, ``evidence.column_title``, and so does an item
    the report labels inside a cell, ``_pair_label``; this spells out any other key.)
    """
    if key in states.FIELD_WORDS:  # an API field: the vSphere Client's name for it
        return states.FIELD_WORDS[key]
    if "." in key:  # a VMX key or a host option (sched.scsi0:1.bandwidthCap): what the admin types
        return key
    # camelCase keys (vCenter's own property names) split into words too.
    words = _words(re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", key.replace(".", " ")))
    unit = None
    if len(words) > 1 and words[-1].lower() in UNIT_SUFFIXES:
        unit = UNIT_SUFFIXES[words.pop().lower()]
    spelled = [PRODUCT_WORDS.get(w.lower(), w.lower()) for w in words]
    # Capitalise the first word unless it has VMware's own spelling ("vRAM", "vCenter").
    if spelled and words[0].lower() not in PRODUCT_WORDS:
        spelled[0] = spelled[0][:1].upper() + spelled[0][1:]
    text = " ".join(spelled)
    return f"{text} ({unit})" if unit else text


ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
ISO_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2}| UTC)?")


def parse_iso(text: str) -> datetime | date | None:
    """An ISO 8601 date or date-time written as text, as a value; None when it is not one."""
    if len(text) < 10 or text[4] != "-" or not text[:4].isdigit():  # most text: no regex needed
        return None
    try:
        if ISO_DATE.fullmatch(text):
            return date.fromisoformat(text)
        if ISO_DATETIME.fullmatch(text):
            parsed = datetime.fromisoformat(text.replace(" UTC", "+00:00").replace("Z", "+00:00"))
            return parsed.astimezone(UTC) if parsed.tzinfo else parsed
    except ValueError:
        return None
    return None


def scalar_text(value: Any) -> str:
    if isinstance(value, bool):
        return yes_no(value)
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, datetime):  # inside a cell's text: "2026-10-09 06:00 UTC", not "06:00:00+00:00"
        return format_datetime(value)
    return "" if value is None else str(value)


def _item_text(value: Any) -> str:
    """``scalar_text(flat_value(value))``, with the plain scalars of evidence lists and mappings
    (text that cannot be an ISO date, numbers, flags, None) answered without the two calls."""
    kind = type(value)
    if kind is str:
        return value if len(value) < 10 or value[4] != "-" else scalar_text(flat_value(value))
    if value is None:
        return ""
    if kind is bool:
        return "yes" if value else "no"
    if kind is int:
        return str(value)
    if kind is float:
        return f"{value:g}"
    return scalar_text(flat_value(value))


# The types are part of the key: True == 1 == 1.0, but they read "yes", "1" and "1".
@lru_cache(maxsize=4096)
def _mapping_text(keys: tuple[Any, ...], types: tuple[type, ...], values: tuple[Any, ...]) -> str | None:
    return ", ".join([f"{_pair_label(str(k))}: {_pair_value(str(k), v)}"
                      for k, v in zip(keys, values, strict=True)]) or None


def _pair_label(key: str) -> str:
    """An item's label inside a cell: the report's own where it has one ("label" -> "Disk", as the
    HTML and the PDF print it), else the key spelled out (vCenter's "expirationDate" -> "Expiration date")."""
    return column_title(key) if key in LABELS else column_label(key)


def _pair_value(key: str, value: Any) -> str:
    """A mapping's value after its label, as the HTML and PDF evidence print it: "not set" for no
    value and "none" for an empty list, rather than a label followed by nothing."""
    if value is None:
        return states.NOT_SET
    if isinstance(value, list | tuple | dict) and not value:
        return states.NO_ITEMS
    return states.field_value(key, value) or _item_text(value)


def flat_value(value: Any) -> Cell:
    """A piece of evidence as one cell: scalars as they are (ISO dates as dates), a list as its
    items one per line, a mapping as "label: value" pairs."""
    if isinstance(value, str):  # scalars first: most evidence values are one
        return parse_iso(value) or value
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, dict):
        values = tuple(value.values())
        try:  # evidence repeats a few mappings thousands of times (a VM's disks): each is spelled once
            return _mapping_text(tuple(value), tuple(map(type, values)), values)
        except TypeError:  # a value that cannot be hashed (a nested list): spelled each time
            return _mapping_text.__wrapped__(tuple(value), (), values)
    if isinstance(value, list | tuple):
        return "\n".join([_item_text(v) for v in value]) or None
    return str(value)
