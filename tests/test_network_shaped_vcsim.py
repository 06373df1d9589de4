"""NIC teaming checks on a simulator shaped through the vSphere API (tests/vcsim_network.py).

One cluster of three hosts with 12 physical NICs each (DC0_C0_H1's vmnic3 without link,
DC0_C0_H2 an HP BL460c blade). First a correct configuration everywhere (vSwitch0 on three
NICs with beacon probing, the management port group active/standby): no network finding at
all. Then one shaped case per finding, each next to a correct twin that must stay silent;
the exact findings of every check are asserted."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from vcsim_network import (
    DvPortgroup,
    WaitForTask,
    add_dvportgroups,
    add_lag,
    add_portgroup,
    add_vswitch,
    create_dvs,
    dv_teaming_policy,
    find_by_name,
    teaming_policy,
    update_portgroup,
    update_vswitch,
    vim,
)

from reporter.api import load_config
from reporter.checks.base import CheckContext
from reporter.checks.engine import run_checks
from reporter.collect import collect
from reporter.core.findings import Finding
from reporter.core.model import Snapshot

pytestmark = pytest.mark.vcsim

HOSTS = ("DC0_C0_H0", "DC0_C0_H1", "DC0_C0_H2")


def _vm_with_nic(si: Any, host_name: str, name: str, dv: Any) -> None:
    """Create VM ``name`` on ``host_name`` with one NIC on the distributed port group ``dv``.

    (Not on a new standard port group: govmomi 0.24 looks a NIC's network up in the
    datacenter's network list, which the launcher's port groups are not added to, and the
    simulator dies on the nil lookup. Standard port groups in use come from vmk0 here.)"""
    backing = vim.vm.device.VirtualEthernetCard.DistributedVirtualPortBackingInfo(
        port=vim.dvs.PortConnection(switchUuid=dv.config.distributedVirtualSwitch.uuid, portgroupKey=dv.key))
    nic = vim.vm.device.VirtualDeviceSpec(operation="add", device=vim.vm.device.VirtualE1000(key=-1, backing=backing))
    spec = vim.vm.ConfigSpec(name=name, guestId="otherGuest64", memoryMB=64, numCPUs=1,
                             files=vim.vm.FileInfo(vmPathName="[LocalDS_0]"), deviceChange=[nic])
    dc = find_by_name(si, vim.Datacenter, "DC0")
    cluster = find_by_name(si, vim.ClusterComputeResource, "DC0_C0")
    host = find_by_name(si, vim.HostSystem, host_name)
    WaitForTask(dc.vmFolder.CreateVM_Task(config=spec, pool=cluster.resourcePool, host=host))


def _correct(si: Any) -> None:
    """vSwitch0 on vmnic0-2, beacon probing (3 uplinks), vmnic2 standby; the management port
    group active vmnic0, standby vmnic1 + vmnic2; the same on every host."""
    for name in HOSTS:
        host = find_by_name(si, vim.HostSystem, name)
        update_vswitch(host, "vSwitch0", nics=["vmnic0", "vmnic1", "vmnic2"], teaming=teaming_policy(
            policy="loadbalance_srcid", notify_switches=True, rolling_order=False, check_beacon=True,
            active=["vmnic0", "vmnic1"], standby=["vmnic2"]))
        update_portgroup(host, "Management Network",
                         teaming=teaming_policy(active=["vmnic0"], standby=["vmnic1", "vmnic2"]))


def _vswitch(si: Any, host_name: str, name: str, nics: Sequence[str], portgroups: Sequence[tuple[str, Any]],
             **teaming: Any) -> Any:
    host = find_by_name(si, vim.HostSystem, host_name)
    defaults: dict[str, Any] = {"policy": "loadbalance_srcid", "notify_switches": True, "rolling_order": False,
                                "check_beacon": False, "active": list(nics), "standby": []}
    add_vswitch(host, name, nics, teaming=teaming_policy(**(defaults | teaming)))
    for pg, override in portgroups:
        add_portgroup(host, pg, name, teaming=override)
    return host


def _shape_cases(si: Any) -> None:
    # NET-001: H0's management port group (vmk0) on vmnic0 alone; H1 and H2 keep their standby.
    # An unused single-uplink port group (no VM, no vmk) stays silent.
    update_portgroup(find_by_name(si, vim.HostSystem, "DC0_C0_H0"), "Management Network",
                     teaming=teaming_policy(active=["vmnic0"], standby=[]))
    _vswitch(si, "DC0_C0_H0", "vs-single", ["vmnic3"], [("pg-single-unused", None)])
    # NET-005: notify switches off on one port group; its vSwitch twin keeps it on.
    _vswitch(si, "DC0_C0_H0", "vs-pair", ["vmnic4", "vmnic5"],
             [("pg-pair", None), ("pg-nonotify", teaming_policy(notify_switches=False))],
             active=["vmnic4"], standby=["vmnic5"])
    # NET-002: vmnic3 of H1 has no link (launcher -pnic-down); H0's vmnic3 (above) has.
    _vswitch(si, "DC0_C0_H1", "vs-down", ["vmnic3", "vmnic4"], [("pg-down", None)])
    # NET-003: beacon probing on two uplinks; vSwitch0 has three (no finding).
    _vswitch(si, "DC0_C0_H1", "vs-beacon2", ["vmnic5", "vmnic6"], [("pg-beacon2", None)], check_beacon=True)
    # NET-004: IP hash with a standby uplink, with beacon probing, and next to a non-IP-hash group;
    # twin: IP hash on every port group, all active, link status only.
    _vswitch(si, "DC0_C0_H2", "vs-ip", ["vmnic3", "vmnic4"],
             [("pg-ip-standby", None), ("pg-ip-beacon", teaming_policy(check_beacon=True)),
              ("pg-srcid", teaming_policy(policy="loadbalance_srcid"))],
             policy="loadbalance_ip", active=["vmnic3"], standby=["vmnic4"])
    _vswitch(si, "DC0_C0_H2", "vs-ip-ok", ["vmnic5", "vmnic6"], [("pg-ip-ok1", None), ("pg-ip-ok2", None)],
             policy="loadbalance_ip")
    # NET-007: pg-drift VLAN 20 on H0/H1, 21 on H2; pg-same identical everywhere.
    for name in HOSTS:
        host = find_by_name(si, vim.HostSystem, name)
        add_portgroup(host, "pg-drift", "vSwitch0", vlan=21 if name == "DC0_C0_H2" else 20)
        add_portgroup(host, "pg-same", "vSwitch0", vlan=30)
    # Distributed: a correct switch, and one with a port group per problem.
    dc = find_by_name(si, vim.Datacenter, "DC0")
    hosts = [find_by_name(si, vim.HostSystem, n) for n in HOSTS]
    good = create_dvs(dc, "DS-good", hosts, pnics=["vmnic7", "vmnic8"],
                      teaming=dv_teaming_policy(active=("uplink1",), standby=("uplink2",)))
    (ok,) = add_dvportgroups(good, [DvPortgroup("dvg-ok", vlan=40)])
    bad = create_dvs(dc, "DS-bad", hosts, pnics=["vmnic9", "vmnic10"],
                     teaming=dv_teaming_policy(active=("uplink1",), standby=("uplink2",)))
    single, *_ = add_dvportgroups(bad, [
        DvPortgroup("dvb-single", vlan=50, teaming=dv_teaming_policy(active=("uplink1",))),
        DvPortgroup("dvb-beacon", vlan=51, teaming=dv_teaming_policy(check_beacon=True)),
        DvPortgroup("dvb-ip-standby", vlan=52, teaming=dv_teaming_policy(
            policy="loadbalance_ip", active=("uplink1",), standby=("uplink2",))),
        DvPortgroup("dvb-nonotify", vlan=53, teaming=dv_teaming_policy(notify_switches=False)),
    ])
    _vm_with_nic(si, "DC0_C0_H1", "vm-dv-single", single)
    # NET-006: a VM on the link-status-only dvg-ok, on the blade H2 (H0/H1 are no blades).
    _vm_with_nic(si, "DC0_C0_H2", "vm-blade", ok)


@pytest.fixture(scope="module")
def snapshots(vcsim_launcher: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    sim = vcsim_launcher.start(vms=2, hosts=3, standalone=0, host_pnics=12, pnic_down=("DC0_C0_H1:vmnic3",),
                               host_model={"DC0_C0_H2": "HP:ProLiant BL460c Gen9"})
    cfg = load_config(sim.config_file(tmp_path_factory.mktemp("cfg")))
    si = sim.si()
    _correct(si)
    correct = collect(cfg, progress=False)
    _shape_cases(si)
    shaped = collect(cfg, progress=False)
    yield correct, shaped
    sim.stop()
    vcsim_launcher.running.remove(sim)


def _net(snap: Snapshot, check: str | None = None) -> list[Finding]:
    results = run_checks(CheckContext(snapshot=snap), only=["network"])
    return [f for f in results.findings if check is None or f.check_id == check]


def _names(snap: Snapshot, check: str) -> list[str]:
    return sorted(f.object_name for f in _net(snap, check))


def test_correct_configuration_gives_no_network_finding(snapshots: Any) -> None:
    correct, _ = snapshots
    assert correct.collection_errors == []
    assert _net(correct) == []


def test_net001_single_uplink_in_use(snapshots: Any) -> None:
    shaped = snapshots[1]
    # H1/H2's management port groups (2 uplinks) and pg-single-unused (nothing on it) stay silent.
    assert _names(shaped, "NET-001") == ["DC0_C0_H0 / Management Network", "DS-bad / dvb-single"]
    f = next(f for f in _net(shaped, "NET-001") if f.object_name == "DC0_C0_H0 / Management Network")
    assert f.message == ("Port group Management Network on vSwitch0 has 1 uplink in its failover order "
                         "(vmnic0, set on the port group); at least 2 are needed for failover.")
    assert "esxcli network vswitch standard portgroup policy failover set -p 'Management Network' -a vmnic0 " \
           "-s '<second uplink>'" in f.remediation


def test_net002_uplink_without_link(snapshots: Any) -> None:
    shaped = snapshots[1]
    (f,) = _net(shaped, "NET-002")
    assert f.object_name == "DC0_C0_H1 / vmnic3"
    assert f.evidence["portgroups"] == ["pg-down (active)"]
    notes = next(r for r in run_checks(CheckContext(snapshot=shaped), only=["NET-002"]).checks).notes
    # vcsim reports no proxy switches: the distributed uplinks' NICs are unknown, not "missing".
    assert notes == [f"vcsim/{h}: which physical NIC backs each uplink of {s} was not reported; its uplinks' "
                     "link state is not checked." for h in HOSTS for s in ("DS-bad", "DS-good")]


def test_net003_beacon_with_two_uplinks(snapshots: Any) -> None:
    # Also H0's management port group (beacon from vSwitch0, now one uplink) and the IP hash
    # group with beacon probing (two uplinks); vSwitch0's other groups have three.
    assert _names(snapshots[1], "NET-003") == ["DC0_C0_H0 / Management Network", "DC0_C0_H1 / pg-beacon2",
                                               "DC0_C0_H2 / pg-ip-beacon", "DS-bad / dvb-beacon"]


def test_net004_ip_hash(snapshots: Any) -> None:
    shaped = snapshots[1]
    got = sorted((f.object_name, tuple(f.evidence.get("reasons", ())), tuple(f.evidence.get("other", ())))
                 for f in _net(shaped, "NET-004"))
    assert got == [
        ("DC0_C0_H2 / pg-ip-beacon", ("Standby uplinks", "Beacon probing failure detection"), ()),
        ("DC0_C0_H2 / pg-ip-standby", ("Standby uplinks",), ()),
        ("DC0_C0_H2 / vs-ip", (), ("pg-srcid",)),
        # vcsim 0.24 does not mark uplink port groups (config.uplink): DS-bad-DVUplinks-N is listed.
        ("DS-bad", (), tuple(sorted(["dvb-beacon", "dvb-nonotify", "dvb-single",
                                      next(f for f in _net(shaped, "NET-004") if f.object_name == "DS-bad")
                                      .evidence["other"][0]]))),
        ("DS-bad / dvb-ip-standby", ("Standby uplinks",), ()),
    ]
    assert next(f for f in _net(shaped, "NET-004") if f.object_name == "DS-bad").evidence["other"][0].startswith(
        "DS-bad-DVUplinks-")


def test_net005_notify_switches_off(snapshots: Any) -> None:
    assert _names(snapshots[1], "NET-005") == ["DC0_C0_H0 / pg-nonotify", "DS-bad / dvb-nonotify"]


def test_net006_link_status_only_on_the_blade_only(snapshots: Any) -> None:
    (f,) = _net(snapshots[1], "NET-006")
    assert f.object_name == "DC0_C0_H2"
    # In use with link status only: the port group of the VM on H2, and dvb-single, whose VM
    # runs on H1 but may move to H2 (a distributed port group is the same on every member). The
    # management port group detects by beacon; the other link-status groups have nothing on them.
    assert f.evidence["portgroups"] == ["DS-bad / dvb-single", "DS-good / dvg-ok"]
    assert (f.evidence["vendor"], f.evidence["model"]) == ("HP", "ProLiant BL460c Gen9")
    assert f.evidence["interconnect"] == "HP/HPE BladeSystem c-Class with Virtual Connect Ethernet/FlexFabric modules"


def test_net007_drift_in_the_cluster(snapshots: Any) -> None:
    findings = _net(snapshots[1], "NET-007")
    got = sorted((f.object_name, f.evidence["differences"], f.evidence["missing_on"]) for f in findings)
    # Host-only port groups without VMs are no drift; pg-same is identical everywhere.
    assert got == [
        ("DC0_C0 / Management Network", {"standby": {"DC0_C0_H0": [], "DC0_C0_H1": ["vmnic1", "vmnic2"],
                                                     "DC0_C0_H2": ["vmnic1", "vmnic2"]}}, []),
        ("DC0_C0 / pg-drift", {"vlan_id": {"DC0_C0_H0": 20, "DC0_C0_H1": 20, "DC0_C0_H2": 21}}, []),
    ]


def test_lacp_group_counts_as_its_member_uplinks(vcsim_factory: Any, tmp_path: Any) -> None:
    sim = vcsim_factory(vms=2, hosts=2, standalone=0, host_pnics=6)
    si = sim.si()
    dc = find_by_name(si, vim.Datacenter, "DC0")
    hosts = [find_by_name(si, vim.HostSystem, n) for n in ("DC0_C0_H0", "DC0_C0_H1")]
    switch = create_dvs(dc, "DS-lag", hosts, pnics=["vmnic2", "vmnic3"], lacp_api_version="multipleLag",
                        teaming=dv_teaming_policy(active=("uplink1",), standby=("uplink2",)))
    add_lag(switch, "lag-two", 2)
    add_lag(switch, "lag-one", 1)
    two, one = add_dvportgroups(switch, [
        DvPortgroup("dvl-two", teaming=dv_teaming_policy(policy="loadbalance_ip", active=("lag-two",))),
        DvPortgroup("dvl-one", teaming=dv_teaming_policy(policy="loadbalance_ip", active=("lag-one",)))])
    _vm_with_nic(si, "DC0_C0_H0", "vm-lag-two", two)
    _vm_with_nic(si, "DC0_C0_H0", "vm-lag-one", one)
    snap = collect(load_config(sim.config_file(tmp_path)), progress=False)
    (vc,) = snap.vcenters.values()
    (collected,) = [s for s in (vc.distributed_switches or {}).values() if s.name == "DS-lag"]
    assert [(g.name, g.mode, g.uplink_count, g.uplink_names) for g in collected.lacp_groups] == [
        ("lag-two", "active", 2, ["lag-two-0", "lag-two-1"]), ("lag-one", "active", 1, ["lag-one-0"])]
    # A LAG of two members is redundant; a LAG of one is not (vmk0 on vmnic0 alone: as vcsim starts).
    assert _names(snap, "NET-001") == ["DC0_C0_H0 / Management Network", "DC0_C0_H1 / Management Network",
                                       "DS-lag / dvl-one"]
