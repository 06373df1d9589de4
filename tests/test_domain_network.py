"""NIC teaming domain: effective policy merge, evaluations, blade interconnect table."""

from __future__ import annotations

from typing import Any

import pytest

from reporter.core.model_hostconfig import (
    DistributedPortGroup,
    DistributedSwitch,
    HostNetworkConfig,
    HostProxySwitch,
    HostSystemIdentity,
    LacpGroup,
    NicOrder,
    PhysicalNic,
    ProxySwitchUplink,
    StandardPortGroup,
    StandardSwitch,
    TeamingPolicy,
    VmkernelAdapter,
)
from reporter.domain.datafiles import DataFileError, parse_rows, parse_toml
from reporter.domain.network import (
    BladeInterconnect,
    PortGroupView,
    beacon_with_too_few_uplinks,
    blade_interconnects,
    distributed_views,
    effective_distributed,
    effective_standard,
    ip_hash_conflicts,
    ip_hash_mixed,
    link_status_only_behind_blade,
    notify_switches_off,
    portgroup_drift,
    standard_views,
    too_few_uplinks,
    uplinks_without_link,
)

FULL = TeamingPolicy(
    load_balancing="loadbalance_srcid", notify_switches=True, rolling_order=False, check_beacon=False,
    nic_order=NicOrder(active=["vmnic0", "vmnic1"], standby=[]),
)
OVERRIDES: dict[str, Any] = {
    "load_balancing": "failover_explicit",
    "notify_switches": False,
    "rolling_order": True,
    "check_beacon": True,
    "nic_order": NicOrder(active=["vmnic1"], standby=["vmnic0"]),
}
FIELDS = list(OVERRIDES)


def _effective_values(eff: Any) -> dict[str, tuple[Any, str]]:
    return {f: (getattr(eff, f).value, getattr(eff, f).origin) for f in FIELDS}


# --------------------------------------------------------------------------- merge


@pytest.mark.parametrize("kind", ["standard", "distributed"])
def test_every_field_inherited(kind: str) -> None:
    if kind == "standard":
        eff = effective_standard(StandardPortGroup(name="pg", vswitch="vs0"), StandardSwitch(name="vs0", teaming=FULL))
        origin = "vswitch"
    else:
        eff = effective_distributed(DistributedPortGroup(moid="dvpg-1", name="pg", dvs_moid="dvs-1"),
                                    DistributedSwitch(moid="dvs-1", name="dvs", default_teaming=FULL))
        origin = "switch_default"
    assert _effective_values(eff) == {f: (getattr(FULL, f), origin) for f in FIELDS}
    assert eff.active == ("vmnic0", "vmnic1") and eff.standby == () and eff.uplink_count == 2
    assert eff.link_status_only is True


@pytest.mark.parametrize("kind", ["standard", "distributed"])
@pytest.mark.parametrize("overridden", FIELDS)
def test_one_field_overridden(kind: str, overridden: str) -> None:
    override = TeamingPolicy(**{overridden: OVERRIDES[overridden]})
    if kind == "standard":
        eff = effective_standard(StandardPortGroup(name="pg", vswitch="vs0", teaming_override=override),
                                 StandardSwitch(name="vs0", teaming=FULL))
        base_origin = "vswitch"
    else:
        eff = effective_distributed(DistributedPortGroup(moid="dvpg-1", name="pg", dvs_moid="dvs-1", teaming=override),
                                    DistributedSwitch(moid="dvs-1", name="dvs", default_teaming=FULL))
        base_origin = "switch_default"
    expected = {f: (getattr(FULL, f), base_origin) for f in FIELDS}
    expected[overridden] = (OVERRIDES[overridden], "portgroup")
    assert _effective_values(eff) == expected


