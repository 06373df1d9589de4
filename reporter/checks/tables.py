"""Detail tables a check family contributes to reports (and XLSX/CSV sheets).

A family registers a producer ``(ctx) -> list[Table]``; reports render every
registered table in the family's section, so a new family shows up without
template edits.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from reporter.checks.base import CheckContext
from reporter.checks.registry import families_missing_inputs, load_all

Scalar = str | int | float | bool | None


@dataclass(frozen=True)
class Table:
    id: str  # stable, also the XLSX sheet / CSV file name ("vram_pools")
    family: str
    title: str
    columns: list[str]
    rows: Sequence[Sequence[Scalar]]
    note: str | None = None
    in_summary: bool = True  # False: inventory-sized, only in XLSX/CSV, not in HTML/PDF
    chart: dict[str, Any] | None = None  # optional chart hint for renderers
    stack_on_narrow: bool = False  # HTML: on a phone, one card per row instead of a scrolling table


TableFn = Callable[[CheckContext], list[Table]]

_PRODUCERS: list[tuple[str, TableFn]] = []


def register_tables(family: str) -> Callable[[TableFn], TableFn]:
    def deco(fn: TableFn) -> TableFn:
        if (family, fn) not in _PRODUCERS:
            _PRODUCERS.append((family, fn))
        return fn

    return deco


def build_tables(ctx: CheckContext) -> list[Table]:
    load_all()
    missing = families_missing_inputs(ctx)
    out: list[Table] = []
    for family, fn in _PRODUCERS:
        if family in missing:
            continue  # nothing collected: the family's checks say so; empty or all-"unknown" tables add nothing
        out.extend(fn(ctx))
    return out
