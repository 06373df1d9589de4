"""vSphere 5.0 vRAM pools: use and entitlement per edition per vCenter (or Linked Mode group).

The rules (docs/methodology.md#vram-pools, vSphere 5.0 documentation "vRAM Entitlement and Pooling"):

- used = configured memory of **powered-on** VMs on hosts licensed with the pool's edition;
  powered-off and suspended VMs and templates count nothing; a VM counts at most
  ``per_vm_cap_gb`` (96 GB in the revised table; the July 2011 table had no cap);
- entitled = CPU licenses of that edition x the edition's vRAM per CPU, pooled across the
  vCenter or its Linked Mode group; **unassigned** CPU licenses add to the pool (shown
  separately);
- compliance is the 12-month average of the daily high-water mark (see ``reporter.history``);
- only vSphere 5.0 licensing has a vRAM entitlement: every other pool shows its use with the
  reason why no vRAM verdict applies.

Pool ids are ``<scope>/<edition>``: the scope is the vCenter's config label, or
``group:<name>`` for vCenters in one Linked Mode group; e.g. ``vc01/enterprise_plus``. The id is
the key (history database, finding object ids, ``vcreport plan --pool``); readers see the pool's
``label`` in words, e.g. ``vc01 · vSphere Enterprise Plus`` or ``linked group prod · vSphere
Standard``, unique among the snapshot's pools (:func:`pool_label`).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from reporter.core.model import License, Snapshot, VCenter
from reporter.domain.licensing.cores import HostCores
from reporter.domain.licensing.inventory import find_prop, is_evaluation, license_major, prop_value
from reporter.domain.licensing.rules import Rules, VramTable

MB_PER_GB = 1024


@dataclass(frozen=True)
class VmUse:
    vcenter: str
    moid: str
    name: str
    host: str | None  # host name
    power_state: str | None
    memory_gb: float  # configured
    counted_gb: float  # what the pool counts (capped, 0 when not powered on)

    @property
    def capped_by_gb(self) -> float:
        return round(self.memory_gb - self.counted_gb, 4) if self.power_state == "poweredOn" else 0.0


@dataclass(frozen=True)
class Reported:
    """What vCenter itself said about the pool's vRAM (license properties), raw and parsed."""

    raw: dict[str, dict[str, Any]]  # license key -> {property: value}
    used_gb: float | None
    entitled_gb: float | None


