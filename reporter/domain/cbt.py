"""Pure functions for Changed Block Tracking (CBT): per-disk state, backup scope, known bad builds.

Facts from shared/docs/methodology.md#cbt (KB1020128, KB1031873, KB2090639, KB2136854).

Per-disk state
--------------
CBT is on for a disk when the VM option ``changeTrackingEnabled`` is on *and* the disk's
``scsiX:Y.ctkEnabled`` (also ``sataX:Y`` / ``nvmeX:Y``) is TRUE (KB1031873). It takes effect
only after a stun/unstun (power cycle, suspend/resume, snapshot create + delete); from then
on the disk's backing reports a ``changeId``. So, for a VM with the option on:

* ``active``   - the disk has a changeId (tracking is running, whatever the flags say);
* ``pending``  - ``ctkEnabled`` is TRUE but there is no changeId yet (needs a stun/unstun);
* ``off``      - ``ctkEnabled`` is FALSE or absent and there is no changeId;
* ``physical-rdm`` - a physical-mode RDM: CBT is not available for it;
* ``independent``  - independent disks are skipped by snapshot-based backups anyway.

With the VM option off every disk is ``vm-off``; unknown (not collected) is ``unknown``.
"""

from __future__ import annotations

import fnmatch
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache, lru_cache
from importlib import resources
from typing import Any

from reporter.core.findings import Severity
from reporter.core.model import VM, Disk, Host
from reporter.domain.lifecycle import AdvisoryRow
from reporter.domain.versions import build_number, release_line

ACTIVE = "active"
PENDING = "pending"
OFF = "off"
PHYSICAL_RDM = "physical-rdm"
INDEPENDENT = "independent"
VM_OFF = "vm-off"
UNKNOWN = "unknown"

# Each state as the reports say it (the codes stay the checks' vocabulary).
STATE_WORDS = {
    ACTIVE: "Active", PENDING: "Pending: no changeId until a stun/unstun", OFF: "Off for this disk",
    PHYSICAL_RDM: "Not available: physical-mode RDM", INDEPENDENT: "Independent: skipped by snapshot backups",
    VM_OFF: "Off for the VM", UNKNOWN: "Unknown: not collected",
}


def state_words(state: str) -> str:
    """``pending`` -> "Pending: no changeId until a stun/unstun"; a state this table lacks as it came."""
    return STATE_WORDS.get(state, state)


MIN_HW_VERSION = 7  # KB1020128: CBT needs virtual hardware version 7 or later


# --------------------------------------------------------------------------- flags


def extra_value(vm: VM, key: str) -> str | None:
    """An extraConfig value; vmx keys are case-insensitive."""
    if key in vm.extra_config:
        return vm.extra_config[key]
    low = key.lower()
    return next((v for k, v in vm.extra_config.items() if k.lower() == low), None)


def flag(value: str | None) -> bool | None:
    """A vmx boolean ("TRUE", "true", "1", ...); None when absent or not a boolean."""
    if value is None:
        return None
    v = value.strip().strip('"').lower()
    if v in ("true", "1", "yes"):
        return True
    if v in ("false", "0", "no"):
        return False
    return None


def disk_ctk_flag(vm: VM, disk: Disk) -> bool | None:
    return flag(extra_value(vm, f"{disk.device_node}.ctkEnabled"))


def vm_ctk_flag(vm: VM) -> bool | None:
    """The VM-level ``ctkEnabled`` extraConfig entry (set together with the option)."""
    return flag(extra_value(vm, "ctkEnabled"))


@dataclass(frozen=True)
class DiskCbt:
    disk: Disk
    ctk_flag: bool | None  # scsiX:Y.ctkEnabled, None = absent
    state: str

    @property
    def supported(self) -> bool:
        return self.state not in (PHYSICAL_RDM, INDEPENDENT)


def disk_state(vm: VM, disk: Disk) -> DiskCbt:
    return _disk_state(vm, disk, disk_ctk_flag(vm, disk))