@pytest.mark.parametrize("kind", ["standard", "distributed"])
def test_every_field_overridden(kind: str) -> None:
    override = TeamingPolicy(**OVERRIDES)
    if kind == "standard":
        eff = effective_standard(StandardPortGroup(name="pg", vswitch="vs0", teaming_override=override),
                                 StandardSwitch(name="vs0", teaming=FULL))
    else:
        eff = effective_distributed(DistributedPortGroup(moid="dvpg-1", name="pg", dvs_moid="dvs-1", teaming=override),
                                    DistributedSwitch(moid="dvs-1", name="dvs", default_teaming=FULL))
    assert _effective_values(eff) == {f: (OVERRIDES[f], "portgroup") for f in FIELDS}
    assert eff.active == ("vmnic1",) and eff.standby == ("vmnic0",) and eff.uplink_count == 2


def test_unset_everywhere_is_unset_not_a_default() -> None:
    eff = effective_standard(StandardPortGroup(name="pg", vswitch="vs0"), StandardSwitch(name="vs0"))
    assert _effective_values(eff) == {f: (None, "unset") for f in FIELDS}
    assert eff.uplink_count is None and eff.link_status_only is False


def test_nic_order_is_overridden_as_a_whole() -> None:
    """An empty standby list in the override replaces the vSwitch's standby list too."""
    base = FULL.model_copy(update={"nic_order": NicOrder(active=["vmnic0"], standby=["vmnic1"])})
    eff = effective_standard(
        StandardPortGroup(name="pg", vswitch="vs0",
                          teaming_override=TeamingPolicy(nic_order=NicOrder(active=["vmnic1"]))),
        StandardSwitch(name="vs0", teaming=base))
    assert (eff.active, eff.standby) == (("vmnic1",), ())


# --------------------------------------------------------------------------- views


def host_network(*portgroups: StandardPortGroup, teaming: TeamingPolicy = FULL,
                 pnics: tuple[PhysicalNic, ...] = (), vmks: tuple[VmkernelAdapter, ...] = ()) -> HostNetworkConfig:
    return HostNetworkConfig(
        vswitches=[StandardSwitch(name="vSwitch0", uplinks=["vmnic0", "vmnic1"], teaming=teaming)],
        portgroups=list(portgroups), pnics=list(pnics), vmkernel_adapters=list(vmks))


def one_view(override: TeamingPolicy | None = None, vm_moids: list[str] | None = None,
             teaming: TeamingPolicy = FULL, vlan: int = 10) -> PortGroupView:
    pg = StandardPortGroup(name="VM Network", vswitch="vSwitch0", vlan_id=vlan,
                           teaming_override=override or TeamingPolicy(), vm_moids=vm_moids)
    (view,) = standard_views("host-1", "esx1", host_network(pg, teaming=teaming))
    return view


def test_standard_views_usage_from_vms_and_vmkernel() -> None:
    net = host_network(
        StandardPortGroup(name="Management", vswitch="vSwitch0", vm_moids=[]),
        StandardPortGroup(name="VM Network", vswitch="vSwitch0", vm_moids=["vm-1"]),
        StandardPortGroup(name="Empty", vswitch="vSwitch0", vm_moids=[]),
        StandardPortGroup(name="Unknown", vswitch="vSwitch0"),
        StandardPortGroup(name="Orphan", vswitch="vSwitch9"),
        vmks=(VmkernelAdapter(device="vmk0", portgroup="Management"),))
    views = standard_views("host-1", "esx1", net)
    assert [(v.portgroup, v.in_use, v.kind, v.switch) for v in views] == [
        ("Management", True, "standard", "vSwitch0"), ("VM Network", True, "standard", "vSwitch0"),
        ("Empty", False, "standard", "vSwitch0"), ("Unknown", None, "standard", "vSwitch0")]
    assert dict(views[0].uplink_pnics) == {"vmnic0": "vmnic0", "vmnic1": "vmnic1"}


