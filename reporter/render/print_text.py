"""The PDF's HTML made cheaper to lay out, with the same result on paper (``for_print``).

**Line-break opportunities inside long tokens** (zero-width spaces).

A table column on paper must be able to narrow below the width of one long token (an advanced
option name such as ``VMkernel.Boot.isPerFileSchedModelActive``, a pool path, a UUID), or the
table runs off the page. CSS ``overflow-wrap: anywhere`` does that, but WeasyPrint then finds a
cell's minimum width by laying the text out once per character (quadratic in the text's
length): on the sample that was about a third of the PDF's time. Marking the places where a
long token may break — after ``.``, ``/``, ``:``, ``-`` and the like, between the words of a
camelCase name, and at the latest every ``MAX_RUN`` characters — gives the table the same
freedom at the cost of one layout per piece. The mark is U+200B ZERO WIDTH SPACE rather than
``<wbr>``: the same break (WeasyPrint draws ``<wbr>`` as that character), without an element
and a pseudo-element per mark to style and lay out. It draws nothing and is not part of the
PDF's extracted text, so searching or copying the PDF finds the token whole.

**No isolation where there is nothing to isolate.** Every name from a snapshot sits in a
``<bdi>`` so that a right-to-left name (or one with stray direction controls) cannot reorder the
text around it. A name of plain ASCII has no strong right-to-left character and no control, and
everything around it is either the report's own English or another name that is isolated
itself, so its ``<bdi>`` changes nothing on paper — but costs WeasyPrint an element to style and
an inline box to lay out, about 1,800 of them on the sample (a fifth of the PDF's time). Those
are dropped; every other ``<bdi>`` (non-ASCII text, a tooltip title) stays.

**No attributes only a narrow screen reads.** A data table's cells carry their column title in
``data-label`` for the screen HTML's one-card-per-row layout on a phone (``@media (max-width:
640px)``), which a printed page never matches. On paper the attribute is dead weight for the HTML
parser (a tenth of the standard PDF's HTML at 10,000 VMs); it is removed.
"""

from __future__ import annotations

import re

LONG_TOKEN = 16  # tokens shorter than this keep their own break rules (spaces, hyphens)
MAX_RUN = 16  # characters between two break opportunities, at most
# Not "_": a snake_case name broken at its underscore reads as two words (and is searched as one).
BREAK_AFTER = frozenset("./:,;=|)]}@+-\\")
WBR = "\u200b"

# Markup is kept as is: tags, and the text of elements whose content is not text (CSS, the title).
_MARKUP = re.compile(r"(<style\b.*?</style>|<title\b.*?</title>|<script\b.*?</script>|<!--.*?-->|<[^>]*>)",
                     re.S | re.I)
_TOKEN = re.compile(rf"[^\s<]{{{LONG_TOKEN},}}")
# A long word of prose ("responsibilities,") keeps its own rules: no break inside it. Only up to
# the length of a real word, though: a longer run of letters is a name ("vm" and 118 letters),
# which must break like any other long token, or its table column, or its paragraph ("For
# example, vm…"), cannot be narrower than it and runs off the page.
PROSE_WORD = 24  # letters of the longest word of prose ("internationalization" has 20)
_WORD = re.compile(rf"[(\"'“‘]?[A-Za-z][a-z]{{1,{PROSE_WORD - 1}}}[)\"'”’.,;:!?]*")
_HEADER_OPEN = re.compile(r"<th[\s>]", re.I)
# One character of text: an entity reference counts as one and is never cut.
_UNIT = re.compile(r"&#?\w+;|.", re.S)


def break_token(token: str) -> str:
    """``token`` with a zero-width space wherever a line may end inside it (never at its ends)."""
    units = _UNIT.findall(token)
    out: list[str] = []
    run = 0
    for i, unit in enumerate(units):
        nxt = units[i + 1] if i + 1 < len(units) else ""
        out.append(unit)
        run += 1
        if not nxt:
            break
        camel = len(unit) == 1 and unit.islower() and nxt.isupper() and run >= 3  # isPer|File
        if unit in BREAK_AFTER or camel or run >= MAX_RUN:
            out.append(WBR)
            run = 0
    return "".join(out)


# <bdi> around printable ASCII (no "<": nothing nested), break marks allowed.
_PLAIN_BDI = re.compile("<bdi>([\x20-\x3b\x3d-\x7e\u200b]*)</bdi>")


# A cell's data-label attribute (the value is escaped: no quote inside it).
_DATA_LABEL = re.compile(r'(<td\b[^<>]*?) data-label="[^"<>]*"')


def for_print(html: str) -> str:
    """The PDF's HTML, cheaper to lay out: plain-ASCII isolation dropped, long tokens breakable,
    no screen-only cell labels."""
    return soft_breaks(unwrap_plain_bdi(drop_cell_labels(html)))


def drop_cell_labels(html: str) -> str:
    """``<td ... data-label="Column">`` becomes ``<td ...>``: only the narrow-screen layout reads it."""
    return _DATA_LABEL.sub(r"\1", html)


def unwrap_plain_bdi(html: str) -> str:
    """``<bdi>name</bdi>`` becomes ``name`` where the name is printable ASCII."""
    return _PLAIN_BDI.sub(r"\1", html)


def header_breaks(token: str) -> str:
    """``token`` with a zero-width space after each of its punctuation marks (BREAK_AFTER), never
    at its end: where a long column title (``storageIOAllocation.limit``) may end a line. Not
    between camelCase humps or every MAX_RUN letters as in a cell: a title breaks as the reader
    splits it, at its dots, or not at all (its column is made at least as wide as each piece,
    reporter/render/print_columns.py)."""
    units = _UNIT.findall(token)
    return "".join(unit + WBR if unit in BREAK_AFTER and i < len(units) - 1 else unit
                   for i, unit in enumerate(units))


def _break_long(match: re.Match[str]) -> str:
    token = match.group(0)
    return token if _WORD.fullmatch(token) else break_token(token)


def _break_header(match: re.Match[str]) -> str:
    token = match.group(0)
    return token if _WORD.fullmatch(token) else header_breaks(token)


def soft_breaks(html: str) -> str:
    """``html`` with break opportunities in the long tokens of its text. Tags are untouched. Column
    titles get them after their punctuation only (header_breaks): a title wraps between its words,
    and an API name as a title at its dots, never inside a word of either."""
    parts = _MARKUP.split(html)
    # re.split with one group: text, markup, text, markup, ... (markup at the odd indexes).
    in_header = False
    for i, part in enumerate(parts):
        if i % 2:
            if _HEADER_OPEN.match(part):
                in_header = True
            elif part[:4].lower() == "</th":
                in_header = False
        elif len(part) >= LONG_TOKEN:
            parts[i] = _TOKEN.sub(_break_header if in_header else _break_long, part)
    return "".join(parts)
