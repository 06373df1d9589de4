"""Detail tables of the network family: the effective policy per host x port group, and the
RVTools-style inventory tabs vSwitch, vPort, pNIC, dvSwitch and dvPort."""

from __future__ import annotations

from typing import Any

from reporter.checks.base import CheckContext
from reporter.checks.network import FAMILY
from reporter.checks.network.common import ORIGIN_NAMES, host_networks, lb_name
from reporter.checks.tables import Scalar, Table, register_tables
from reporter.core.model_hostconfig import TeamingPolicy
from reporter.domain.network import Sourced

SUMMARY_ROW_LIMIT = 200


@register_tables(FAMILY.id)
def network_tables(ctx: CheckContext) -> list[Table]:
    return [effective_table(ctx), vswitch_table(ctx), vport_table(ctx), pnic_table(ctx), dvswitch_table(ctx),
            dvport_table(ctx)]


def _src(value: Sourced[Any]) -> str | None:
    return None if value.origin == "unset" else ORIGIN_NAMES[value.origin]


def _detection(check_beacon: bool | None) -> str | None:
    return None if check_beacon is None else ("Beacon probing" if check_beacon else "Link status only")


def effective_table(ctx: CheckContext) -> Table:
    rows: list[list[Scalar]] = []
    for hn in host_networks(ctx):
        cluster = hn.vc.clusters.get(hn.host.cluster or "")
        for v in hn.views:
            t = v.teaming
            rows.append([hn.vc.name, hn.host.name, cluster.name if cluster else None, v.kind, v.switch, v.portgroup,
                         v.vlan_id, lb_name(t.load_balancing.value), _src(t.load_balancing),
                         _detection(t.check_beacon.value), _src(t.check_beacon), t.notify_switches.value,
                         _src(t.notify_switches), None if t.rolling_order.value is None else not t.rolling_order.value,
                         ", ".join(t.active), ", ".join(t.standby), _src(t.nic_order), v.uplink_count, v.in_use])
    return Table(
        id="teaming_effective", family=FAMILY.id, title="Effective teaming and failover policy per host and port group",
        columns=["vCenter", "Host", "Cluster", "Switch type", "Switch", "Port group", "VLAN", "Load balancing", "From",
                 "Failure detection", "From", "Notify switches", "From", "Failback", "Active", "Standby",
                 "Order from", "Uplinks", "In use"],
        rows=rows,
        note=("Effective = the port group's overrides merged over its vSwitch (standard) or the switch default "
              "(distributed), field by field; 'From' says where each value is set, which is where to change it. "
              "'In use': VMs or VMkernel adapters on it (empty = not known). docs/methodology.md#nic-teaming"),
        in_summary=len(rows) <= SUMMARY_ROW_LIMIT,
    )


def _teaming_cells(t: TeamingPolicy) -> list[Scalar]:
    order = t.nic_order
    return [lb_name(t.load_balancing), _detection(t.check_beacon), t.notify_switches,
            None if t.rolling_order is None else not t.rolling_order,
            ", ".join(order.active) if order else None, ", ".join(order.standby) if order else None]


_TEAMING_COLUMNS = ["Load balancing", "Failure detection", "Notify switches", "Failback", "Active", "Standby"]


def vswitch_table(ctx: CheckContext) -> Table:
    rows: list[list[Scalar]] = []
    for hn in host_networks(ctx):
        assert hn.host.network is not None
        for s in hn.host.network.vswitches:
            rows.append([hn.vc.name, hn.host.name, s.name, ", ".join(s.uplinks), s.mtu, *_teaming_cells(s.teaming)])
    return Table(id="vSwitch", family=FAMILY.id, title="Standard switches",
                 columns=["vCenter", "Host", "vSwitch", "Uplinks", "MTU", *_TEAMING_COLUMNS], rows=rows, in_summary=False)


def vport_table(ctx: CheckContext) -> Table:
    rows: list[list[Scalar]] = []
    for hn in host_networks(ctx):
        assert hn.host.network is not None
        for pg in hn.host.network.portgroups:
            rows.append([hn.vc.name, hn.host.name, pg.name, pg.vswitch, pg.vlan_id, *_teaming_cells(pg.teaming_override),
                         None if pg.vm_moids is None else len(pg.vm_moids)])
    return Table(id="vPort", family=FAMILY.id, title="Standard port groups (own overrides; empty = inherited)",
                 columns=["vCenter", "Host", "Port group", "vSwitch", "VLAN", *_TEAMING_COLUMNS, "VMs on this host"],
                 rows=rows, in_summary=False)


def pnic_table(ctx: CheckContext) -> Table:
    rows: list[list[Scalar]] = []
    for hn in host_networks(ctx):
        for p in hn.pnics.values():
            rows.append([hn.vc.name, hn.host.name, p.device, p.driver, p.link_up, p.link_speed_mbps, p.full_duplex,
                         p.mac, p.pci])
    return Table(id="pNIC", family=FAMILY.id, title="Physical NICs",
                 columns=["vCenter", "Host", "NIC", "Driver", "Link up", "Speed (Mb/s)", "Full duplex", "MAC", "PCI"],
                 rows=rows, in_summary=False)


def dvswitch_table(ctx: CheckContext) -> Table:
    rows: list[list[Scalar]] = []
    for vc in ctx.snapshot.vcenters.values():
        for s in sorted((vc.distributed_switches or {}).values(), key=lambda s: s.name):
            hosts = sorted(vc.hosts[m].name if m in vc.hosts else m for m in s.host_moids)
            lacp = "; ".join(f"{g.name} ({g.mode}, {g.uplink_count} uplinks)" for g in s.lacp_groups)
            rows.append([vc.name, s.name, s.version, len(hosts), ", ".join(hosts), ", ".join(s.uplink_port_names),
                         lacp or None, *_teaming_cells(s.default_teaming)])
    return Table(id="dvSwitch", family=FAMILY.id, title="Distributed switches (default port policy)",
                 columns=["vCenter", "Switch", "Version", "Hosts", "Host names", "Uplink names", "LACP groups",
                          *_TEAMING_COLUMNS], rows=rows, in_summary=False)


def dvport_table(ctx: CheckContext) -> Table:
    rows: list[list[Scalar]] = []
    for vc in ctx.snapshot.vcenters.values():
        switches = vc.distributed_switches or {}
        for pg in sorted((vc.distributed_portgroups or {}).values(), key=lambda p: (p.dvs_moid, p.name)):
            switch = switches.get(pg.dvs_moid)
            vlan: Scalar = pg.vlan_id
            if vlan is None and pg.vlan_trunk_ranges:
                vlan = "trunk " + ",".join(f"{a}-{b}" if a != b else str(a) for a, b in pg.vlan_trunk_ranges)
            rows.append([vc.name, switch.name if switch else pg.dvs_moid, pg.name, vlan, pg.uplink_portgroup,
                         *_teaming_cells(pg.teaming), None if pg.vm_moids is None else len(pg.vm_moids)])
    return Table(id="dvPort", family=FAMILY.id, title="Distributed port groups (own settings; empty = inherited)",
                 columns=["vCenter", "Switch", "Port group", "VLAN", "Uplink port group", *_TEAMING_COLUMNS, "VMs"],
                 rows=rows, in_summary=False)