def dvs_fixture(default: TeamingPolicy, pg_teaming: TeamingPolicy | None = None, vm_moids: list[str] | None = None,
                lacp: list[LacpGroup] | None = None) -> tuple[DistributedSwitch, list[DistributedPortGroup]]:
    switch = DistributedSwitch(moid="dvs-1", name="DSwitch", uuid="50 aa", uplink_port_names=["dvUplink1", "dvUplink2"],
                               host_moids=["host-1"], default_teaming=default, lacp_groups=lacp or [])
    pgs = [
        DistributedPortGroup(moid="dvpg-1", key="dvportgroup-1", name="Prod", dvs_moid="dvs-1", vlan_id=20,
                             teaming=pg_teaming or TeamingPolicy(), vm_moids=vm_moids),
        DistributedPortGroup(moid="dvpg-2", name="DSwitch-DVUplinks", dvs_moid="dvs-1", uplink_portgroup=True),
        DistributedPortGroup(moid="dvpg-3", name="Other switch", dvs_moid="dvs-9"),
    ]
    return switch, pgs


DVS_DEFAULT = TeamingPolicy(load_balancing="loadbalance_srcid", notify_switches=True, rolling_order=False,
                            check_beacon=False, nic_order=NicOrder(active=["dvUplink1"], standby=["dvUplink2"]))
PROXY = HostProxySwitch(dvs_uuid="50 aa", dvs_name="DSwitch", uplinks=[
    ProxySwitchUplink(uplink="dvUplink1", pnic="vmnic2"), ProxySwitchUplink(uplink="dvUplink2", pnic=None)])


def test_distributed_views_membership_mapping_and_usage() -> None:
    switch, pgs = dvs_fixture(DVS_DEFAULT, vm_moids=[])
    net = HostNetworkConfig(proxy_switches=[PROXY],
                            vmkernel_adapters=[VmkernelAdapter(device="vmk1", distributed_portgroup_key="dvportgroup-1")])
    (view,) = distributed_views("host-1", "esx1", net, {"dvs-1": switch}, pgs)
    assert (view.portgroup, view.kind, view.switch, view.vlan_id, view.in_use, view.portgroup_moid) == (
        "Prod", "distributed", "DSwitch", 20, True, "dvpg-1")
    assert dict(view.uplink_pnics) == {"dvUplink1": "vmnic2", "dvUplink2": None}
    assert view.teaming.load_balancing.origin == "switch_default"
    # a host that is neither listed on the switch nor has a proxy switch sees nothing
    assert distributed_views("host-2", "esx2", HostNetworkConfig(), {"dvs-1": switch}, pgs) == []


def test_lag_counts_and_maps_its_members() -> None:
    lag = LacpGroup(name="lag1", mode="active", uplink_count=2, uplink_names=["lag1-0", "lag1-1"])
    default = DVS_DEFAULT.model_copy(update={"nic_order": NicOrder(active=["lag1"])})
    switch, pgs = dvs_fixture(default, vm_moids=["vm-1"], lacp=[lag])
    proxy = HostProxySwitch(dvs_uuid="50 aa", uplinks=[ProxySwitchUplink(uplink="lag1-0", pnic="vmnic2"),
                                                       ProxySwitchUplink(uplink="lag1-1", pnic="vmnic3")])
    (view,) = distributed_views("host-1", "esx1", HostNetworkConfig(proxy_switches=[proxy]), {"dvs-1": switch}, pgs)
    assert view.uplink_count == 2 and view.teaming.uplink_count == 1
    assert too_few_uplinks(view) is None
    pnics = {"vmnic2": PhysicalNic(device="vmnic2", link_speed_mbps=10000), "vmnic3": PhysicalNic(device="vmnic3")}
    assert [(r.uplink, r.role, r.pnic, r.reason) for r in uplinks_without_link(view, pnics)] == [
        ("lag1-1", "active", "vmnic3", "link_down")]


# --------------------------------------------------------------------------- evaluations


SINGLE = NicOrder(active=["vmnic0"])


