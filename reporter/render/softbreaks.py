"""Line-break opportunities (``<wbr>``) inside the long tokens of a paginated document's text.

A table column on paper must be able to narrow below the width of one long token (an advanced
option name such as ``VMkernel.Boot.isPerFileSchedModelActive``, a pool path, a UUID), or the
table runs off the page. CSS ``overflow-wrap: anywhere`` does that, but WeasyPrint then finds a
cell's minimum width by laying the text out once per character (quadratic in the text's
length): on the sample that was about a third of the PDF's time. Marking the places where a
long token may break — after ``.``, ``/``, ``_``, ``:`` and the like, between the words of a
camelCase name, and at the latest every ``MAX_RUN`` characters — gives the table the same
freedom at the cost of one layout per piece. ``<wbr>`` draws nothing and adds no character to
the PDF's text, so searching or copying the PDF finds the token whole.
"""

from __future__ import annotations

import re

LONG_TOKEN = 16  # tokens shorter than this keep their own break rules (spaces, hyphens)
MAX_RUN = 12  # characters between two break opportunities, at most
BREAK_AFTER = frozenset("./_:,;=|)]}@+-\\")
WBR = "<wbr>"

# Markup is kept as is: tags, and the text of elements whose content is not text (CSS, the title).
_MARKUP = re.compile(r"(<style\b.*?</style>|<title\b.*?</title>|<script\b.*?</script>|<!--.*?-->|<[^>]*>)",
                     re.S | re.I)
_TOKEN = re.compile(rf"[^\s<]{{{LONG_TOKEN},}}")
# One character of text: an entity reference counts as one and is never cut.
_UNIT = re.compile(r"&#?\w+;|.", re.S)


def break_token(token: str) -> str:
    """``token`` with ``<wbr>`` wherever a line may end inside it (never at its ends)."""
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


def soft_breaks(html: str) -> str:
    """``html`` with break opportunities in every long token of its text (tags untouched)."""
    parts = _MARKUP.split(html)
    # re.split with one group: text, markup, text, markup, ... (markup at the odd indexes).
    for i in range(0, len(parts), 2):
        if len(parts[i]) >= LONG_TOKEN:
            parts[i] = _TOKEN.sub(lambda mt: break_token(mt.group(0)), parts[i])
    return "".join(parts)
