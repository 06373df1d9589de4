"""Column widths for report.pdf's data tables, computed from their text, for a fixed table layout.

An automatic-layout table makes WeasyPrint measure every cell twice (its narrowest and its widest
line) before it lays a row out: at 10,000 VMs a tenth of the PDF's time went to the 13 such tables.
With ``table-layout: fixed`` and a ``<col>`` width per column it lays each cell out once. The
widths come from the text's width in the report's font (DejaVu Sans advance widths), chosen for
the reader rather than copied from the automatic layout (which wrapped a column of small numbers
to a title of four short lines, and host names, to give a long note its natural width): a column
is at least as wide as its longest title piece, its widest number and (up to a cap) its cells'
longest unbreakable piece; then its title gets two lines; then the room left goes to the columns
whose cells it puts on one line most cheaply, and what remains to the text that still wraps.
"""

from __future__ import annotations

import heapq
import math
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from markupsafe import Markup

from reporter.render.cells import is_numeric, scalar_text, text_cell
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
EVIDENCE = TableFont(7.0, 4.0)  # table.evt: DATA's type, a point of margin either side (evidence_colgroup)
WIDE = TableFont(6.5, 2.0)  # more than 7 columns (table.data.wide)
LANDSCAPE = TableFont(6.0, 1.125, LANDSCAPE_WIDTH_PT)  # more than 11 columns: a landscape page


def font_for(columns: int) -> TableFont:
    """The type of a family table with this many columns (templates/_macros.html.j2 data_table)."""
    return LANDSCAPE if columns > 11 else WIDE if columns > 7 else DATA


_TITLE_BREAKS = "-/"  # a line may end after these in any title (th: word-break keep-all)
# Targets a column may grow to in one step, as the fractions of its cells they put on one line
# each: a full-edition table of thousands of rows is not searched cell by cell.
_TARGETS = (0.5, 0.75, 0.9, 1.0)
_ROW_LINES = 8  # rows of up to this many lines are aimed at; past it, each column for itself
_COUNTED = 64  # cells of a column up to which its lines are counted cell by cell
_WIDEST = 3  # a column's cells whose width on so many lines is found by wrapping them


def _split_after(word: str, marks: str | frozenset[str]) -> list[str]:
    pieces, piece = [], ""
    for ch in word:
        piece += ch
        if ch in marks:
            pieces.append(piece)
            piece = ""
    if piece:
        pieces.append(piece)
    return pieces


def title_pieces(title: str) -> list[tuple[str, bool]]:
    """The parts of a column title that a line break never goes inside, each with whether a
    space follows it: its words, split after a hyphen or a slash, and a long token (an API name
    such as ``storageIOAllocation.limit``) after its dots and other punctuation too, where
    print_text.header_breaks marks it, so that it breaks there and not at an arbitrary letter."""
    out: list[tuple[str, bool]] = []
    for word in title.split():
        marks = BREAK_AFTER if len(word) >= LONG_TOKEN else _TITLE_BREAKS
        pieces = _split_after(word, marks)
        out.extend((piece, i == len(pieces) - 1) for i, piece in enumerate(pieces))
    return out


def _title_widths(title: str, size: float) -> tuple[float, float, float, float]:
    """(longest piece, the narrowest width on at most two lines, on three, on one line) of a
    title in bold: on two lines, the split point whose longer line is the shortest, and so on."""
    units = [(text_width(piece, size, bold=True), spaced) for piece, spaced in title_pieces(title)]
    if not units:
        return 0.0, 0.0, 0.0, 0.0
    space = text_width(" ", size, bold=True)
    # Line i..k: its pieces and the spaces between them (a space ending the line is not drawn).
    ends = [0.0]
    for width, spaced in units:
        ends.append(ends[-1] + width + (space if spaced else 0.0))

    def line(i: int, k: int) -> float:
        return ends[k] - ends[i] - (space if units[k - 1][1] else 0.0)

    n = len(units)
    one = line(0, n)
    two = min((max(line(0, k), line(k, n)) for k in range(1, n)), default=one)
    three = min((max(line(0, a), line(a, b), line(b, n)) for a in range(1, n) for b in range(a + 1, n)), default=two)
    return max(w for w, _ in units), two, min(two, three), one


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
    return text_cell(value) if isinstance(value, str) else scalar_text(value)


