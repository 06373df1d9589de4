"""License keys are secrets of a kind: masked in every output unless asked otherwise.

Masking is applied once, to everything a renderer receives, so no format can
forget it. The evaluation key (all zeros) is not a secret and masks the same way.
"""

from __future__ import annotations

import re
from typing import Any

LICENSE_KEY_RE = re.compile(r"\b([0-9A-Z]{5})-([0-9A-Z]{5})-([0-9A-Z]{5})-([0-9A-Z]{5})-([0-9A-Z]{5})\b", re.I)


def mask_text(text: str) -> str:
    """Every license key in ``text``: ``ABCDE-FGHIJ-KLMNO-12345-VWXYZ`` -> ``XXXXX-XXXXX-XXXXX-12345-VWXYZ``."""
    return LICENSE_KEY_RE.sub(lambda m: f"XXXXX-XXXXX-XXXXX-{m.group(4)}-{m.group(5)}", text)


def mask_obj(obj: Any) -> Any:
    """Mask license keys in every string of a JSON-like structure (keys of dicts too)."""
    if isinstance(obj, str):
        return mask_text(obj)
    if isinstance(obj, dict):
        return {mask_obj(k) if isinstance(k, str) else k: mask_obj(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(mask_obj(v) for v in obj) if isinstance(obj, list) else tuple(mask_obj(v) for v in obj)
    return obj
