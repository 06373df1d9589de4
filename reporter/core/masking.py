"""License keys are secrets of a kind: masked in every output unless asked otherwise.

Masking is applied once, to everything a renderer receives, so no format can
forget it. The evaluation key (all zeros) is not a secret and masks the same way.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import pydantic_core

# A key is 29 characters with 4 dashes: a shorter text, or one with fewer dashes, holds none.
KEY_LENGTH, KEY_DASHES = 29, 4
LICENSE_KEY_RE = re.compile(r"\b([0-9A-Z]{5})-([0-9A-Z]{5})-([0-9A-Z]{5})-([0-9A-Z]{5})-([0-9A-Z]{5})\b", re.I)
# The middle of every key LICENSE_KEY_RE matches (same characters, same flags), so a text without
# it holds no key. Its leading "-" lets the regex engine skip to the dashes: ~20x faster than
# LICENSE_KEY_RE on the long finding messages that hold no key (1.1 s -> 0.06 s at 10,000 VMs).
_KEY_MIDDLE_RE = re.compile(r"-[0-9A-Z]{5}-[0-9A-Z]{5}-[0-9A-Z]{5}-", re.I)


def mask_text(text: str) -> str:
    """Every license key in ``text``: ``ABCDE-FGHIJ-KLMNO-12345-VWXYZ`` -> ``XXXXX-XXXXX-XXXXX-12345-VWXYZ``.
    A text that cannot hold a key (shorter than one, fewer than four dashes, no key's middle) is returned as is:
    reports mask hundreds of thousands of strings, almost none with a key."""
    if len(text) < KEY_LENGTH or text.count("-") < KEY_DASHES or _KEY_MIDDLE_RE.search(text) is None:
        return text
    return LICENSE_KEY_RE.sub(lambda m: f"XXXXX-XXXXX-XXXXX-{m.group(4)}-{m.group(5)}", text)


def _opaque(obj: Any) -> None:
    return None  # mask_obj does not look inside other objects: neither does _may_hold_key


def _may_hold_key(obj: Any, *, opaque: bool = True) -> bool:
    """False when no string in ``obj`` (dict keys too) can hold a key, tested on its JSON text in
    one call into pydantic-core's encoder instead of a Python call per string. Sound: the
    characters of a key are never escaped in JSON (non-ASCII ones are written as they are), so a
    key in any string is a key in the text. Objects mask_obj does not look inside are written as
    null (``opaque``) or, with ``opaque=False``, make the encoder fail: then the slow way decides."""
    try:
        text = pydantic_core.to_json(obj, fallback=_opaque if opaque else None).decode()
    except (ValueError, TypeError, RecursionError):  # e.g. a cycle; PydanticSerializationError
        return True
    return _KEY_MIDDLE_RE.search(text) is not None


def mask_obj(obj: Any) -> Any:
    """Mask license keys in every string of a JSON-like structure (keys of dicts too). What holds
    no key is returned as the same object (no copy), so an unchanged finding need not be copied."""
    if isinstance(obj, str):
        return mask_text(obj)
    if isinstance(obj, (dict, list, tuple)) and not _may_hold_key(obj):
        return obj  # a report's ~24,000 evidence dicts at 10,000 VMs: almost none holds a key
    return _mask_walk(obj)


def _mask_walk(obj: Any) -> Any:
    if isinstance(obj, str):
        return mask_text(obj)
    if isinstance(obj, dict):
        items = [(mask_text(k) if isinstance(k, str) else k, _mask_walk(v)) for k, v in obj.items()]
        if all(nk is k and nv is v for (nk, nv), (k, v) in zip(items, obj.items(), strict=True)):
            return obj
        return dict(items)
    if isinstance(obj, (list, tuple)):
        values = [_mask_walk(v) for v in obj]
        if all(n is o for n, o in zip(values, obj, strict=True)):
            return obj
        return values if isinstance(obj, list) else tuple(values)
    return obj


def mask_rows(rows: Sequence[Sequence[Any]]) -> Sequence[Sequence[Any]]:
    """``mask_obj`` for table rows (sequences of scalars), without a call per cell: a 10,000-VM
    report has a million cells and almost never a key. Unchanged rows stay the same objects."""
    if isinstance(rows, (list, tuple)) and not _may_hold_key(rows, opaque=False):
        return rows  # the whole table in one test: a cell of another type makes it fail, below decides
    out: list[Sequence[Any]] | None = None
    for i, row in enumerate(rows):
        # the fast test of mask_text, inline: no call per cell
        if any(type(v) is str and len(v) >= KEY_LENGTH and v.count("-") >= KEY_DASHES for v in row):
            if out is None:
                out = list(rows[:i])
            out.append(mask_obj(list(row)))
        elif out is not None:
            out.append(row)
    return rows if out is None else out
