"""Host software: VIB acceptance levels, vmklinux drivers, and upgrade readiness to a release.

Acceptance levels (vSphere Installation and Setup, "Acceptance Levels"), highest first:
VMwareCertified > VMwareAccepted > PartnerSupported > CommunitySupported. A host's level
admits only VIBs at or above it. The API spells them as the ``HostImageAcceptanceLevel`` enum
(``vmware_certified``, ``vmware_accepted``, ``partner``, ``community``) both for
``HostImageConfigGetAcceptance`` and for ``SoftwarePackage.acceptanceLevel``; hostd passes a
VIB's raw esximage value (``certified``, ``accepted``, ``partner``, ``community``) through when
it cannot map it, and esxcli/PowerCLI print ``VMwareCertified`` etc. The ESXi 5.x image profile
and VIB XML files spell VMwareAccepted ``vmware`` (``certified``, ``vmware``, ``partner``,
``community``). All these spellings parse.

Upgrade readiness to a target release (``"8.0"`` by default, also ``"7.0"``):

* ``blocked`` - at least one *verified* rule matches (a vmklinux driver VIB or a dependency the
  target image cannot satisfy, the vmklinux module loaded, a CPU the target does not run on, a
  CNA driver version known to fail); the reasons say which;
* ``unknown`` - nothing verified blocks, but something needed could not be read (VIBs, kernel
  modules, CPU model); the reasons say what;
* ``ready`` - otherwise. Unverified rules that match are listed as cautions ("verify"),
  never as blockers.

Data: ``vmklinux_drivers.toml``, ``cpu_support.toml``, ``cna_drivers.toml``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from functools import lru_cache
from typing import Literal

from pydantic import field_validator

from reporter.core.model_hostconfig import HostSoftware, KernelModule, SoftwarePackage
from reporter.domain.datafiles import DataRow, parse_rows, read_packaged, regex
from reporter.domain.versions import padded, parse_version

DEFAULT_TARGET = "8.0"
# The reason the collector records when a host (ESXi before 6.5, or its vCenter) has no
# fetchSoftwarePackages; SW-003 recognises it and says what to do instead.
VIBS_BEFORE_65 = "installed VIBs not listed: the vSphere API lists them from ESXi 6.5 on"
TARGETS = ("7.0", "8.0")

# --------------------------------------------------------------------------- acceptance levels


class AcceptanceLevel(IntEnum):
    COMMUNITY_SUPPORTED = 1
    PARTNER_SUPPORTED = 2
    VMWARE_ACCEPTED = 3
    VMWARE_CERTIFIED = 4

    @property
    def label(self) -> str:
        """The name VMware documentation and esxcli use."""
        return _LABELS[self]


_LABELS = {
    AcceptanceLevel.VMWARE_CERTIFIED: "VMwareCertified",
    AcceptanceLevel.VMWARE_ACCEPTED: "VMwareAccepted",
    AcceptanceLevel.PARTNER_SUPPORTED: "PartnerSupported",
    AcceptanceLevel.COMMUNITY_SUPPORTED: "CommunitySupported",
}

_SPELLINGS = {
    # HostImageAcceptanceLevel enum (API)
    "vmware_certified": AcceptanceLevel.VMWARE_CERTIFIED,
    "vmware_accepted": AcceptanceLevel.VMWARE_ACCEPTED,
    "partner": AcceptanceLevel.PARTNER_SUPPORTED,
    "community": AcceptanceLevel.COMMUNITY_SUPPORTED,
    # raw VIB descriptor values (esximage), passed through by hostd when unmapped
    "certified": AcceptanceLevel.VMWARE_CERTIFIED,
    "accepted": AcceptanceLevel.VMWARE_ACCEPTED,
    # ESXi 5.x image profile / VIB XML: VMwareAccepted is coded "vmware"
    "vmware": AcceptanceLevel.VMWARE_ACCEPTED,
    # esxcli / PowerCLI / documentation
    "vmwarecertified": AcceptanceLevel.VMWARE_CERTIFIED,
    "vmwareaccepted": AcceptanceLevel.VMWARE_ACCEPTED,
    "partnersupported": AcceptanceLevel.PARTNER_SUPPORTED,
    "communitysupported": AcceptanceLevel.COMMUNITY_SUPPORTED,
}


def parse_acceptance(value: str | None) -> AcceptanceLevel | None:
    """Any known spelling of an acceptance level; ``None`` for absent or unknown values."""
    if value is None:
        return None
    return _SPELLINGS.get(value.strip().lower())


@dataclass(frozen=True)
class PackageAcceptance:
    package: SoftwarePackage
    level: AcceptanceLevel


def packages_below(
    packages: Iterable[SoftwarePackage], minimum: AcceptanceLevel = AcceptanceLevel.VMWARE_ACCEPTED
) -> list[PackageAcceptance]:
    """VIBs whose acceptance level is below ``minimum`` (default: below VMwareAccepted, i.e.
    PartnerSupported and CommunitySupported: not tested or verified by VMware)."""
    out: list[PackageAcceptance] = []
    for p in packages:
        level = parse_acceptance(p.acceptance_level)
        if level is not None and level < minimum:
            out.append(PackageAcceptance(p, level))
    return sorted(out, key=lambda x: (x.level, x.package.name))


def packages_with_unknown_acceptance(packages: Iterable[SoftwarePackage]) -> list[SoftwarePackage]:
    """VIBs whose acceptance level is absent or not one of the four known values."""
    return [p for p in packages if parse_acceptance(p.acceptance_level) is None]


def packages_below_host_level(software: HostSoftware) -> list[PackageAcceptance]:
    """VIBs below the host's own acceptance level (only possible when installed with --force)."""
    host_level = parse_acceptance(software.acceptance_level)
    if host_level is None or software.packages is None:
        return []
    return packages_below(software.packages, host_level)


