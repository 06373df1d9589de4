"""Networking shaped through the API on the launcher (standard and distributed switches,
pnic link state, host vendor/model), read back through a PropertyCollector."""

from __future__ import annotations

import urllib.error
import urllib.request
from typing import Any

import pytest
from pyVim import task as _task
from pyVmomi import vim as _vim
from pyVmomi import vmodl as _vmodl

from vcsim_network import (
    DvPortgroup,
    add_dvportgroups,
    add_lag,
    add_portgroup,
    add_vswitch,
    create_dvportgroup,
    create_dvs,
    dv_teaming_policy,
    find_by_name,
    retrieve,
    set_dvs_default_teaming,
    teaming_policy,
    update_portgroup,
    update_vswitch,
)

# pyVmomi's type constructors and WaitForTask are untyped: use them as Any.
vim: Any = _vim
vmodl: Any = _vmodl
WaitForTask: Any = _task.WaitForTask

CLUSTER_HOSTS = ("DC0_C0_H0", "DC0_C0_H1", "DC0_C0_H2")


@pytest.fixture
def sim(vcsim_factory: Any) -> Any:
    return vcsim_factory(vms=0, host_pnics=4)


def _network(si: Any, host: str) -> Any:
    return retrieve(si, vim.HostSystem, ["config.network"])[host]["config.network"]


def test_vswitch_spec_and_port_group_effective_policy(sim: Any) -> None:
    si = sim.si()
    host = find_by_name(si, vim.HostSystem, "DC0_C0_H0")
    add_vswitch(host, "vSwitch1", ["vmnic2", "vmnic3"], mtu=9000,
                teaming=teaming_policy(policy="loadbalance_srcid", notify_switches=True, rolling_order=False,
                                       check_beacon=False, active=["vmnic2"], standby=["vmnic3"]))
    add_portgroup(host, "Backup", "vSwitch1", vlan=20,
                  teaming=teaming_policy(policy="loadbalance_ip", active=["vmnic2", "vmnic3"], standby=[]))
    add_portgroup(host, "Inherit", "vSwitch1", vlan=21)

    net = _network(si, "DC0_C0_H0")
    vs = next(v for v in net.vswitch if v.name == "vSwitch1")
    assert (vs.key, vs.mtu, vs.pnic) == ("key-vim.host.VirtualSwitch-vSwitch1", 9000,
                                         ["key-vim.host.PhysicalNic-vmnic2", "key-vim.host.PhysicalNic-vmnic3"])
    assert vs.portgroup == ["key-vim.host.PortGroup-Backup", "key-vim.host.PortGroup-Inherit"]
    assert list(vs.spec.bridge.nicDevice) == ["vmnic2", "vmnic3"]
    pgs = {p.spec.name: p for p in net.portgroup}
    backup = pgs["Backup"]
    assert (backup.key, backup.vswitch, backup.spec.vlanId) == (
        "key-vim.host.PortGroup-Backup", "key-vim.host.VirtualSwitch-vSwitch1", 20)
    # The override as given ...
    assert backup.spec.policy.nicTeaming.policy == "loadbalance_ip"
    assert backup.spec.policy.nicTeaming.notifySwitches is None
    # ... and the effective policy: override over the vSwitch's.
    eff = backup.computedPolicy.nicTeaming
    assert (eff.policy, eff.notifySwitches, eff.rollingOrder, eff.failureCriteria.checkBeacon) == (
        "loadbalance_ip", True, False, False)
    assert (list(eff.nicOrder.activeNic), list(eff.nicOrder.standbyNic)) == (["vmnic2", "vmnic3"], [])
    inherit = pgs["Inherit"].computedPolicy.nicTeaming
    assert (inherit.policy, list(inherit.nicOrder.activeNic), list(inherit.nicOrder.standbyNic)) == (
        "loadbalance_srcid", ["vmnic2"], ["vmnic3"])
    # The network system's networkInfo is the same data as the host's config.network.
    ns_info = host.configManager.networkSystem.networkInfo
    assert [p.spec.name for p in ns_info.portgroup] == [p.spec.name for p in net.portgroup]


