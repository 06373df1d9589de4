"""The recorded small-network inventory (tests/fixtures/recordings/small-network, loaded with
``-load``) plus the shipped host software fixtures, collected by both engines: the same
snapshot; effective teaming equal to what the recording itself computes (``computedPolicy``)
and to the values the recording was shaped with; host software read or unknown with the
reason; and the exact network, software and lifecycle findings it gives."""

from __future__ import annotations

from typing import Any

import pytest
from pyVmomi import vim
from test_collect_engines import assert_same_snapshot
from vcsim_network import retrieve
from vcsim_recording import CLUSTER_HOSTS, RECORDING
from vcsim_software import HOST_SOFTWARE_FIXTURES

from reporter.api import load_config
from reporter.checks.base import CheckContext
from reporter.checks.engine import run_checks
from reporter.collect import collect
from reporter.core.model import Snapshot
from reporter.domain.network import distributed_views, standard_views

pytestmark = pytest.mark.vcsim


@pytest.fixture(scope="module")
def recorded(vcsim_launcher: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    sim = vcsim_launcher.start(model_dir=RECORDING, host_software=HOST_SOFTWARE_FIXTURES)
    cfg = load_config(sim.config_file(tmp_path_factory.mktemp("cfg")))
    ref = collect(cfg, progress=False, engine="pyvmomi")
    fast = collect(cfg, progress=False, engine="fast")
    yield sim, ref, fast
    sim.stop()
    vcsim_launcher.running.remove(sim)


def _vc(snap: Snapshot) -> Any:
    (vc,) = snap.vcenters.values()
    return vc


def test_both_engines_give_the_same_host_configuration(recorded: Any) -> None:
    _sim, ref, fast = recorded
    assert_same_snapshot(ref, fast)
    assert ref.collection_errors == []  # software faults are not collection errors


def test_standard_effective_policy_equals_the_recordings_computed_policy(recorded: Any) -> None:
    sim, ref, _fast = recorded
    vc = _vc(ref)
    api = retrieve(sim.si(), vim.HostSystem, ["config.network.portgroup"])
    compared = 0
    for host in vc.hosts.values():
        assert host.network is not None
        ours = {v.portgroup: v.teaming for v in standard_views(host.moid, host.name, host.network)}
        for pg in api[host.name]["config.network.portgroup"]:
            t = pg.computedPolicy.nicTeaming
            mine = ours[pg.spec.name]
            assert (mine.load_balancing.value, mine.notify_switches.value, mine.rolling_order.value,
                    mine.check_beacon.value, mine.active, mine.standby) == (
                t.policy, t.notifySwitches, t.rollingOrder, t.failureCriteria.checkBeacon,
                tuple(t.nicOrder.activeNic or ()), tuple(t.nicOrder.standbyNic or ())), (host.name, pg.spec.name)
            compared += 1
    assert compared == 3 * 4 + 2  # cluster hosts: 4 port groups each; the standalone host: 2


def test_effective_policies_and_their_origins_as_shaped(recorded: Any) -> None:
    vc = _vc(recorded[1])
    host = next(h for h in vc.hosts.values() if h.name == "DC0_C0_H1")
    assert host.network is not None
    views = {v.portgroup: v for v in standard_views(host.moid, host.name, host.network)}
    views |= {v.portgroup: v for v in distributed_views(host.moid, host.name, host.network,
                                                          vc.distributed_switches, vc.distributed_portgroups.values())}

    def row(name: str) -> tuple[Any, ...]:
        t = views[name].teaming
        return (views[name].switch, views[name].vlan_id, t.load_balancing.value, t.load_balancing.origin,
                t.check_beacon.value, t.check_beacon.origin, t.notify_switches.value, t.notify_switches.origin,
                t.active, t.standby, t.nic_order.origin)

    assert row("VM Network") == ("vSwitch0", 0, "loadbalance_srcid", "vswitch", False, "vswitch", True, "vswitch",
                                 ("vmnic0",), ("vmnic1",), "vswitch")
    assert row("Beacon-PG") == ("vSwitch1", 10, "loadbalance_srcid", "vswitch", True, "vswitch", True, "vswitch",
                                ("vmnic2", "vmnic3"), (), "vswitch")
    assert row("IPHash-PG") == ("vSwitch1", 11, "loadbalance_ip", "portgroup", False, "portgroup", True, "vswitch",
                                ("vmnic2", "vmnic3"), (), "vswitch")
    assert row("dv-VM") == ("DSwitch0", 100, "loadbalance_srcid", "switch_default", False, "switch_default", True,
                            "switch_default", ("uplink1",), ("uplink2",), "switch_default")
    assert row("dv-IPHash") == ("DSwitch0", 101, "loadbalance_ip", "portgroup", False, "portgroup", True,
                                "portgroup", ("uplink1", "uplink2"), (), "portgroup")
    assert row("dv-Beacon") == ("DSwitch0", 102, "loadbalance_srcid", "portgroup", True, "portgroup", False,
                                "portgroup", ("uplink1", "uplink2"), (), "portgroup")
    pnics = {p.device: p.link_up for p in host.network.pnics}
    assert pnics == {"vmnic0": True, "vmnic1": True, "vmnic2": True, "vmnic3": False, "vmnic4": True, "vmnic5": True}
    assert (host.system.vendor, host.system.model) == ("HP", "ProLiant BL460c Gen9")
    switch = next(s for s in vc.distributed_switches.values() if s.name == "DSwitch0")
    assert sorted(vc.hosts[m].name for m in switch.host_moids) == list(CLUSTER_HOSTS)
    assert switch.uplink_port_names == ["uplink1", "uplink2"]


def test_host_software_read_or_unknown_with_the_reason(recorded: Any) -> None:
    hosts = {h.name: h for h in _vc(recorded[1]).hosts.values()}
    h0 = hosts["DC0_C0_H0"].software
    assert h0 is not None and h0.software_unknown_reason is None
    assert (h0.acceptance_level, h0.image_profile_name) == (
        "community", "ESXi-6.7.0-20191204001-standard (with community drivers)")
    assert [(p.name, p.acceptance_level) for p in h0.packages or []] == [
        ("esx-base", "certified"), ("scsi-mpt2sas", "certified"), ("net-e1000e", "certified"),
        ("nmlx5-core", "certified"), ("net55-r8168", "community")]
    assert [p.depends for p in h0.packages or [] if p.name == "net55-r8168"] == [
        ["vmkapi_2_2_0_0", "com.vmware.driverAPI-9.2.2.0"]]
    assert [(m.name, m.loaded) for m in h0.kernel_modules or []] == [
        ("vmklinux_9", True), ("mpt2sas", True), ("e1000e", True), ("nmlx5_core", False), ("r8168", True)]
    h2 = hosts["DC0_C0_H2"].software
    assert h2 is not None and (h2.packages, h2.kernel_modules, h2.acceptance_level) == (None, None, None)
    assert h2.software_unknown_reason == (
        "permission denied during HostImageConfigGetAcceptance (needs privilege System.Read); "
        "permission denied during QueryModules (needs privilege Host.Config.Settings)")
    standalone = hosts["DC0_H0"].software
    assert standalone is not None and standalone.software_unknown_reason == (
        "HostImageConfigGetAcceptance failed: NotSupported: The operation is not supported on the object.; "
        "QueryModules failed: NotSupported: The operation is not supported on the object.")


def _findings(snap: Snapshot, prefix: tuple[str, ...]) -> list[tuple[str, str]]:
    results = run_checks(CheckContext(snapshot=snap))
    return sorted((f.check_id, f.object_name) for f in results.findings if f.check_id.startswith(prefix))


def test_exact_findings_of_the_recording(recorded: Any) -> None:
    snap = recorded[1]
    cluster = [f"DC0_C0_H{i}" for i in range(3)]
    assert _findings(snap, ("NET-",)) == sorted([
        # vmk0 on vmnic0 alone. VM Network (one NIC on the standalone host) has no VM: not reported.
        *(("NET-001", f"{h} / Management Network") for h in [*cluster, "DC0_H0"]),
        ("NET-002", "DC0_C0_H1 / vmnic3"),  # recorded without link
        *(("NET-003", f"{h} / Beacon-PG") for h in cluster),
        ("NET-003", "DSwitch0 / dv-Beacon"),
        # IP hash on one port group of vSwitch1 / DSwitch0 only. vcsim 0.24 does not mark the
        # uplink port group (config.uplink), so DSwitch0-DVUplinks-63 is listed with the others.
        *(("NET-004", f"{h} / vSwitch1") for h in cluster),
        ("NET-004", "DSwitch0"),
        ("NET-005", "DSwitch0 / dv-Beacon"),
        *(("NET-006", h) for h in cluster),  # HP BL460c blades, link status only on Management Network
    ])
    assert _findings(snap, ("SW-",)) == [
        ("SW-001", "DC0_C0_H0"), ("SW-001", "DC0_C0_H1"),  # community host + VIB; a partner VIB
        ("SW-002", "DC0_C0_H0"),  # vmklinux drivers, blocked for 8.0
        ("SW-003", "DC0_C0_H2"), ("SW-003", "DC0_H0"),  # NoPermission; NotSupported
    ]
    # ESXi and vCenter 6.5: past End of General Support; the hosts' build has the OpenSLP VMSA.
    assert _findings(snap, ("LC-",)) == sorted([
        ("LC-001", "vcsim"), *(("LC-001", h) for h in [*cluster, "DC0_H0"]),
        *(("LC-004", h) for h in [*cluster, "DC0_H0"]),
    ])


def test_xlsx_has_the_rvtools_style_tabs(recorded: Any, tmp_path: Any) -> None:
    import openpyxl

    from reporter.api import report
    from reporter.core.snapshot_io import dumps

    path = tmp_path / "snap.json"
    path.write_bytes(dumps(recorded[1]))
    report(path, tmp_path / "out", formats=["xlsx"])
    wb = openpyxl.load_workbook(tmp_path / "out" / "report.xlsx", read_only=True)
    assert {"Teaming Effective", "vSwitch", "vPort", "pNIC", "dvSwitch", "dvPort", "VIB", "Host Software",
            "Upgrade Readiness", "Upgrade Readiness Clusters", "Builds"} <= set(wb.sheetnames)
    rows = list(wb["Teaming Effective"].iter_rows(values_only=True))
    assert ("vcsim", "DC0_C0_H1", "DC0_C0", "standard", "vSwitch1", "IPHash-PG", 11, "Route based on IP hash",
            "port group", "Link status only", "port group", "yes", "vSwitch", "yes", "vmnic2, vmnic3", None,
            "vSwitch", 2, "no") in rows  # flags in the report's words
    hosts = list(wb["Hosts"].iter_rows(values_only=True))
    assert hosts[0][3:6] == ("Version", "Build", "Release")
    assert {r[5] for r in hosts[1:]} == {"ESXi 6.5 Update 1"}