def column_widths(columns: Sequence[str], rows: Iterable[Sequence[Any]], font: TableFont) -> list[float]:
    """Each column's share of the table's width, in percent (they sum to 100).

    Four widths per column, each at least the one before: ``hard``, what nothing makes narrower
    (the longest piece of its title, th: word-break keep-all; its widest number, td.num: nowrap);
    ``low``, also its cells' longest unbreakable piece, up to an equal share of the table (a
    longer one breaks, "overflow-wrap: break-word"); ``titled``, also its title on two lines;
    ``full``, every cell and the title on one line. A table whose ``full`` widths fit takes them,
    in proportion; one that cannot give every column its ``titled`` width shares out what it has
    between the two widths that bracket it. Between the two: first rows of as few lines as fit
    (k = 2, 3, ... _ROW_LINES, each column's widest cells wrapped to k lines; titles on three
    lines before rows of one line more), then step by step the column and width that save the
    most cell lines per point (a host name that needs 25 more points to stop wrapping in every
    row, a title back on two lines), then the rest by how much text still wraps (_spread).
    """
    size, pad = font.size_pt, 2 * font.padding_pt + _SLACK_PT
    n = len(columns)
    measured = [_title_widths(title, size) for title in columns]
    hard = [piece + pad for piece, *_lines in measured]
    soft = hard[:]
    cells: list[list[float]] = [[] for _ in columns]
    widest: list[list[tuple[float, str]]] = [[] for _ in columns]  # the _WIDEST widest texts, a heap
    for row in rows:
        for j, value in enumerate(row[:n]):
            text = _cell_text(value)
            width = text_width(text, size) + pad
            if is_numeric(value):
                if width > hard[j]:
                    hard[j] = width
                continue
            cells[j].append(width)
            if len(widest[j]) < _WIDEST:
                heapq.heappush(widest[j], (width, text))
            elif width > widest[j][0][0]:
                heapq.heapreplace(widest[j], (width, text))
            if width > soft[j]:
                piece = max((text_width(p, size) for p in _pieces(text)), default=0.0) + pad
                if piece > soft[j]:
                    soft[j] = piece
    cap = font.width_pt / max(n, 1)
    low = [max(h, min(s, cap)) for h, s in zip(hard, soft, strict=True)]
    titled = [max(lo, two + pad) for lo, (_p, two, _t, _o) in zip(low, measured, strict=True)]
    three_line_titles = [max(lo, three + pad) for lo, (_p, _t, three, _o) in zip(low, measured, strict=True)]
    full = [max(t, one + pad, max(c, default=0.0)) for t, (*_w, one), c in zip(titled, measured, cells, strict=True)]
    total = font.width_pt
    if sum(full) <= total:
        return _shares(full)
    if sum(titled) >= total:
        return _shares(_between([hard, low, titled], total))
    titles = [(two + pad, one + pad) for _p, two, _t, one in measured]
    # Rows as few lines as the room allows, all of them: a row is as tall as its tallest cell, so
    # one column left to wrap to three lines makes every row three lines however wide the others.
    # A title on a third line costs one line of the table, a third line in every row costs many:
    # rows of k lines with titles of three before rows of k + 1.
    base = titled
    for lines in range(2, _ROW_LINES + 1):
        cells_fit = [max((_width_for_lines(text, size, lines) + pad for _w, text in top), default=0.0) for top in widest]
        fit = next((f for f in ([max(t, c) for t, c in zip(heads, cells_fit, strict=True)]
                                for heads in (titled, three_line_titles)) if sum(f) <= total), None)
        if fit is not None:
            base = fit
            break
    return _shares(_spread(base, cells, titles, total - sum(base), pad))


