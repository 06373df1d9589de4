"""Per-VM assessment: configured CPU/MMU mode, the mode it runs in on its current host, and
which KB2001372 advice applies. Checks and tables share it so they never disagree.

Facts (docs/methodology.md#cpu-mmu-win2003, KB2001372):
- API: ``config.flags.virtualExecUsage`` hvAuto | hvOn | hvOff and ``virtualMmuUsage``
  automatic | on | off; unset means automatic. ``hvOn``/``on`` mean "use the hardware
  feature *if the physical hardware supports it*" (vSphere API enum descriptions), so on a
  host without it the VM falls back to the software technique.
- Automatic picks binary translation (BT) + shadow page tables for 32-bit Windows 2003.
- 64-bit guests cannot use BT on Intel CPUs: a forced software CPU mode is ineffective there.
- ESXi 6.7+ ignores the per-VM setting and always uses hardware assist.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import Enum

from reporter.checks.base import CheckContext
from reporter.checks.cpu_mmu.guests import OsIdentity, identify
from reporter.checks.cpu_mmu.settings import CpuMmuSettings
from reporter.core.model import VM, Host, VCenter

KB = "KB2001372"
KB_TITLE = "Using hardware-assisted virtualization in Windows Server 2003 32-bit virtual machines"
KB_URL = "https://knowledge.broadcom.com/external/article?legacyId=2001372"


class Mode(str, Enum):
    """The four combinations of KB2001372 / the vSphere Client, plus anything else."""

    automatic = "automatic"
    software = "software"  # BT + shadow page tables
    hw_cpu = "hw_cpu"  # VT-x/AMD-V + shadow page tables
    hw_cpu_mmu = "hw_cpu_mmu"  # VT-x/AMD-V + EPT/RVI
    custom = "custom"  # a flag pair the UI does not offer

    @property
    def label(self) -> str:
        """With the technique, for the effective mode."""
        return MODE_LABELS[self]

    @property
    def short(self) -> str:
        """The vSphere Client's name, for the configured setting."""
        return UI_CHOICE.get(self, "Non-standard combination")


MODE_LABELS = {
    Mode.automatic: "Automatic",
    Mode.software: "Software CPU and MMU (binary translation + shadow page tables)",
    Mode.hw_cpu: "Hardware CPU, software MMU (VT-x/AMD-V + shadow page tables)",
    Mode.hw_cpu_mmu: "Hardware CPU and MMU (VT-x/AMD-V + EPT/RVI)",
    Mode.custom: "Non-standard combination",
}

# The vSphere Client's names for the choices (6.x+ drop-down; 4.x/5.x radio buttons in brackets).
UI_CHOICE = {
    Mode.automatic: "Automatic",
    Mode.software: "Software CPU and MMU",
    Mode.hw_cpu: "Hardware CPU, Software MMU",
    Mode.hw_cpu_mmu: "Hardware CPU and MMU",
}
FLAG_VALUES = {  # (virtualExecUsage, virtualMmuUsage): the values PowerCLI sets
    Mode.automatic: ("hvAuto", "automatic"),
    Mode.software: ("hvOff", "off"),
    Mode.hw_cpu: ("hvOn", "off"),
    Mode.hw_cpu_mmu: ("hvOn", "on"),
}
_MODE_BY_FLAGS = {v: k for k, v in FLAG_VALUES.items()}


def configured_mode(exec_usage: str | None, mmu_usage: str | None) -> Mode:
    """Unset flags are automatic (the API default)."""
    return _MODE_BY_FLAGS.get((exec_usage or "hvAuto", mmu_usage or "automatic"), Mode.custom)


def flags_text(exec_usage: str | None, mmu_usage: str | None) -> str:
    """The two values behind the vSphere Client's choice, by the report's labels for them (the
    values are what PowerCLI sets): 'CPU setting hvOn, MMU setting on'."""
    e = exec_usage or "not set (= hvAuto)"
    m = mmu_usage or "not set (= automatic)"
    return f"CPU setting {e}, MMU setting {m}"


def setting_text(a: Assessment) -> str:
    return f"Current setting: {a.mode.short} [{flags_text(a.vm.virtual_exec_usage, a.vm.virtual_mmu_usage)}]."


def _version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", version)[:3])