@pytest.mark.parametrize("order,vm_moids,minimum,expected", [
    (SINGLE, ["vm-1"], 2, (1, 2)),                                   # one uplink, VMs on it
    (SINGLE, None, 2, (1, 2)),                                       # usage unknown: still evaluated
    (SINGLE, [], 2, None),                                           # unused port group
    (NicOrder(active=["vmnic0"], standby=["vmnic1"]), ["vm-1"], 2, None),  # standby counts
    (NicOrder(active=["vmnic0", "vmnic1"]), ["vm-1"], 2, None),
    (NicOrder(active=["vmnic0", "vmnic1"]), ["vm-1"], 3, (2, 3)),    # setting raised to 3
    (NicOrder(), ["vm-1"], 2, (0, 2)),                               # no uplink at all
])
def test_too_few_uplinks(order: NicOrder, vm_moids: list[str] | None, minimum: int,
                         expected: tuple[int, int] | None) -> None:
    result = too_few_uplinks(one_view(TeamingPolicy(nic_order=order), vm_moids=vm_moids), minimum)
    assert (None if result is None else (result.uplinks, result.minimum)) == expected


def test_too_few_uplinks_unknown_order_is_not_evaluated() -> None:
    assert too_few_uplinks(one_view(vm_moids=["vm-1"], teaming=TeamingPolicy())) is None


def test_uplinks_without_link_standard() -> None:
    view = one_view(TeamingPolicy(nic_order=NicOrder(active=["vmnic0", "vmnic4"], standby=["vmnic1"])))
    pnics = {"vmnic0": PhysicalNic(device="vmnic0", link_speed_mbps=10000, full_duplex=True),
             "vmnic1": PhysicalNic(device="vmnic1", link_speed_mbps=None)}
    assert [(r.uplink, r.role, r.pnic, r.reason) for r in uplinks_without_link(view, pnics)] == [
        ("vmnic4", "active", "vmnic4", "unknown_physical_nic"), ("vmnic1", "standby", "vmnic1", "link_down")]
    pnics["vmnic1"] = PhysicalNic(device="vmnic1", link_speed_mbps=1000)
    pnics["vmnic4"] = PhysicalNic(device="vmnic4", link_speed_mbps=1000)
    assert uplinks_without_link(view, pnics) == []


def test_uplinks_without_link_distributed_no_pnic() -> None:
    switch, pgs = dvs_fixture(DVS_DEFAULT, vm_moids=["vm-1"])
    (view,) = distributed_views("host-1", "esx1", HostNetworkConfig(proxy_switches=[PROXY]), {"dvs-1": switch}, pgs)
    pnics = {"vmnic2": PhysicalNic(device="vmnic2", link_speed_mbps=25000)}
    assert [(r.uplink, r.role, r.pnic, r.reason) for r in uplinks_without_link(view, pnics)] == [
        ("dvUplink2", "standby", None, "no_physical_nic")]


@pytest.mark.parametrize("beacon,order,fires", [
    (True, NicOrder(active=["vmnic0", "vmnic1"]), True),
    (True, NicOrder(active=["vmnic0"], standby=["vmnic1"]), True),
    (True, NicOrder(active=["vmnic0", "vmnic1", "vmnic2"]), False),
    (True, NicOrder(active=["vmnic0", "vmnic1"], standby=["vmnic2"]), False),
    (False, NicOrder(active=["vmnic0", "vmnic1"]), False),
])
def test_beacon_with_too_few_uplinks(beacon: bool, order: NicOrder, fires: bool) -> None:
    result = beacon_with_too_few_uplinks(one_view(TeamingPolicy(check_beacon=beacon, nic_order=order)))
    assert (result is not None) == fires
    if result:
        assert result.uplinks == 2


@pytest.mark.parametrize("policy,reasons", [
    (TeamingPolicy(load_balancing="loadbalance_ip", nic_order=NicOrder(active=["vmnic0"], standby=["vmnic1"])),
     ["standby_uplinks"]),
    (TeamingPolicy(load_balancing="loadbalance_ip", check_beacon=True), ["beacon_probing"]),
    (TeamingPolicy(load_balancing="loadbalance_ip", check_beacon=True,
                   nic_order=NicOrder(active=["vmnic0"], standby=["vmnic1"])), ["standby_uplinks", "beacon_probing"]),
    (TeamingPolicy(load_balancing="loadbalance_ip"), []),  # all active, link status only: correct
    (TeamingPolicy(load_balancing="loadbalance_srcid", check_beacon=True,
                   nic_order=NicOrder(active=["vmnic0"], standby=["vmnic1"])), []),
])
def test_ip_hash_conflicts(policy: TeamingPolicy, reasons: list[str]) -> None:
    assert [c.reason for c in ip_hash_conflicts(one_view(policy))] == reasons


