"""Column widths for report.pdf's data tables, computed from their text, for a fixed table layout.

An automatic-layout table makes WeasyPrint measure every cell twice (its narrowest and its widest
line) before it lays a row out: at 10,000 VMs a tenth of the PDF's time went to the 13 such tables.
With ``table-layout: fixed`` and a ``<col>`` width per column it lays each cell out once. The
widths are chosen here the way the automatic layout chooses them (CSS 2.1 §17.5.2.2, as
WeasyPrint does it), from the text's width in the report's font (DejaVu Sans advance widths): a
column gets at least its longest title word and its longest number (titles and numbers never
wrap), the room left over goes to the columns in proportion to how much wider their text is
than that minimum. Long names still wrap inside their column, as before.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from markupsafe import Markup

from reporter.render.cells import is_numeric, scalar_text
from reporter.render.print_text import BREAK_AFTER, LONG_TOKEN, MAX_RUN, PROSE_WORD
from reporter.render.text_width import text_width

# Spare room per cell, in points, over the text and the padding: the widths above are the font's
# own (they match WeasyPrint's measures to 0.01 pt), this covers rounding the shares to 0.01 %.
_SLACK_PT = 0.25

TITLE_LINES = 2  # lines a column title may wrap to before its column asks for more width
MM = 72 / 25.4
# The text area of report.pdf's pages (templates/_print.css: @page report and @page landscape).
PORTRAIT_WIDTH_PT = (210 - 2 * 12) * MM
LANDSCAPE_WIDTH_PT = (297 - 2 * 12) * MM


@dataclass(frozen=True)
class TableFont:
    """A table's type as _print.css sets it for report.pdf (``.paged-report table.data ...``)."""

    size_pt: float
    padding_pt: float  # left and right, each
    width_pt: float = PORTRAIT_WIDTH_PT


DATA = TableFont(7.0, 3.0)
WIDE = TableFont(6.5, 2.0)  # more than 7 columns (table.data.wide)
LANDSCAPE = TableFont(6.0, 1.125, LANDSCAPE_WIDTH_PT)  # more than 11 columns: a landscape page


def font_for(columns: int) -> TableFont:
    """The type of a family table with this many columns (templates/_macros.html.j2 data_table)."""
    return LANDSCAPE if columns > 11 else WIDE if columns > 7 else DATA


_TITLE_BREAKS = re.compile(r"\s+|(?<=[-/])")


def _pieces(text: str) -> Iterable[str]:
    """The parts of ``text`` that should not break across lines: its words, and in a long token
    the runs between the break marks print_text puts in it (after the break characters, every
    MAX_RUN characters). A shorter word stays whole though a line could end after its hyphen:
    a date (2026-12-06) or a version reads badly split."""
    for word in text.split():
        if len(word) < LONG_TOKEN or (len(word) <= PROSE_WORD and word.isalpha()):
            yield word
            continue
        piece = ""
        for ch in word:
            piece += ch
            if ch in BREAK_AFTER or len(piece) >= MAX_RUN:
                yield piece
                piece = ""
        if piece:
            yield piece


def _cell_text(value: Any) -> str:
    return value if isinstance(value, str) else scalar_text(value)


def column_widths(columns: Sequence[str], rows: Iterable[Sequence[Any]], font: TableFont) -> list[float]:
    """Each column's share of the table's width, in percent (they sum to 100)."""
    size, spare = font.size_pt, 2 * font.padding_pt + _SLACK_PT
    # A title wraps between its words only (th: word-break keep-all; a line may still end after a
    # hyphen or a slash), so its longest word is the minimum; so is a number (td.num: nowrap).
    # Those two are hard: nothing makes them narrower. A cell's longest word is a soft minimum,
    # as "overflow-wrap: break-word" breaks it where a column cannot be that wide.
    hard = [max((text_width(w, size, bold=True) for w in _TITLE_BREAKS.split(title) if w), default=0.0) + spare
            for title in columns]
    low = hard[:]
    titles = [text_width(title, size, bold=True) + spare for title in columns]
    cells = [0.0] * len(columns)
    total = [0.0] * len(columns)
    count = 0
    for row in rows:
        count += 1
        for j, value in enumerate(row[:len(columns)]):
            text = _cell_text(value)
            width = text_width(text, size) + spare
            if width > cells[j]:
                cells[j] = width
            total[j] += width
            if is_numeric(value):
                if width > hard[j]:
                    hard[j] = width
                if width > low[j]:
                    low[j] = width
            elif width > low[j]:
                piece = max((text_width(p, size) for p in _pieces(text)), default=0.0) + spare
                if piece > low[j]:
                    low[j] = piece
    full = [max(cell, title) for cell, title in zip(cells, titles, strict=True)]
    # A title is one line of the table, its cells are many: where the table has to wrap, a title
    # takes two lines before the cells below it wrap more (the automatic layout counts the whole
    # title as the column's natural width, and so wrapped 25 rows of a table's "Fixed in" into a
    # third line to keep "Of those with a CBT disk > 128 GB" on two).
    short_titles = [max(lo, cell, title / TITLE_LINES) for lo, cell, title in zip(low, cells, titles, strict=True)]
    # And the room a wrapping table has beyond its minimums goes first where the rows have text,
    # by each column's mean cell, not its widest one: a column of dashes with one long note
    # ("Verify") would otherwise take the room that five lines of "Blocked by" in every row need.
    mean = [max(lo, t / max(count, 1), title / TITLE_LINES) for lo, t, title in zip(low, total, titles, strict=True)]
    return _distribute([hard, low, mean, short_titles, full], font.width_pt)


def _distribute(guesses: list[list[float]], total: float) -> list[float]:
    """Widths for a table ``total`` wide, in percent of it, from ``guesses`` that each want more
    room than the one before (CSS Tables 3's width distribution): between the two guesses whose
    sums bracket ``total``, each column takes the same fraction of its difference; past the last
    one, the room left over goes in proportion to the widths."""
    widths = guesses[-1]
    for lower, upper in pairwise(guesses):
        if sum(upper) < total:
            continue
        if sum(lower) >= total:  # not even the minimums fit: in proportion to them
            widths = lower
            break
        added = [u - lo for lo, u in zip(lower, upper, strict=True)]
        ratio = (total - sum(lower)) / sum(added)
        widths = [lo + a * ratio for lo, a in zip(lower, added, strict=True)]
        break
    scale = 100 / sum(widths)
    shares = [round(w * scale, 2) for w in widths]
    shares[shares.index(max(shares))] += round(100 - sum(shares), 2)  # exactly 100 after rounding
    return shares


def colgroup(columns: Sequence[str], rows: Iterable[Sequence[Any]], font: TableFont = DATA) -> Markup:
    """``<colgroup>`` with a width per column, for a ``table-layout: fixed`` table (_print.css)."""
    cols = "".join(f'<col style="width:{share:g}%">' for share in column_widths(columns, rows, font))
    return Markup(f"<colgroup>{cols}</colgroup>")


def print_colgroup(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> Markup:
    """The ``<colgroup>`` of a family table in report.pdf (its type depends on its columns)."""
    return colgroup(columns, rows, font_for(len(columns)))