@dataclass(frozen=True)
class HostView:
    """What the checks need from the VM's host."""

    moid: str
    name: str
    version: str | None
    cluster: str | None
    connection_state: str | None
    hw_exec: bool | None
    hw_mmu: bool | None
    exec_ignored: bool | None
    mmu_ignored: bool | None
    ignores: bool | None  # the host ignores the per-VM setting (ESXi 6.7+)
    ignores_basis: str  # capability | version | unknown
    vendor: str | None  # intel | amd | None

    @property
    def support(self) -> str:
        if self.hw_exec is False:
            return "none"
        if self.hw_exec and self.hw_mmu:
            return "hw_cpu_mmu"
        if self.hw_exec and self.hw_mmu is False:
            return "hw_cpu"
        return "unknown"

    @property
    def support_label(self) -> str:
        if self.ignores:
            return f"per-VM setting ignored (ESXi {self.version or '6.7+'})"
        return {
            "hw_cpu_mmu": "VT-x/AMD-V + EPT/RVI",
            "hw_cpu": "VT-x/AMD-V only, no EPT/RVI",
            "none": "no VT-x/AMD-V",
            "unknown": "VT-x/AMD-V yes, EPT/RVI not collected" if self.hw_exec else "not collected",
        }[self.support]

    @classmethod
    def of(cls, host: Host, settings: CpuMmuSettings) -> HostView:
        if host.exec_usage_ignored is not None or host.mmu_usage_ignored is not None:
            ignores: bool | None = bool(host.exec_usage_ignored) or bool(host.mmu_usage_ignored)
            basis = "capability"
        elif host.version and re.match(r"\d", host.version):
            ignores = _version_tuple(host.version) >= _version_tuple(settings.setting_ignored_from_version)
            basis = "version"
        else:
            ignores, basis = None, "unknown"
        model = (host.cpu_model or "").lower()
        vendor = "intel" if "intel" in model else "amd" if ("amd" in model or "hygon" in model) else None
        return cls(host.moid, host.name, host.version, host.cluster, host.connection_state,
                   host.hw_exec_supported, host.hw_mmu_supported, host.exec_usage_ignored,
                   host.mmu_usage_ignored, ignores, basis, vendor)


@dataclass(frozen=True)
class Assessment:
    vc: VCenter
    vm: VM
    configured: OsIdentity
    tools: OsIdentity
    mode: Mode
    host: HostView | None
    effective: Mode | None
    effective_reason: str
    candidates: tuple[str, ...] = field(default=())  # same-cluster hosts able to run hw CPU+MMU

    # -- identity ---------------------------------------------------------------
    @property
    def running(self) -> OsIdentity:
        """The OS actually running: what Tools reports, else what is configured."""
        return self.tools if self.tools.known else self.configured

    @property
    def is_win2003(self) -> bool:
        """Windows 2003 by either source (the fleet table lists these)."""
        return self.configured.win2003 or self.tools.win2003

    @property
    def runs_win2003(self) -> bool:
        return self.running.win2003

    @property
    def bitness(self) -> int | None:
        first = self.running if self.running.win2003 else self.configured
        if first.bitness:
            return first.bitness
        other = self.configured if first is self.tools else self.tools
        return other.bitness if other.win2003 else None

    @property
    def service_pack(self) -> int | None:
        return self.tools.service_pack if self.tools.service_pack is not None else self.configured.service_pack

    def sp_text(self, settings: CpuMmuSettings) -> str | None:
        """None for a guest that is not Windows 2003: a service pack means nothing for it."""
        if not self.is_win2003:
            return None
        if self.service_pack is not None:
            return f"SP{self.service_pack} reported"
        return "SP2 assumed, not reported" if settings.assume_sp2_when_unknown else "service pack not reported"

    @property
    def os_mismatch(self) -> bool:
        """Configured and Tools-reported OS disagree, and Windows 2003 is on at least one side."""
        c, t = self.configured, self.tools
        if not (c.known and t.known) or not (c.win2003 or t.win2003):
            return False
        if c.win2003 != t.win2003:
            return True
        if c.guest_id and t.guest_id:
            return c.guest_id != t.guest_id
        return bool(c.bitness and t.bitness and c.bitness != t.bitness)

    @property
    def powered_on(self) -> bool:
        return self.vm.power_state == "poweredOn"

    @property
    def power_note(self) -> str:
        state = self.vm.power_state
        if state == "poweredOn":
            return "The change needs a power cycle (power off, then on)."
        if state == "suspended":
            return "The VM is suspended: a change applies after it is powered off and on again."
        return "The VM is powered off: a change applies at its next power-on."

    def evidence(self, settings: CpuMmuSettings) -> dict[str, object]:
        h = self.host
        return {
            "configured_guest_id": self.configured.guest_id,
            "configured_guest_full_name": self.configured.full_name,
            "tools_guest_id": self.tools.guest_id,
            "tools_guest_full_name": self.tools.full_name,
            "windows_2003_by": ", ".join(s for s, i in (("configured", self.configured), ("tools", self.tools)) if i.win2003) or None,
            "bitness": self.bitness,
            **({"service_pack": sp} if (sp := self.sp_text(settings)) else {}),
            "power_state": self.vm.power_state,
            "virtual_exec_usage": self.vm.virtual_exec_usage,
            "virtual_mmu_usage": self.vm.virtual_mmu_usage,
            "configured_mode": self.mode.short,
            "effective_mode": self.effective.label if self.effective else None,
            "effective_mode_reason": self.effective_reason,
            "host": h.name if h else self.vm.host,
            "host_version": h.version if h else None,
            "host_hw_exec_supported": h.hw_exec if h else None,
            "host_hw_mmu_supported": h.hw_mmu if h else None,
            "host_exec_usage_ignored": h.exec_ignored if h else None,
            "host_mmu_usage_ignored": h.mmu_ignored if h else None,
            "host_ignores_setting": h.ignores if h else None,
            "host_ignores_basis": h.ignores_basis if h else None,
            "reference": f"{KB} ({KB_URL}); docs/methodology.md#cpu-mmu-win2003",
        }


