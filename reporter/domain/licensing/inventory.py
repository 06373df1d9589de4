"""License inventory: every key with its edition, capacity, use, expiry and assignments.

Expiry comes from the license's raw ``properties`` (docs/methodology.md#collection): ``expirationDate``
(term and evaluation licenses; an ISO date-time), or for the evaluation license the remaining
``expirationMinutes`` / ``expirationHours``, counted from the snapshot's collection time.
A license without any of them is perpetual.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from reporter.core.model import License, Snapshot, VCenter
from reporter.domain.licensing.rules import EditionKeyRule, Rules

EVAL_KEY = "00000-00000-00000-00000-00000"


def prop_value(value: Any) -> Any:
    """A KeyAnyValue whose value is itself a KeyValue arrives as {"key":..., "value":...}."""
    if isinstance(value, dict) and "value" in value:
        return value["value"]
    return value


def find_prop(props: dict[str, Any], name: str) -> Any:
    """Case-insensitive lookup of one license property."""
    if name in props:
        return prop_value(props[name])
    low = name.lower()
    for k, v in props.items():
        if k.lower() == low:
            return prop_value(v)
    return None


def parse_datetime(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().replace("Z", "+00:00")
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def _number(value: Any) -> float | None:
    value = prop_value(value)
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def expiration(lic: License, now: datetime) -> tuple[datetime | None, str | None]:
    """(expires_at, in words what vCenter reported it from); (None, None) for a perpetual license."""
    props = lic.properties
    dt = parse_datetime(find_prop(props, "expirationDate"))
    if dt is not None:
        return dt, "the expiration date vCenter reports for the key"
    minutes = _number(find_prop(props, "expirationMinutes"))
    if minutes is not None:
        return now + timedelta(minutes=minutes), "the minutes left that vCenter reports"
    hours = _number(find_prop(props, "expirationHours"))
    if hours is not None:
        return now + timedelta(hours=hours), "the hours left that vCenter reports"
    return None, None


def product_version(lic: License) -> str | None:
    v = find_prop(lic.properties, "ProductVersion")
    return str(v) if v not in (None, "") else None


def license_major(lic: License, rules: Rules) -> int | None:
    """The vSphere major version a key belongs to (5 for 'vSphere 5 ...'), None if unknown."""
    v = product_version(lic)
    if v:
        m = re.match(r"\s*(\d+)", v)
        if m:
            return int(m.group(1))
    name = lic.name or ""
    for pat in rules.license_name_patterns:
        if fnmatch.fnmatch(name, pat):
            return 5
    m = re.search(r"vSphere(?:\(TM\))?\s+(\d+)\b", name)
    if m:
        return int(m.group(1))
    return None


def is_evaluation(lic: License | None, edition_key: str | None = None) -> bool:
    if lic is not None and (lic.key == EVAL_KEY or lic.edition_key == "eval"):
        return True
    return edition_key == "eval"


@dataclass(frozen=True)
class LicenseRow:
    vcenter: str
    vcenter_uuid: str
    key: str
    edition_key: str | None
    rule: EditionKeyRule
    name: str | None
    cost_unit: str | None
    total: int | None
    used: int | None
    unassigned: int | None  # total - used when total is a real capacity (> 0)
    expires_at: datetime | None
    expires_from: str | None
    days_left: float | None
    product_version: str | None
    evaluation: bool
    assigned_to: list[str] = field(default_factory=list)  # entity names
    vram_properties: dict[str, Any] = field(default_factory=dict)  # raw props whose key contains "vram"

    @property
    def over_assigned(self) -> bool:
        return self.total is not None and self.used is not None and self.total > 0 and self.used > self.total


def vram_properties(lic: License) -> dict[str, Any]:
    return {k: prop_value(v) for k, v in lic.properties.items() if "vram" in k.lower()}


def license_rows(snapshot: Snapshot, rules: Rules) -> list[LicenseRow]:
    now = snapshot.collected_at
    rows: list[LicenseRow] = []
    for vc in snapshot.vcenters.values():
        rows.extend(_vc_rows(vc, rules, now))
    return rows


def _vc_rows(vc: VCenter, rules: Rules, now: datetime) -> list[LicenseRow]:
    if vc.licenses is None:
        return []
    assigned: dict[str, list[str]] = {}
    for a in vc.license_assignments or []:
        assigned.setdefault(a.license_key, []).append(a.entity_name or a.entity)
    out = []
    for lic in vc.licenses:
        rule = rules.edition_for_key(lic.edition_key, lic.cost_unit)
        exp, source = expiration(lic, now)
        total = lic.total
        unassigned = (total - (lic.used or 0)) if (total is not None and total > 0) else None
        out.append(LicenseRow(
            vcenter=vc.name, vcenter_uuid=vc.instance_uuid, key=lic.key, edition_key=lic.edition_key, rule=rule,
            name=lic.name, cost_unit=lic.cost_unit, total=total, used=lic.used, unassigned=unassigned,
            expires_at=exp, expires_from=source,
            days_left=None if exp is None else (exp - now).total_seconds() / 86400.0,
            product_version=product_version(lic), evaluation=is_evaluation(lic),
            assigned_to=sorted(assigned.get(lic.key, [])), vram_properties=vram_properties(lic),
        ))
    return out