@dataclass
class Pool:
    id: str
    scope: str  # vCenter label or "group:<name>"
    vcenters: list[str]  # labels
    edition: str
    edition_title: str
    model: str  # vsphere5 | per_cpu | per_cpu_32 | per_core | free | eval | none
    table: str  # vram table name used
    vram_applies: bool = False
    reason: str | None = None  # why no vRAM verdict (None when it applies)
    notes: list[str] = field(default_factory=list)
    per_cpu_gb: float | None = None  # None with vram_applies = unlimited
    unlimited: bool = False
    cap_gb: float | None = None
    license_keys: list[str] = field(default_factory=list)
    cpu_total: int = 0  # CPU licenses (cpuPackage capacity) of the edition in the scope
    cpu_assigned: int = 0
    cpu_unassigned: int = 0
    hosts: list[HostCores] = field(default_factory=list)
    vms: list[VmUse] = field(default_factory=list)  # powered on, counted
    vms_not_on: int = 0  # powered off / suspended / unknown state (count nothing)
    vms_memory_unknown: int = 0
    configured_all_gb: float = 0.0  # every non-template VM, as if all were powered on (capped)
    hard_limit_gb: float | None = None
    reported: Reported | None = None
    label: str = ""  # what readers see; "" -> pool_label(scope, edition_title); build_pools makes it unique

    def __post_init__(self) -> None:
        if not self.label:
            self.label = pool_label(self.scope, self.edition_title)

    # -- derived -----------------------------------------------------------------
    @property
    def used_gb(self) -> float:
        return round(sum(v.counted_gb for v in self.vms), 4)

    @property
    def used_raw_gb(self) -> float:
        return round(sum(v.memory_gb for v in self.vms), 4)

    @property
    def cap_effect_gb(self) -> float:
        return round(self.used_raw_gb - self.used_gb, 4)

    @property
    def entitled_gb(self) -> float | None:
        if not self.vram_applies or self.unlimited or self.per_cpu_gb is None:
            return None
        return self.cpu_total * self.per_cpu_gb

    @property
    def entitled_assigned_gb(self) -> float | None:
        return None if self.entitled_gb is None else min(self.cpu_assigned, self.cpu_total) * self.per_cpu_gb  # type: ignore[operator]

    @property
    def entitled_unassigned_gb(self) -> float | None:
        return None if self.entitled_gb is None else self.cpu_unassigned * self.per_cpu_gb  # type: ignore[operator]

    def headroom_gb(self, used: float | None = None) -> float | None:
        ent = self.entitled_gb
        if ent is None:
            return None
        return round(ent - (self.used_gb if used is None else used), 4)

    def headroom_pct(self, used: float | None = None) -> float | None:
        ent = self.entitled_gb
        if not ent:
            return None
        return round(100.0 * (ent - (self.used_gb if used is None else used)) / ent, 2)

    def licenses_needed(self, used: float | None = None) -> int | None:
        """CPU licenses of this edition to add so that ``used`` fits the entitlement."""
        ent = self.entitled_gb
        if ent is None or not self.per_cpu_gb:
            return None
        over = (self.used_gb if used is None else used) - ent
        return max(0, math.ceil(round(over / self.per_cpu_gb, 9)))

    def top_consumers(self, n: int | None = None) -> list[VmUse]:
        ranked = sorted(self.vms, key=lambda v: (-v.counted_gb, -v.memory_gb, v.name))
        return ranked if n is None else ranked[:n]

    def vms_to_free(self, gb: float) -> list[VmUse]:
        """The fewest largest consumers whose power-off frees at least ``gb``."""
        out: list[VmUse] = []
        freed = 0.0
        for vm in self.top_consumers():
            if freed >= gb:
                break
            out.append(vm)
            freed += vm.counted_gb
        return out


# Pools that are no edition of a license: their words where licensing.toml has no title.
PSEUDO_EDITION_TITLES = {"unknown": "license unknown", "unlicensed": "no license assigned"}


def scope_label(scope: str) -> str:
    """``vc01`` -> ``vc01``; ``group:prod`` -> ``linked group prod``."""
    return f"linked group {scope.removeprefix('group:')}" if scope.startswith("group:") else scope


def pool_label(scope: str, edition_title: str) -> str:
    """The pool's name for readers: ``vc01 · vSphere Enterprise Plus``."""
    return f"{scope_label(scope)} · {edition_title}"


def edition_title(rules: Rules, edition: str) -> str:
    """The words for a pool's edition id: ``enterprise_plus-v6`` -> ``vSphere 6 Enterprise Plus``."""
    base, _, major = edition.partition("-v")
    title = PSEUDO_EDITION_TITLES.get(base) or rules.title(base)
    if not major:
        return title
    if title.startswith("vSphere ") and not title.startswith(f"vSphere {major} "):
        return f"vSphere {major} {title.removeprefix('vSphere ')}"
    return title if title.startswith(f"vSphere {major} ") else f"{title} (vSphere {major})"


def unique_labels(pools: list[Pool]) -> None:
    """Make every pool's label unique: pools that would share one get ``(1)``, ``(2)``... in
    pool id order (two editions with one title, or a vCenter named like a linked group)."""
    by_label: dict[str, list[Pool]] = {}
    for p in pools:
        by_label.setdefault(p.label.casefold(), []).append(p)
    taken = {p.label.casefold() for p in pools}
    for same in by_label.values():
        if len(same) < 2:
            continue
        n = 0
        for p in sorted(same, key=lambda x: x.id):
            base = p.label
            while True:
                n += 1
                candidate = f"{base} ({n})"
                if candidate.casefold() not in taken:
                    break
            taken.add(candidate.casefold())
            p.label = candidate


def _scope(vc: VCenter, groups: dict[str, str]) -> str:
    group = groups.get(vc.name)
    return f"group:{group}" if group else vc.name