def test_ip_hash_on_some_port_groups_of_a_vswitch() -> None:
    ip = TeamingPolicy(load_balancing="loadbalance_ip")
    net = host_network(StandardPortGroup(name="A", vswitch="vSwitch0", teaming_override=ip),
                       StandardPortGroup(name="B", vswitch="vSwitch0"),
                       StandardPortGroup(name="C", vswitch="vSwitch0", teaming_override=ip))
    (mixed,) = ip_hash_mixed(standard_views("host-1", "esx1", net))
    assert (mixed.host_name, mixed.switch, mixed.ip_hash, mixed.other) == ("esx1", "vSwitch0", ("A", "C"), ("B",))
    all_ip = host_network(StandardPortGroup(name="A", vswitch="vSwitch0"), StandardPortGroup(name="B", vswitch="vSwitch0"),
                          teaming=FULL.model_copy(update={"load_balancing": "loadbalance_ip"}))
    assert ip_hash_mixed(standard_views("host-1", "esx1", all_ip)) == []


def test_ip_hash_mixed_distributed_is_per_switch() -> None:
    switch, pgs = dvs_fixture(DVS_DEFAULT, pg_teaming=TeamingPolicy(load_balancing="loadbalance_ip"))
    pgs.append(DistributedPortGroup(moid="dvpg-4", name="Backup", dvs_moid="dvs-1"))
    views = distributed_views("host-1", "esx1", HostNetworkConfig(proxy_switches=[PROXY]), {"dvs-1": switch}, pgs)
    (mixed,) = ip_hash_mixed(views)
    assert (mixed.host_name, mixed.switch, mixed.ip_hash, mixed.other) == (None, "DSwitch", ("Prod",), ("Backup",))


@pytest.mark.parametrize("notify,fires", [(False, True), (True, False)])
def test_notify_switches_off(notify: bool, fires: bool) -> None:
    assert (notify_switches_off(one_view(TeamingPolicy(notify_switches=notify))) is not None) == fires


def test_notify_switches_unset_is_not_off() -> None:
    assert notify_switches_off(one_view(teaming=TeamingPolicy())) is None


HP_BLADE = HostSystemIdentity(vendor="HP", model="ProLiant BL460c Gen8")


@pytest.mark.parametrize("identity,beacon,vm_moids,fires", [
    (HP_BLADE, False, ["vm-1"], True),
    (HostSystemIdentity(vendor="Hewlett Packard Enterprise", model="ProLiant BL660c Gen9"), False, None, True),
    (HostSystemIdentity(vendor="HPE", model="HPE ProLiant BL460c Gen10"), False, ["vm-1"], True),
    (HP_BLADE, True, ["vm-1"], False),                                  # beacon probing sees the failure
    (HP_BLADE, False, [], False),                                       # port group not used
    (HostSystemIdentity(vendor="HPE", model="ProLiant DL380 Gen10"), False, ["vm-1"], False),  # rack server
    (HostSystemIdentity(vendor="Dell Inc.", model="PowerEdge M640"), False, ["vm-1"], False),   # not in the table
    (HostSystemIdentity(vendor=None, model=None), False, ["vm-1"], False),
    (None, False, ["vm-1"], False),
])
def test_link_status_only_behind_blade(identity: HostSystemIdentity | None, beacon: bool,
                                       vm_moids: list[str] | None, fires: bool) -> None:
    view = one_view(TeamingPolicy(check_beacon=beacon), vm_moids=vm_moids)
    result = link_status_only_behind_blade(view, identity)
    assert (result is not None) == fires
    if result:
        assert result.interconnect.id == "hp-bladesystem-virtual-connect"


