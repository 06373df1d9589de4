"""cpu-mmu: the exact wording of one finding per check (message, remediation, evidence)."""

from __future__ import annotations

from cpu_mmu_fixtures import R2008, RHEL6, W32, W32E, W64, W64E, context, cpu_findings, make_snapshot, make_vm

from reporter.core.findings import Finding

PS_HW = ("PowerCLI: $spec = New-Object VMware.Vim.VirtualMachineConfigSpec; $spec.Flags = New-Object "
         "VMware.Vim.VirtualMachineFlagInfo; $spec.Flags.VirtualExecUsage = 'hvOn'; $spec.Flags.VirtualMmuUsage = 'on'; "
         "(Get-VM -Name '{}' | Get-View).ReconfigVM($spec)")
PS_AUTO = PS_HW.replace("'hvOn'", "'hvAuto'").replace("= 'on'", "= 'automatic'")
CLIENT = ("vSphere Client: right-click '{}' > Edit Settings > Virtual Hardware > expand CPU > CPU/MMU Virtualization: "
          "'{}' > OK (Windows vSphere Client 4.x/5.x: Edit Settings > Options > CPU/MMU Virtualization).")
GOVC = ("govc: no govc option sets these flags (govc vm.change has none for CPU/MMU virtualization); use the vSphere "
        "Client or PowerCLI.")
BT_AUTO = ("runs with Software CPU and MMU (binary translation + shadow page tables): Automatic resolves to binary "
           "translation + shadow page tables for a VM configured as 32-bit Windows 2003 (KB2001372).")


def only(vm, check_id: str, **settings) -> Finding:
    found = [f for f in cpu_findings(context(make_snapshot(vm), **settings)) if f.check_id == check_id]
    assert len(found) == 1, found
    return found[0]


def powered_on_steps(name: str, target: str, ps: str, guest_os: str = "Windows") -> list[str]:
    return [
        f"Plan a short outage: the setting is read at power-on (KB2001372). Shut down {guest_os} in '{name}' so the VM "
        f"powers off (a restart inside {guest_os} is not a power cycle).",
        CLIENT.format(name, target),
        ps.format(name.replace("'", "''")),
        GOVC,
        f"Power '{name}' on. To undo, set 'Automatic' the same way (hvAuto / automatic) and power cycle again.",
    ]


def test_cpu001_sp2_reported_automatic() -> None:
    vm = make_vm("app01", guest=W32, tools=(W32[0], "Microsoft Windows Server 2003 Standard Service Pack 2 (32-bit)"))
    f = only(vm, "CPU-001")
    assert f.message == (
        "Microsoft Windows Server 2003 Standard Service Pack 2 (32-bit) (SP2 reported) on esx-ept (ESXi 5.5.0, "
        f"VT-x/AMD-V + EPT/RVI) {BT_AUTO} KB2001372 recommends Hardware CPU and MMU (hvOn + on) for Windows 2003 SP2: "
        "faster in almost all cases. Current setting: Automatic [CPU setting not set (= hvAuto), MMU setting "
        "not set (= automatic)]. The change needs a power cycle (power off, then on).")
    assert f.remediation.splitlines() == powered_on_steps("app01", "Hardware CPU and MMU", PS_HW)
    assert f.evidence == {
        "configured_guest_id": "winNetStandardGuest",
        "configured_guest_full_name": "Microsoft Windows Server 2003 Standard (32-bit)",
        "tools_guest_id": "winNetStandardGuest",
        "tools_guest_full_name": "Microsoft Windows Server 2003 Standard Service Pack 2 (32-bit)",
        "windows_2003_by": "configured, tools",
        "bitness": 32,
        "service_pack": "SP2 reported",
        "power_state": "poweredOn",
        "virtual_exec_usage": None,
        "virtual_mmu_usage": None,
        "configured_mode": "Automatic",
        "effective_mode": "Software CPU and MMU (binary translation + shadow page tables)",
        "effective_mode_reason": "Automatic resolves to binary translation + shadow page tables for a VM configured as "
                                 "32-bit Windows 2003 (KB2001372)",
        "host": "esx-ept",
        "host_version": "5.5.0",
        "host_hw_exec_supported": True,
        "host_hw_mmu_supported": True,
        "host_exec_usage_ignored": None,
        "host_mmu_usage_ignored": None,
        "host_ignores_setting": False,
        "host_ignores_basis": "version",
        "reference": "KB2001372 (https://knowledge.broadcom.com/external/article?legacyId=2001372); docs/methodology.md#cpu-mmu-win2003",
        "recommended": "Hardware CPU and MMU (CPU setting hvOn, MMU setting on)",
    }