def _disk_state(vm: VM, disk: Disk, f: bool | None) -> DiskCbt:
    if disk.compatibility_mode == "physicalMode":
        state = PHYSICAL_RDM
    elif disk.independent:
        state = INDEPENDENT
    elif vm.change_tracking_enabled is None:
        state = UNKNOWN
    elif not vm.change_tracking_enabled:
        state = VM_OFF
    elif disk.change_id:
        state = ACTIVE
    elif f:
        state = PENDING
    else:
        state = OFF
    return DiskCbt(disk, f, state)


def disk_states(vm: VM) -> list[DiskCbt]:
    disks = sorted(vm.disks, key=lambda d: (d.controller, d.bus_number, d.unit_number or 0))
    if not vm.extra_config:  # no ctkEnabled entries at all: no per-disk lookups
        return [_disk_state(vm, d, None) for d in disks]
    # extra_value's case-insensitive lookup, with the lowered keys built once for all disks
    exact = vm.extra_config
    lowered: dict[str, str] = {}
    for k, v in exact.items():
        lowered.setdefault(k.lower(), v)  # the first key of a spelling wins, as in extra_value
    out = []
    for d in disks:
        key = f"{d.device_node}.ctkEnabled"
        out.append(_disk_state(vm, d, flag(exact[key] if key in exact else lowered.get(key.lower()))))
    return out


def vm_state(vm: VM, disks: list[DiskCbt] | None = None) -> str:
    """One word for the VM: on (all supported disks active), partial, pending, off, unknown.
    ``disks``: the VM's ``disk_states``, when the caller has them already."""
    if vm.change_tracking_enabled is None:
        return UNKNOWN
    if not vm.change_tracking_enabled:
        return OFF
    states = {d.state for d in (disk_states(vm) if disks is None else disks) if d.supported}
    if not states or states == {ACTIVE}:
        return "on"
    if OFF in states:
        return "partial"
    return PENDING


# --------------------------------------------------------------------------- backup scope


def folder_matches(folder: str | None, patterns: Iterable[str]) -> bool:
    """A folder pattern matches the folder itself, its subfolders, or as a glob."""
    if not folder:
        return False
    for p in patterns:
        base = p.rstrip("/")
        if folder == base or folder.startswith(base + "/") or fnmatch.fnmatchcase(folder, p):
            return True
    return False


def name_matches(name: str, patterns: Iterable[str]) -> bool:
    low = name.casefold()
    return any(fnmatch.fnmatchcase(low, p.casefold()) for p in patterns)


def tag_matches(tags: Iterable[str], wanted: Iterable[str]) -> bool:
    """``wanted`` entries are "Category/Tag" or just "Tag" (any category); case-insensitive."""
    have = {t.casefold() for t in tags} | {t.split("/", 1)[-1].casefold() for t in tags}
    return any(w.casefold() in have for w in wanted)


def in_backup_scope(vm: VM, settings: Any) -> bool | None:
    """Whether backups are expected to cover the VM (None = cannot tell: tags not collected).

    ``settings`` is the cbt family's settings (scope_* fields). With no scope configured,
    every powered-on VM is in scope. Templates never are.
    """
    if vm.template:
        return False
    if settings.exclude_name_patterns and name_matches(vm.name, settings.exclude_name_patterns):
        return False
    if not settings.scope_include_powered_off and not vm.powered_on:
        return False
    if not (settings.scope_tags or settings.scope_folders or settings.scope_name_patterns):
        return True
    if settings.scope_name_patterns and name_matches(vm.name, settings.scope_name_patterns):
        return True
    if settings.scope_folders and folder_matches(vm.folder_path, settings.scope_folders):
        return True
    if settings.scope_tags:
        tags = getattr(vm, "tags", None)
        if tags is None:
            return None
        return tag_matches(tags, settings.scope_tags)
    return False


# --------------------------------------------------------------------------- known defects


@dataclass(frozen=True)
class AffectedRelease:
    version: str  # "5.5"
    product: str
    fix: str
    verified: bool
    source: str
    fixed_build: int | None = None  # None = never fixed


