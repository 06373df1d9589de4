"""Report tables of the cpu-mmu family: Windows 2003 VMs by mode, and counts by mode."""

from __future__ import annotations

from collections import Counter

from reporter.checks.base import CheckContext
from reporter.checks.cpu_mmu import FAMILY
from reporter.checks.cpu_mmu.advice import recommendation
from reporter.checks.cpu_mmu.assess import KB, Assessment, Mode, assessments
from reporter.checks.cpu_mmu.settings import CpuMmuSettings
from reporter.checks.tables import Table, register_tables
from reporter.core import states

VM_COLUMNS = [
    "vCenter", "VM", "Power state", "Configured OS", "Tools-reported OS", "Bitness", "Service pack",
    "CPU virtualization setting", "MMU virtualization setting", "Configured mode", "Effective mode on current host", "Host", "ESXi",
    "Host hardware support", "Recommendation",
]
COUNT_COLUMNS = ["Configured mode", "Effective mode on current host", "32-bit", "64-bit", "Bitness unknown", "Total"]
_MODE_ORDER = {m: i for i, m in enumerate(Mode)}


def _effective_text(a: Assessment) -> str:
    return a.effective.label if a.effective else "Not determined"


def _effective_order(mode: Mode | None) -> int:
    return len(_MODE_ORDER) if mode is None else _MODE_ORDER[mode]  # "not determined" last


def _sort_key(a: Assessment) -> tuple[int, int, str, str]:
    return (_MODE_ORDER[a.mode], _effective_order(a.effective), a.vc.name, a.vm.name)


def _vm_row(a: Assessment, settings: CpuMmuSettings) -> list[str | int | None]:
    h = a.host
    return [
        a.vc.name, a.vm.name, states.power_state(a.vm.power_state),
        a.configured.label if a.configured.known else None,
        a.tools.label if a.tools.known else "not reported",
        a.bitness,
        a.sp_text(settings),
        states.cpu_setting(a.vm.virtual_exec_usage),
        states.mmu_setting(a.vm.virtual_mmu_usage),
        a.mode.short,
        _effective_text(a),
        h.name if h else a.vm.host,
        h.version if h else None,
        h.support_label if h else "host not in snapshot",
        recommendation(a, settings),
    ]


@register_tables(FAMILY.id)
def win2003_tables(ctx: CheckContext) -> list[Table]:
    settings = ctx.settings.get(CpuMmuSettings)
    found = sorted((a for a in assessments(ctx) if a.is_win2003), key=_sort_key)
    none_note = "No Windows Server 2003 VMs in this snapshot (by configured or Tools-reported guest OS)."
    vm_table = Table(
        id="cpu_mmu_win2003_vms",
        family=FAMILY.id,
        title="Windows Server 2003 VMs by CPU/MMU virtualization mode",
        columns=VM_COLUMNS,
        rows=[_vm_row(a, settings) for a in found],
        note=(f"Effective mode = the mode the VM runs in on its current host ({KB}: Automatic resolves to binary "
              "translation + shadow page tables for 32-bit Windows 2003; ESXi 6.7+ always uses hardware assist). "
              "A VM identified only by one source (configured or Tools) is listed too."
              if found else none_note),
    )
    counts: Counter[tuple[Mode, Mode | None, int | None]] = Counter((a.mode, a.effective, a.bitness) for a in found)
    keys = sorted({(m, e) for m, e, _ in counts}, key=lambda k: (_MODE_ORDER[k[0]], _effective_order(k[1])))
    rows: list[list[str | int | None]] = []
    for mode, eff in keys:
        b32, b64, unk = counts[(mode, eff, 32)], counts[(mode, eff, 64)], counts[(mode, eff, None)]
        rows.append([mode.short, eff.label if eff else "Not determined", b32, b64, unk, b32 + b64 + unk])
    if rows:
        rows.append(["All", "", sum(r[2] for r in rows), sum(r[3] for r in rows),  # type: ignore[misc]
                     sum(r[4] for r in rows), sum(r[5] for r in rows)])  # type: ignore[misc]
    count_table = Table(
        id="cpu_mmu_mode_counts",
        family=FAMILY.id,
        title="Windows Server 2003 VMs: counts by CPU/MMU mode",
        columns=COUNT_COLUMNS,
        rows=rows,
        note=None if found else none_note,
    )
    return [count_table, vm_table]