def test_vswitch_without_policy_gets_esxi_defaults(sim: Any) -> None:
    si = sim.si()
    add_vswitch(find_by_name(si, vim.HostSystem, "DC0_C0_H1"), "vSwitch2", ["vmnic2"])
    vs = next(v for v in _network(si, "DC0_C0_H1").vswitch if v.name == "vSwitch2")
    t = vs.spec.policy.nicTeaming
    assert (t.policy, t.notifySwitches, t.rollingOrder, t.failureCriteria.checkBeacon, list(t.nicOrder.activeNic)) == (
        "loadbalance_srcid", True, False, False, ["vmnic2"])
    assert vs.spec.policy.security.allowPromiscuous is False


def test_updates_recompute_effective_policies(sim: Any) -> None:
    si = sim.si()
    host = find_by_name(si, vim.HostSystem, "DC0_C0_H0")
    add_vswitch(host, "vSwitch1", ["vmnic2", "vmnic3"], teaming=teaming_policy(
        policy="loadbalance_srcid", notify_switches=True, rolling_order=False, check_beacon=False,
        active=["vmnic2", "vmnic3"]))
    add_portgroup(host, "Storage", "vSwitch1", vlan=30)
    update_vswitch(host, "vSwitch1", nics=["vmnic1", "vmnic2", "vmnic3"], teaming=teaming_policy(
        policy="loadbalance_srcid", notify_switches=False, rolling_order=True, check_beacon=True,
        active=["vmnic1", "vmnic2", "vmnic3"]))
    update_portgroup(host, "Storage", vlan=31, teaming=teaming_policy(policy="failover_explicit",
                                                                      active=["vmnic1"], standby=["vmnic2"]))
    net = _network(si, "DC0_C0_H0")
    storage = next(p for p in net.portgroup if p.spec.name == "Storage")
    eff = storage.computedPolicy.nicTeaming
    assert storage.spec.vlanId == 31
    assert (eff.policy, eff.notifySwitches, eff.rollingOrder, eff.failureCriteria.checkBeacon) == (
        "failover_explicit", False, True, True)
    assert (list(eff.nicOrder.activeNic), list(eff.nicOrder.standbyNic)) == (["vmnic1"], ["vmnic2"])
    vs = next(v for v in net.vswitch if v.name == "vSwitch1")
    assert len(vs.pnic) == 3


def test_uplink_faults(sim: Any) -> None:
    host = find_by_name(sim.si(), vim.HostSystem, "DC0_C0_H0")
    with pytest.raises(vim.fault.NotFound):
        add_vswitch(host, "vSwitchX", ["vmnic9"])
    with pytest.raises(vim.fault.ResourceInUse):  # vmnic0 serves vSwitch0
        add_vswitch(host, "vSwitchY", ["vmnic0"])
    add_vswitch(host, "vSwitch1", ["vmnic2"])
    with pytest.raises(vim.fault.AlreadyExists):
        add_vswitch(host, "vSwitch1", ["vmnic3"])
    add_portgroup(host, "PG", "vSwitch1")
    with pytest.raises(vim.fault.AlreadyExists):
        add_portgroup(host, "PG", "vSwitch1")


def test_same_port_group_on_every_cluster_host_is_one_network(sim: Any) -> None:
    si = sim.si()
    for name in CLUSTER_HOSTS:
        host = find_by_name(si, vim.HostSystem, name)
        add_vswitch(host, "vSwitch1", ["vmnic2", "vmnic3"])
        add_portgroup(host, "VLAN100", "vSwitch1", vlan=100)
    networks = retrieve(si, vim.Network, ["host"])
    assert sorted(h.name for h in networks["VLAN100"]["host"]) == list(CLUSTER_HOSTS)
    hosts = retrieve(si, vim.HostSystem, ["network"])
    for name in CLUSTER_HOSTS:
        assert "VLAN100" in [n.name for n in hosts[name]["network"]]
    assert "VLAN100" not in [n.name for n in hosts["DC0_H0"]["network"]]
    cluster = retrieve(si, vim.ClusterComputeResource, ["network"])["DC0_C0"]
    assert [n.name for n in cluster["network"]].count("VLAN100") == 1
    # Removing it from every host removes the Network, as vCenter does.
    for name in CLUSTER_HOSTS:
        find_by_name(si, vim.HostSystem, name).configManager.networkSystem.RemovePortGroup("VLAN100")
    assert "VLAN100" not in retrieve(si, vim.Network, [])


