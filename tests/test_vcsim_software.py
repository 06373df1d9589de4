"""The launcher's host software managers (-host-software): VIBs, acceptance level, image
profile and kernel modules read back through pyVmomi, and the faults of hosts without them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from pyVmomi import vim, vmodl
from vcsim_harness import HarnessError
from vcsim_network import find_by_name, retrieve
from vcsim_software import HOST_SOFTWARE_FIXTURES, module, package, write_host_software


@pytest.fixture
def software_sim(vcsim_factory: Any) -> Any:
    return vcsim_factory(vms=0, host_software=HOST_SOFTWARE_FIXTURES)


def test_esxi67_host_answers_its_vibs_acceptance_profile_and_modules(software_sim: Any) -> None:
    host = find_by_name(software_sim.si(), vim.HostSystem, "DC0_C0_H0")
    icm = host.configManager.imageConfigManager
    assert icm.HostImageConfigGetAcceptance() == "community"
    profile = icm.HostImageConfigGetProfile()
    assert (profile.name, profile.vendor) == ("ESXi-6.7.0-20191204001-standard (with community drivers)", "VMware, Inc.")
    assert icm.InstallDate() == dt.datetime(2019, 12, 10, 8, 0, tzinfo=dt.UTC)

    packages = {p.name: p for p in icm.FetchSoftwarePackages()}
    assert sorted(packages) == ["esx-base", "net-e1000e", "net55-r8168", "nmlx5-core", "scsi-mpt2sas"]
    mpt = packages["scsi-mpt2sas"]
    assert (mpt.vendor, mpt.version, mpt.acceptanceLevel, mpt.type) == (
        "VMW", "19.00.00.00-2vmw.670.0.0.8169922", "certified", "bootbank")
    assert mpt.summary == "LSI MPT2 SAS driver (vmklinux)"
    assert mpt.creationDate == dt.datetime(2018, 4, 3, 7, 5, 10, tzinfo=dt.UTC)
    assert [d.name for d in mpt.depends] == ["vmkapi_2_2_0_0", "com.vmware.driverAPI-9.2.2.0"]
    e1000e_dep = packages["net-e1000e"].depends[2]
    assert (e1000e_dep.name, e1000e_dep.constraint, e1000e_dep.version) == ("esx-base", ">=", "6.7.0-0.0.8169922")
    assert packages["net55-r8168"].acceptanceLevel == "community"
    assert packages["net55-r8168"].vendor == "VFrontDe"
    assert packages["esx-base"].maintenanceModeRequired is True
    assert packages["esx-base"].capability.statelessReady is True

    modules = {m.name: m for m in host.configManager.kernelModuleSystem.QueryModules()}
    assert sorted(modules) == ["e1000e", "mpt2sas", "nmlx5_core", "r8168", "vmklinux_9"]
    vmklinux = modules["vmklinux_9"]
    assert (vmklinux.id, vmklinux.filename, vmklinux.loaded, vmklinux.enabled, vmklinux.useCount) == (
        1, "/usr/lib/vmware/vmkmod/vmklinux_9", True, True, 4)
    assert (vmklinux.readOnlySection.address, vmklinux.readOnlySection.length) == (418370404352, 1048576)
    assert (vmklinux.bssSection.address, vmklinux.bssSection.length) == (418371584000, 65536)
    assert modules["nmlx5_core"].loaded is False


def test_esxi80_host_has_native_drivers_only(software_sim: Any) -> None:
    host = find_by_name(software_sim.si(), vim.HostSystem, "DC0_C0_H1")
    icm = host.configManager.imageConfigManager
    assert icm.HostImageConfigGetAcceptance() == "partner"
    assert icm.HostImageConfigGetProfile().name == "ESXi-8.0U2-22380479-standard"
    levels = {p.name: p.acceptanceLevel for p in icm.FetchSoftwarePackages()}
    assert levels == {"esx-base": "certified", "nvme-pcie": "certified", "ne1000": "certified", "bnxtnet": "partner"}
    modules = host.configManager.kernelModuleSystem.QueryModules()
    assert [m.name for m in modules] == ["nvme_pcie", "ne1000", "bnxtnet"]
    assert modules[2].optionString == "disable_tpa=1"


def test_host_without_fixture_answers_not_supported(software_sim: Any) -> None:
    host = find_by_name(software_sim.si(), vim.HostSystem, "DC0_H0")
    with pytest.raises(vmodl.fault.NotSupported):
        host.configManager.imageConfigManager.HostImageConfigGetAcceptance()
    with pytest.raises(vmodl.fault.NotSupported):
        host.configManager.imageConfigManager.FetchSoftwarePackages()
    with pytest.raises(vmodl.fault.NotSupported):
        host.configManager.kernelModuleSystem.QueryModules()


def test_no_permission_from_fixture_and_from_flag(vcsim_factory: Any) -> None:
    sim = vcsim_factory(vms=0, host_software=HOST_SOFTWARE_FIXTURES, software_fault={"DC0_C0_H1": "NoPermission"})
    si = sim.si()
    for name in ("DC0_C0_H2", "DC0_C0_H1"):  # fixture field, then the flag over a full fixture
        host = find_by_name(si, vim.HostSystem, name)
        with pytest.raises(vim.fault.NoPermission) as exc:
            host.configManager.imageConfigManager.FetchSoftwarePackages()
        assert exc.value.privilegeId == "Host.Config.Image"  # the privilege vCenter checks for this method
        with pytest.raises(vim.fault.NoPermission) as exc:
            host.configManager.kernelModuleSystem.QueryModules()
        assert exc.value.privilegeId == "Host.Config.Settings"
    # The flag changes only the host it names.
    assert find_by_name(si, vim.HostSystem, "DC0_C0_H0").configManager.imageConfigManager \
        .HostImageConfigGetAcceptance() == "community"


def test_config_manager_references_read_through_the_property_collector(vcsim_factory: Any) -> None:
    with_software = retrieve(vcsim_factory(vms=0, host_software=HOST_SOFTWARE_FIXTURES).si(), vim.HostSystem,
                             ["configManager.imageConfigManager", "configManager.kernelModuleSystem"])
    assert sorted(with_software) == ["DC0_C0_H0", "DC0_C0_H1", "DC0_C0_H2", "DC0_H0"]
    for name, props in with_software.items():
        assert isinstance(props["configManager.imageConfigManager"], vim.host.ImageConfigManager), name
        assert isinstance(props["configManager.kernelModuleSystem"], vim.host.KernelModuleSystem), name
    # Without the flag vcsim's references point at no object, as before.
    plain = find_by_name(vcsim_factory(vms=0).si(), vim.HostSystem, "DC0_C0_H0")
    with pytest.raises(vmodl.fault.ManagedObjectNotFound):
        plain.configManager.imageConfigManager.HostImageConfigGetAcceptance()


def test_written_fixture_is_served(vcsim_factory: Any, tmp_path: Path) -> None:
    write_host_software(tmp_path, "DC0_H0", acceptance_level="vmware_accepted",
                        packages=[package("lsi-mr3", "7.727.02.00-1OEM", vendor="BCM", acceptance_level="partner",
                                          depends=["vmkapi_2_10_0_0"])],
                        modules=[module("lsi_mr3", use_count=3)])
    host = find_by_name(vcsim_factory(vms=0, host_software=tmp_path).si(), vim.HostSystem, "DC0_H0")
    assert host.configManager.imageConfigManager.HostImageConfigGetAcceptance() == "vmware_accepted"
    with pytest.raises(vmodl.fault.NotSupported):  # the fixture has no installDate
        host.configManager.imageConfigManager.InstallDate()
    [vib] = host.configManager.imageConfigManager.FetchSoftwarePackages()
    assert (vib.name, vib.vendor, vib.acceptanceLevel, [d.name for d in vib.depends]) == (
        "lsi-mr3", "BCM", "partner", ["vmkapi_2_10_0_0"])
    [mod] = host.configManager.kernelModuleSystem.QueryModules()
    assert (mod.name, mod.useCount, mod.filename) == ("lsi_mr3", 3, "/usr/lib/vmware/vmkmod/lsi_mr3")


@pytest.mark.parametrize(("name", "text", "message"), [
    ("DC0_H0.json", '{"acceptanceLevl": "partner"}', 'unknown field "acceptanceLevl"'),
    ("NO_SUCH_HOST.json", "{}", 'no host named "NO_SUCH_HOST"'),
])
def test_bad_fixture_stops_the_launcher_with_one_line(vcsim_launcher: Any, tmp_path: Path, name: str, text: str,
                                                     message: str) -> None:
    (tmp_path / name).write_text(text)
    with pytest.raises(HarnessError, match=message):
        vcsim_launcher.start(vms=0, host_software=tmp_path, timeout_s=30)
