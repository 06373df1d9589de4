"""The workbook and the CSV files of one report build their sheets once (sheets.sharing_sheets),
with the same cells and bytes as when each is rendered on its own."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import report_fixtures as rf

from reporter.checks.tables import Table
from reporter.core.formats import Format
from reporter.pipeline import report as pipeline_report
from reporter.pipeline.progress import StageProgress
from reporter.render import get_renderer, sheets
from reporter.render.base import ReportContext


def _context() -> ReportContext:
    """The fixture report plus a CBT table on the disks: the workbook merges it into its Disks
    sheet, the CSV keeps it as cbt_disks.csv, so the two really are assembled differently."""
    ctx = rf.context()
    disks = next(s for s in sheets.inventory_sheets(ctx) if s.id == "disks")
    key = [disks.columns.index(c) for c in ("vCenter", "VM", "Node")]
    cbt = Table(id="cbt_disks", family="cbt", title="CBT per disk",
                columns=["vCenter", "VM", "Node", "VM CBT option", "In backup scope", "ctkEnabled", "State"],
                rows=[[*(str(row[i]) for i in key), "true", True, True, "ok"] for row in disks.rows], in_summary=False)
    assert cbt.rows, "the fixture has disks"
    return replace(ctx, tables=[*ctx.tables, cbt])


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> list[ReportContext]:
    """Every time the sheets are built, the context they are built for."""
    seen: list[ReportContext] = []
    real = sheets._build_parts

    def spy(ctx: ReportContext) -> sheets.SheetParts:
        seen.append(ctx)
        return real(ctx)

    monkeypatch.setattr(sheets, "_build_parts", spy)
    return seen


def _cells(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    wb = openpyxl.load_workbook(path)
    return {ws.title: [tuple((c.value, c.data_type, c.number_format, c.font.b) for c in row) for row in ws.iter_rows()]
            for ws in wb.worksheets}


def _csv_bytes(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((out / "csv").glob("*.csv"))}


def test_the_two_assemblies_share_one_build_and_equal_separate_ones(builds: list[ReportContext]) -> None:
    ctx = _context()
    alone_csv, alone_xlsx = sheets.all_sheets(ctx), sheets.all_sheets(ctx, merge_tables=True)
    assert len(builds) == 2
    with sheets.sharing_sheets(ctx):
        shared_xlsx = sheets.all_sheets(ctx, merge_tables=True)
        shared_csv = sheets.all_sheets(ctx)
        assert len(builds) == 3  # one build for both
        assert sheets._shared == {}  # let go after its second use, not at the end of the block
        sheets.all_sheets(ctx)
        assert len(builds) == 4  # a third call builds anew
    assert shared_csv == alone_csv and shared_xlsx == alone_xlsx
    # The merge happened: the workbook's Disks sheet carries the CBT columns, and has no CBT tab.
    disks = next(s for s in shared_xlsx if s.id == "disks")
    assert disks.columns[-1] == "CBT state" and all(row[-1] == "ok" for row in disks.rows)
    assert "cbt_disks" not in {s.id for s in shared_xlsx} and "cbt_disks" in {s.id for s in shared_csv}


def test_sharing_is_for_its_own_context_only(builds: list[ReportContext]) -> None:
    ctx, other = _context(), rf.context()
    with sheets.sharing_sheets(ctx):
        sheets.all_sheets(other)
        sheets.all_sheets(other)
        assert builds == [other, other]
        sheets.all_sheets(ctx)
    assert sheets._shared == {}  # the block's end lets go of a context used once of its two times
    assert builds == [other, other, ctx]


@pytest.mark.parametrize("order", [[Format.xlsx, Format.csv], [Format.csv, Format.html, Format.xlsx]])
def test_one_report_with_both_builds_once_and_writes_what_separate_renders_write(
        tmp_path: Path, builds: list[ReportContext], order: list[Format]) -> None:
    ctx = _context()
    alone = tmp_path / "alone"
    get_renderer("csv").render(ctx, alone)
    get_renderer("xlsx").render(ctx, alone)
    assert len(builds) == 2
    together = tmp_path / "together"
    together.mkdir()
    files = pipeline_report._render_into(ctx, order, together, StageProgress(enabled=False), {})
    assert len(builds) == 3 and sheets._shared == {}
    assert together / "report.xlsx" in files and together / "csv" / "cbt_disks.csv" in files
    assert _csv_bytes(together) == _csv_bytes(alone)
    assert _cells(together / "report.xlsx") == _cells(alone / "report.xlsx")


def test_a_report_with_only_one_of_them_shares_nothing(tmp_path: Path, builds: list[ReportContext],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    entered: list[ReportContext] = []
    real = sheets.sharing_sheets

    def spy(ctx: ReportContext, uses: int = 2) -> Any:
        entered.append(ctx)
        return real(ctx, uses)

    monkeypatch.setattr(sheets, "sharing_sheets", spy)
    pipeline_report._render_into(_context(), [Format.xlsx, Format.json], tmp_path, StageProgress(enabled=False), {})
    assert entered == [] and len(builds) == 1