def test_pnic_count_link_down_and_host_model(vcsim_factory: Any) -> None:
    sim = vcsim_factory(vms=0, host_pnics=3, pnic_down=("DC0_C0_H1:vmnic1", "DC0_C0_H1:vmnic2"),
                        host_model={"DC0_C0_H0": "HP:ProLiant BL460c Gen9", "DC0_C0_H1": "Dell Inc.:PowerEdge M630"})
    hosts = retrieve(sim.si(), vim.HostSystem, ["config.network.pnic", "hardware.systemInfo", "summary.hardware"])
    links = {p.device: (p.linkSpeed.speedMb if p.linkSpeed else None) for p in hosts["DC0_C0_H1"]["config.network.pnic"]}
    assert links == {"vmnic0": 10000, "vmnic1": None, "vmnic2": None}
    assert [p.device for p in hosts["DC0_C0_H0"]["config.network.pnic"]] == ["vmnic0", "vmnic1", "vmnic2"]
    assert all(p.linkSpeed.speedMb == 10000 for p in hosts["DC0_C0_H0"]["config.network.pnic"])
    assert len({p.mac for p in hosts["DC0_C0_H0"]["config.network.pnic"]}) == 3
    info = hosts["DC0_C0_H0"]["hardware.systemInfo"]
    assert (info.vendor, info.model) == ("HP", "ProLiant BL460c Gen9")
    summary = hosts["DC0_C0_H1"]["summary.hardware"]
    assert (summary.vendor, summary.model) == ("Dell Inc.", "PowerEdge M630")
    assert hosts["DC0_H0"]["hardware.systemInfo"].vendor == "VMware, Inc."


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"pnic_down": ("DC0_C0_H0:vmnic7",)}, "host DC0_C0_H0 has no physical NIC vmnic7"),
    ({"pnic_down": ("NOPE:vmnic1",)}, 'no host named "NOPE"'),
    ({"host_model": {"DC0_C0_H0": "HP"}}, '"HP" is not Vendor:Model'),
])
def test_bad_network_flags_stop_the_launcher(vcsim_launcher: Any, kwargs: dict[str, Any], message: str) -> None:
    from vcsim_harness import HarnessError

    with pytest.raises(HarnessError, match=message):
        vcsim_launcher.start(vms=0, timeout_s=30, **kwargs)