def _wrap_units(text: str, size: float) -> list[tuple[float, bool]]:
    """The pieces a line of ``text`` may end after (_pieces), each with its width and whether a
    space comes before it."""
    units: list[tuple[float, bool]] = []
    for word in text.split():
        for i, piece in enumerate(_pieces(word)):
            units.append((text_width(piece, size), i == 0 and bool(units)))
    return units


def _lines(units: list[tuple[float, bool]], width: float, space: float) -> int:
    """Lines the pieces take, filled one after the other, on lines ``width`` wide."""
    lines, line = 1, 0.0
    for piece, spaced in units:
        add = piece + (space if spaced and line else 0.0)
        if line and line + add > width:
            lines, line = lines + 1, piece
        else:
            line += add
    return lines


def _width_for_lines(text: str, size: float, lines: int) -> float:
    """The narrowest line (to 0.05 pt) on which ``text`` takes at most ``lines`` lines."""
    units = _wrap_units(text, size)
    if not units:
        return 0.0
    space = text_width(" ", size)
    one = sum(w for w, _s in units) + space * sum(1 for _w, s in units if s)
    lo, hi = max(max(w for w, _s in units), one / lines), one
    while hi - lo > 0.05:
        mid = (lo + hi) / 2
        if _lines(units, mid, space) <= lines:
            hi = mid
        else:
            lo = mid
    return hi


def _between(guesses: list[list[float]], total: float) -> list[float]:
    """Widths summing to ``total`` from ``guesses`` that each want more room than the one before
    (CSS Tables 3's width distribution): between the two guesses whose sums bracket ``total``,
    each column takes the same fraction of its difference; below the first, in proportion to it."""
    for lower, upper in pairwise(guesses):
        if sum(upper) < total:
            continue
        if sum(lower) >= total:  # not even the minimums fit: in proportion to them
            return lower
        added = [u - lo for lo, u in zip(lower, upper, strict=True)]
        ratio = (total - sum(lower)) / sum(added)
        return [lo + a * ratio for lo, a in zip(lower, added, strict=True)]
    return guesses[-1]


class _Column:
    """A column's non-numeric cell widths, sorted, with their running sums: how many lines a width
    saves, about, with a few bisections instead of a pass over the cells (a full-edition table
    has thousands of rows)."""

    def __init__(self, widths: list[float], title_lines: tuple[float, float], pad: float) -> None:
        self.widths = sorted(widths)
        self.sums = [0.0]
        for w in self.widths:
            self.sums.append(self.sums[-1] + w - pad)
        self.title_lines = title_lines  # the title's width on two lines, on one
        self.title, self.pad = title_lines[1], pad

    def targets(self, width: float) -> list[float]:
        """Widths worth a step from ``width``: each putting a share of the cells (_TARGETS) on one
        line, or the widest cell on two or three."""
        count = len(self.widths)
        picked = set(self.title_lines)
        if count:
            picked |= {self.widths[max(0, math.ceil(q * count) - 1)] for q in _TARGETS}
            picked |= {(self.widths[-1] - self.pad) / k + self.pad for k in (2, 3)}
        return sorted(t for t in picked if t > width)

    def lines_saved(self, width: float, target: float) -> float:
        """About how many lines the cells take at ``width`` beyond what they take at ``target``. A
        cell ``x`` times as wide as the line takes x lines when it wraps (as if its lines were
        full), and one line saved from a cell that fits at ``target`` counts ``x - 0.5`` (its
        lines are whole: on average half a line more than x)."""
        lo, hi = bisect_right(self.widths, width), bisect_right(self.widths, target)
        line, after = max(width - self.pad, 1.0), max(target - self.pad, 1.0)
        title = sum(1 for t in self.title_lines if width < t <= target)
        if len(self.widths) <= _COUNTED:  # whole lines, cell by cell: 1.6 lines wide is 2 lines, so is 1.1
            return title + sum(math.ceil((w - self.pad) / line - 1e-9) - math.ceil((w - self.pad) / after - 1e-9)
                               for w in self.widths[lo:])
        fits = (self.sums[hi] - self.sums[lo]) / line - 0.5 * (hi - lo)
        still_wrap = self.sums[-1] - self.sums[hi]
        return fits + still_wrap / line - still_wrap / after + title

    def wrapping(self, width: float) -> float:
        """The share of its cells wider than ``width`` (1 for a column without text cells)."""
        count = len(self.widths)
        return (count - bisect_right(self.widths, width)) / count if count else 1.0

    def overflow(self, width: float) -> float:
        """How much wider than ``width`` its wider cells and its title are, together, times the
        share of its cells that wrap: a column of dashes with three long notes wraps in three
        rows, the 11 rows of "Blocked by" beside it in all of theirs."""
        lo = bisect_right(self.widths, width)
        text = self.sums[-1] - self.sums[lo] - (len(self.widths) - lo) * (width - self.pad)
        return text * self.wrapping(width) + max(0.0, self.title - width)