def _effective(mode: Mode, configured: OsIdentity, bitness: int | None, host: HostView | None) -> tuple[Mode | None, str]:
    if host is None:
        return None, "the VM's host is not in the collected inventory"
    if host.ignores:
        return Mode.hw_cpu_mmu, (f"ESXi {host.version or '6.7+'} ignores the per-VM setting and always uses hardware "
                                 "CPU and MMU virtualization (vSphere 6.7 VM administration guide; docs/methodology.md#cpu-mmu-win2003)")
    if host.ignores is None:
        return None, "the host's version and capabilities were not collected"
    if mode is Mode.automatic:
        if configured.win2003 and configured.bitness == 32:
            return Mode.software, ("Automatic resolves to binary translation + shadow page tables for a VM configured as "
                                   f"32-bit Windows 2003 ({KB})")
        if host.hw_exec is False and bitness != 64:
            return Mode.software, "Automatic on a host without VT-x/AMD-V: binary translation is the only mode"
        return None, (f"Automatic lets ESX(i) choose by the configured guest type ({configured.label}); {KB} "
                      "documents that choice only for 32-bit Windows 2003")
    if mode is Mode.software:
        if bitness == 64:
            if host.vendor == "intel" and host.hw_exec:
                return Mode.hw_cpu, ("forced software CPU is ineffective: 64-bit guests cannot use binary translation on "
                                     "Intel CPUs, the monitor uses VT-x anyway (docs/methodology.md#cpu-mmu-win2003); the MMU stays software")
            return None, ("forced software CPU on a 64-bit guest: ineffective on Intel CPUs (docs/methodology.md#cpu-mmu-win2003); on this "
                          f"{'AMD' if host.vendor == 'amd' else 'host (CPU vendor not collected)'} the outcome is not documented here")
        return Mode.software, "forced by the setting"
    if mode is Mode.hw_cpu:
        if host.hw_exec:
            return Mode.hw_cpu, "forced by the setting"
        if host.hw_exec is False:
            return Mode.software, ("the CPU setting 'hvOn' means 'use hardware virtualization if the physical "
                                   "hardware supports it'; this host reports no VT-x/AMD-V, so the VM runs with "
                                   "binary translation")
        return None, "the host's hardware virtualization support was not collected"
    if mode is Mode.hw_cpu_mmu:
        if host.hw_exec and host.hw_mmu:
            return Mode.hw_cpu_mmu, "forced by the setting"
        if host.hw_exec and host.hw_mmu is False:
            return Mode.hw_cpu, ("the MMU setting 'on' means 'use nested paging if the physical hardware supports it'; this "
                                 "host reports no EPT/RVI, so the MMU falls back to shadow page tables")
        if host.hw_exec is False:
            return Mode.software, "the host reports no VT-x/AMD-V, so the VM runs with binary translation"
        return None, "the host's hardware virtualization support was not collected"
    return None, (f"not one of the four combinations of {KB} (the vSphere Client does not offer it); what the "
                  "host makes of it is not documented there")