def test_distributed_switch_members_and_port_group_teaming(sim: Any) -> None:
    si = sim.si()
    dc = find_by_name(si, vim.Datacenter, "DC0")
    hosts = [find_by_name(si, vim.HostSystem, n) for n in CLUSTER_HOSTS]
    switch = create_dvs(dc, "DSwitch0", hosts, uplinks=("uplink1", "uplink2", "uplink3"), pnics=["vmnic2", "vmnic3"],
                        teaming=dv_teaming_policy(policy="loadbalance_srcid", active=("uplink1", "uplink2"),
                                                  standby=("uplink3",)))
    add_dvportgroups(switch, [
        DvPortgroup("dvpg-lacp-like", vlan=200, teaming=dv_teaming_policy(policy="loadbalance_ip",
                                                                          active=("uplink1", "uplink2"))),
        DvPortgroup("dvpg-beacon", vlan=201, teaming=dv_teaming_policy(check_beacon=True, notify_switches=False,
                                                                       active=("uplink1", "uplink2", "uplink3"))),
    ])
    switches = retrieve(si, vim.DistributedVirtualSwitch, ["config", "summary.hostMember", "portgroup"])
    dvs = switches["DSwitch0"]
    assert sorted(h.name for h in dvs["summary.hostMember"]) == list(CLUSTER_HOSTS)
    assert list(dvs["config"].uplinkPortPolicy.uplinkPortName) == ["uplink1", "uplink2", "uplink3"]
    default = dvs["config"].defaultPortConfig.uplinkTeamingPolicy
    assert (default.policy.value, list(default.uplinkPortOrder.standbyUplinkPort)) == ("loadbalance_srcid", ["uplink3"])
    assert sorted(p.name for p in dvs["portgroup"]) == ["DSwitch0-DVUplinks" + switch._moId.removeprefix("dvs"),
                                                        "dvpg-beacon", "dvpg-lacp-like"]

    pgs = retrieve(si, vim.dvs.DistributedVirtualPortgroup, ["config", "host"])
    beacon = pgs["dvpg-beacon"]
    teaming = beacon["config"].defaultPortConfig.uplinkTeamingPolicy
    assert (teaming.policy.value, teaming.notifySwitches.value, teaming.failureCriteria.checkBeacon.value) == (
        "loadbalance_srcid", False, True)
    assert list(teaming.uplinkPortOrder.activeUplinkPort) == ["uplink1", "uplink2", "uplink3"]
    assert beacon["config"].defaultPortConfig.vlan.vlanId == 201
    assert beacon["config"].distributedVirtualSwitch._moId == switch._moId
    assert sorted(h.name for h in beacon["host"]) == list(CLUSTER_HOSTS)
    assert pgs["dvpg-lacp-like"]["config"].defaultPortConfig.uplinkTeamingPolicy.policy.value == "loadbalance_ip"
    host_networks = retrieve(si, vim.HostSystem, ["network"])
    assert "dvpg-beacon" in [n.name for n in host_networks["DC0_C0_H2"]["network"]]
    assert "dvpg-beacon" not in [n.name for n in host_networks["DC0_H0"]["network"]]


def test_distributed_switch_member_backing_lacp_and_later_changes(sim: Any) -> None:
    si = sim.si()
    dc = find_by_name(si, vim.Datacenter, "DC0")
    hosts = [find_by_name(si, vim.HostSystem, n) for n in CLUSTER_HOSTS[:2]]
    switch = create_dvs(dc, "DSwitch-LACP", hosts, pnics=["vmnic2", "vmnic3"], lacp_api_version="multipleLag")
    lag = add_lag(switch, "lag1", 2, mode="active", load_balancing="srcDestIp")
    assert (lag.name, lag.mode, lag.uplinkNum, lag.loadbalanceAlgorithm, list(lag.uplinkName)) == (
        "lag1", "active", 2, "srcDestIp", ["lag1-0", "lag1-1"])
    pg = create_dvportgroup(switch, DvPortgroup("dv-LAG", vlan=300, teaming=dv_teaming_policy(
        policy="loadbalance_ip", active=("lag1",))))
    assert pg.name == "dv-LAG"
    set_dvs_default_teaming(switch, dv_teaming_policy(policy="loadbalance_loadbased", active=("uplink1", "uplink2")))

    dvs = retrieve(si, vim.DistributedVirtualSwitch, ["config"])["DSwitch-LACP"]["config"]
    assert dvs.lacpApiVersion == "multipleLag"
    assert [g.name for g in dvs.lacpGroupConfig] == ["lag1"]
    assert dvs.defaultPortConfig.uplinkTeamingPolicy.policy.value == "loadbalance_loadbased"
    members = {m.config.host.name: [p.pnicDevice for p in m.config.backing.pnicSpec] for m in dvs.host}
    assert members == {"DC0_C0_H0": ["vmnic2", "vmnic3"], "DC0_C0_H1": ["vmnic2", "vmnic3"]}
    lag_pg = retrieve(si, vim.dvs.DistributedVirtualPortgroup, ["config"])["dv-LAG"]["config"]
    order = lag_pg.defaultPortConfig.uplinkTeamingPolicy.uplinkPortOrder
    assert (list(order.activeUplinkPort), lag_pg.defaultPortConfig.vlan.vlanId) == (["lag1"], 300)

    # Adding the third host with one pnic, then editing its backing.
    third = find_by_name(si, vim.HostSystem, "DC0_C0_H2")
    member = vim.dvs.HostMember
    for op, nics in (("add", ["vmnic2"]), ("edit", ["vmnic2", "vmnic3"])):
        task = switch.ReconfigureDvs_Task(vim.DistributedVirtualSwitch.ConfigSpec(
            configVersion=switch.config.configVersion,
            host=[member.ConfigSpec(operation=op, host=third, backing=member.PnicBacking(
                pnicSpec=[member.PnicSpec(pnicDevice=n) for n in nics]))]))
        WaitForTask(task)
    dvs = retrieve(si, vim.DistributedVirtualSwitch, ["config", "summary.hostMember"])["DSwitch-LACP"]
    assert sorted(h.name for h in dvs["summary.hostMember"]) == list(CLUSTER_HOSTS)
    backing = {m.config.host.name: [p.pnicDevice for p in m.config.backing.pnicSpec] for m in dvs["config"].host}
    assert backing["DC0_C0_H2"] == ["vmnic2", "vmnic3"]


