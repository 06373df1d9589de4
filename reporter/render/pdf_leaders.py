"""The contents' dot leaders drawn as one run of text each, not one text per dot.

WeasyPrint lays a ``leader(". ")`` out as one text box of ". " copied into every cell of the
line's free width, each at its own x (cells counted from the line's right edge, so the dots of
every line stand in columns). Drawing a text box re-creates its Pango context and layout and
shapes its text again: ~0.25 ms a box, and the 10,000-VM report's contents page has ~1,400 such
copies against ~5,600 text boxes on all its other pages together. Once the document is laid out,
each leader's copies are replaced by one text box holding the same dots, at the leftmost copy's
place: the same glyphs at the same positions (the run's advances are the copies' spacing; glyphs
move by at most 0.1 pt after 40 dots, from the rounding of the PDF's glyph widths), drawn in one go.

This reads WeasyPrint's laid-out boxes (``Page._page_box``, ``InlineBox.is_leader``,
``TextBox.pango_layout``): anything unexpected — another WeasyPrint, copies that differ, uneven
spacing — leaves that leader as WeasyPrint made it.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from itertools import pairwise
from typing import Any

# Copies further apart than this from one cell's width are not a leader we know how to merge.
_SPACING_TOLERANCE_PT = 1e-6


def merge_leader_dots(pages: Iterable[Any]) -> int:
    """Each leader on ``pages`` (a WeasyPrint Document's) drawn as one text box; how many merged."""
    merged = 0
    for page in pages:
        # A plain walk of the boxes' children, without descendants()' generator per box: the
        # 10,000-VM report's ~18,700 boxes and 65 merges take ~0.03 s.
        stack = [getattr(page, "_page_box", None)]
        while stack:
            box = stack.pop()
            if getattr(box, "is_leader", False) and _merge(box):
                merged += 1
            else:
                stack.extend(getattr(box, "children", ()))
    return merged


def _merge(leader: Any) -> bool:
    copies = sorted(getattr(leader, "children", ()), key=lambda b: b.position_x)
    if len(copies) < 2:
        return False
    first = copies[0]
    layout = getattr(first, "pango_layout", None)
    text = getattr(first, "text", None)
    if not isinstance(text, str) or getattr(layout, "text", None) != text or hasattr(layout, "layout"):
        return False  # not a deactivated Pango layout of this text: not what we know
    width = first.width
    for before, after in pairwise(copies):
        if (after.text != text or after.pango_layout is not layout or after.style is not first.style
                or after.position_y != first.position_y
                or abs(after.position_x - before.position_x - width) > _SPACING_TOLERANCE_PT):
            return False
    run = first.copy()
    run.text = text * len(copies)
    run.width = width * len(copies)
    run.pango_layout = copy.copy(layout)  # drawing re-creates the layout from its .text
    run.pango_layout.text = run.text
    leader.children = (run,)
    return True
