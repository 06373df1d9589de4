"""Width of a line of text as the reports print it: DejaVu Sans' own advance widths.

Two things need it. report.pdf's data tables get their column widths from their text
(reporter/render/print_columns.py), and a chart's bar labels are cut to the room they have: an SVG
``<text>`` does not wrap, so a long datastore name would run out of its chart (in the PDF, into
the page's margin). The widths of the printable ASCII characters are the font's (they match
WeasyPrint's measures to 0.01 pt); any other character counts as one em, the width of the widest
letters and of the characters a fallback font draws (CJK, full-width forms): a label is then cut a
little short rather than too long, and a column is a little wide rather than too narrow.
Zero-width break marks (reporter/render/print_text.py) count as nothing.
"""

from __future__ import annotations

ELLIPSIS = "…"  # one em in DejaVu Sans, as counted below

# Advance widths of the printable ASCII characters (32-126) in 1/1000 em, from DejaVu Sans and
# DejaVu Sans Bold, the report's font (tests/test_print_columns.py reads them again from the
# font files where the system has them).
_REGULAR = (
    318, 401, 460, 838, 636, 950, 780, 275, 390, 390, 500, 838, 318, 361, 318, 337, 636, 636, 636, 636,
    636, 636, 636, 636, 636, 636, 337, 337, 838, 838, 838, 531, 1000, 684, 686, 698, 770, 632, 575, 775,
    752, 295, 295, 656, 557, 863, 748, 787, 603, 787, 695, 635, 611, 732, 684, 989, 685, 611, 685, 390,
    337, 390, 838, 500, 500, 613, 635, 550, 635, 615, 352, 635, 634, 278, 278, 579, 278, 974, 634, 612,
    635, 635, 411, 521, 392, 634, 592, 818, 592, 592, 525, 636, 337, 636, 838,
)
_BOLD = (
    348, 456, 521, 838, 696, 1002, 872, 306, 457, 457, 523, 838, 380, 415, 380, 365, 696, 696, 696, 696,
    696, 696, 696, 696, 696, 696, 400, 400, 838, 838, 838, 580, 1000, 774, 762, 734, 830, 683, 683, 821,
    837, 372, 372, 775, 637, 995, 837, 850, 733, 850, 770, 720, 682, 812, 774, 1103, 771, 724, 725, 457,
    365, 457, 838, 500, 500, 675, 716, 593, 716, 678, 435, 716, 712, 343, 343, 665, 343, 1042, 712, 687,
    716, 716, 493, 595, 478, 712, 652, 924, 645, 652, 582, 712, 365, 712, 838,
)
_OTHER = 1000  # em/1000 for a character outside printable ASCII


def text_width(text: str, font_size: float, bold: bool = False) -> float:
    """Advance width of ``text`` on one line in DejaVu Sans (Bold) at ``font_size``, in the same units."""
    table = _BOLD if bold else _REGULAR
    em = 0
    for ch in text:
        code = ord(ch) - 32
        em += table[code] if 0 <= code < 95 else (0 if ch == "\u200b" else _OTHER)
    return em * font_size / 1000


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
