"""cpu-mmu checks (KB2001372, docs/methodology.md (section 7 topics)): every guest id / Tools-reported OS / flag pair /
host capability combination the checks distinguish, with the exact advice each gets."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from cpu_mmu_fixtures import (
    R2008,
    RHEL6,
    SBS,
    W32,
    W32D,
    W32E,
    W64,
    W64D,
    W64E,
    W2016,
    WEB,
    context,
    cpu_findings,
    make_snapshot,
    make_vm,
)

from reporter.checks import load_all
from reporter.checks.cpu_mmu.advice import recommendation
from reporter.checks.cpu_mmu.assess import Mode, assess
from reporter.checks.cpu_mmu.settings import CpuMmuSettings
from reporter.checks.tables import build_tables
from reporter.core.findings import Severity, Status

INFO, LOW, MED = Severity.info, Severity.low, Severity.medium
FAIL, WARN = Status.fail, Status.warn
SET_HW = "Set Hardware CPU and MMU (hvOn + on); power cycle"


@dataclass
class Case:
    id: str
    vm: dict[str, Any]
    findings: dict[str, tuple[Severity, Status]]
    effective: Mode | None
    advice: str | None  # the fleet table's recommendation; None = not a Windows 2003 VM (not in the table)
    settings: dict[str, Any] = field(default_factory=dict)


CASES = [
    # 32-bit on a host with VT-x/AMD-V + EPT/RVI: every mode but Hardware CPU and MMU fails.
    Case("std32-unset", dict(guest=W32), {"CPU-001": (MED, FAIL)}, Mode.software, SET_HW),
    Case("ent32-explicit-auto", dict(guest=W32E, ex="hvAuto", mmu="automatic"), {"CPU-001": (MED, FAIL)},
         Mode.software, SET_HW),
    Case("dc32-software", dict(guest=W32D, ex="hvOff", mmu="off"), {"CPU-001": (MED, FAIL)}, Mode.software, SET_HW),
    Case("web32-hwcpu", dict(guest=WEB, ex="hvOn", mmu="off"), {"CPU-001": (MED, FAIL)}, Mode.hw_cpu, SET_HW),
    Case("sbs-hw-both", dict(guest=SBS, ex="hvOn", mmu="on"), {}, Mode.hw_cpu_mmu,
         "No change: already Hardware CPU and MMU as KB2001372 recommends"),
    Case("std32-custom-pair", dict(guest=W32, ex="hvOn", mmu="automatic"), {"CPU-001": (MED, FAIL)}, None, SET_HW),
    Case("std32-custom-hvoff-on", dict(guest=W32, ex="hvOff", mmu="on"), {"CPU-001": (MED, FAIL)}, None, SET_HW),
    # Service pack from the Tools full name.
    Case("std32-sp1", dict(guest=W32, tools=(W32[0], "Microsoft Windows Server 2003 Standard Service Pack 1 (32-bit)")),
         {"CPU-001": (LOW, WARN)}, Mode.software, "Install SP2, then set Hardware CPU and MMU (hvOn + on)"),
    Case("std32-sp1-already-hw", dict(guest=W32, ex="hvOn", mmu="on",
                                      tools=(W32[0], "Microsoft Windows Server 2003, Standard Edition SP1")),
         {"CPU-001": (LOW, WARN)}, Mode.hw_cpu_mmu, "Install SP2, then set Hardware CPU and MMU (hvOn + on)"),
    Case("std32-sp2-reported", dict(guest=W32, tools=(W32[0], "Microsoft Windows Server 2003 Standard Service Pack 2 (32-bit)")),
         {"CPU-001": (MED, FAIL)}, Mode.software, SET_HW),
    Case("std32-sp2-hw", dict(guest=W32, ex="hvOn", mmu="on",
                              tools=(W32[0], "Microsoft Windows Server 2003 Standard Service Pack 2 (32-bit)")),
         {}, Mode.hw_cpu_mmu, "No change: already Hardware CPU and MMU as KB2001372 recommends"),
    Case("std32-sp-unknown-not-assumed", dict(guest=W32), {"CPU-001": (LOW, WARN)}, Mode.software,
         "Confirm SP2, then set Hardware CPU and MMU (hvOn + on); power cycle",
         settings={"assume_sp2_when_unknown": False}),
    Case("std32-sp1-before-assumption", dict(guest=W32, tools=(W32[0], "Windows Server 2003 Service Pack 1")),
         {"CPU-001": (LOW, WARN)}, Mode.software, "Install SP2, then set Hardware CPU and MMU (hvOn + on)",
         settings={"assume_sp2_when_unknown": False}),
    # Hosts without the hardware feature: the advice differs (CPU-002), never CPU-001.
    Case("std32-noept-auto", dict(guest=W32, host="host-noept"), {"CPU-002": (LOW, WARN)}, Mode.software,
         "Host has no EPT/RVI: move to a host with EPT/RVI, then set Hardware CPU and MMU"),
    Case("std32-noept-hw-both", dict(guest=W32, host="host-noept", ex="hvOn", mmu="on"), {"CPU-002": (LOW, WARN)},
         Mode.hw_cpu, "Host has no EPT/RVI: move to a host with EPT/RVI, then set Hardware CPU and MMU"),
    Case("std32-nohv-hwcpu", dict(guest=W32, host="host-nohv", ex="hvOn", mmu="off"), {"CPU-002": (LOW, WARN)},
         Mode.software,
         "Host has no VT-x/AMD-V: move to a host with VT-x/AMD-V + EPT/RVI, then set Hardware CPU and MMU"),
    Case("std32-host-unknown", dict(guest=W32, host="host-unknown"), {"CPU-002": (INFO, WARN)}, None,
         "Host capabilities not collected: verify VT-x/AMD-V + EPT/RVI, then apply KB2001372"),
    # Already set as the KB recommends: a host that reports no capabilities is a note on CPU-002, no warning.
    Case("std32-host-unknown-set-right", dict(guest=W32, host="host-unknown", ex="hvOn", mmu="on"), {}, None,
         "No change: already Hardware CPU and MMU as KB2001372 recommends (host capabilities not collected)"),
    Case("std32-sp1-noept", dict(guest=W32, host="host-noept", tools=(W32[0], "Windows Server 2003 SP1")),
         {}, Mode.software, "Install SP2, then set Hardware CPU and MMU (hvOn + on)"),
    # ESXi 6.7+ ignores the setting: info only (capability flags, or the version when they were not collected).
    Case("std32-67-hw-both", dict(guest=W32, host="host-67", ex="hvOn", mmu="on"), {"CPU-003": (INFO, WARN)},
         Mode.hw_cpu_mmu, "Remove the setting (set Automatic): ESXi 6.7+ ignores it"),
    Case("std32-67-auto", dict(guest=W32, host="host-67"), {}, Mode.hw_cpu_mmu,
         "No change: ESXi 6.7+ always uses hardware assist"),
    Case("std64-70-software", dict(guest=W64, host="host-70", ex="hvOff", mmu="off"), {"CPU-003": (INFO, WARN)},
         Mode.hw_cpu_mmu, "Remove the setting (set Automatic): ESXi 6.7+ ignores it"),
    Case("std32-65-auto", dict(guest=W32, host="host-65"), {"CPU-001": (MED, FAIL)}, Mode.software, SET_HW),
    # 64-bit: forced software CPU is an ineffective setting (on Intel), not a KB2001372 case.
    Case("std64-software-intel", dict(guest=W64, ex="hvOff", mmu="off"), {"CPU-004": (LOW, WARN)}, Mode.hw_cpu,
         "Set Automatic: forced software CPU is ineffective for 64-bit guests"),
    Case("ent64-software-amd", dict(guest=W64E, host="host-amd", ex="hvOff", mmu="off"), {"CPU-004": (LOW, WARN)},
         None, "Set Automatic: forced software CPU is ineffective for 64-bit guests"),
    Case("dc64-auto", dict(guest=W64D), {}, None, "No change (KB2001372 covers 32-bit Windows 2003)"),
    Case("ent64-hwcpu", dict(guest=W64E, ex="hvOn", mmu="off"), {}, Mode.hw_cpu,
         "No change (KB2001372 covers 32-bit Windows 2003)"),
    # Not Windows 2003: a forced mode is information, never a failure.
    Case("rhel-forced", dict(guest=RHEL6, ex="hvOff", mmu="off"), {"CPU-005": (INFO, WARN)}, Mode.software, None),
    Case("rhel-auto", dict(guest=RHEL6), {}, None, None),
    Case("w2016-forced-on-67", dict(guest=W2016, host="host-67", ex="hvOn", mmu="on"), {"CPU-005": (INFO, WARN)},
         Mode.hw_cpu_mmu, None),
    # Configured vs Tools-reported OS.
    Case("mislabeled-2008-runs-2003", dict(guest=R2008, tools=W32E), {"CPU-001": (MED, FAIL), "CPU-006": (LOW, FAIL)},
         None, SET_HW + "; fix the configured guest OS"),
    Case("configured-2003-runs-2008", dict(guest=W32, tools=R2008), {"CPU-006": (LOW, FAIL)}, Mode.software,
         "Not running Windows 2003 per VMware Tools (Microsoft Windows Server 2008 R2 (64-bit)); fix the configured guest OS"),
    Case("edition-differs", dict(guest=W32, tools=W32E), {"CPU-001": (MED, FAIL), "CPU-006": (INFO, FAIL)},
         Mode.software, SET_HW + "; fix the configured guest OS"),
    Case("bitness-differs", dict(guest=W32, tools=W64), {"CPU-006": (LOW, FAIL)}, Mode.software,
         "No change (KB2001372 covers 32-bit Windows 2003); fix the configured guest OS"),
    Case("tools-name-only", dict(guest=("otherGuest", "Other (32-bit)"),
                                 tools=(None, "Microsoft Windows Server 2003, Standard Edition (32-bit)")),
         {"CPU-001": (MED, FAIL), "CPU-006": (LOW, FAIL)}, None, SET_HW + "; fix the configured guest OS"),
    Case("tools-not-running", dict(guest=W32, tools=None), {"CPU-001": (MED, FAIL)}, Mode.software, SET_HW),
    Case("tools-generic-name-no-bitness", dict(guest=(None, None), tools=(None, "Microsoft Windows Server 2003")),
         {}, None, "Check the guest OS: bitness not reported"),
    # Powered off / suspended / templates.
    Case("std32-off", dict(guest=W32, power="poweredOff", tools=None), {"CPU-001": (MED, FAIL)}, Mode.software, SET_HW),
    Case("std32-suspended", dict(guest=W32, power="suspended"), {"CPU-001": (MED, FAIL)}, Mode.software, SET_HW),
    Case("std32-template", dict(guest=W32, template=True, power="poweredOff"), {}, Mode.software, None),
    Case("std32-template-included", dict(guest=W32, template=True, power="poweredOff"), {"CPU-001": (MED, FAIL)},
         Mode.software, SET_HW, settings={"include_templates": True}),
    Case("std32-off-excluded", dict(guest=W32, power="poweredOff"), {}, Mode.software, None,
         settings={"include_powered_off": False}),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_case(case: Case) -> None:
    vm = make_vm(case.id, **case.vm)
    ctx = context(make_snapshot(vm), **case.settings)
    got = {f.check_id: (f.severity, f.status) for f in cpu_findings(ctx)}
    assert got == case.findings
    settings = ctx.settings.get(CpuMmuSettings)
    (vc,) = ctx.snapshot.vcenters.values()
    a = assess(vc, vm, settings)
    assert a.effective == case.effective
    rows = {t.id: t.rows for t in build_tables(ctx) if t.family == "cpu-mmu"}["cpu_mmu_win2003_vms"]
    if case.advice is None:
        assert rows == []
    else:
        assert [r[-1] for r in rows] == [case.advice]
        assert recommendation(a, settings) == case.advice


def test_findings_point_at_the_vm() -> None:
    vm = make_vm("app01", guest=W32)
    (f,) = cpu_findings(context(make_snapshot(vm)))
    assert (f.check_id, f.vcenter, f.object_type, f.object_name, f.object_id) == (
        "CPU-001", "vc01", "vm", "app01", "5c2d0f1e-0000-4000-8000-00000000c0de/vm-app01")


def test_vm_set_right_on_a_host_without_capabilities_is_a_note_not_a_warning() -> None:
    right = make_vm("right", guest=W32, host="host-unknown", ex="hvOn", mmu="on")
    auto = make_vm("auto", guest=W32, host="host-unknown")
    result = load_all()["CPU-002"].run(context(make_snapshot(right, auto)))
    assert [(f.object_name, f.severity, f.status) for f in result.findings] == [("auto", INFO, WARN)]
    assert result.checked == 2
    assert result.notes == [
        "1 VM already set to Hardware CPU and MMU runs on hosts whose hardware virtualization support "
        "(VT-x/AMD-V, EPT/RVI) was not collected: the setting is right; whether the host honours it (it falls back "
        "to software on a host without the features) is not determined. Check the hosts' connection state and the "
        "collector's privileges."]


def test_checked_counts_and_skip_note() -> None:
    vms = [make_vm("a", guest=W32), make_vm("b", guest=W32, host="host-noept"), make_vm("c", guest=W64),
           make_vm("d", guest=RHEL6), make_vm("e", guest=W32, power="poweredOff"),
           make_vm("f", guest=W32, host="host-67")]
    ctx = context(make_snapshot(*vms), include_powered_off=False)
    checks = load_all()
    got = {cid: (checks[cid].run(ctx).checked, checks[cid].run(ctx).notes) for cid in checks if cid.startswith("CPU-")}
    note = ["1 powered-off/suspended VMs not checked (include_powered_off = false)"]
    assert got == {
        "CPU-001": (1, note),  # a (b lacks EPT, f is on 6.7)
        "CPU-002": (2, note),  # a, b
        "CPU-003": (1, note),  # f
        "CPU-004": (1, note),  # c
        "CPU-005": (1, note),  # d
        "CPU-006": (4, note),  # a, b, c, f
    }