def _gb(memory_mb: int) -> float:
    return memory_mb / MB_PER_GB


def _parse_gb(value: Any) -> float | None:
    value = prop_value(value)
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        m = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([KMGT]i?B)?\s*", value, re.I)
        if not m:
            return None
        num = float(m.group(1))
        unit = (m.group(2) or "GB").upper().replace("I", "")
        return num * {"KB": 1 / 1024**2, "MB": 1 / 1024, "GB": 1.0, "TB": 1024.0}[unit]
    return None


def _reported(licenses: list[License], rules: Rules) -> Reported | None:
    raw: dict[str, dict[str, Any]] = {}
    used: list[float] = []
    ent: list[float] = []
    for lic in licenses:
        props = {k: prop_value(v) for k, v in lic.properties.items() if "vram" in k.lower()}
        if not props:
            continue
        raw[lic.key] = props
        for k, v in props.items():
            norm = re.sub(r"[^a-z]", "", k.lower())
            gb = _parse_gb(v)
            if gb is None:
                continue
            if norm in rules.reported_used_keys:
                used.append(gb)
            elif norm in rules.reported_entitled_keys:
                ent.append(gb)
    if not raw:
        return None
    return Reported(raw=raw, used_gb=round(sum(used), 4) if used else None,
                    entitled_gb=round(sum(ent), 4) if ent else None)


@dataclass
class _Bucket:
    scope: str
    edition: str
    model: str
    vcenters: set[str] = field(default_factory=set)
    vc_versions: dict[str, str | None] = field(default_factory=dict)
    licenses: dict[str, License] = field(default_factory=dict)
    majors: set[int | None] = field(default_factory=set)
    hosts: list[HostCores] = field(default_factory=list)
    vms: list[VmUse] = field(default_factory=list)
    vms_not_on: int = 0
    vms_memory_unknown: int = 0
    configured_all_gb: float = 0.0
    reason: str | None = None


def _edition_id(rule_edition: str, rule_model: str, major: int | None) -> str:
    """vSphere 4 keys on a 5.0 vCenter license 4.x hosts: a pool of their own, no vRAM."""
    if rule_model == "vsphere5" and major is not None and major != 5:
        return f"{rule_edition}-v{major}"
    return rule_edition


