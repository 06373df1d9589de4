"""Which VMs run Windows Server 2003, in which bitness and edition (data: win2003_guests.toml)."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Literal

from pydantic import BaseModel, ConfigDict, field_validator

DATA_FILE = "win2003_guests.toml"


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class GuestIdRow(_Row):
    id: str
    bitness: Literal[32, 64]
    edition: str
    source: str


class _PatternRow(_Row):
    pattern: str
    source: str

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        re.compile(value)
        return value

    @property
    def regex(self) -> re.Pattern[str]:
        return re.compile(self.pattern, re.IGNORECASE)


class NamePatternRow(_PatternRow):
    edition: str
    bitness: Literal[32, 64] | None = None


class BitnessMarkerRow(_PatternRow):
    bitness: Literal[32, 64]


class ServicePackRow(_PatternRow):
    pass


class GuestTable(_Row):
    guest_ids: list[GuestIdRow]
    name_patterns: list[NamePatternRow]
    bitness_markers: list[BitnessMarkerRow]
    service_pack: ServicePackRow


@lru_cache(maxsize=1)
def table() -> GuestTable:
    text = resources.files("reporter").joinpath("data", DATA_FILE).read_text(encoding="utf-8")
    return GuestTable.model_validate(tomllib.loads(text))


Source = Literal["guest_id", "full_name"]


@dataclass(frozen=True)
class OsIdentity:
    """What one source (configured or Tools-reported) says about the guest OS."""

    guest_id: str | None
    full_name: str | None
    win2003: bool
    bitness: int | None = None  # 32 | 64 | None = not stated
    edition: str | None = None
    service_pack: int | None = None  # only when the full name states it
    matched_by: Source | None = None  # which field identified it as Windows 2003

    @property
    def known(self) -> bool:
        """Anything reported at all (an unknown OS is not 'not Windows 2003')."""
        return bool(self.guest_id or self.full_name)

    @property
    def label(self) -> str:
        return self.full_name or self.guest_id or "not reported"


def _bitness_from_name(name: str) -> int | None:
    for row in table().bitness_markers:
        if row.regex.search(name):
            return row.bitness
    return None


def service_pack_from_name(name: str | None) -> int | None:
    if not name:
        return None
    m = table().service_pack.regex.search(name)
    return int(m.group(1)) if m else None


@lru_cache(maxsize=4096)  # a fleet has few distinct (id, name) pairs; OsIdentity is immutable
def identify(guest_id: str | None, full_name: str | None) -> OsIdentity:
    """Identify from an id (exact) and/or a full name (patterns). The id wins for bitness and
    edition when it is a Windows 2003 id; the name adds what the id cannot carry (the SP)."""
    guest_id = guest_id or None
    full_name = full_name or None
    sp = service_pack_from_name(full_name)
    rows = {r.id: r for r in table().guest_ids}
    if guest_id and guest_id in rows:
        row = rows[guest_id]
        return OsIdentity(guest_id, full_name, True, row.bitness, row.edition, sp, "guest_id")
    if guest_id and not full_name:
        return OsIdentity(guest_id, None, False)
    if full_name:
        for pat in table().name_patterns:
            if pat.regex.search(full_name):
                bitness = pat.bitness or _bitness_from_name(full_name)
                return OsIdentity(guest_id, full_name, True, bitness, pat.edition or None, sp, "full_name")
    return OsIdentity(guest_id, full_name, False)


def describe_bitness(bitness: int | None) -> str:
    return f"{bitness}-bit" if bitness else "bitness not stated"
