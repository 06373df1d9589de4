"""Version strings of ESXi and vCenter: ``"7.0.3"`` -> ``(7, 0, 3)``, release line ``"7.0"``."""

from __future__ import annotations

import re

_NUMERIC = re.compile(r"^\d+(\.\d+)*$")


def parse_version(value: str | None) -> tuple[int, ...] | None:
    """``"6.7.0"`` -> ``(6, 7, 0)``; anything that is not dotted numbers -> ``None``."""
    if value is None:
        return None
    text = value.strip()
    if not _NUMERIC.match(text):
        return None
    return tuple(int(part) for part in text.split("."))


def release_line(value: str | None) -> str | None:
    """The major release a version belongs to: ``"7.0.3"`` -> ``"7.0"`` (lifecycle dates and
    build tables are per release line)."""
    parts = parse_version(value)
    if parts is None or len(parts) < 2:
        return None
    return f"{parts[0]}.{parts[1]}"


def padded(parts: tuple[int, ...], length: int = 3) -> tuple[int, ...]:
    """``(8, 0)`` -> ``(8, 0, 0)`` so that "8.0" and "8.0.0" compare equal."""
    return parts + (0,) * (length - len(parts)) if len(parts) < length else parts


def build_number(value: str | int | None) -> int | None:
    """A build number as an int (``"21930508"`` or ``"build-21930508"``); ``None`` if not one."""
    if value is None:
        return None
    if isinstance(value, int):
        return value
    text = value.strip().removeprefix("build-")
    return int(text) if text.isdigit() else None
