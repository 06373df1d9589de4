"""cpu-mmu: the Windows 2003 data file, guest identification, settings and the fleet tables."""

from __future__ import annotations

import pytest
from cpu_mmu_fixtures import HOSTS, R2008, RHEL6, SBS, W32, W32E, W64, context, cpu_findings, make_snapshot, make_vm

from reporter.checks.cpu_mmu.assess import Mode, assess, configured_mode
from reporter.checks.cpu_mmu.guests import identify, table
from reporter.checks.cpu_mmu.settings import CpuMmuSettings
from reporter.checks.tables import build_tables
from reporter.config.settings import validate_thresholds
from reporter.errors import ConfigError


def test_data_file_has_the_eight_ids_of_section_7_each_with_a_source() -> None:
    t = table()
    assert {(r.id, r.bitness, r.edition) for r in t.guest_ids} == {
        ("winNetStandardGuest", 32, "Standard"), ("winNetEnterpriseGuest", 32, "Enterprise"),
        ("winNetDatacenterGuest", 32, "Datacenter"), ("winNetWebGuest", 32, "Web"),
        ("winNetBusinessGuest", 32, "Small Business Server"), ("winNetStandard64Guest", 64, "Standard"),
        ("winNetEnterprise64Guest", 64, "Enterprise"), ("winNetDatacenter64Guest", 64, "Datacenter"),
    }
    rows = [*t.guest_ids, *t.name_patterns, *t.bitness_markers, t.service_pack]
    assert all(r.source.strip() for r in rows)


@pytest.mark.parametrize("guest_id, bitness, edition", [
    ("winNetStandardGuest", 32, "Standard"), ("winNetEnterpriseGuest", 32, "Enterprise"),
    ("winNetDatacenterGuest", 32, "Datacenter"), ("winNetWebGuest", 32, "Web"),
    ("winNetBusinessGuest", 32, "Small Business Server"), ("winNetStandard64Guest", 64, "Standard"),
    ("winNetEnterprise64Guest", 64, "Enterprise"), ("winNetDatacenter64Guest", 64, "Datacenter"),
])
def test_each_guest_id(guest_id: str, bitness: int, edition: str) -> None:
    i = identify(guest_id, None)
    assert (i.win2003, i.bitness, i.edition, i.service_pack, i.matched_by) == (True, bitness, edition, None, "guest_id")


@pytest.mark.parametrize("name, bitness, edition, sp", [
    ("Microsoft Windows Server 2003 Standard (32-bit)", 32, "Standard", None),
    ("Microsoft Windows Server 2003 Enterprise (64-bit)", 64, "Enterprise", None),
    ("Microsoft Windows Server 2003, Standard Edition (32-bit)", 32, "Standard", None),
    ("Microsoft Windows Server 2003, Datacenter Edition (64-bit)", 64, "Datacenter", None),
    ("Microsoft Windows Server 2003, Web Edition", 32, "Web", None),
    ("Microsoft Windows Server 2003 Web Edition (32-bit)", 32, "Web", None),
    ("Microsoft Windows Small Business Server 2003", 32, "Small Business Server", None),
    ("Microsoft Small Business Server 2003", 32, "Small Business Server", None),
    ("Microsoft Windows Server 2003 R2 Enterprise x64 Edition Service Pack 2", 64, "Enterprise", 2),
    ("Microsoft Windows Server 2003 R2, Standard Edition Service Pack 2 (32-bit)", 32, "Standard", 2),
    ("Microsoft Windows Server 2003 Standard Service Pack 1 (32-bit)", 32, "Standard", 1),
    ("Microsoft Windows Server 2003, Enterprise Edition SP2", None, "Enterprise", 2),
    ("Microsoft Windows Server 2003", None, None, None),
])
def test_tools_full_names(name: str, bitness: int | None, edition: str | None, sp: int | None) -> None:
    i = identify(None, name)
    assert (i.win2003, i.bitness, i.edition, i.service_pack, i.matched_by) == (True, bitness, edition, sp, "full_name")