# --------------------------------------------------------------------------- rule tables


def _known_targets(values: list[str]) -> list[str]:
    unknown = [v for v in values if v not in TARGETS]
    if unknown:
        raise ValueError(f"unknown target release {unknown[0]!r} (known: {', '.join(TARGETS)})")
    return values


class DependencyRule(DataRow):
    id: str
    name_pattern: str
    meaning: str
    targets: list[str]

    _pattern_ok = field_validator("name_pattern")(regex)
    _targets_ok = field_validator("targets")(_known_targets)

    def matches(self, relation: str) -> bool:
        return re.fullmatch(self.name_pattern, relation) is not None


class ModuleRule(DataRow):
    name: str
    meaning: str
    targets: list[str]

    _targets_ok = field_validator("targets")(_known_targets)


class NativeReplacement(DataRow):
    vmklinux_module: str
    vmklinux_vib: str | None = None
    native_module: str
    device: str
    kb: str | None = None


class CpuRule(DataRow):
    id: str
    target: str
    family: str
    model_pattern: str
    effect: str

    _pattern_ok = field_validator("model_pattern")(regex)
    _target_ok = field_validator("target")(lambda v: _known_targets([v])[0])

    def matches(self, cpu_model: str) -> bool:
        return re.search(self.model_pattern, cpu_model, re.IGNORECASE) is not None


class CnaDriverRule(DataRow):
    id: str
    vib: str
    vendor: str | None = None
    kind: str
    device: str
    version: str
    targets: list[str]
    effect: str
    kb: str | None = None

    _targets_ok = field_validator("targets")(_known_targets)

    def matches(self, package: SoftwarePackage) -> bool:
        if package.name != self.vib or package.version != self.version:
            return False
        return self.vendor is None or package.vendor == self.vendor


@dataclass(frozen=True)
class SoftwareTables:
    dependencies: tuple[DependencyRule, ...]
    modules: tuple[ModuleRule, ...]
    replacements: tuple[NativeReplacement, ...]
    cpus: tuple[CpuRule, ...]
    cna_drivers: tuple[CnaDriverRule, ...]


VMKLINUX_FILE = "vmklinux_drivers.toml"
CPU_FILE = "cpu_support.toml"
CNA_FILE = "cna_drivers.toml"


