"""csv/<sheet>.csv: one UTF-8 CSV per XLSX sheet (same content, for scripts and diffing)."""

from __future__ import annotations

from pathlib import Path

from reporter.core.fsutil import atomic_write_bytes
from reporter.render.base import Renderer, ReportContext, register
from reporter.render.sheets import all_sheets, sheet_csv


@register
class CsvRenderer(Renderer):
    format = "csv"

    def render(self, ctx: ReportContext, out_dir: Path) -> list[Path]:
        target = out_dir / "csv"
        target.mkdir(parents=True, exist_ok=True)
        written = [atomic_write_bytes(target / f"{s.id}.csv", sheet_csv(s)) for s in all_sheets(ctx)]
        # Sheets that no longer exist (a family table gone since the last run) must not linger.
        keep = {p.name for p in written}
        for old in target.glob("*.csv"):
            if old.name not in keep:
                old.unlink()
        return written