@dataclass(frozen=True)
class CbtDefect:
    kb: str
    broadcom_id: str
    title: str
    defect: str
    after_fix: str
    source: str
    affected: tuple[AffectedRelease, ...] = field(default_factory=tuple)
    grown_disk_boundary_gb: float | None = None

    @property
    def url(self) -> str:
        return f"https://knowledge.broadcom.com/external/article?legacyId={self.kb.removeprefix('KB')}"


def parse_defects(data: dict[str, Any], source: str = "cbt_defects.toml") -> list[CbtDefect]:
    try:
        out = []
        for d in data["defect"]:
            affected = tuple(
                AffectedRelease(version=str(a["version"]), product=a["product"], fix=a["fix"],
                                verified=bool(a["verified"]), source=a["source"],
                                fixed_build=int(a["fixed_build"]) if "fixed_build" in a else None)
                for a in d["affected"]
            )
            out.append(CbtDefect(
                kb=d["kb"], broadcom_id=str(d["broadcom_id"]), title=d["title"], defect=d["defect"],
                after_fix=d["after_fix"], source=d["source"], affected=affected,
                grown_disk_boundary_gb=d.get("grown_disk_boundary_gb"),
            ))
        return out
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{source}: malformed CBT defect table ({type(exc).__name__}: {exc})") from None


@lru_cache(maxsize=1)
def load_defects() -> tuple[CbtDefect, ...]:
    text = resources.files("reporter").joinpath("data/cbt_defects.toml").read_text(encoding="utf-8")
    return tuple(parse_defects(tomllib.loads(text)))


def _version_matches(host_version: str | None, line: str) -> bool:
    if not host_version:
        return False
    have = host_version.split(".")
    want = line.split(".")
    return have[: len(want)] == want


def advisory_row(defect: CbtDefect, release: AffectedRelease) -> AdvisoryRow:
    """One affected release of a CBT defect as a build advisory row: the CBT table is one more
    table of the build-advisory mechanism (same build-range rule), kept apart because CBT-006
    also needs the VM side (which disks, the reset procedure)."""
    return AdvisoryRow(
        id=f"{defect.kb}-{release.version}", product="esxi", line=release.version, advisory=defect.kb,
        kb=defect.kb, title=defect.title, severity=Severity.high, fix=release.fix, after_fix=defect.after_fix,
        fixed_in=release.fixed_build, verified=release.verified, source=release.source,
        note=None if release.verified else "fixed build from secondary sources",
    )


@dataclass(frozen=True)
class HostDefect:
    defect: CbtDefect
    release: AffectedRelease


def host_defects(host: Host, defects: Iterable[CbtDefect] | None = None) -> list[HostDefect]:
    """The defects whose affected range includes this host's version and build.

    A host of an affected line whose build is unknown counts as affected only for lines
    that were never fixed (4.x); otherwise it cannot be told and is left out.
    """
    if defects is None or defects is load_defects():
        return list(_bundled_host_defects(host.version, host.build))
    return _host_defects(host.version, host.build, defects)


@cache
def _bundled_host_defects(version: str | None, build: str | None) -> tuple[HostDefect, ...]:
    """``host_defects`` for the bundled table (read once per process, ``load_defects``): the answer
    depends on the version and build only, and a 10,000-VM fleet asks it once per VM (CBT-006,
    the enable steps) for a few hundred hosts of a handful of builds."""
    return tuple(_host_defects(version, build, load_defects()))


def _host_defects(version: str | None, build_text: str | None, defects: Iterable[CbtDefect]) -> list[HostDefect]:
    out = []
    build = build_number(build_text)
    line = release_line(version)
    for d in defects:
        for rel in d.affected:
            if line != rel.version:
                continue
            if build is None:
                if rel.fixed_build is None:
                    out.append(HostDefect(d, rel))
            elif advisory_row(d, rel).covers(line, build):
                out.append(HostDefect(d, rel))
    return out


def unknown_build_hosts(hosts: Iterable[Host], defects: Iterable[CbtDefect] | None = None) -> list[Host]:
    """Hosts on an affected release line whose build number could not be read."""
    rows = list(defects if defects is not None else load_defects())
    return [h for h in hosts if build_number(h.build) is None and any(
        r.fixed_build is not None and _version_matches(h.version, r.version) for d in rows for r in d.affected)]