@dataclass(frozen=True)
class HostIndex:
    """One vCenter's hosts, viewed once (not once per VM)."""

    views: dict[str, HostView]
    capable: dict[str, tuple[tuple[str, str], ...]]  # cluster -> (moid, name) able to run hw CPU+MMU
    _candidates: dict[tuple[str, str], tuple[str, ...]] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def of(cls, vc: VCenter, settings: CpuMmuSettings) -> HostIndex:
        views = {moid: HostView.of(h, settings) for moid, h in vc.hosts.items()}
        capable: dict[str, list[tuple[str, str]]] = {}
        for v in views.values():
            if v.cluster and v.connection_state == "connected" and v.support == "hw_cpu_mmu" and v.ignores is False:
                capable.setdefault(v.cluster, []).append((v.moid, v.name))
        return cls(views, {c: tuple(sorted(hs, key=lambda h: h[1])) for c, hs in capable.items()})

    def candidates(self, host: HostView | None) -> tuple[str, ...]:
        """Other hosts of the same cluster that could run the KB's recommended mode."""
        if host is None or not host.cluster:
            return ()
        key = (host.cluster, host.moid)
        found = self._candidates.get(key)
        if found is None:  # once per host, not once per VM (16 per cluster, 20 VMs per host)
            found = self._candidates[key] = tuple(
                name for moid, name in self.capable.get(host.cluster, ()) if moid != host.moid)
        return found


def assess(vc: VCenter, vm: VM, settings: CpuMmuSettings, index: HostIndex | None = None) -> Assessment:
    index = index or HostIndex.of(vc, settings)
    configured = identify(vm.guest_id, vm.guest_full_name)
    tools = identify(vm.tools_guest_id, vm.tools_guest_full_name)
    mode = configured_mode(vm.virtual_exec_usage, vm.virtual_mmu_usage)
    host = index.views.get(vm.host) if vm.host else None
    running = tools if tools.known else configured
    bitness = running.bitness if running.win2003 else configured.bitness
    effective, reason = _effective(mode, configured, bitness, host)
    return Assessment(vc, vm, configured, tools, mode, host, effective, reason, index.candidates(host))


def in_scope(vm: VM, settings: CpuMmuSettings) -> bool:
    if vm.template and not settings.include_templates:
        return False
    return not (vm.power_state != "poweredOn" and not settings.include_powered_off)


def assessments(ctx: CheckContext) -> Iterator[Assessment]:
    """Every in-scope VM of the snapshot, assessed (deterministic order)."""
    # Six checks and the fleet tables read the same assessments: computed once per check run.
    return iter(ctx.memo("cpu_mmu.assessments", lambda: list(_assess_all(ctx))))


def _assess_all(ctx: CheckContext) -> Iterator[Assessment]:
    settings = ctx.settings.get(CpuMmuSettings)
    for vc in ctx.snapshot.vcenters.values():
        index = HostIndex.of(vc, settings)
        for moid in sorted(vc.vms):
            vm = vc.vms[moid]
            if in_scope(vm, settings):
                yield assess(vc, vm, settings, index)


def skipped_note(ctx: CheckContext) -> list[str]:
    settings = ctx.settings.get(CpuMmuSettings)
    off = ctx.memo("cpu_mmu.skipped", lambda: sum(  # six checks ask: counted once per check run
        1 for vc in ctx.snapshot.vcenters.values() for vm in vc.vms.values()
        if not vm.template and vm.power_state != "poweredOn" and not settings.include_powered_off))
    return [f"{off} powered-off/suspended VMs not checked (include_powered_off = false)"] if off else []