def test_lacp_needs_enhanced_mode(sim: Any) -> None:
    si = sim.si()
    switch = create_dvs(find_by_name(si, vim.Datacenter, "DC0"), "DSwitch-basic", [])
    with pytest.raises(vmodl.fault.NotSupported):
        add_lag(switch, "lag1", 2)


def test_intercepted_methods_still_need_a_session(sim: Any) -> None:
    si = sim.si()
    switch = create_dvs(find_by_name(si, vim.Datacenter, "DC0"), "DSwitch-auth", [], lacp_api_version="multipleLag")
    envelope = (
        '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'
        '<soapenv:Body><UpdateDVSLacpGroupConfig_Task xmlns="urn:vim25">'
        f'<_this type="DistributedVirtualSwitch">{switch._moId}</_this>'
        '<lacpGroupSpec><lacpGroupConfig><name>lagX</name><uplinkNum>2</uplinkNum></lacpGroupConfig>'
        '<operation>add</operation></lacpGroupSpec></UpdateDVSLacpGroupConfig_Task></soapenv:Body></soapenv:Envelope>')
    req = urllib.request.Request(f"https://{sim.host}:{sim.port}/sdk", data=envelope.encode(), method="POST",
                                 headers={"Content-Type": "text/xml", "SOAPAction": "urn:vim25/7.0"})
    with pytest.raises(urllib.error.HTTPError) as exc:
        urllib.request.urlopen(req, context=sim.ssl_context(), timeout=30)
    assert exc.value.code == 500
    assert "NotAuthenticated" in exc.value.read().decode()
    assert not retrieve(si, vim.DistributedVirtualSwitch, ["config"])["DSwitch-auth"]["config"].lacpGroupConfig


def test_a_pnic_serves_one_switch(sim: Any) -> None:
    si = sim.si()
    dc = find_by_name(si, vim.Datacenter, "DC0")
    host = find_by_name(si, vim.HostSystem, "DC0_C0_H0")
    with pytest.raises(vim.fault.ResourceInUse):  # vmnic0 is vSwitch0's
        create_dvs(dc, "DSwitch-clash", [host], pnics=["vmnic0"])
    assert "DSwitch-clash" not in retrieve(si, vim.DistributedVirtualSwitch, [])
    create_dvs(dc, "DSwitch-ok", [host], pnics=["vmnic3"])
    with pytest.raises(vim.fault.ResourceInUse):  # vmnic3 now backs the distributed switch
        add_vswitch(host, "vSwitch1", ["vmnic3"])
    add_vswitch(host, "vSwitch1", ["vmnic2"])
    switch = find_by_name(si, vim.DistributedVirtualSwitch, "DSwitch-ok")
    member = vim.dvs.HostMember
    task = switch.ReconfigureDvs_Task(vim.DistributedVirtualSwitch.ConfigSpec(
        configVersion=switch.config.configVersion,
        host=[member.ConfigSpec(operation="edit", host=host, backing=member.PnicBacking(
            pnicSpec=[member.PnicSpec(pnicDevice="vmnic2")]))]))
    with pytest.raises(vim.fault.ResourceInUse):
        WaitForTask(task)