@pytest.mark.parametrize("guest_id, name", [
    ("windows7Server64Guest", "Microsoft Windows Server 2008 R2 (64-bit)"),
    ("winXPPro64Guest", "Microsoft Windows XP Professional (64-bit)"),
    (None, "Microsoft Windows Server 2008 (32-bit)"),
    (None, "Microsoft Windows Server 2012 (64-bit)"),
    ("rhel6Guest", None),
    (None, None),
])
def test_not_windows_2003(guest_id: str | None, name: str | None) -> None:
    i = identify(guest_id, name)
    assert i.win2003 is False and i.known is bool(guest_id or name)


def test_id_wins_and_name_adds_the_service_pack() -> None:
    i = identify("winNetEnterpriseGuest", "Microsoft Windows Server 2003, Standard Edition Service Pack 2 (64-bit)")
    assert (i.bitness, i.edition, i.service_pack) == (32, "Enterprise", 2)


@pytest.mark.parametrize("ex, mmu, mode", [
    (None, None, Mode.automatic), ("hvAuto", "automatic", Mode.automatic), ("hvAuto", None, Mode.automatic),
    ("hvOff", "off", Mode.software), ("hvOn", "off", Mode.hw_cpu), ("hvOn", "on", Mode.hw_cpu_mmu),
    ("hvOn", "automatic", Mode.custom), ("hvOff", "on", Mode.custom), ("hvAuto", "off", Mode.custom),
    (None, "on", Mode.custom), ("hvSomething", "on", Mode.custom),
])
def test_configured_mode(ex: str | None, mmu: str | None, mode: Mode) -> None:
    assert configured_mode(ex, mmu) is mode


def test_settings_validated_from_config() -> None:
    got = validate_thresholds({"cpu-mmu": {"assume_sp2_when_unknown": False, "include_powered_off": False}}, "cfg.toml")
    assert got["cpu-mmu"].model_dump() == {
        "assume_sp2_when_unknown": False, "include_powered_off": False, "include_templates": False,
        "setting_ignored_from_version": "6.7", "max_candidate_hosts": 5}
    with pytest.raises(ConfigError, match=r"^cfg.toml: thresholds.cpu-mmu.assume_sp2: unknown key$"):
        validate_thresholds({"cpu-mmu": {"assume_sp2": True}}, "cfg.toml")
    with pytest.raises(ConfigError, match=r"^cfg.toml: thresholds.cpu-mmu.setting_ignored_from_version: "):
        validate_thresholds({"cpu-mmu": {"setting_ignored_from_version": "six"}}, "cfg.toml")


def test_version_threshold_setting_moves_the_ignored_boundary() -> None:
    vm = make_vm("a", guest=W32, host="host-65", ex="hvOn", mmu="on")
    assert [f.check_id for f in cpu_findings(context(make_snapshot(vm)))] == []
    assert [f.check_id for f in cpu_findings(context(make_snapshot(vm), setting_ignored_from_version="6.5"))] == [
        "CPU-003"]


def fleet(ctx) -> dict[str, list[list[object]]]:
    return {t.id: t.rows for t in build_tables(ctx) if t.family == "cpu-mmu"}