def _host_view(host: str, vlan: int, override: TeamingPolicy | None = None) -> PortGroupView:
    net = host_network(StandardPortGroup(name="VM Network", vswitch="vSwitch0", vlan_id=vlan,
                                         teaming_override=override or TeamingPolicy()))
    (view,) = standard_views(f"{host}-moid", host, net)
    return view


def test_portgroup_drift_across_cluster() -> None:
    views = [_host_view("esx1", 10), _host_view("esx2", 20, TeamingPolicy(load_balancing="loadbalance_ip")),
             _host_view("esx3", 10)]
    drift = portgroup_drift(views)
    assert [(d.portgroup, d.setting, dict(d.values)) for d in drift] == [
        ("VM Network", "vlan_id", {"esx1": 10, "esx2": 20, "esx3": 10}),
        ("VM Network", "load_balancing",
         {"esx1": "loadbalance_srcid", "esx2": "loadbalance_ip", "esx3": "loadbalance_srcid"}),
    ]


def test_portgroup_drift_none_when_consistent_or_single_or_distributed() -> None:
    assert portgroup_drift([_host_view("esx1", 10), _host_view("esx2", 10)]) == []
    assert portgroup_drift([_host_view("esx1", 10)]) == []
    switch, pgs = dvs_fixture(DVS_DEFAULT)
    views = [*distributed_views("host-1", "esx1", HostNetworkConfig(proxy_switches=[PROXY]), {"dvs-1": switch}, pgs),
             *distributed_views("host-2", "esx2", HostNetworkConfig(proxy_switches=[PROXY]), {"dvs-1": switch}, pgs)]
    assert len(views) == 2 and portgroup_drift(views) == []


# --------------------------------------------------------------------------- data file


def test_blade_table_rows_are_sourced() -> None:
    rows = blade_interconnects()
    assert [r.id for r in rows] == ["hp-bladesystem-virtual-connect"]
    for r in rows:
        assert r.source.strip() and r.behaviour and r.fix
        assert r.verified or r.note


GOOD_ROW = ('[[interconnect]]\nid = "x"\nname = "n"\nvendor_pattern = "HP"\nmodel_pattern = "BL"\n'
            'behaviour = "b"\nfix = "f"\nverified = true\nsource = "s"\n')


@pytest.mark.parametrize("text,message", [
    (GOOD_ROW.replace('model_pattern = "BL"', 'model_pattern = "BL("'),
     "t.toml: [[interconnect]] row 1: model_pattern: Value error, not a valid regular expression"),
    (GOOD_ROW.replace('source = "s"', 'source = " "'), "t.toml: [[interconnect]] row 1: source: Value error, source must say"),
    (GOOD_ROW.replace('source = "s"\n', ""), "t.toml: [[interconnect]] row 1: source: Field required"),
    (GOOD_ROW + 'colour = "red"\n', "t.toml: [[interconnect]] row 1: colour: unknown key"),
    (GOOD_ROW.replace("verified = true", "verified = false"),
     "t.toml: [[interconnect]] row 1: row: Value error, a row with verified = false needs a note"),
    (GOOD_ROW + GOOD_ROW.replace('fix = "f"\n', ""), "t.toml: [[interconnect]] row 2: fix: Field required"),
    ('interconnect = "nope"\n', "t.toml: 'interconnect' must be an array of tables"),
    ("[[interconnect]\n", "t.toml: not valid TOML"),
])
def test_malformed_blade_rows_are_rejected_with_one_line(text: str, message: str) -> None:
    with pytest.raises(DataFileError) as info:
        parse_rows(parse_toml(text, "t.toml"), "interconnect", BladeInterconnect, "t.toml")
    assert str(info.value).startswith(message)
    assert "\n" not in str(info.value)


def test_good_row_parses() -> None:
    (row,) = parse_rows(parse_toml(GOOD_ROW, "t.toml"), "interconnect", BladeInterconnect, "t.toml")
    assert row.matches(HostSystemIdentity(vendor="hp", model="bl460c")) is True
