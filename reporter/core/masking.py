"""License keys are secrets of a kind: masked in every output unless asked otherwise.

Masking is applied once, to everything a renderer receives, so no format can
forget it. The evaluation key (all zeros) is not a secret and masks the same way.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

# A key is 29 characters with 4 dashes: a shorter text, or one with fewer dashes, holds none.
KEY_LENGTH, KEY_DASHES = 29, 4
LICENSE_KEY_RE = re.compile(r"\b([0-9A-Z]{5})-([0-9A-Z]{5})-([0-9A-Z]{5})-([0-9A-Z]{5})-([0-9A-Z]{5})\b", re.I)


def mask_text(text: str) -> str:
    """Every license key in ``text``: ``ABCDE-FGHIJ-KLMNO-12345-VWXYZ`` -> ``XXXXX-XXXXX-XXXXX-12345-VWXYZ``.
    A text that cannot hold a key (shorter than one, or fewer than four dashes) is returned as is:
    reports mask hundreds of thousands of strings, almost none with a key."""
    if len(text) < KEY_LENGTH or text.count("-") < KEY_DASHES:
        return text
    return LICENSE_KEY_RE.sub(lambda m: f"XXXXX-XXXXX-XXXXX-{m.group(4)}-{m.group(5)}", text)


def mask_obj(obj: Any) -> Any:
    """Mask license keys in every string of a JSON-like structure (keys of dicts too). What holds
    no key is returned as the same object (no copy), so an unchanged finding need not be copied."""
    if isinstance(obj, str):
        return mask_text(obj)
    if isinstance(obj, dict):
        items = [(mask_obj(k) if isinstance(k, str) else k, mask_obj(v)) for k, v in obj.items()]
        if all(nk is k and nv is v for (nk, nv), (k, v) in zip(items, obj.items(), strict=True)):
            return obj
        return dict(items)
    if isinstance(obj, (list, tuple)):
        values = [mask_obj(v) for v in obj]
        if all(n is o for n, o in zip(values, obj, strict=True)):
            return obj
        return values if isinstance(obj, list) else tuple(values)
    return obj


def mask_rows(rows: Sequence[Sequence[Any]]) -> Sequence[Sequence[Any]]:
    """``mask_obj`` for table rows (sequences of scalars), without a call per cell: a 10,000-VM
    report has a million cells and almost never a key. Unchanged rows stay the same objects."""
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
