"""Writing a plan: a terminal table (rich), HTML (Jinja2, autoescaped) or XLSX (openpyxl).

License keys are masked in every output unless the user asked to see them.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reporter.core import states
from reporter.core.fsutil import atomic_write_bytes, atomic_write_text
from reporter.core.masking import mask_text
from reporter.domain.licensing.plan import PlanResult
from reporter.errors import RenderError
from reporter.render.cells import format_datetime
from reporter.render.templating import environment


@dataclass(frozen=True)
class DisplayRow:
    pool: str
    metric: str
    current: str
    scenario: str
    changed: bool
    numeric: bool


def _fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:,.1f}" if not v.is_integer() else f"{v:,.0f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def display_rows(result: PlanResult, show_license_keys: bool = False) -> list[DisplayRow]:
    rows = []
    for line in result.lines:
        cur, scen = _fmt(line.current), _fmt(line.scenario)
        if not show_license_keys:
            cur, scen = mask_text(cur), mask_text(scen)
        rows.append(DisplayRow(
            pool=line.pool, metric=line.metric, current=cur, scenario=scen, changed=cur != scen,
            numeric=isinstance(line.current, (int, float)) or isinstance(line.scenario, (int, float)),
        ))
    return rows


def title_of(result: PlanResult) -> str:
    return "License plan" + (f": {result.scenario.name}" if result.scenario.name else "")


def snapshot_when(result: PlanResult) -> str:
    """The snapshot's time as the reports print it: '2026-11-23 06:00 UTC'."""
    return format_datetime(result.snapshot_time)


# What the crossing date means, under the outcome lines of every format.
CROSSING_RULE = ("the first day the 12-month average would exceed the entitlement if every future day's "
                 "high-water equals today's")


def table_words(result: PlanResult) -> str:
    """The vRAM table the plan used, in the report's words: 'Revised entitlements of 3 August 2011 (aug2011)'."""
    return states.vram_table(result.vram_table) or str(result.vram_table)


def render_terminal(result: PlanResult, show_license_keys: bool = False, width: int | None = None) -> str:
    from rich.console import Console
    from rich.table import Table as RichTable
    from rich.text import Text

    buf = io.StringIO()
    console = Console(file=buf, width=width or 140, force_terminal=False, color_system=None, highlight=False,
                      markup=False, emoji=False)
    console.print(f"{title_of(result)} (snapshot {snapshot_when(result)}, vRAM table: {table_words(result)})")
    for c in result.changes:
        console.print(f"  scenario: {mask_text(c) if not show_license_keys else c}")
    for o in result.outcomes():
        console.print(f"  outcome: {o}")
    for n in result.notes:
        console.print(f"  note: {n}")
    console.print(f"  (crossing date: {CROSSING_RULE})")
    t = RichTable(show_lines=False)
    for col, just in (("Pool", "left"), ("Metric", "left"), ("Current", "right"), ("Scenario", "right")):
        t.add_column(col, justify=just)  # type: ignore[arg-type]
    last_pool = None
    for r in display_rows(result, show_license_keys):
        # A switched pool's two names on two lines: "vc01 · vSphere Standard" / "-> vc01 · vSphere Enterprise".
        t.add_row(Text(r.pool.replace(" -> ", "\n-> ") if r.pool != last_pool else ""), Text(r.metric), Text(r.current),
                  Text(r.scenario + (" *" if r.changed else "")))
        last_pool = r.pool
    console.print(t)
    console.print("* = differs from the current state")
    return buf.getvalue()


def render_html(result: PlanResult, show_license_keys: bool = False, tool_version: str = "") -> str:
    tpl = environment().get_template("plan.html.j2")
    masked = result
    if not show_license_keys:
        from dataclasses import replace

        masked = replace(result, changes=[mask_text(c) for c in result.changes])
    return tpl.render(result=masked, rows=display_rows(result, show_license_keys), title=title_of(result),
                      when=snapshot_when(result), crossing_rule=CROSSING_RULE, tool_version=tool_version,
                      vram_table=table_words(result))


CHANGED_LEGEND = "Highlighted: differs from the current state"


def render_xlsx(result: PlanResult, show_license_keys: bool = False) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill

    wb = Workbook()
    ws = wb.active
    ws.title = "plan"
    ws.append([title_of(result)])
    ws["A1"].font = Font(bold=True, size=13)
    ws.append([f"Snapshot {snapshot_when(result)}; vRAM table: {table_words(result)}"])
    ws.append([])
    ws.append(["Pool", "Metric", "Current", "Scenario"])
    for c in ws[4]:
        c.font = Font(bold=True)
    fill = PatternFill("solid", fgColor="FFF3CD")
    rows = display_rows(result, show_license_keys)
    for line, r in zip(result.lines, rows, strict=False):
        cur = line.current if isinstance(line.current, (int, float)) and not isinstance(line.current, bool) else r.current
        scen = line.scenario if isinstance(line.scenario, (int, float)) and not isinstance(line.scenario, bool) else r.scenario
        ws.append([r.pool, r.metric, cur, scen])
        if r.changed:
            ws.cell(row=ws.max_row, column=4).fill = fill
    if any(r.changed for r in rows):
        ws.append([])
        ws.append([None, None, None, CHANGED_LEGEND])
        ws.cell(row=ws.max_row, column=4).fill = fill
    ws.freeze_panes = "A5"  # the column titles stay in view
    for col, w in zip("ABCD", (34, 34, 28, 28), strict=False):
        ws.column_dimensions[col].width = w
    sc = wb.create_sheet("scenario")
    sc.append(["Change"])
    for c in result.changes:
        sc.append([c if show_license_keys else mask_text(c)])
    for o in result.outcomes():
        sc.append([f"outcome: {o}"])
    for n in result.notes:
        sc.append([f"note: {n}"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def render_json(result: PlanResult) -> str:
    """``vcreport plan --json``: ``{"current": {"licensing": ...}, "scenario": ... | null}``."""
    import json

    return json.dumps(result.to_json(), indent=2, ensure_ascii=False) + "\n"


def write_plan(result: PlanResult, out: str | Path, show_license_keys: bool = False, tool_version: str = "") -> Path:
    p = Path(out)
    suffix = p.suffix.lower()
    if suffix in (".html", ".htm"):
        return atomic_write_text(p, render_html(result, show_license_keys, tool_version))
    if suffix == ".xlsx":
        return atomic_write_bytes(p, render_xlsx(result, show_license_keys))
    raise RenderError(f"{p}: plan output must end in .html or .xlsx")