def _spread(widths: list[float], cells: list[list[float]], titles: list[tuple[float, float]], room: float,
            pad: float) -> list[float]:
    """``widths`` with ``room`` more points: step by step to the column and target that save the
    most lines per point, while one fits; then in proportion to what still overflows."""
    widths = widths[:]
    columns = [_Column(c, t, pad) for c, t in zip(cells, titles, strict=True)]
    while True:
        best: tuple[float, int, float] | None = None
        for j, col in enumerate(columns):
            # (and all the room, where most cells wrap: notes that wrap anyway save lines with
            # every point; not a column of dashes with a few long notes)
            everything = [widths[j] + room] if col.wrapping(widths[j]) >= 0.5 else []
            for target in [*col.targets(widths[j]), *everything]:
                cost = target - widths[j]
                if cost <= 0 or cost > room:
                    continue
                rate = col.lines_saved(widths[j], target) / cost
                if rate > 0 and (best is None or rate > best[0]):
                    best = (rate, j, target)
        if best is None:
            break
        _rate, j, target = best
        room -= target - widths[j]
        widths[j] = target
    over = [col.overflow(w) for col, w in zip(columns, widths, strict=True)]
    weights = over if sum(over) > 0 else widths
    share = room / sum(weights)
    return [w + o * share for w, o in zip(widths, weights, strict=True)]


def _shares(widths: list[float]) -> list[float]:
    """``widths`` in percent of their sum, rounded to 0.01 and summing to exactly 100."""
    scale = 100 / sum(widths)
    shares = [round(w * scale, 2) for w in widths]
    shares[shares.index(max(shares))] += round(100 - sum(shares), 2)
    return shares


def colgroup(columns: Sequence[str], rows: Iterable[Sequence[Any]], font: TableFont = DATA) -> Markup:
    """``<colgroup>`` with a width per column, for a ``table-layout: fixed`` table (_print.css)."""
    cols = "".join(f'<col style="width:{share:g}%">' for share in column_widths(columns, rows, font))
    return Markup(f"<colgroup>{cols}</colgroup>")


def print_colgroup(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> Markup:
    """The ``<colgroup>`` of a family table in report.pdf (its type depends on its columns)."""
    return colgroup(columns, rows, font_for(len(columns)))


def evidence_colgroup(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> Markup:
    """The ``<colgroup>`` of an evidence table in report.pdf (a VM's disks and their caps): its
    columns were equal shares of a fixed layout, so an 8-column table cut its option-name titles
    (``storageIOAllocation.limit``) at an arbitrary letter next to a "Disk" column with room to
    spare. Its type is a data table's (_print.css: table.evt 7pt, 3pt either side), measured with
    a point more on either side: its cells may break anywhere (overflow-wrap), so a word measured
    a hair too narrow ("KB2090639", a bold "Release") would break inside instead of touching the
    cell's edge as it does in a family table."""
    return colgroup(columns, rows, EVIDENCE)