def test_fleet_tables_exact() -> None:
    vms = [
        make_vm("app01", guest=W32, moid="vm-1"),
        make_vm("app02", guest=W32E, ex="hvOn", mmu="on", moid="vm-2"),
        make_vm("db64", guest=W64, ex="hvOff", mmu="off", moid="vm-3"),
        make_vm("fax", guest=W32, host="host-noept", power="poweredOff", tools=None, moid="vm-4"),
        make_vm("mis", guest=R2008, tools=W32E, moid="vm-5"),
        make_vm("sbs", guest=SBS, host="host-67", ex="hvOn", mmu="off", moid="vm-6"),
        make_vm("lnx", guest=RHEL6, ex="hvOff", mmu="off", moid="vm-7"),
    ]
    tables = fleet(context(make_snapshot(*vms)))
    ept = ("esx-ept", "5.5.0", "VT-x/AMD-V + EPT/RVI")
    bt = "Software CPU and MMU (binary translation + shadow page tables)"
    sp2 = "SP2 assumed, not reported"
    assert tables["cpu_mmu_win2003_vms"] == [
        ["vc01", "app01", "Powered on", W32[1], W32[1], 32, sp2, "Automatic (not set)", "Automatic (not set)", "Automatic", bt,
         *ept, "Set Hardware CPU and MMU (hvOn + on); power cycle"],
        ["vc01", "fax", "Powered off", W32[1], "not reported", 32, sp2, "Automatic (not set)", "Automatic (not set)",
         "Automatic", bt, "esx-noept", "5.0.0", "VT-x/AMD-V only, no EPT/RVI",
         "Host has no EPT/RVI: move to a host with EPT/RVI, then set Hardware CPU and MMU"],
        ["vc01", "mis", "Powered on", R2008[1], W32E[1], 32, sp2, "Automatic (not set)", "Automatic (not set)", "Automatic",
         "Not determined", *ept, "Set Hardware CPU and MMU (hvOn + on); power cycle; fix the configured guest OS"],
        ["vc01", "db64", "Powered on", W64[1], W64[1], 64, sp2, "Software (hvOff)", "Software (off)", "Software CPU and MMU",
         "Hardware CPU, software MMU (VT-x/AMD-V + shadow page tables)", *ept,
         "Set Automatic: forced software CPU is ineffective for 64-bit guests"],
        ["vc01", "sbs", "Powered on", SBS[1], SBS[1], 32, sp2, "Hardware (hvOn)", "Software (off)", "Hardware CPU, Software MMU",
         "Hardware CPU and MMU (VT-x/AMD-V + EPT/RVI)", "esx-67", "6.7.0", "per-VM setting ignored (ESXi 6.7.0)",
         "Remove the setting (set Automatic): ESXi 6.7+ ignores it"],
        ["vc01", "app02", "Powered on", W32E[1], W32E[1], 32, sp2, "Hardware (hvOn)", "Hardware (on)", "Hardware CPU and MMU",
         "Hardware CPU and MMU (VT-x/AMD-V + EPT/RVI)", *ept, "No change: already Hardware CPU and MMU as KB2001372 recommends"],
    ]
    assert tables["cpu_mmu_mode_counts"] == [
        ["Automatic", bt, 2, 0, 0, 2],
        ["Automatic", "Not determined", 1, 0, 0, 1],
        ["Software CPU and MMU", "Hardware CPU, software MMU (VT-x/AMD-V + shadow page tables)", 0, 1, 0, 1],
        ["Hardware CPU, Software MMU", "Hardware CPU and MMU (VT-x/AMD-V + EPT/RVI)", 1, 0, 0, 1],
        ["Hardware CPU and MMU", "Hardware CPU and MMU (VT-x/AMD-V + EPT/RVI)", 1, 0, 0, 1],
        ["All", "", 5, 1, 0, 6],
    ]


def test_fleet_tables_without_windows_2003() -> None:
    tables = [t for t in build_tables(context(make_snapshot(make_vm("lnx", guest=RHEL6)))) if t.family == "cpu-mmu"]
    assert [(t.id, t.rows, t.note) for t in tables] == [
        ("cpu_mmu_mode_counts", [], "No Windows Server 2003 VMs in this snapshot (by configured or Tools-reported guest OS)."),
        ("cpu_mmu_win2003_vms", [], "No Windows Server 2003 VMs in this snapshot (by configured or Tools-reported guest OS)."),
    ]


def test_host_not_in_snapshot() -> None:
    vm = make_vm("orphan", guest=W32).model_copy(update={"host": "host-gone"})
    snap = make_snapshot(vm, hosts={k: v for k, v in HOSTS.items() if k == "host-ept"})
    (vc,) = snap.vcenters.values()
    a = assess(vc, vm, CpuMmuSettings())
    assert (a.effective, a.effective_reason) == (None, "the VM's host is not in the collected inventory")
    (f,) = cpu_findings(context(snap))
    assert (f.check_id, f.severity.value, f.status.value) == ("CPU-002", "info", "warn")
    assert "on host host-gone: version and capabilities not collected" in f.message