def build_pools(snapshot: Snapshot, hosts_by_vc: dict[str, dict[str, HostCores]], rules: Rules,
                table: VramTable, groups: dict[str, str]) -> tuple[list[Pool], dict[tuple[str, str], str]]:
    """All pools, and (vcenter uuid, host moid) -> pool id."""
    buckets: dict[tuple[str, str], _Bucket] = {}
    host_pool: dict[tuple[str, str], str] = {}
    cap = table.per_vm_cap_gb

    def bucket(scope: str, edition: str, model: str) -> _Bucket:
        b = buckets.get((scope, edition))
        if b is None:
            b = buckets[(scope, edition)] = _Bucket(scope=scope, edition=edition, model=model)
        return b

    for vc in snapshot.vcenters.values():
        scope = _scope(vc, groups)
        lic_by_key = {lic.key: lic for lic in (vc.licenses or [])}
        # Every host license in inventory joins its edition's pool, assigned or not.
        for lic in vc.licenses or []:
            rule = rules.edition_for_key(lic.edition_key, lic.cost_unit)
            if rule.product != "esx":
                continue
            major = license_major(lic, rules)
            b = bucket(scope, _edition_id(rule.edition, rule.model, major), rule.model)
            b.licenses.setdefault(lic.key, lic)
            b.majors.add(major)
            b.vcenters.add(vc.name)
            b.vc_versions[vc.name] = vc.version
        assignment = {a.entity: a for a in (vc.license_assignments or []) if a.entity in vc.hosts}
        for moid, _host in vc.hosts.items():
            hc = hosts_by_vc[vc.instance_uuid][moid]
            a = assignment.get(moid)
            held: License | None
            if vc.license_assignments is None or vc.licenses is None:
                edition, model, held = "unknown", "none", None
                reason = "license data not readable (the collector account needs the Global.Licenses privilege)"
            elif a is None:
                edition, model, held = "unlicensed", "none", None
                reason = "no license assignment was reported for these hosts"
            else:
                held = lic_by_key.get(a.license_key)
                ekey = a.edition_key or (held.edition_key if held else None)
                if is_evaluation(held, ekey) or a.license_key == "00000-00000-00000-00000-00000":
                    edition, model, reason = "eval", "eval", None
                else:
                    rule = rules.edition_for_key(ekey, held.cost_unit if held else None)
                    major = license_major(held, rules) if held else None
                    edition, model, reason = _edition_id(rule.edition, rule.model, major), rule.model, None
            b = bucket(scope, edition, model)
            b.vcenters.add(vc.name)
            b.vc_versions[vc.name] = vc.version
            if held is not None:
                b.licenses.setdefault(held.key, held)
                b.majors.add(license_major(held, rules))
            if reason:
                b.reason = reason
            pool_id = f"{scope}/{edition}"
            host_pool[(vc.instance_uuid, moid)] = pool_id
            b.hosts.append(_with_pool(hc, edition, a.license_key if a else None, pool_id))
        for vm in vc.vms.values():
            if vm.template:
                continue
            pid = host_pool.get((vc.instance_uuid, vm.host)) if vm.host else None
            if pid is None:
                b = bucket(scope, "unknown", "none")
                b.vcenters.add(vc.name)
                b.vc_versions[vc.name] = vc.version
                b.reason = b.reason or "VMs whose host is not known (not in the inventory)"
            else:
                b = buckets[(pid.rsplit("/", 1)[0], pid.rsplit("/", 1)[1])]
            if vm.memory_mb is None:
                b.vms_memory_unknown += 1
                if vm.power_state != "poweredOn":
                    b.vms_not_on += 1
                continue
            mem = _gb(vm.memory_mb)
            counted = min(mem, cap) if cap is not None else mem
            b.configured_all_gb += counted
            host_name = vc.hosts[vm.host].name if vm.host in vc.hosts else vm.host
            if vm.power_state == "poweredOn":
                b.vms.append(VmUse(vcenter=vc.name, moid=vm.moid, name=vm.name, host=host_name,
                                   power_state=vm.power_state, memory_gb=mem, counted_gb=counted))
            else:
                b.vms_not_on += 1
    pools = [_finish(b, rules, table) for b in buckets.values()]
    pools.sort(key=lambda p: (p.scope, not p.vram_applies, p.edition))
    unique_labels(pools)
    return pools, host_pool


def _with_pool(hc: HostCores, edition: str, key: str | None, pool_id: str) -> HostCores:
    from dataclasses import replace

    return replace(hc, edition=edition, license_key=key, pool_id=pool_id)


def _finish(b: _Bucket, rules: Rules, table: VramTable) -> Pool:
    base_edition = b.edition.split("-v")[0]
    p = Pool(
        id=f"{b.scope}/{b.edition}", scope=b.scope, vcenters=sorted(b.vcenters), edition=b.edition,
        edition_title=edition_title(rules, b.edition),
        model=b.model, table=table.name, cap_gb=table.per_vm_cap_gb,
        license_keys=sorted(b.licenses), hosts=sorted(b.hosts, key=lambda h: (h.vcenter, h.name)),
        vms=b.vms, vms_not_on=b.vms_not_on, vms_memory_unknown=b.vms_memory_unknown,
        configured_all_gb=round(b.configured_all_gb, 4),
    )
    cpu_licenses = [lic for lic in b.licenses.values() if (lic.cost_unit or "cpuPackage") == "cpuPackage"]
    p.cpu_total = sum(max(0, lic.total or 0) for lic in cpu_licenses)
    sockets = [h.sockets for h in b.hosts]
    if sockets and all(s is not None for s in sockets):
        p.cpu_assigned = sum(s for s in sockets if s is not None)
    else:
        p.cpu_assigned = sum(max(0, lic.used or 0) for lic in cpu_licenses)
        if sockets:
            p.notes.append("CPU count of some hosts unknown: assigned CPU licenses taken from the license 'used' counts")
    p.cpu_unassigned = max(0, p.cpu_total - p.cpu_assigned)
    p.reported = _reported(list(b.licenses.values()), rules)
    p.vram_applies, p.reason = _applies(b, base_edition, rules, table)
    if p.vram_applies:
        p.per_cpu_gb = table.per_cpu_gb.get(base_edition)
        p.unlimited = p.per_cpu_gb is None
        p.hard_limit_gb = table.hard_limits.get(base_edition)
        if None in b.majors:
            p.notes.append("license version not reported for some keys: assumed vSphere 5 (the vCenter is 5.0)")
        if p.cpu_assigned > p.cpu_total:
            p.notes.append(f"hosts in this pool have {p.cpu_assigned} CPUs but its keys cover {p.cpu_total}")
    return p