@lru_cache(maxsize=1)
def load_tables() -> SoftwareTables:
    vmklinux = read_packaged(VMKLINUX_FILE)
    return SoftwareTables(
        dependencies=parse_rows(vmklinux, "relation", DependencyRule, VMKLINUX_FILE),
        modules=parse_rows(vmklinux, "module", ModuleRule, VMKLINUX_FILE),
        replacements=parse_rows(vmklinux, "driver", NativeReplacement, VMKLINUX_FILE),
        cpus=parse_rows(read_packaged(CPU_FILE), "cpu", CpuRule, CPU_FILE),
        cna_drivers=parse_rows(read_packaged(CNA_FILE), "driver", CnaDriverRule, CNA_FILE),
    )


# --------------------------------------------------------------------------- vmklinux


@dataclass(frozen=True)
class VmklinuxEvidence:
    """Why a VIB or a loaded module shows the vmklinux driver stack in use."""

    kind: Literal["package", "module"]
    subject: str  # VIB or module name
    rule: DependencyRule | ModuleRule
    relation: str | None = None  # the dependency name that matched (package evidence)
    replacement: NativeReplacement | None = None


def _replacement(name: str, tables: SoftwareTables) -> NativeReplacement | None:
    return next((r for r in tables.replacements if name in (r.vmklinux_vib, r.vmklinux_module)), None)


def unsatisfiable_dependencies(
    packages: Iterable[SoftwarePackage], target: str, tables: SoftwareTables | None = None
) -> list[VmklinuxEvidence]:
    """VIBs that depend on something the ``target`` image does not provide (vmklinux driver
    API, removed vmkapi versions). One entry per VIB and rule."""
    t = tables or load_tables()
    out: list[VmklinuxEvidence] = []
    for p in sorted(packages, key=lambda p: p.name):
        for rule in t.dependencies:
            if target not in rule.targets:
                continue
            hit = next((d for d in p.depends if rule.matches(d)), None)
            if hit is not None:
                out.append(VmklinuxEvidence("package", p.name, rule, hit, _replacement(p.name, t)))
    return out


def vmklinux_modules_loaded(
    modules: Iterable[KernelModule], target: str, tables: SoftwareTables | None = None
) -> list[VmklinuxEvidence]:
    t = tables or load_tables()
    rules = {r.name: r for r in t.modules if target in r.targets}
    return [VmklinuxEvidence("module", m.name, rules[m.name]) for m in modules
            if m.name in rules and m.loaded is True]


def vmklinux_driver_modules(modules: Iterable[KernelModule], tables: SoftwareTables | None = None) -> list[
        tuple[KernelModule, NativeReplacement]]:
    """Loaded modules that are known vmklinux drivers, with their native replacement."""
    t = tables or load_tables()
    out: list[tuple[KernelModule, NativeReplacement]] = []
    for m in modules:
        row = next((r for r in t.replacements if r.vmklinux_module == m.name), None)
        if row is not None and m.loaded is True:
            out.append((m, row))
    return out


# --------------------------------------------------------------------------- readiness


Verdict = Literal["ready", "blocked", "unknown"]
ReasonCode = Literal["unsatisfiable-dependency", "vmklinux-module", "cpu-unsupported", "cna-driver"]


@dataclass(frozen=True)
class Reason:
    code: ReasonCode
    subject: str  # VIB, module or CPU model
    detail: str
    source: str
    verified: bool
    kb: str | None = None


@dataclass(frozen=True)
class HostReadiness:
    host_name: str
    target: str
    verdict: Verdict
    blockers: tuple[Reason, ...] = ()
    cautions: tuple[Reason, ...] = ()  # unverified rules that match: "verify", never blocking
    unknowns: tuple[str, ...] = ()  # what could not be read
    already_at_target: bool = False


def _split(reasons: Iterable[Reason]) -> tuple[tuple[Reason, ...], tuple[Reason, ...]]:
    items = list(reasons)
    return tuple(r for r in items if r.verified), tuple(r for r in items if not r.verified)


