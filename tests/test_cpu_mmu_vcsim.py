"""cpu-mmu end to end: guest ids, Tools-reported OS and CPU/MMU flags set through the vSphere
API on vcsim, collected by the real CLI, then checked.

What govmomi 0.24's simulator does (simulator/virtual_machine.go), and how this test copes:
- ReconfigVM applies ``flags`` (``vm.Config.Flags = *spec.Flags``: the whole FlagInfo is
  replaced, where a real vCenter merges the fields that are set). Every spec here sets both
  fields, so the difference does not matter.
- ReconfigVM copies ``guestId`` into ``config.guestFullName`` (a real vCenter stores the
  descriptor's long name there) and never fills ``guest.guestId`` / ``guest.guestFullName``.
  vcsim's ``SET.<property path>`` extraConfig hook sets those Tools-reported properties.
- Its HostSystem has no ``capability`` (esx/host_system.go: ``Capability: nil``), so the
  collector reads the four CPU/MMU capability values as absent and hosts report ESXi 6.5.0.
  The checks then say "host capabilities not collected" (CPU-002). To also exercise CPU-001
  on the collected VMs, the test fills the capability values into the *loaded snapshot*
  (test setup only; the product never invents them).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from cpu_mmu_fixtures import cpu_findings
from pyVim.task import WaitForTask
from pyVmomi import vim

from reporter.checks import CheckContext, load_all
from reporter.checks.engine import run_checks
from reporter.core import snapshot_io
from reporter.core.model import Snapshot

pytestmark = pytest.mark.vcsim

# name -> (guestId, flags (exec, mmu) or None = leave unset, Tools (guestId, guestFullName) or None, power off?)
SHAPE: dict[str, tuple[str, tuple[str, str] | None, tuple[str, str] | None, bool]] = {
    "DC0_C0_RP0_VM0": ("winNetStandardGuest", None,
                       ("winNetStandardGuest", "Microsoft Windows Server 2003 Standard Service Pack 2 (32-bit)"), False),
    "DC0_C0_RP0_VM1": ("winNetEnterpriseGuest", ("hvOff", "off"),
                       ("", "Microsoft Windows Server 2003, Enterprise Edition (32-bit)"), False),
    "DC0_C0_RP0_VM2": ("winNetStandard64Guest", ("hvOff", "off"), None, False),
    "DC0_C0_RP0_VM3": ("rhel6Guest", ("hvOn", "off"), None, False),
    "DC0_H0_VM0": ("windows7Server64Guest", ("hvOn", "on"),
                   ("winNetEnterpriseGuest", "Microsoft Windows Server 2003 Enterprise (32-bit)"), False),
    "DC0_H0_VM1": ("winNetWebGuest", ("hvAuto", "automatic"), None, True),
}


def _find(si: Any, name: str) -> Any:
    view = si.content.viewManager.CreateContainerView(si.content.rootFolder, [vim.VirtualMachine], True)
    try:
        return next(v for v in view.view if v.name == name)
    finally:
        view.Destroy()


def _tools_spec(guest_id: str, full_name: str) -> list[Any]:
    return [vim.option.OptionValue(key="SET.guest.guestId", value=guest_id),
            vim.option.OptionValue(key="SET.guest.guestFullName", value=full_name)]


@pytest.fixture(scope="module")
def collected(vcsim: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Snapshot]:
    si = vcsim.si()
    saved = {}
    try:
        for name, (guest_id, flags, tools, power_off) in SHAPE.items():
            vm = _find(si, name)
            saved[name] = (vm, vm.config.guestId, vm.config.flags, vm.runtime.powerState)
            spec = vim.vm.ConfigSpec(guestId=guest_id)
            if flags:
                spec.flags = vim.vm.FlagInfo(virtualExecUsage=flags[0], virtualMmuUsage=flags[1])
            if tools:
                spec.extraConfig = _tools_spec(*tools)
            WaitForTask(vm.ReconfigVM_Task(spec))
            if power_off:
                WaitForTask(vm.PowerOffVM_Task())
        tmp = tmp_path_factory.mktemp("cpu_mmu")
        out = tmp / "snap.json"
        exe = shutil.which("vcreport")
        cmd = [exe] if exe else [sys.executable, "-m", "reporter.cli"]
        proc = subprocess.run([*cmd, "collect", "--config", str(vcsim.config_file(tmp)), "--out", str(out)],
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
        yield snapshot_io.load(out)
    finally:  # the session simulator is shared: put every VM back as it was
        for name, (vm, guest_id, flags, power) in saved.items():
            spec = vim.vm.ConfigSpec(guestId=guest_id, flags=flags, extraConfig=_tools_spec("", ""))
            WaitForTask(vm.ReconfigVM_Task(spec))
            if power == "poweredOn" and vm.runtime.powerState != "poweredOn":
                WaitForTask(vm.PowerOnVM_Task())


def _vms(snap: Snapshot) -> dict[str, Any]:
    (vc,) = snap.vcenters.values()
    return {vm.name: vm for vm in vc.vms.values()}


def test_collected_values(collected: Snapshot) -> None:
    vms = _vms(collected)
    got = {name: (vms[name].guest_id, vms[name].guest_full_name, vms[name].tools_guest_id,
                  vms[name].tools_guest_full_name, vms[name].virtual_exec_usage, vms[name].virtual_mmu_usage,
                  vms[name].power_state) for name in SHAPE}
    assert got == {
        # vcsim stores the guest id as config.guestFullName too (see the module docstring).
        "DC0_C0_RP0_VM0": ("winNetStandardGuest", "winNetStandardGuest", "winNetStandardGuest",
                           "Microsoft Windows Server 2003 Standard Service Pack 2 (32-bit)", None, None, "poweredOn"),
        "DC0_C0_RP0_VM1": ("winNetEnterpriseGuest", "winNetEnterpriseGuest", None,
                           "Microsoft Windows Server 2003, Enterprise Edition (32-bit)", "hvOff", "off", "poweredOn"),
        "DC0_C0_RP0_VM2": ("winNetStandard64Guest", "winNetStandard64Guest", None, None, "hvOff", "off", "poweredOn"),
        "DC0_C0_RP0_VM3": ("rhel6Guest", "rhel6Guest", None, None, "hvOn", "off", "poweredOn"),
        "DC0_H0_VM0": ("windows7Server64Guest", "windows7Server64Guest", "winNetEnterpriseGuest",
                       "Microsoft Windows Server 2003 Enterprise (32-bit)", "hvOn", "on", "poweredOn"),
        "DC0_H0_VM1": ("winNetWebGuest", "winNetWebGuest", None, None, "hvAuto", "automatic", "poweredOff"),
    }
    (vc,) = collected.vcenters.values()
    assert {(h.version, h.hw_exec_supported, h.hw_mmu_supported, h.exec_usage_ignored, h.mmu_usage_ignored)
            for h in vc.hosts.values()} == {("6.5.0", None, None, None, None)}


def _summary(snap: Snapshot) -> list[tuple[str, str, str, str]]:
    return sorted((f.object_name, f.check_id, f.severity.value, f.status.value) for f in cpu_findings(CheckContext(snap)))


def test_findings_as_collected(collected: Snapshot) -> None:
    # Untouched VMs (otherGuest, no flags) give nothing; host capabilities are unknown in vcsim.
    assert _summary(collected) == [
        ("DC0_C0_RP0_VM0", "CPU-002", "info", "warn"),
        ("DC0_C0_RP0_VM1", "CPU-002", "info", "warn"),
        ("DC0_C0_RP0_VM2", "CPU-004", "low", "warn"),
        ("DC0_C0_RP0_VM3", "CPU-005", "info", "warn"),
        ("DC0_H0_VM0", "CPU-006", "low", "fail"),
        ("DC0_H0_VM1", "CPU-002", "info", "warn"),
    ]
    # DC0_H0_VM0 runs 32-bit Windows 2003 already set to Hardware CPU and MMU: right as it is, so its
    # host's missing capabilities are a note on CPU-002, not a warning on the VM.
    load_all()
    notes = {r.meta.id: r.notes for r in run_checks(CheckContext(collected), only=["CPU-002"]).checks}
    assert notes["CPU-002"][-1].startswith("1 VM already set to Hardware CPU and MMU runs on hosts whose hardware "
                                           "virtualization support (VT-x/AMD-V, EPT/RVI) was not collected")
    f = next(f for f in cpu_findings(CheckContext(collected)) if f.object_name == "DC0_C0_RP0_VM2")
    # vcsim's hosts report an Intel CPU model, so the ineffective-setting wording applies.
    assert "has an Intel CPU: 64-bit guests cannot use binary translation there" in f.message


def test_findings_with_host_capabilities_filled_in(collected: Snapshot) -> None:
    (uuid, vc), = collected.vcenters.items()
    hosts = {k: h.model_copy(update={"hw_exec_supported": True, "hw_mmu_supported": True}) for k, h in vc.hosts.items()}
    snap = collected.model_copy(update={"vcenters": {uuid: vc.model_copy(update={"hosts": hosts})}})
    assert _summary(snap) == [
        ("DC0_C0_RP0_VM0", "CPU-001", "medium", "fail"),  # Automatic -> BT on a VT-x + EPT host
        ("DC0_C0_RP0_VM1", "CPU-001", "medium", "fail"),  # forced software
        ("DC0_C0_RP0_VM2", "CPU-004", "low", "warn"),
        ("DC0_C0_RP0_VM3", "CPU-005", "info", "warn"),
        ("DC0_H0_VM0", "CPU-006", "low", "fail"),  # already hvOn + on: no CPU-001
        ("DC0_H0_VM1", "CPU-001", "medium", "fail"),  # powered off: applies at next power-on
    ]
    by_vm = {f.object_name: f for f in cpu_findings(CheckContext(snap)) if f.check_id == "CPU-001"}
    assert "(SP2 reported)" in by_vm["DC0_C0_RP0_VM0"].message
    assert by_vm["DC0_H0_VM1"].message.endswith("The VM is powered off: a change applies at its next power-on.")
    assert by_vm["DC0_C0_RP0_VM1"].evidence["tools_guest_full_name"] == (
        "Microsoft Windows Server 2003, Enterprise Edition (32-bit)")
