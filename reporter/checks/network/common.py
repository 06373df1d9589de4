"""What the network checks share: the port group views of every host, object identities,
and the fix steps (vSphere Client, PowerCLI, esxcli) for a teaming change."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from fnmatch import fnmatch
from typing import Any

from reporter.checks.base import CheckContext, Reference, object_id
from reporter.checks.helpers import kb, ps_quote, sh_quote
from reporter.checks.network.settings import NetworkSettings
from reporter.core.model import Host, VCenter
from reporter.core.model_hostconfig import PhysicalNic
from reporter.domain.network import (
    LB_EXPLICIT_FAILOVER,
    LB_IP_HASH,
    LB_MAC_HASH,
    LB_PHYSICAL_NIC_LOAD,
    LB_PORT_ID,
    PortGroupView,
    distributed_views,
    standard_views,
)

KB_BEACON = kb("1005577", "What is beacon probing?")
KB_ETHERCHANNEL = kb("1004048", "Sample configuration of EtherChannel / Link Aggregation Control Protocol (LACP) "
                                "with ESXi and Cisco/HP switches")
KB_LINK_AGGREGATION = kb("1001938", "Host requirements for link aggregation (etherchannel, port channel, or LACP) "
                                    "in ESXi")
NETWORKING_GUIDE = Reference(None, "VMware vSphere Networking guide: Teaming and Failover Policy")
METHOD = "docs/methodology.md#nic-teaming"

LB_NAMES = {
    LB_PORT_ID: "Route based on originating virtual port",
    LB_IP_HASH: "Route based on IP hash",
    LB_MAC_HASH: "Route based on source MAC hash",
    LB_EXPLICIT_FAILOVER: "Use explicit failover order",
    LB_PHYSICAL_NIC_LOAD: "Route based on physical NIC load",
}
ORIGIN_NAMES = {"portgroup": "port group", "vswitch": "vSwitch", "switch_default": "switch default", "unset": "not set"}


def lb_name(value: str | None) -> str | None:
    return None if value is None else LB_NAMES.get(value, value)


@dataclass(frozen=True)
class HostNetwork:
    vc: VCenter
    host: Host
    views: list[PortGroupView]
    pnics: dict[str, PhysicalNic]
    proxy_uuids: frozenset[str]  # distributed switches this host reports a proxy switch (pnic mapping) for

    def knows_pnics_of(self, view: PortGroupView) -> bool:
        """Whether the pnic behind each uplink of ``view`` is known on this host (a distributed
        switch without the host's proxy-switch record: unknown, not "no NIC")."""
        if view.kind == "standard":
            return True
        switch = next((s for s in (self.vc.distributed_switches or {}).values() if s.name == view.switch), None)
        return switch is not None and (switch.uuid or "") in self.proxy_uuids


def _build(ctx: CheckContext) -> list[HostNetwork]:
    ignore = [p.lower() for p in ctx.settings.get(NetworkSettings).ignore_portgroups]
    out: list[HostNetwork] = []
    for vc in ctx.snapshot.vcenters.values():
        switches = vc.distributed_switches or {}
        portgroups = list((vc.distributed_portgroups or {}).values())
        for host in sorted(vc.hosts.values(), key=lambda h: h.name):
            net = host.network
            if net is None:
                continue
            views = standard_views(host.moid, host.name, net) + distributed_views(
                host.moid, host.name, net, switches, portgroups)
            views = [v for v in views if not any(fnmatch(v.portgroup.lower(), p) for p in ignore)]
            out.append(HostNetwork(vc, host, views, {p.device: p for p in net.pnics},
                                   frozenset(p.dvs_uuid for p in net.proxy_switches)))
    return out


def host_networks(ctx: CheckContext) -> list[HostNetwork]:
    return ctx.memo("network.hosts", lambda: _build(ctx))


def each_view(ctx: CheckContext) -> Iterator[tuple[HostNetwork, PortGroupView]]:
    """Standard port groups once per host; a distributed port group once (its policy is the
    same on every host), on the first member host in name order."""
    seen: set[tuple[str, str]] = set()
    for hn in host_networks(ctx):
        for view in hn.views:
            if view.kind == "distributed":
                key = (hn.vc.instance_uuid, view.portgroup_moid or view.portgroup)
                if key in seen:
                    continue
                seen.add(key)
            yield hn, view


def member_hosts(ctx: CheckContext, vc: VCenter, view: PortGroupView) -> list[str]:
    return sorted(hn.host.name for hn in host_networks(ctx) if hn.vc is vc
                  and any(v.portgroup_moid == view.portgroup_moid for v in hn.views))


def identity(vc: VCenter, view: PortGroupView) -> tuple[str, str]:
    """(object name, object id) of a port group finding: a standard port group is one per
    host; a distributed port group is one object for all its hosts."""
    if view.kind == "distributed":
        return f"{view.switch} / {view.portgroup}", object_id(vc, view.portgroup_moid or view.portgroup)
    return f"{view.host_name} / {view.portgroup}", f"{object_id(vc, view.host_moid)}/portgroup/{view.portgroup}"


def _origin(origin: str) -> str:
    return ORIGIN_NAMES.get(origin, origin)


def evidence(view: PortGroupView) -> dict[str, Any]:
    t = view.teaming
    return {
        "kind": view.kind, "switch": view.switch, "portgroup": view.portgroup, "vlan_id": view.vlan_id,
        "load_balancing": lb_name(t.load_balancing.value), "load_balancing_from": _origin(t.load_balancing.origin),
        "check_beacon": t.check_beacon.value, "check_beacon_from": _origin(t.check_beacon.origin),
        "notify_switches": t.notify_switches.value, "notify_switches_from": _origin(t.notify_switches.origin),
        "active": list(t.active), "standby": list(t.standby), "failover_order_from": _origin(t.nic_order.origin),
        "in_use": view.in_use,
    }


def where(view: PortGroupView) -> str:
    """Where the effective failover order is set, for messages."""
    origin = view.teaming.nic_order.origin
    if origin == "portgroup":
        return "set on the port group"
    return f"inherited from the {ORIGIN_NAMES[origin]}"


def fix_steps(view: PortGroupView, *, active: Sequence[str] | None = None, standby: Sequence[str] | None = None,
              detection: str | None = None, notify: bool | None = None, load_balancing: str | None = None,
              what: str) -> list[str]:
    """The change ``what`` in the vSphere Client, PowerCLI and esxcli (standard) or the vSphere
    Client and PowerCLI (distributed). Arguments left None are not changed. ``detection`` is
    "link" or "beacon"."""
    if view.kind == "distributed":
        args: list[str] = []
        if active is not None:
            args.append("-ActiveUplinkPort " + ",".join(ps_quote(u) for u in active))
        if standby is not None:
            args.append("-StandbyUplinkPort " + (",".join(ps_quote(u) for u in standby) if standby else "@()"))
        if detection is not None:
            args.append("-FailoverDetectionPolicy " + ("BeaconProbing" if detection == "beacon" else "LinkStatus"))
        if notify is not None:
            args.append(f"-NotifySwitches ${str(notify).lower()}")
        if load_balancing is not None:
            args.append("-LoadBalancingPolicy " + _ps_lb(load_balancing))
        return [
            f"vSphere Client: Networking > {view.switch} > {view.portgroup} > Edit Settings > Teaming and failover: "
            f"{what}.",
            f"PowerCLI: Get-VDPortgroup -Name {ps_quote(view.portgroup)} -VDSwitch {ps_quote(view.switch)} | "
            f"Get-VDUplinkTeamingPolicy | Set-VDUplinkTeamingPolicy {' '.join(args)}".rstrip(),
        ]
    ps: list[str] = []
    cli: list[str] = []
    if active is not None:
        ps.append("-MakeNicActive " + ",".join(ps_quote(u) for u in active))
        cli.append("-a " + sh_quote(",".join(active)))
    if standby is not None and standby:
        ps.append("-MakeNicStandby " + ",".join(ps_quote(u) for u in standby))
        cli.append("-s " + sh_quote(",".join(standby)))
    if detection is not None:
        ps.append("-NetworkFailoverDetectionPolicy " + ("BeaconProbing" if detection == "beacon" else "LinkStatus"))
        cli.append(f"-f {detection}")
    if notify is not None:
        ps.append(f"-NotifySwitches ${str(notify).lower()}")
        cli.append(f"-n {str(notify).lower()}")
    if load_balancing is not None:
        ps.append("-LoadBalancingPolicy " + _ps_lb(load_balancing))
        cli.append("-l " + _cli_lb(load_balancing))
    host, pg = view.host_name, view.portgroup
    return [
        f"vSphere Client: Hosts and Clusters > {host} > Configure > Networking > Virtual switches > {view.switch} > "
        f"{pg} > Edit > Teaming and failover: {what} (override here, or on the vSwitch for all its port groups).",
        f"PowerCLI: Get-VirtualPortGroup -VMHost {ps_quote(host)} -Standard -Name {ps_quote(pg)} | "
        f"Get-NicTeamingPolicy | Set-NicTeamingPolicy {' '.join(ps)}".rstrip(),
        f"esxcli (on the host, or govc host.esxcli -host {sh_quote(host)} ...): esxcli network vswitch standard "
        f"portgroup policy failover set -p {sh_quote(pg)} {' '.join(cli)}".rstrip(),
    ]


def _ps_lb(value: str) -> str:
    return {LB_IP_HASH: "LoadBalanceIP", LB_MAC_HASH: "LoadBalanceSrcMac", LB_EXPLICIT_FAILOVER: "ExplicitFailover",
            LB_PHYSICAL_NIC_LOAD: "LoadBalanceLoadBased"}.get(value, "LoadBalanceSrcId")


def _cli_lb(value: str) -> str:
    return {LB_IP_HASH: "iphash", LB_MAC_HASH: "mac", LB_EXPLICIT_FAILOVER: "explicit"}.get(value, "portid")
