"""The recorded small-network inventory loads back into the launcher (-load) with its
shaped networking, vApps and host hardware, and the recording matches what the shaping
code builds today."""

from __future__ import annotations

from typing import Any

import pytest
from pyVmomi import vim

from vcsim_network import add_portgroup, find_by_name, retrieve
from vcsim_recording import CLUSTER_HOSTS, RECORDING, start_shaped
from vcsim_vapp import create_vm_in_vapp


def _effective(si: Any) -> dict[tuple[str, str], tuple[Any, ...]]:
    """(host, port group) -> effective teaming of every standard port group."""
    out = {}
    for host, props in retrieve(si, vim.HostSystem, ["config.network.portgroup"]).items():
        for pg in props["config.network.portgroup"]:
            t = pg.computedPolicy.nicTeaming
            out[(host, pg.spec.name)] = (t.policy, t.notifySwitches, t.failureCriteria.checkBeacon,
                                         tuple(t.nicOrder.activeNic), tuple(t.nicOrder.standbyNic or ()))
    return out


def _dv_teaming(si: Any) -> dict[str, tuple[Any, ...]]:
    out = {}
    for name, props in retrieve(si, vim.dvs.DistributedVirtualPortgroup, ["config.defaultPortConfig"]).items():
        t = props["config.defaultPortConfig"].uplinkTeamingPolicy
        if t is None:  # nothing set on the port group: the switch default applies
            out[name] = ("inherited", None)
            continue
        out[name] = (t.policy.value, t.failureCriteria.checkBeacon.value if t.failureCriteria else None)
    return out


@pytest.fixture
def loaded(vcsim_factory: Any) -> Any:
    return vcsim_factory(model_dir=RECORDING).si()


def test_recording_is_small() -> None:
    assert sum(p.stat().st_size for p in RECORDING.iterdir()) < 2 * 1024 * 1024


def test_loaded_standard_port_groups_keep_their_effective_teaming(loaded: Any) -> None:
    eff = _effective(loaded)
    for host in CLUSTER_HOSTS:
        assert eff[(host, "IPHash-PG")] == ("loadbalance_ip", True, False, ("vmnic2", "vmnic3"), ())
        assert eff[(host, "Beacon-PG")] == ("loadbalance_srcid", True, True, ("vmnic2", "vmnic3"), ())
        assert eff[(host, "VM Network")][3:] == (("vmnic0",), ("vmnic1",))
    assert ("DC0_H0", "IPHash-PG") not in eff
    vlans = {pg.spec.name: pg.spec.vlanId for pg in
             retrieve(loaded, vim.HostSystem, ["config.network.portgroup"])["DC0_C0_H2"]["config.network.portgroup"]}
    assert (vlans["Beacon-PG"], vlans["IPHash-PG"]) == (10, 11)


def test_loaded_distributed_switch_vapps_and_hardware(loaded: Any) -> None:
    dv = _dv_teaming(loaded)
    assert (dv["dv-VM"], dv["dv-IPHash"], dv["dv-Beacon"]) == (
        ("inherited", None), ("loadbalance_ip", False), ("loadbalance_srcid", True))
    default = retrieve(loaded, vim.DistributedVirtualSwitch, ["config.defaultPortConfig"])["DSwitch0"]
    order = default["config.defaultPortConfig"].uplinkTeamingPolicy.uplinkPortOrder
    assert (list(order.activeUplinkPort), list(order.standbyUplinkPort)) == (["uplink1"], ["uplink2"])
    dvs = retrieve(loaded, vim.DistributedVirtualSwitch, ["summary.hostMember", "config.host"])["DSwitch0"]
    assert sorted(h.name for h in dvs["summary.hostMember"]) == list(CLUSTER_HOSTS)
    backing = {m.config.host.name: [p.pnicDevice for p in m.config.backing.pnicSpec] for m in dvs["config.host"]}
    assert backing == {h: ["vmnic4", "vmnic5"] for h in CLUSTER_HOSTS}

    vms = retrieve(loaded, vim.VirtualMachine, ["parentVApp"])
    assert len(vms) == 6
    assert {n: p["parentVApp"].name for n, p in vms.items() if "parentVApp" in p} == {
        "shop-web": "Shop", "shop-app": "Shop", "shop-db": "Shop-DB", "billing-1": "Billing"}

    hosts = retrieve(loaded, vim.HostSystem, ["hardware.systemInfo.model", "config.network.pnic"])
    assert hosts["DC0_C0_H0"]["hardware.systemInfo.model"] == "ProLiant BL460c Gen9"
    links = {p.device: p.linkSpeed for p in hosts["DC0_C0_H1"]["config.network.pnic"]}
    assert links["vmnic3"] is None and links["vmnic2"].speedMb == 10000


def test_loaded_inventory_can_still_be_shaped(loaded: Any) -> None:
    host = find_by_name(loaded, vim.HostSystem, "DC0_C0_H0")
    add_portgroup(host, "Late-PG", "vSwitch1", vlan=12)
    assert _effective(loaded)[("DC0_C0_H0", "Late-PG")][2] is True  # inherits vSwitch1's beacon probing
    # The recorded datastore gets a fresh directory on load, so VMs can be created.
    vm = create_vm_in_vapp(find_by_name(loaded, vim.VirtualApp, "Billing"), "billing-2", "LocalDS_0")
    assert vm.parentVApp.name == "Billing"


def test_recording_matches_the_shaping_code(vcsim_launcher: Any, loaded: Any) -> None:
    fresh = start_shaped(vcsim_launcher)
    try:
        si = fresh.si()
        assert _effective(si) == _effective(loaded)
        assert _dv_teaming(si) == _dv_teaming(loaded)
    finally:
        fresh.stop()
        vcsim_launcher.running.remove(fresh)


def test_loaded_recording_takes_host_software_fixtures(vcsim_factory: Any) -> None:
    from vcsim_software import HOST_SOFTWARE_FIXTURES

    si = vcsim_factory(model_dir=RECORDING, host_software=HOST_SOFTWARE_FIXTURES).si()
    host = find_by_name(si, vim.HostSystem, "DC0_C0_H0")
    assert host.configManager.imageConfigManager.HostImageConfigGetAcceptance() == "community"
    assert "vmklinux_9" in [m.name for m in host.configManager.kernelModuleSystem.QueryModules()]
