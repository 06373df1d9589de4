"""How much of each finding group a report shows (``--detail``, ``[output] detail``)."""

from __future__ import annotations

from enum import StrEnum


class Detail(StrEnum):
    summary = "summary"  # the executive page and the groups, no object tables
    standard = "standard"  # groups with their first OBJECT_LIMIT objects
    full = "full"  # every object

    @property
    def object_limit(self) -> int | None:
        """Objects listed per group in HTML/PDF/email (None: all); XLSX and CSV list all anyway."""
        return {"summary": 0, "standard": STANDARD_OBJECTS, "full": None}[self.value]


STANDARD_OBJECTS = 50