def test_cpu001_powered_off_and_quoting() -> None:
    f = only(make_vm("it's-off", guest=W32, ex="hvOff", mmu="off", power="poweredOff", tools=None), "CPU-001")
    assert f.message.endswith("Current setting: Software CPU and MMU [CPU setting hvOff, MMU setting off]. "
                              "The VM is powered off: a change applies at its next power-on.")
    assert "runs with Software CPU and MMU (binary translation + shadow page tables): forced by the setting." in f.message
    assert f.remediation.splitlines() == [
        "'it's-off' is powered off: change the setting now; it applies at its next power-on.",
        CLIENT.format("it's-off", "Hardware CPU and MMU"),
        PS_HW.format("it''s-off"),
        GOVC,
    ]


def test_cpu001_sp1_and_unconfirmed_sp() -> None:
    sp1 = only(make_vm("old", guest=W32, tools=(W32[0], "Microsoft Windows Server 2003, Standard Edition Service Pack 1 "
                                                        "(32-bit)")), "CPU-001")
    assert sp1.message == (
        "Microsoft Windows Server 2003, Standard Edition Service Pack 1 (32-bit) (SP1 reported) on esx-ept (ESXi 5.5.0, "
        f"VT-x/AMD-V + EPT/RVI) {BT_AUTO} KB2001372's recommendation is for SP2: before SP2, binary translation (the "
        "Automatic choice) runs better. Install SP2, then set Hardware CPU and MMU. Current setting: Automatic "
        "[CPU setting not set (= hvAuto), MMU setting not set (= automatic)].")
    assert sp1.remediation.splitlines()[0] == "Install Windows Server 2003 SP2 in 'old' first."
    unconfirmed = only(make_vm("u", guest=W32), "CPU-001", assume_sp2_when_unknown=False)
    assert "(service pack not reported)" in unconfirmed.message
    assert ("If it runs SP2, KB2001372 recommends Hardware CPU and MMU (hvOn + on); confirm the service pack first."
            in unconfirmed.message)
    assert unconfirmed.remediation.splitlines()[0] == (
        "Confirm the service pack (winver in the guest, or the OS name VMware Tools reports).")


def test_cpu002_no_ept_names_hosts_of_the_cluster() -> None:
    f = only(make_vm("fax01", guest=W32, host="host-noept"), "CPU-002")
    move = "Hosts in the same cluster that have both: esx-ept, esx-ept2."
    assert f.message == (
        "Microsoft Windows Server 2003 Standard (32-bit) (SP2 assumed, not reported): host esx-noept (ESXi 5.0.0) has "
        "VT-x/AMD-V but no EPT/RVI, so hardware MMU virtualization is not available there and a Hardware CPU and MMU "
        "setting falls back to shadow page tables. KB2001372 gives no recommendation for such hosts: keep Automatic "
        "unless a measured test shows 'Hardware CPU, Software MMU' is faster for this workload. KB2001372's "
        f"recommendation (Hardware CPU and MMU) needs a host with both features. {move} Current setting: Automatic "
        "[CPU setting not set (= hvAuto), MMU setting not set (= automatic)]. It " + BT_AUTO)
    assert f.remediation.splitlines() == [
        f"Move 'fax01' to a host with VT-x/AMD-V and EPT/RVI. {move}",
        "Or, if the server's CPU has the feature, enable Intel VT / AMD-V in the BIOS/UEFI (host reboot needed).",
    ] + powered_on_steps("fax01", "Hardware CPU and MMU", PS_HW)
    assert f.evidence["hosts_with_both_features_in_cluster"] == ["esx-ept", "esx-ept2"]
    limited = only(make_vm("fax01", guest=W32, host="host-noept"), "CPU-002", max_candidate_hosts=1)
    assert "Hosts in the same cluster that have both: esx-ept and 1 more." in limited.message


def test_cpu002_no_vtx_and_already_set() -> None:
    f = only(make_vm("old01", guest=W32, host="host-nohv", ex="hvOn", mmu="on"), "CPU-002")
    assert f.message.startswith(
        "Microsoft Windows Server 2003 Standard (32-bit) (SP2 assumed, not reported): host esx-nohv (ESXi 4.1.0) reports "
        "no VT-x/AMD-V (absent, or disabled in the BIOS/UEFI), so the VM can only run with binary translation there, "
        "whatever it is set to.")
    assert f.message.endswith(
        "It runs with Software CPU and MMU (binary translation + shadow page tables): the host reports no VT-x/AMD-V, "
        "so the VM runs with binary translation. It is already set to Hardware CPU and MMU; that takes full effect on "
        "a host with both features.")
    # Already set as the KB recommends: only the move is advised, not a reconfiguration.
    assert len(f.remediation.splitlines()) == 2