def _software_reasons(software: HostSoftware, target: str, tables: SoftwareTables) -> list[Reason]:
    reasons: list[Reason] = []
    for ev in unsatisfiable_dependencies(software.packages or [], target, tables):
        hint = f"; native replacement: {ev.replacement.native_module}" if ev.replacement else ""
        reasons.append(Reason("unsatisfiable-dependency", ev.subject,
                              f"depends on {ev.relation} ({ev.rule.meaning}){hint}",
                              ev.rule.source, ev.rule.verified))
    for ev in vmklinux_modules_loaded(software.kernel_modules or [], target, tables):
        reasons.append(Reason("vmklinux-module", ev.subject, ev.rule.meaning, ev.rule.source, ev.rule.verified))
    for p in software.packages or []:
        for cna in tables.cna_drivers:
            if target in cna.targets and cna.matches(p):
                reasons.append(Reason("cna-driver", f"{p.name} {p.version}", cna.effect, cna.source,
                                      cna.verified, cna.kb))
    return reasons


def upgrade_readiness(
    host_name: str,
    current_version: str | None,
    cpu_model: str | None,
    software: HostSoftware | None,
    target: str = DEFAULT_TARGET,
    tables: SoftwareTables | None = None,
) -> HostReadiness:
    """Whether one host can be upgraded to ``target`` (see the module docstring)."""
    if target not in TARGETS:
        raise ValueError(f"unknown target release {target!r} (known: {', '.join(TARGETS)})")
    t = tables or load_tables()
    current = parse_version(current_version)
    wanted = parse_version(target)
    assert wanted is not None
    if current is not None and padded(current) >= padded(wanted):
        return HostReadiness(host_name, target, "ready", already_at_target=True)

    reasons: list[Reason] = []
    unknowns: list[str] = []
    if current is None:
        unknowns.append("ESXi version")
    cpu_rules = [r for r in t.cpus if r.target == target]
    if cpu_model is None:
        if cpu_rules:
            unknowns.append("CPU model")
    else:
        reasons += [Reason("cpu-unsupported", cpu_model, f"{r.family}: {r.effect}", r.source, r.verified)
                    for r in cpu_rules if r.matches(cpu_model)]
    if software is None:
        unknowns.append("host software (not collected)")
    else:
        if software.packages is None:
            why = software.software_unknown_reason
            # (a reason that names the VIBs itself is not prefixed again: "installed VIBs: installed VIBs not listed ...")
            unknowns.append(why if why and why.lower().startswith("installed vibs") else
                            "installed VIBs" + (f": {why}" if why else ""))
        # vmklinux can only be loaded below 7.0; on 7.0+ an unread module list hides nothing
        if software.kernel_modules is None and (current is None or padded(current) < (7, 0, 0)):
            unknowns.append("kernel modules")
        reasons += _software_reasons(software, target, t)

    blockers, cautions = _split(reasons)
    verdict: Verdict = "blocked" if blockers else ("unknown" if unknowns else "ready")
    return HostReadiness(host_name, target, verdict, blockers, cautions, tuple(unknowns))


@dataclass(frozen=True)
class ClusterReadiness:
    cluster_name: str
    target: str
    verdict: Verdict
    blocked_hosts: tuple[str, ...] = ()
    unknown_hosts: tuple[str, ...] = ()
    ready_hosts: tuple[str, ...] = ()
    hosts: tuple[HostReadiness, ...] = field(default_factory=tuple)


def cluster_readiness(cluster_name: str, hosts: Sequence[HostReadiness], target: str = DEFAULT_TARGET) -> ClusterReadiness:
    """Blocked if any host is blocked; unknown if any host is unknown (and none blocked), or if
    the cluster has no hosts (nothing to say it is ready); ready otherwise."""
    blocked = tuple(sorted(h.host_name for h in hosts if h.verdict == "blocked"))
    unknown = tuple(sorted(h.host_name for h in hosts if h.verdict == "unknown"))
    ready = tuple(sorted(h.host_name for h in hosts if h.verdict == "ready"))
    verdict: Verdict = "blocked" if blocked else ("unknown" if unknown or not hosts else "ready")
    return ClusterReadiness(cluster_name, target, verdict, blocked, unknown, ready, tuple(hosts))
