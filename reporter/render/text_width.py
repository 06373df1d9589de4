"""Width of a line of text as the reports draw it, to shorten a label to the room it has.

The charts' labels are SVG ``<text>`` in DejaVu Sans (the font the PDF editions print with, and
the first of the charts' font families): an SVG text does not wrap, so a long datastore name would
run out of its chart (and, in the PDF, into the page's margin). The advances come from the font
file through Pillow (FreeType), which WeasyPrint already depends on. Characters DejaVu Sans has no
glyph for in practice (CJK, full-width forms) are drawn from a fallback font at about one em each,
so they are counted as one em; without the font file every character counts as the widest
ordinary Latin letter, so a label is cut too short rather than too long.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from typing import Protocol

FONT_FILE = "DejaVuSans.ttf"
ELLIPSIS = "…"
_MEASURE_SIZE = 100  # px: measured large and scaled, so FreeType's rounding of advances to whole pixels is below 1 %
_FALLBACK_EM = 0.85  # DejaVu Sans' "M" and "W" are 0.86 and 0.99 em; most letters are 0.55-0.7


class _Font(Protocol):
    def getlength(self, text: str) -> float: ...


@lru_cache(maxsize=1)
def _font() -> _Font | None:
    from PIL import ImageFont  # loaded only when a chart is drawn

    try:
        return ImageFont.truetype(FONT_FILE, _MEASURE_SIZE)  # Pillow looks in the system's font folders
    except OSError:
        return None


def _is_wide(ch: str) -> bool:
    return unicodedata.east_asian_width(ch) in ("W", "F")


def text_width(text: str, font_size: float) -> float:
    """Advance width of ``text`` in DejaVu Sans at ``font_size`` (in the same units)."""
    font = _font()
    wide = sum(1 for ch in text if _is_wide(ch))
    narrow = "".join(ch for ch in text if not _is_wide(ch)) if wide else text
    if font is None:
        return (len(narrow) * _FALLBACK_EM + wide) * font_size
    return font.getlength(narrow) * font_size / _MEASURE_SIZE + wide * font_size


def fit_text(text: str, max_width: float, font_size: float) -> str:
    """``text`` if it is at most ``max_width`` wide, else its longest start that fits with "…"."""
    if text_width(text, font_size) <= max_width:
        return text
    lo, hi = 0, len(text)  # the longest prefix that fits: widths grow with the prefix
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if text_width(text[:mid].rstrip() + ELLIPSIS, font_size) <= max_width:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo].rstrip() + ELLIPSIS
