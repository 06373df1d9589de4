"""Advice texts shared by the cpu-mmu checks and the fleet table: the plain-words reason,
the change procedure for one VM, and the one-line recommendation per VM."""

from __future__ import annotations

from reporter.checks.base import Reference
from reporter.checks.cpu_mmu.assess import FLAG_VALUES, KB, KB_TITLE, KB_URL, UI_CHOICE, Assessment, Mode
from reporter.checks.cpu_mmu.settings import CpuMmuSettings
from reporter.checks.helpers import ps_quote

REFERENCES = (
    Reference(KB, KB_TITLE, KB_URL),
    Reference(None, "vSphere Virtual Machine Administration 6.7: Change CPU/MMU Virtualization Settings "
                    "(not supported on ESXi 6.7 and later)",
              "https://docs.vmware.com/en/VMware-vSphere/6.7/com.vmware.vsphere.vm_admin.doc/"
              "GUID-5F5AC645-4321-4911-B9F3-6A8B1658A430.html"),
)

WHY_HARDWARE = (
    "With binary translation the hypervisor rewrites the guest kernel's privileged code in software, and with "
    "shadow page tables it has to step in every time Windows changes a page table (new processes, memory "
    "allocation). Windows 2003 SP1 ran faster that way, which is why Automatic still picks binary translation "
    "for 32-bit Windows 2003. Microsoft's kernel changes in SP2 turned this around: with the hardware-assisted "
    "mode the CPU runs the guest's code directly (VT-x/AMD-V) and walks the guest's page tables itself "
    "(EPT/RVI), which is faster in almost all cases (KB2001372). A 32-bit Windows 2003 SP2 VM left on "
    "Automatic leaves that gain unused."
)

GOVC_NOTE = ("govc: no govc option sets these flags (govc vm.change has none for CPU/MMU virtualization); "
             "use the vSphere Client or PowerCLI.")


def powercli_set(vm_name: str, target: Mode) -> str:
    exec_usage, mmu_usage = FLAG_VALUES[target]
    return (
        "PowerCLI: $spec = New-Object VMware.Vim.VirtualMachineConfigSpec; "
        "$spec.Flags = New-Object VMware.Vim.VirtualMachineFlagInfo; "
        f"$spec.Flags.VirtualExecUsage = '{exec_usage}'; $spec.Flags.VirtualMmuUsage = '{mmu_usage}'; "
        f"(Get-VM -Name {ps_quote(vm_name)} | Get-View).ReconfigVM($spec)"
    )


def client_set(vm_name: str, target: Mode) -> str:
    return (
        f"vSphere Client: right-click '{vm_name}' > Edit Settings > Virtual Hardware > expand CPU > "
        f"CPU/MMU Virtualization: '{UI_CHOICE[target]}' > OK (Windows vSphere Client 4.x/5.x: Edit Settings > "
        "Options > CPU/MMU Virtualization)."
    )


def change_steps(a: Assessment, target: Mode) -> list[str]:
    """How to set ``target`` on this VM, including the power cycle it needs."""
    name = a.vm.name
    state = a.vm.power_state
    steps: list[str] = []
    guest_os = "Windows" if a.runs_win2003 else "the guest OS"
    if state == "poweredOn":
        steps.append(f"Plan a short outage: the setting is read at power-on ({KB}). Shut down {guest_os} in '{name}' "
                     f"so the VM powers off (a restart inside {guest_os} is not a power cycle).")
    elif state == "suspended":
        steps.append(f"'{name}' is suspended: resume it and shut down {guest_os}, then change the setting; it applies "
                     "at the next power-on.")
    else:
        steps.append(f"'{name}' is powered off: change the setting now; it applies at its next power-on.")
    steps.append(client_set(name, target))
    steps.append(powercli_set(name, target))
    steps.append(GOVC_NOTE)
    if state in ("poweredOn", "suspended"):
        steps.append(f"Power '{name}' on. To undo, set '{UI_CHOICE[Mode.automatic]}' the same way "
                     "(hvAuto / automatic) and power cycle again.")
    return steps


def recommendation(a: Assessment, settings: CpuMmuSettings) -> str:
    """One line for the fleet table; mirrors the checks' conditions."""
    host = a.host
    text: str
    if host is not None and host.ignores:
        text = ("Remove the setting (set Automatic): ESXi 6.7+ ignores it" if a.mode is not Mode.automatic
                else "No change: ESXi 6.7+ always uses hardware assist")
    elif not a.runs_win2003:
        text = f"Not running Windows 2003 per VMware Tools ({a.tools.label})"
    elif a.bitness == 64:
        text = ("Set Automatic: forced software CPU is ineffective for 64-bit guests" if a.vm.virtual_exec_usage == "hvOff"
                else f"No change ({KB} covers 32-bit Windows 2003)")
    elif a.bitness is None:
        text = "Check the guest OS: bitness not reported"
    elif a.service_pack is not None and a.service_pack < 2:
        text = "Install SP2, then set Hardware CPU and MMU (hvOn + on)"
    elif (host is None or host.ignores is None or host.support == "unknown") and a.mode is Mode.hw_cpu_mmu:
        text = f"No change: already Hardware CPU and MMU as {KB} recommends (host capabilities not collected)"
    elif host is None or host.ignores is None or host.support == "unknown":
        text = f"Host capabilities not collected: verify VT-x/AMD-V + EPT/RVI, then apply {KB}"
    elif host.support == "none":
        text = "Host has no VT-x/AMD-V: move to a host with VT-x/AMD-V + EPT/RVI, then set Hardware CPU and MMU"
    elif host.support == "hw_cpu":
        text = "Host has no EPT/RVI: move to a host with EPT/RVI, then set Hardware CPU and MMU"
    elif a.mode is Mode.hw_cpu_mmu:
        text = f"No change: already Hardware CPU and MMU as {KB} recommends"
    elif a.service_pack is None and not settings.assume_sp2_when_unknown:
        text = "Confirm SP2, then set Hardware CPU and MMU (hvOn + on); power cycle"
    else:
        text = "Set Hardware CPU and MMU (hvOn + on); power cycle"
    if a.os_mismatch:
        text += "; fix the configured guest OS"
    return text
