"""Hostile but valid names in reports: bidi isolation and bounded length.

A VM name is any Unicode the admin (or an attacker with VM-create rights) typed. An unclosed
right-to-left override (U+202E) in it reverses the text that follows it on the same line
("192.0" shows as "0.291"), and a 10 kB name turns every table row that shows it into pages.
So every user-controlled string a report shows goes through here:

- ``isolate(s)``: the string wrapped in FIRST STRONG ISOLATE ... POP DIRECTIONAL ISOLATE
  (U+2068/U+2069), its own isolates balanced, so nothing inside can reorder the text around
  it (Unicode bidi algorithm, UAX #9: a PDI ends every embedding and override opened inside
  its isolate). Plain-text outputs (email text part, CLI lines) use it; HTML uses ``<bdi>``.
- ``shorten(s)``: at most ``NAME_LIMIT`` characters with an ellipsis; the full value stays in
  a tooltip, in XLSX/CSV and in findings.json.
- ``names_isolated(text, names)``: a message with every given name in it isolated (and
  shortened), the rest balanced so an override cannot leak past the message either.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable

FSI, PDI = "\u2068", "\u2069"
_ISOLATE_OPEN = {"\u2066", "\u2067", "\u2068"}  # LRI, RLI, FSI
_EMBED_OPEN = {"\u202a", "\u202b", "\u202d", "\u202e"}  # LRE, RLE, LRO, RLO
_POP_EMBED = "\u202c"  # PDF
_BIDI_CLASSES = {"R", "AL", "RLE", "RLO", "LRE", "LRO", "PDF", "RLI", "LRI", "FSI", "PDI", "AN"}

NAME_LIMIT = 120  # characters of a name shown in HTML/PDF tables and messages
# A sentence (a reason, a fix, a note) prints whole: cut mid-sentence it says something else or
# nothing ("…, so…"). The bound only stops a runaway value from filling pages.
SENTENCE_LIMIT = 1000
ELLIPSIS = "…"
_SENTENCE_WORDS = 6  # a name may hold a few words ("Finance App 01"); a reason has more


def needs_isolation(s: str) -> bool:
    """Whether ``s`` has anything that can reorder its surroundings (RTL letters, bidi controls)."""
    return any(unicodedata.bidirectional(ch) in _BIDI_CLASSES for ch in s)


def balanced(s: str) -> str:
    """``s`` with its bidi controls balanced: a stray closer dropped, every opener closed at the end."""
    if not any(ch in _ISOLATE_OPEN or ch in _EMBED_OPEN or ch in (PDI, _POP_EMBED) for ch in s):
        return s
    out: list[str] = []
    isolates = 0
    embeds = 0  # embeddings/overrides opened since the innermost open isolate
    stack: list[int] = []  # embeds count saved at each isolate
    for ch in s:
        if ch in _ISOLATE_OPEN:
            stack.append(embeds)
            embeds = 0
            isolates += 1
        elif ch == PDI:
            if not isolates:
                continue  # would close an isolate outside this string
            isolates -= 1
            embeds = stack.pop()
        elif ch in _EMBED_OPEN:
            embeds += 1
        elif ch == _POP_EMBED:
            if not embeds:
                continue
            embeds -= 1
        out.append(ch)
    out.append(_POP_EMBED * embeds)
    out.append(PDI * isolates)
    return "".join(out)


def shorten(s: str, limit: int = NAME_LIMIT) -> str:
    return s if len(s) <= limit else s[: limit - 1] + ELLIPSIS


def is_sentence(s: str) -> bool:
    """Prose rather than an identifier: at least six words, half of them plain words of letters
    (a list of VM names or a long host name has few of those)."""
    words = s.split()
    if len(words) < _SENTENCE_WORDS:
        return False
    plain = sum(1 for w in words if w.strip(",.:;()'\"").isalpha())
    return 2 * plain >= len(words)


def text_limit(s: str) -> int:
    """How many characters of ``s`` a table cell or a message prints: a name is cut at
    NAME_LIMIT, a sentence is not (up to SENTENCE_LIMIT)."""
    return NAME_LIMIT if len(s) <= NAME_LIMIT or not is_sentence(s) else SENTENCE_LIMIT


def isolate(s: str) -> str:
    """For plain text: FSI + ``s`` (balanced) + PDI when ``s`` can reorder its surroundings."""
    if not needs_isolation(s):
        return s
    return FSI + balanced(s) + PDI


def names_isolated(text: str, names: Iterable[str | None], *, limit: int | None = NAME_LIMIT,
                   wrap: Callable[[str], str] = isolate, escape: Callable[[str], str] = str) -> str:
    """``text`` with each of ``names`` in it shortened (to ``limit``) and wrapped by ``wrap``;
    the text between names goes through ``escape`` (HTML escaping for markup output)."""
    wanted = sorted({n for n in names if n and (needs_isolation(n) or (limit and len(n) > limit))},
                    key=len, reverse=True)
    if not wanted:
        return escape(balanced(text))
    out: list[str] = []
    i = 0
    while i < len(text):
        hit = next((n for n in wanted if text.startswith(n, i)), None)
        if hit is None:
            j = min((k for k in (text.find(n, i) for n in wanted) if k >= 0), default=len(text))
            out.append(escape(balanced(text[i:j])))
            i = j
            continue
        out.append(wrap(shorten(hit, limit) if limit else hit))
        i += len(hit)
    return "".join(out)
