"""The licensing rule tables, loaded from ``reporter/data/licensing.toml``.

A new edition key or a corrected entitlement is a change to that file, not to this code.
"""

from __future__ import annotations

import fnmatch
import functools
import tomllib
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from typing import Any, Literal

VramTableName = Literal["aug2011", "jul2011"]
VRAM_TABLES: tuple[VramTableName, ...] = ("aug2011", "jul2011")


@dataclass(frozen=True)
class EditionKeyRule:
    pattern: str
    product: str  # esx | vc | vsan | other | any
    edition: str
    model: str  # vsphere5 | per_cpu | per_cpu_32 | per_core | free | eval | instance | other
    title: str
    source: str
    offering: str | None = None
    canonical: bool = False
    note: str | None = None


@dataclass(frozen=True)
class HostLimit:
    kind: str  # vram | physical
    gb: float
    # ESXi versions the limit applies to (prefixes of Host.version); empty = every version
    host_version_prefixes: tuple[str, ...] = ()

    def applies_to(self, version: str | None) -> bool:
        if not self.host_version_prefixes:
            return True
        return bool(version) and any(version.startswith(p) for p in self.host_version_prefixes)  # type: ignore[union-attr]


@dataclass(frozen=True)
class VramTable:
    name: str
    title: str
    per_vm_cap_gb: float | None
    source: str
    per_cpu_gb: dict[str, float | None]  # edition -> GB per CPU; None = unlimited
    host_limits: dict[str, HostLimit]
    hard_limits: dict[str, float]  # edition -> total GB (Essentials kits)


@dataclass(frozen=True)
class Rules:
    tables: dict[str, VramTable]
    edition_keys: tuple[EditionKeyRule, ...]
    entitlement_sources: dict[str, str]
    hard_limit_source: str
    vcenter_version_prefixes: tuple[str, ...]
    license_version_prefixes: tuple[str, ...]
    license_name_patterns: tuple[str, ...]
    vram_scope_source: str
    reported_used_keys: frozenset[str]
    reported_entitled_keys: frozenset[str]
    per_cpu_max_cores: int
    per_cpu_effective: date
    per_cpu_source: str
    per_core_min: int
    per_core_source: str
    vsan_tib_per_core: dict[str, float]
    vsan_titles: dict[str, str]
    vsan_source: dict[str, str]
    order_minimum_announced: int
    order_minimum_source: str
    edition_titles: dict[str, str] = field(default_factory=dict)

    def table(self, name: str | None) -> VramTable:
        return self.tables[name or "aug2011"]

    def edition_for_key(self, edition_key: str | None, cost_unit: str | None = None) -> EditionKeyRule:
        """The first rule whose pattern matches ``edition_key`` (fnmatch, case-sensitive)."""
        key = edition_key or ""
        for rule in self.edition_keys:
            if fnmatch.fnmatchcase(key, rule.pattern):
                if rule.pattern == "esx*" and cost_unit == "cpuCore":
                    continue  # an unknown core-based key: let the per-core fallback take it
                return rule
        return self.edition_keys[-1]

    def canonical_key(self, edition: str) -> str | None:
        """The vSphere 5 edition key a plan writes when it switches a pool to ``edition``."""
        for rule in self.edition_keys:
            if rule.edition == edition and rule.canonical:
                return rule.pattern
        return None

    def vram_editions(self) -> list[str]:
        return list(self.tables["aug2011"].per_cpu_gb)

    def title(self, edition: str) -> str:
        return self.edition_titles.get(edition, edition)


def _num_or_unlimited(value: Any) -> float | None:
    if value == "unlimited":
        return None
    return float(value)


def parse_rules(doc: dict[str, Any]) -> Rules:
    tables: dict[str, VramTable] = {}
    for name in VRAM_TABLES:
        meta = doc["vram_tables"][name]
        per_cpu = {row["edition"]: _num_or_unlimited(row[name]) for row in doc["vram_entitlement"]}
        host_limits = {row["edition"]: HostLimit(kind=row[name]["kind"], gb=float(row[name]["gb"]),
                                                 host_version_prefixes=tuple(row.get("host_version_prefixes", ())))
                       for row in doc.get("host_limit", [])}
        hard: dict[str, float] = {}
        for row in doc.get("hard_limit", []):
            for ed in row["editions"]:
                hard[ed] = float(row[name])
        cap = meta.get("per_vm_cap_gb")
        tables[name] = VramTable(
            name=name, title=meta["title"], per_vm_cap_gb=float(cap) if cap is not None else None,
            source=meta["source"], per_cpu_gb=per_cpu, host_limits=host_limits, hard_limits=hard,
        )
    keys = tuple(
        EditionKeyRule(
            pattern=r["pattern"], product=r["product"], edition=r["edition"], model=r["model"], title=r["title"],
            source=r["source"], offering=r.get("offering"), canonical=bool(r.get("canonical", False)), note=r.get("note"),
        )
        for r in doc["edition_key"]
    )
    titles: dict[str, str] = {}
    for r in keys:
        if r.canonical or r.edition not in titles:
            titles[r.edition] = r.title
    scope = doc["vram_scope"]
    props = doc["vcenter_vram_properties"]
    return Rules(
        tables=tables,
        edition_keys=keys,
        entitlement_sources={r["edition"]: r["source"] for r in doc["vram_entitlement"]},
        hard_limit_source=doc["hard_limit"][0]["source"] if doc.get("hard_limit") else "",
        vcenter_version_prefixes=tuple(scope["vcenter_version_prefixes"]),
        license_version_prefixes=tuple(scope["license_version_prefixes"]),
        license_name_patterns=tuple(scope["license_name_patterns"]),
        vram_scope_source=scope["source"],
        reported_used_keys=frozenset(props["used"]),
        reported_entitled_keys=frozenset(props["entitled"]),
        per_cpu_max_cores=int(doc["per_cpu"]["max_cores_per_license"]),
        per_cpu_effective=doc["per_cpu"]["effective"],
        per_cpu_source=doc["per_cpu"]["source"],
        per_core_min=int(doc["per_core"]["min_cores_per_cpu"]),
        per_core_source=doc["per_core"]["source"],
        vsan_tib_per_core={r["offering"]: float(r["tib_per_core"]) for r in doc["vsan_per_core"]},
        vsan_titles={r["offering"]: r["title"] for r in doc["vsan_per_core"]},
        vsan_source={r["offering"]: r["source"] for r in doc["vsan_per_core"]},
        order_minimum_announced=int(doc["order_minimum"]["announced_cores"]),
        order_minimum_source=doc["order_minimum"]["source"],
        edition_titles=titles,
    )


@functools.cache
def load_rules() -> Rules:
    text = resources.files("reporter").joinpath("data/licensing.toml").read_text(encoding="utf-8")
    return parse_rules(tomllib.loads(text))