def test_cpu003_remove_ignored_setting() -> None:
    f = only(make_vm("mig01", guest=W32, host="host-67", ex="hvOn", mmu="on"), "CPU-003")
    assert f.message == (
        "Setting ignored on this host; remove it. Microsoft Windows Server 2003 Standard (32-bit) is set to Hardware CPU "
        "and MMU [CPU setting hvOn, MMU setting on], but esx-67 (ESXi 6.7.0) ignores the per-VM setting "
        "(as the host itself reports; ESXi 6.7 and later) and always uses hardware CPU and MMU virtualization.")
    assert f.remediation.splitlines() == [
        "Set 'mig01' back to Automatic. " + PS_AUTO.format("mig01"),
        GOVC,
        "No power cycle is needed for performance (the host ignores the value either way); the new value is written "
        "to the configuration at once.",
    ]
    by_version = only(make_vm("mig02", guest=W32, host="host-70", ex="hvOff", mmu="off"), "CPU-003")
    assert "esx-70 (ESXi 7.0.3) ignores the per-VM setting (ESXi version 7.0.3 >= 6.7)" in by_version.message


def test_cpu004_intel_and_amd() -> None:
    intel = only(make_vm("x64db", guest=W64, ex="hvOff", mmu="off"), "CPU-004")
    assert intel.message == (
        "Microsoft Windows Server 2003 Standard (64-bit) is forced to software CPU virtualization [CPU setting "
        "hvOff, MMU setting off]: esx-ept has an Intel CPU: 64-bit guests cannot use binary translation there, so "
        "the monitor uses VT-x anyway and the setting is ineffective. Set it back to Automatic. The change needs a "
        "power cycle (power off, then on).")
    assert intel.remediation.splitlines() == powered_on_steps("x64db", "Automatic", PS_AUTO)
    amd = only(make_vm("amd64", guest=W64E, host="host-amd", ex="hvOff", mmu="on"), "CPU-004")
    assert ("the host (esx-amd) has an AMD CPU; on Intel CPUs the setting is ineffective (64-bit guests cannot use "
            "binary translation there), and it is not a recommended mode for any 64-bit guest.") in amd.message
    assert amd.evidence["host_cpu_vendor"] == "amd"


def test_cpu005_someone_forced_it() -> None:
    f = only(make_vm("lnx01", guest=RHEL6, ex="hvOff", mmu="off"), "CPU-005")
    assert f.message == (
        "Someone forced CPU/MMU virtualization to Software CPU and MMU [CPU setting hvOff, MMU setting off] on "
        "this Red Hat Enterprise Linux 6 (32-bit) VM; Automatic is the default and KB2001372 concerns 32-bit Windows "
        "2003 only.")
    assert f.remediation.splitlines() == (
        ["Ask the owner of 'lnx01' why the mode is forced; if there is no reason, set Automatic:"]
        + powered_on_steps("lnx01", "Automatic", PS_AUTO, guest_os="the guest OS"))


def test_cpu006_mismatch_both_ways() -> None:
    f = only(make_vm("mis01", guest=R2008, tools=W32E), "CPU-006")
    assert f.message == (
        "Configured guest OS is 'Microsoft Windows Server 2008 R2 (64-bit)' (windows7Server64Guest, not Windows 2003) "
        "but VMware Tools reports 'Microsoft Windows Server 2003 Enterprise (32-bit)' (winNetEnterpriseGuest, 32-bit): "
        "Windows 2003 on one side only. Automatic CPU/MMU virtualization follows the configured type; KB2001372's advice "
        "follows the OS that runs.")
    assert f.remediation.splitlines() == [
        "Confirm which OS 'mis01' really runs, then power it off and set the guest OS to match.",
        "vSphere Client: Edit Settings > VM Options > General Options > Guest OS (family and version).",
        "PowerCLI: Set-VM -VM 'mis01' -GuestId winNetEnterpriseGuest -Confirm:$false",
        "govc: govc vm.change -vm mis01 -g winNetEnterpriseGuest",
        "Then review its CPU/MMU setting again (this report's CPU-001 to CPU-004).",
    ]
    # The CPU-001 finding on the same VM says why Automatic is not the KB's BT default here.
    (cpu001,) = [x for x in cpu_findings(context(make_snapshot(make_vm("mis01", guest=R2008, tools=W32E))))
                 if x.check_id == "CPU-001"]
    assert cpu001.message.endswith(
        "Automatic follows the configured guest OS 'Microsoft Windows Server 2008 R2 (64-bit)', not the Windows 2003 "
        "that runs (see CPU-006).")
    bits = only(make_vm("b", guest=W32, tools=W64), "CPU-006")
    assert ": bitness differs." in bits.message and bits.evidence["mismatch"] == "bitness differs"