def _applies(b: _Bucket, edition: str, rules: Rules, table: VramTable) -> tuple[bool, str | None]:
    if b.reason:
        return False, b.reason
    if b.edition == "eval":
        return False, "evaluation mode: no vRAM entitlement, no compliance verdict"
    if b.model == "per_core":
        return False, "per-core subscription: no vRAM entitlement (vRAM ended with vSphere 5.1); see the per-core model"
    if b.model in ("per_cpu", "per_cpu_32"):
        return False, "vSphere 6+ per-CPU license: no vRAM entitlement (vRAM ended with vSphere 5.1); see the per-CPU model"
    if b.model == "free":
        return False, "free vSphere Hypervisor: a per-host limit, not a pool"
    if b.model != "vsphere5":
        return False, "not a vSphere 5 host license"
    if "-v" in b.edition:
        return False, f"vSphere {b.edition.split('-v')[1]} licenses: vRAM applies to vSphere 5.0 licenses only"
    if edition not in table.per_cpu_gb:
        return False, f"{rules.title(edition)}: no vSphere 5.0 vRAM entitlement for this edition"
    for name, version in sorted(b.vc_versions.items()):
        if not version:
            return False, f"vCenter {name}: version unknown, so vSphere 5.0 (vRAM) cannot be told from 5.1+ (no vRAM)"
        if not any(version.startswith(p) for p in rules.vcenter_version_prefixes):
            if version.startswith("4"):
                return False, f"vCenter {name} is {version}: vRAM licensing started with vSphere 5.0"
            return False, f"vCenter {name} is {version}: vRAM entitlement applies to vSphere 5.0 only (dropped in 5.1, August 2012)"
    return True, None


def pool_host_limits(snapshot: Snapshot, rules: Rules, table: VramTable, pools: list[Pool]) -> list[dict[str, Any]]:
    """Free-hypervisor hosts over their per-host limit (not pooled; docs/methodology.md#vram-pools).

    The limit is part of the vSphere 5.0 licensing tables: it is applied only to hosts whose
    version matches the row's ``host_version_prefixes`` (licensing.toml), and a host whose
    version is unknown is left out."""
    limit = table.host_limits.get("hypervisor_free")
    out: list[dict[str, Any]] = []
    if limit is None:
        return out
    for p in pools:
        if p.edition != "hypervisor_free":
            continue
        for h in p.hosts:
            if not limit.applies_to(h.version):
                continue  # the vSphere 5.0 free-edition limit; later free ESXi releases are not bound by it
            vc = next(v for v in snapshot.vcenters.values() if v.instance_uuid == h.vcenter_uuid)
            host = vc.hosts[h.moid]
            if limit.kind == "physical":
                if host.memory_bytes is None:
                    continue
                value = host.memory_bytes / 1024**3
            else:
                value = sum(v.counted_gb for v in p.vms if v.vcenter == vc.name and v.host == h.name)
            if value > limit.gb:
                out.append({"pool": p, "host": h, "kind": limit.kind, "value_gb": round(value, 2), "limit_gb": limit.gb})
    return out


__all__ = ["Pool", "Reported", "VmUse", "build_pools", "edition_title", "find_prop", "pool_host_limits", "pool_label",
           "scope_label", "unique_labels"]
