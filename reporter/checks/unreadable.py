"""Which checks could not be evaluated, and for how many objects, because the collector's
role could not read a property they rest on (PropertyCollector ``missingSet``, recorded per
object in ``unreadable``; docs/methodology.md#collection).

``NEEDS`` says which vSphere properties each check reads, per object kind. The engine adds
one note per affected check: "could not be evaluated for 3 VM(s): no permission to read
config.extraConfig (privilege System.Read)". A check id missing here gets no such note.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from reporter.checks.helpers import counted
from reporter.core.model import Snapshot

Kind = str  # "vms" | "hosts" | "datastores"

_SNAP = ("snapshot",)
_CBT_VM = ("config.changeTrackingEnabled", "config.hardware.device", "config.extraConfig", "config.version",
           "runtime.powerState")
_CPU_VM = ("config.guestId", "config.guestFullName", "guest.guestId", "guest.guestFullName",
           "config.flags.virtualExecUsage", "config.flags.virtualMmuUsage", "runtime.powerState", "runtime.host")
_CPU_HOST = ("capability.virtualExecUsageSupported", "capability.cpuHwMmuSupported",
             "capability.virtualExecUsageIgnored", "capability.virtualMmuUsageIgnored", "summary.config.product")
_IOCAP_VM = ("config.hardware.device", "config.extraConfig", "runtime.host")
_SIOC_DS = ("summary", "iormConfiguration", "capability.storageIORMSupported", "vm", "host")
_VRAM_VM = ("runtime.powerState", "config.hardware.memoryMB", "runtime.host", "config.template")

NEEDS: dict[str, dict[Kind, tuple[str, ...]]] = {
    "SNAP-001": {"vms": _SNAP},
    "SNAP-002": {"vms": _SNAP},
    "SNAP-003": {"vms": (*_SNAP, "layoutEx"), "datastores": ("summary",)},
    "SNAP-004": {"vms": ("runtime.consolidationNeeded",)},
    "SNAP-005": {"vms": _SNAP},
    "SNAP-006": {"vms": (*_SNAP, "config.hardware.device")},
    **{f"CBT-00{i}": {"vms": _CBT_VM} for i in range(1, 6)},
    "CBT-006": {"vms": ("config.changeTrackingEnabled", "config.hardware.device", "runtime.host"),
                "hosts": ("summary.config.product",)},
    **{f"CPU-00{i}": {"vms": _CPU_VM, "hosts": _CPU_HOST} for i in range(1, 7)},
    **{f"IOCAP-00{i}": {"vms": _IOCAP_VM, "hosts": ("summary.config.product",)} for i in range(1, 10)},
    **{f"SIOC-00{i}": {"datastores": _SIOC_DS} for i in range(1, 5)},
    **{f"LIC-00{i}": {"vms": _VRAM_VM, "hosts": ("hardware.cpuInfo", "summary.config.product")}
       for i in range(1, 6)},
    "GEN-001": {"hosts": ("runtime.connectionState",)},
}

_KIND_LABEL = {"vms": "VM", "hosts": "host", "datastores": "datastore"}


def _covers(unreadable: str, needed: str) -> bool:
    """An unreadable ``config`` hides ``config.version``; an unreadable ``config.version`` is part of ``config``."""
    return unreadable == needed or needed.startswith(unreadable + ".") or unreadable.startswith(needed + ".")


@dataclass(frozen=True)
class Gap:
    kind: Kind
    objects: int
    reasons: tuple[str, ...]  # "config.extraConfig: no permission (privilege System.Read)"


def gaps(snapshot: Snapshot, needs: dict[Kind, tuple[str, ...]]) -> list[Gap]:
    out: list[Gap] = []
    for kind, paths in needs.items():
        count = 0
        reasons: set[str] = set()
        for vc in snapshot.vcenters.values():
            objects: Iterable[object] = getattr(vc, kind).values()
            for obj in objects:
                unreadable: dict[str, str] = getattr(obj, "unreadable", {})
                hit = [(p, why) for p, why in unreadable.items() if any(_covers(p, n) for n in paths)]
                if hit:
                    count += 1
                    reasons.update(f"{p}: {why}" for p, why in hit)
        if count:
            out.append(Gap(kind, count, tuple(sorted(reasons))))
    return out


def notes_for(check_id: str, snapshot: Snapshot) -> list[str]:
    """The "could not be evaluated" notes of one check ([] when everything it reads was readable)."""
    needs = NEEDS.get(check_id)
    if not needs:
        return []
    out = []
    for gap in gaps(snapshot, needs):
        shown = "; ".join(gap.reasons[:3]) + (f"; and {len(gap.reasons) - 3} more" if len(gap.reasons) > 3 else "")
        out.append(f"Could not be evaluated for {counted(gap.objects, _KIND_LABEL[gap.kind])}: unknown, {shown}. "
                   "Grant the collector's role the privilege named (README, minimal vCenter role).")
    return out
