"""Network, software and lifecycle checks on small hand-built snapshots: exact findings for
what the simulator cannot shape (proxy switches with a link down, VMs on a host-only port
group, other versions and builds, warning windows) and the settings."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from reporter.checks.base import CheckContext
from reporter.checks.engine import run_checks
from reporter.checks.lifecycle.settings import LifecycleSettings
from reporter.checks.network.settings import NetworkSettings
from reporter.checks.tables import build_tables
from reporter.config.settings import Settings
from reporter.core.model import Cluster, Host, Snapshot, VCenter
from reporter.core.model_hostconfig import (
    DistributedPortGroup,
    DistributedSwitch,
    HostNetworkConfig,
    HostProxySwitch,
    HostSoftware,
    NicOrder,
    PhysicalNic,
    ProxySwitchUplink,
    SoftwarePackage,
    StandardPortGroup,
    StandardSwitch,
    TeamingPolicy,
)

UUID = "vc-uuid"
GOOD = TeamingPolicy(load_balancing="loadbalance_srcid", notify_switches=True, rolling_order=False,
                     check_beacon=False, nic_order=NicOrder(active=["vmnic0"], standby=["vmnic1"]))
DV_GOOD = TeamingPolicy(load_balancing="loadbalance_srcid", notify_switches=True, rolling_order=False,
                        check_beacon=False, nic_order=NicOrder(active=["uplink1"], standby=["uplink2"]))


def _network(portgroups: list[StandardPortGroup], *, down: tuple[str, ...] = (),
             proxy: list[ProxySwitchUplink] | None = None) -> HostNetworkConfig:
    return HostNetworkConfig(
        vswitches=[StandardSwitch(name="vSwitch0", uplinks=["vmnic0", "vmnic1"], teaming=GOOD)],
        portgroups=portgroups,
        pnics=[PhysicalNic(device=f"vmnic{i}", link_speed_mbps=None if f"vmnic{i}" in down else 10000)
               for i in range(4)],
        proxy_switches=[HostProxySwitch(dvs_uuid="dvs-uuid", uplinks=proxy)] if proxy is not None else [],
    )


def _host(moid: str, name: str, network: HostNetworkConfig | None = None, **kw: Any) -> Host:
    defaults: dict[str, Any] = {"version": "8.0.2", "build": "22380479", "cluster": "c1"}
    return Host(moid=moid, name=name, network=network, **(defaults | kw))


def _snap(hosts: list[Host], *, version: str = "8.0.2", build: str = "22385739",
          switches: dict[str, DistributedSwitch] | None = None,
          portgroups: dict[str, DistributedPortGroup] | None = None,
          at: datetime = datetime(2026, 12, 1, tzinfo=UTC)) -> Snapshot:
    vc = VCenter(name="vc", host="vc.example", instance_uuid=UUID, version=version, build=build,
                 hosts={h.moid: h for h in hosts},
                 clusters={"c1": Cluster(moid="c1", name="Prod", hosts=[h.moid for h in hosts if h.cluster == "c1"])},
                 distributed_switches=switches, distributed_portgroups=portgroups)
    return Snapshot(collected_at=at, vcenters={UUID: vc})


def _found(snap: Snapshot, family: str, settings: Settings | None = None) -> list[tuple[str, str]]:
    ctx = CheckContext(snapshot=snap, settings=settings or Settings())
    return sorted((f.check_id, f.object_name) for f in run_checks(ctx, only=[family]).findings)


def _pg(name: str, vms: list[str] | None = None, vlan: int = 0, **override: Any) -> StandardPortGroup:
    return StandardPortGroup(name=name, vswitch="vSwitch0", vlan_id=vlan, teaming_override=TeamingPolicy(**override),
                             vm_moids=vms)


# --------------------------------------------------------------------------- network


def test_distributed_uplink_without_link_through_the_proxy_switch() -> None:
    switch = DistributedSwitch(moid="dvs-1", name="DSwitch", uuid="dvs-uuid", host_moids=["h1", "h2"],
                               uplink_port_names=["uplink1", "uplink2"], default_teaming=DV_GOOD)
    pgs = {"pg-1": DistributedPortGroup(moid="pg-1", name="dv-VM", dvs_moid="dvs-1", key="pg-1", vm_moids=["vm-1"])}
    h1 = _host("h1", "esx1", _network([], down=("vmnic3",), proxy=[ProxySwitchUplink(uplink="uplink1", pnic="vmnic2"),
                                                                   ProxySwitchUplink(uplink="uplink2", pnic="vmnic3")]))
    h2 = _host("h2", "esx2", _network([], proxy=[ProxySwitchUplink(uplink="uplink1", pnic="vmnic2"),
                                                 ProxySwitchUplink(uplink="uplink2", pnic=None)]))
    snap = _snap([h1, h2], switches={"dvs-1": switch}, portgroups=pgs)
    assert _found(snap, "network") == [("NET-002", "esx1 / vmnic3"), ("NET-002", "esx2 / DSwitch/uplink2")]
    results = run_checks(CheckContext(snapshot=snap), only=["NET-002"])
    by_name = {f.object_name: f for f in results.findings}
    assert by_name["esx1 / vmnic3"].message == (
        "Uplink vmnic3 on host esx1 has no link, but port group dv-VM (standby) lists it in its failover "
        "order: redundancy is lost.")
    assert by_name["esx2 / DSwitch/uplink2"].evidence["reason"] == "No physical NIC on this host"
    assert results.checks[0].notes == []


def test_distributed_portgroup_with_one_uplink_once_for_all_hosts_with_powercli() -> None:
    switch = DistributedSwitch(moid="dvs-1", name="DSwitch", uuid="dvs-uuid", host_moids=["h1", "h2"],
                               default_teaming=DV_GOOD)
    pgs = {"pg-1": DistributedPortGroup(moid="pg-1", name="dv-VM", dvs_moid="dvs-1", vm_moids=["vm-1"],
                                        teaming=TeamingPolicy(nic_order=NicOrder(active=["uplink1"])))}
    snap = _snap([_host("h1", "esx1", _network([])), _host("h2", "esx2", _network([]))],
                 switches={"dvs-1": switch}, portgroups=pgs)
    results = run_checks(CheckContext(snapshot=snap), only=["NET-001"])
    (f,) = results.findings
    assert (f.object_name, f.object_id) == ("DSwitch / dv-VM", f"{UUID}/pg-1")
    assert ("PowerCLI: Get-VDPortgroup -Name 'dv-VM' -VDSwitch 'DSwitch' | Get-VDUplinkTeamingPolicy | "
            "Set-VDUplinkTeamingPolicy -ActiveUplinkPort 'uplink1' -StandbyUplinkPort '<second uplink>'") in f.remediation


def test_drift_missing_only_where_vms_use_the_portgroup_and_min_uplinks_setting() -> None:
    h1 = _host("h1", "esx1", _network([_pg("App", ["vm-1"]), _pg("Spare", []), _pg("Web", ["vm-2"], vlan=10)]))
    h2 = _host("h2", "esx2", _network([_pg("Web", [], vlan=11)]))
    snap = _snap([h1, h2])
    assert _found(snap, "network") == [("NET-007", "Prod / App"), ("NET-007", "Prod / Web")]
    results = {f.object_name: f for f in run_checks(CheckContext(snapshot=snap), only=["NET-007"]).findings}
    assert results["Prod / App"].message == (
        "Standard port group App is missing on esx2 across the hosts of cluster Prod.")
    assert results["Prod / Web"].evidence["differences"] == {"vlan_id": {"esx1": 10, "esx2": 11}}
    # Three uplinks wanted: every port group with VMs on two fires; ignored port groups never do.
    strict = Settings(thresholds={"network": NetworkSettings(min_uplinks=3, ignore_portgroups=["web*"])})
    assert _found(snap, "network", strict) == [("NET-001", "esx1 / App"), ("NET-007", "Prod / App")]


def test_network_not_collected_gives_no_finding_no_tables_and_not_evaluated() -> None:
    snap = _snap([_host("h1", "esx1")])
    assert _found(snap, "network") == []
    assert [t.id for t in build_tables(CheckContext(snapshot=snap)) if t.family == "network"] == []
    results = run_checks(CheckContext(snapshot=snap), only=["network"]).checks
    assert [r.meta.id for r in results] == [f"NET-00{i}" for i in range(1, 8)]
    for r in results:  # never "passed": the inputs were not collected, and the reason says so
        assert r.checked == 0 and r.not_evaluated is not None
        assert r.not_evaluated.startswith("Host networking (virtual switches, port groups, uplinks) is not in this "
                                          "snapshot")
    # One host with networking: the family is evaluated (the other host gets a note, not a verdict).
    both = _snap([_host("h1", "esx1"), _host("h2", "esx2", _network([_pg("App", ["vm-1"])]))])
    assert [t.id for t in build_tables(CheckContext(snapshot=both)) if t.family == "network"] != []
    assert all(r.not_evaluated is None or not r.not_evaluated.startswith("Host networking")
               for r in run_checks(CheckContext(snapshot=both), only=["network"]).checks)


def test_software_not_collected_on_every_host_is_not_evaluated_not_passed() -> None:
    snap = _snap([_host("h1", "esx1"), _host("h2", "esx2")])
    results = run_checks(CheckContext(snapshot=snap), only=["software"]).checks
    assert [(r.meta.id, r.checked, r.findings) for r in results] == [("SW-001", 0, []), ("SW-002", 0, []),
                                                                      ("SW-003", 0, [])]
    assert all((r.not_evaluated or "").startswith("Host software (acceptance level, installed VIBs, loaded drivers) "
                                                  "is not in this snapshot") for r in results)
    assert [t.id for t in build_tables(CheckContext(snapshot=snap)) if t.family == "software"] == []


def test_effective_table_rows_say_where_each_value_comes_from() -> None:
    snap = _snap([_host("h1", "esx1", _network([_pg("Web", ["vm-1"], load_balancing="loadbalance_ip",
                                                    nic_order=NicOrder(active=["vmnic0", "vmnic1"]))]))])
    (table,) = [t for t in build_tables(CheckContext(snapshot=snap)) if t.id == "teaming_effective"]
    assert table.rows == [["vc", "esx1", "Prod", "standard", "vSwitch0", "Web", 0, "Route based on IP hash",
                           "port group", "Link status only", "vSwitch", True, "vSwitch", True, "vmnic0, vmnic1", "",
                           "port group", 2, True]]


# --------------------------------------------------------------------------- software


def test_software_not_collected_is_not_unknown_and_partner_minimum() -> None:
    vib = SoftwarePackage(name="bnxtnet", vendor="BCM", version="226.0", acceptance_level="partner")
    snap = _snap([_host("h1", "esx1"),
                  _host("h2", "esx2", software=HostSoftware(acceptance_level="partner", packages=[vib],
                                                            kernel_modules=[]))])
    assert _found(snap, "software") == [("SW-001", "esx2")]
    from reporter.checks.software.settings import SoftwareSettings
    lax = Settings(thresholds={"software": SoftwareSettings(minimum_vib_acceptance="PartnerSupported")})
    assert _found(snap, "software", lax) == []


# --------------------------------------------------------------------------- lifecycle


def test_lifecycle_support_window_version_skew_mixed_builds_and_advisory() -> None:
    hosts = [
        _host("h1", "esx1", version="8.0.2", build="22380479"),
        _host("h2", "esx2", version="8.0.3", build="24674464"),  # newer than the vCenter (8.0.2)
        _host("h3", "esx3", version="7.0.1", build="16850804", cluster=None),  # 7.0 U1: OpenSLP VMSA
    ]
    snap = _snap(hosts, at=datetime(2025, 6, 1, tzinfo=UTC))
    assert _found(snap, "lifecycle") == [
        ("LC-001", "esx3"),  # 7.0 ends 2025-10-02: within 180 days
        ("LC-002", "vc"),
        ("LC-003", "Prod"),
        ("LC-004", "esx3"),
    ]
    findings = {f.check_id: f for f in run_checks(CheckContext(snapshot=snap), only=["lifecycle"]).findings}
    assert findings["LC-001"].message == (
        "esx3 runs ESXi 7.0 Update 1; General Support for ESXi 7.0 ends on 2025-10-02 (in 123 days) (date not "
        "verified against Broadcom's lifecycle matrix: check it).")
    assert (findings["LC-001"].severity.value, findings["LC-001"].status.value) == ("medium", "warn")
    assert findings["LC-002"].message == (
        "vCenter vc runs vCenter Server 8.0 Update 2 (8.0.2), older than 1 host it manages: esx2 (8.0.3).")
    assert findings["LC-003"].message == (
        "Cluster Prod has hosts on 2 builds: ESXi 8.0 Update 2: esx1; ESXi 8.0 Update 3e: esx2.")
    assert findings["LC-004"].severity.value == "critical"
    # A shorter warning window: 7.0 is no longer "near" its end.
    short = Settings(thresholds={"lifecycle": LifecycleSettings(eogs_warning_days=30)})
    assert ("LC-001", "esx3") not in _found(snap, "lifecycle", short)


def test_lifecycle_correct_fleet_has_no_finding() -> None:
    hosts = [_host("h1", "esx1", version="8.0.2", build="22380479"),
             _host("h2", "esx2", version="8.0.2", build="22380479")]
    snap = _snap(hosts, at=datetime(2025, 6, 1, tzinfo=UTC))
    assert _found(snap, "lifecycle") == []
    # LC-001 and LC-004 look at the hosts and the vCenter: the count says so (it read "3 hosts
    # checked" for 2 hosts and 1 vCenter).
    from reporter.render.view import _check_view
    results = {r.meta.id: r for r in run_checks(CheckContext(snapshot=snap), only=["lifecycle"]).checks}
    assert {cid: _check_view(results[cid], set(), [], set()).summary for cid in ("LC-001", "LC-004")} == {
        "LC-001": "3 ESXi hosts and vCenters checked, no findings",
        "LC-004": "3 ESXi hosts and vCenters checked, no findings"}


def test_cbt_defects_are_build_advisory_rows() -> None:
    """One mechanism, several tables: every CBT defect row, as an advisory row, gives the same
    answer through build_advisories as host_defects (which now uses the advisory range rule)."""
    from reporter.domain.cbt import advisory_row, host_defects, load_defects
    from reporter.domain.lifecycle import build_advisories

    rows = [advisory_row(d, r) for d in load_defects() for r in d.affected]
    assert [(r.line, r.advisory, r.fixed_in) for r in rows] == [
        ("4.0", "KB2090639", None), ("4.1", "KB2090639", None), ("5.0", "KB2090639", 2312428),
        ("5.1", "KB2090639", 2323236), ("5.5", "KB2090639", 2302651), ("6.0", "KB2136854", 3247720)]
    for version, build in [("6.0.0", "3247719"), ("6.0.0", "3247720"), ("5.5.0", "2302650"), ("5.1.0", "2323236"),
                           ("4.1.0", "1682698"), ("6.5.0", "4564106")]:
        host = Host(moid="h", name="h", version=version, build=build)
        assert sorted(r.advisory for r in build_advisories("esxi", version, build, rows)) == sorted(
            h.defect.kb for h in host_defects(host)), (version, build)
    # An unknown build: only a line that was never fixed can be named.
    assert [h.defect.kb for h in host_defects(Host(moid="h", name="h", version="4.1.0"))] == ["KB2090639"]
    assert host_defects(Host(moid="h", name="h", version="6.0.0")) == []


def test_old_snapshots_without_host_configuration_still_load() -> None:
    from reporter.core.snapshot_io import dumps, loads

    old = {"schema_version": 1, "collected_at": "2024-01-01T00:00:00Z", "vcenters": {UUID: {
        "name": "vc", "host": "vc.example", "instance_uuid": UUID,
        "hosts": {"h1": {"moid": "h1", "name": "esx1", "version": "7.0.3", "build": "21930508"}}}}}
    import json
    snap = loads(json.dumps(old).encode())
    vc = snap.vcenters[UUID]
    assert (vc.distributed_switches, vc.distributed_portgroups) == (None, None)
    host = vc.hosts["h1"]
    assert (host.network, host.system, host.software) == (None, None, None)
    assert loads(dumps(snap)) == snap


def test_cbt_messages_name_the_release_where_the_build_is_listed() -> None:
    from reporter.checks.cbt.common import host_release

    assert host_release(Host(moid="h", name="h", version="6.5.0", build="5969303")) == (
        "ESXi 6.5.0 build 5969303 (ESXi 6.5 Update 1)")
    assert host_release(Host(moid="h", name="h", version="6.0.0", build="2494585")) == "ESXi 6.0.0 build 2494585"


def test_not_collected_is_said_once() -> None:
    # Partly collected (one host of three has both): the family runs and says once what it misses.
    known = _host("h3", "esx3", _network([_pg("App", ["vm-1"])]),
                  software=HostSoftware(acceptance_level="partner", packages=[], kernel_modules=[]))
    snap = _snap([_host("h1", "esx1"), _host("h2", "esx2"), known])
    results = run_checks(CheckContext(snapshot=snap), only=["NET-001", "SW-003"])
    assert [(r.meta.id, r.notes, r.not_evaluated) for r in results.checks] == [
        ("NET-001", ["Networking of 2 hosts was not collected (a snapshot of an older version, or the host's "
                     "configuration was unreadable): no network check covers them."], None),
        ("SW-003", ["Host software of 2 hosts was not collected (a snapshot of an older version): their "
                    "acceptance level and upgrade readiness are unknown."], None),
    ]


def test_lifecycle_vcenter_upgrade_target_is_the_numerically_newest_host() -> None:
    # The remediation named max() of the version strings: "9.0.0" > "10.0.0" as text, so a vCenter
    # told to reach 9.0.0 would still be older than the 10.0.0 host.
    hosts = [_host("h1", "esx1", version="9.0.0", build="24755229"),
             _host("h2", "esx2", version="10.0.0", build="99999999")]
    [f] = [f for f in run_checks(CheckContext(snapshot=_snap(hosts)), only=["lifecycle"]).findings
           if f.check_id == "LC-002"]
    assert f.remediation.splitlines()[0] == "Upgrade vCenter vc to at least 10.0.0."


def test_lifecycle_day_is_the_utc_day_and_eogs_day_itself_has_ended() -> None:
    from datetime import timedelta, timezone
    hosts = [_host("h1", "esx1", version="6.7.0", build="17700523")]
    # 00:30 on 15 October 2022 at UTC+2 is still 14 October in UTC: one day of General Support left.
    cest = timezone(timedelta(hours=2))
    snap = _snap(hosts, version="6.7.0", build="17028579", at=datetime(2022, 10, 15, 0, 30, tzinfo=cest))
    [f] = [f for f in run_checks(CheckContext(snapshot=snap), only=["lifecycle"]).findings
           if f.check_id == "LC-001" and f.object_name == "esx1"]
    assert (f.severity.value, f.evidence["days_to_end_of_general_support"]) == ("medium", 1)
    assert f.message.endswith("General Support for ESXi 6.7 ends on 2022-10-15 (in 1 day).")
    # On the day itself it has ended, said without "0 days before".
    snap = _snap(hosts, version="6.7.0", build="17028579", at=datetime(2022, 10, 15, 12, 0, tzinfo=UTC))
    [f] = [f for f in run_checks(CheckContext(snapshot=snap), only=["lifecycle"]).findings
           if f.check_id == "LC-001" and f.object_name == "esx1"]
    assert f.severity.value == "high"
    assert f.message.endswith("General Support for ESXi 6.7 ended on 2022-10-15 (the day of the snapshot).")
