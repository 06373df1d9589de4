"""NIC teaming: the effective policy of a port group and what is wrong with it.

Pure functions over :mod:`reporter.core.model_hostconfig`; results are typed values, not
findings (check modules turn them into findings with severities and texts).

Effective policy
----------------
A standard port group's ``spec.policy.nicTeaming`` overrides its vSwitch's policy field by
field; a field the port group does not set is inherited. A distributed port group's
``uplinkTeamingPolicy`` fields carry ``inherited`` flags and inherit from the switch's
``defaultPortConfig``. The failover order (active + standby) is one field in both APIs. Each
effective field records where it came from, because the fix is made there.

Rules evaluated (sources in the docstrings):

* fewer than N uplinks (active + standby) on a port group that VMs or VMkernel adapters use;
* an active or standby uplink with no physical link (or no physical NIC behind it);
* beacon probing with fewer than 3 uplinks (KB1005577);
* IP hash with standby uplinks or beacon probing (KB1001938, KB1004048, vSphere Networking);
* IP hash on some but not all port groups sharing the same uplinks;
* notify switches off;
* link status only on a blade whose interconnect may not drop link on reboot
  (``reporter/data/blade_interconnects.toml``);
* the same standard port group name with a different VLAN or teaming on hosts of one cluster.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Generic, Literal, TypeVar

from pydantic import field_validator

from reporter.core.model_hostconfig import (
    DistributedPortGroup,
    DistributedSwitch,
    HostNetworkConfig,
    HostSystemIdentity,
    NicOrder,
    PhysicalNic,
    StandardPortGroup,
    StandardSwitch,
    TeamingPolicy,
)
from reporter.domain.datafiles import DataRow, parse_rows, read_packaged, regex

# vSphere API values of HostNicTeamingPolicy.policy / VmwareUplinkPortTeamingPolicy.policy.
LB_PORT_ID = "loadbalance_srcid"
LB_IP_HASH = "loadbalance_ip"
LB_MAC_HASH = "loadbalance_srcmac"
LB_EXPLICIT_FAILOVER = "failover_explicit"
LB_PHYSICAL_NIC_LOAD = "loadbalance_loadbased"  # distributed switches only

DEFAULT_MIN_UPLINKS = 2  # a single uplink is a single point of failure
BEACON_MIN_UPLINKS = 3  # KB1005577: with two, ESXi cannot tell which uplink failed

Origin = Literal["portgroup", "vswitch", "switch_default", "unset"]
Kind = Literal["standard", "distributed"]

T = TypeVar("T")


@dataclass(frozen=True)
class Sourced(Generic[T]):
    """An effective value and where it was set (``unset``: nowhere - the API returned none)."""

    value: T | None
    origin: Origin


@dataclass(frozen=True)
class EffectiveTeaming:
    load_balancing: Sourced[str]
    notify_switches: Sourced[bool]
    rolling_order: Sourced[bool]
    check_beacon: Sourced[bool]
    nic_order: Sourced[NicOrder]

    @property
    def active(self) -> tuple[str, ...]:
        order = self.nic_order.value
        return tuple(order.active) if order else ()

    @property
    def standby(self) -> tuple[str, ...]:
        order = self.nic_order.value
        return tuple(order.standby) if order else ()

    @property
    def uplink_count(self) -> int | None:
        """Active + standby uplinks; ``None`` when the failover order is unknown."""
        if self.nic_order.value is None:
            return None
        return len(set(self.active) | set(self.standby))

    @property
    def link_status_only(self) -> bool:
        return self.check_beacon.value is False


def _pick(override: T | None, base: T | None, base_origin: Origin) -> Sourced[T]:
    if override is not None:
        return Sourced(override, "portgroup")
    if base is not None:
        return Sourced(base, base_origin)
    return Sourced(None, "unset")


def merge_teaming(override: TeamingPolicy, base: TeamingPolicy, base_origin: Origin) -> EffectiveTeaming:
    """``override``'s set fields over ``base``'s, each labelled with its origin."""
    return EffectiveTeaming(
        load_balancing=_pick(override.load_balancing, base.load_balancing, base_origin),
        notify_switches=_pick(override.notify_switches, base.notify_switches, base_origin),
        rolling_order=_pick(override.rolling_order, base.rolling_order, base_origin),
        check_beacon=_pick(override.check_beacon, base.check_beacon, base_origin),
        nic_order=_pick(override.nic_order, base.nic_order, base_origin),
    )


def effective_standard(portgroup: StandardPortGroup, vswitch: StandardSwitch) -> EffectiveTeaming:
    return merge_teaming(portgroup.teaming_override, vswitch.teaming, "vswitch")


def effective_distributed(portgroup: DistributedPortGroup, switch: DistributedSwitch) -> EffectiveTeaming:
    return merge_teaming(portgroup.teaming, switch.default_teaming, "switch_default")


# --------------------------------------------------------------------------- one port group on one host


@dataclass(frozen=True)
class PortGroupView:
    """A port group as one host uses it: effective teaming and the pnics behind its uplinks.

    ``uplink_pnics`` maps each uplink name of the failover order to the physical NIC behind it
    on this host (standard: the pnic itself; distributed: via the host's proxy switch; LAG
    names are expanded to their member uplinks); ``None`` = no physical NIC assigned.
    ``in_use``: VMs or VMkernel adapters on it; ``None`` = VM usage was not collected and no
    VMkernel adapter uses it.
    """

    host_moid: str
    host_name: str
    kind: Kind
    portgroup: str
    switch: str
    vlan_id: int | None
    teaming: EffectiveTeaming
    in_use: bool | None
    uplink_pnics: Mapping[str, str | None] = field(default_factory=dict)
    lag_members: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # LAG name -> member uplinks
    portgroup_moid: str | None = None  # distributed only

    def members(self, uplink: str) -> tuple[str, ...]:
        """The uplinks that carry traffic for a failover-order entry (a LAG's members, or itself)."""
        return self.lag_members.get(uplink) or (uplink,)

    @property
    def uplink_count(self) -> int | None:
        """Active + standby uplinks counting a LAG as its members; ``None`` = order unknown."""
        if self.teaming.nic_order.value is None:
            return None
        names = {m for u in (*self.teaming.active, *self.teaming.standby) for m in self.members(u)}
        return len(names)


def _usage(vm_moids: list[str] | None, vmk_count: int) -> bool | None:
    if vmk_count or vm_moids:
        return True
    return None if vm_moids is None else False


def standard_views(host_moid: str, host_name: str, network: HostNetworkConfig) -> list[PortGroupView]:
    """Every standard port group of the host whose vSwitch is known."""
    switches = {s.name: s for s in network.vswitches}
    out: list[PortGroupView] = []
    for pg in network.portgroups:
        vswitch = switches.get(pg.vswitch)
        if vswitch is None:
            continue
        teaming = effective_standard(pg, vswitch)
        vmks = sum(1 for v in network.vmkernel_adapters if v.portgroup == pg.name)
        names = set(teaming.active) | set(teaming.standby)
        out.append(PortGroupView(
            host_moid=host_moid, host_name=host_name, kind="standard", portgroup=pg.name,
            switch=vswitch.name, vlan_id=pg.vlan_id, teaming=teaming,
            in_use=_usage(pg.vm_moids, vmks), uplink_pnics={n: n for n in sorted(names)},
        ))
    return out


def distributed_views(
    host_moid: str,
    host_name: str,
    network: HostNetworkConfig,
    switches: Mapping[str, DistributedSwitch],
    portgroups: Iterable[DistributedPortGroup],
) -> list[PortGroupView]:
    """The distributed port groups (not the uplink port groups) of switches this host is on."""
    proxies = {p.dvs_uuid: p for p in network.proxy_switches}
    out: list[PortGroupView] = []
    for pg in portgroups:
        switch = switches.get(pg.dvs_moid)
        if switch is None or pg.uplink_portgroup:
            continue
        proxy = proxies.get(switch.uuid or "")
        if host_moid not in switch.host_moids and proxy is None:
            continue
        teaming = effective_distributed(pg, switch)
        backing = {u.uplink: u.pnic for u in proxy.uplinks} if proxy else {}
        lags = {lag.name: tuple(lag.uplink_names) for lag in switch.lacp_groups if lag.uplink_names}
        mapping: dict[str, str | None] = {}
        for name in sorted(set(teaming.active) | set(teaming.standby)):
            for member in lags.get(name) or (name,):
                mapping[member] = backing.get(member)
        keys = {pg.moid, pg.key}
        vmks = sum(1 for v in network.vmkernel_adapters if v.distributed_portgroup_key in keys)
        out.append(PortGroupView(
            host_moid=host_moid, host_name=host_name, kind="distributed", portgroup=pg.name,
            switch=switch.name, vlan_id=pg.vlan_id, teaming=teaming, in_use=_usage(pg.vm_moids, vmks),
            uplink_pnics=mapping, lag_members=lags, portgroup_moid=pg.moid,
        ))
    return out


# --------------------------------------------------------------------------- evaluations


@dataclass(frozen=True)
class TooFewUplinks:
    view: PortGroupView
    uplinks: int
    minimum: int


def too_few_uplinks(view: PortGroupView, minimum: int = DEFAULT_MIN_UPLINKS) -> TooFewUplinks | None:
    """Fewer than ``minimum`` active + standby uplinks on a port group in use (or of unknown use)."""
    count = view.uplink_count
    if view.in_use is False or count is None or count >= minimum:
        return None
    return TooFewUplinks(view, count, minimum)


@dataclass(frozen=True)
class UplinkWithoutLink:
    view: PortGroupView
    uplink: str
    role: Literal["active", "standby"]
    pnic: str | None  # None: no physical NIC behind the uplink on this host
    reason: Literal["link_down", "no_physical_nic", "unknown_physical_nic"]


def uplinks_without_link(view: PortGroupView, pnics: Mapping[str, PhysicalNic]) -> list[UplinkWithoutLink]:
    """Active/standby uplinks that cannot carry traffic now (``pnics`` keyed by device)."""
    out: list[UplinkWithoutLink] = []
    roles: list[tuple[str, Literal["active", "standby"]]] = [
        *((u, "active") for u in view.teaming.active), *((u, "standby") for u in view.teaming.standby)]
    for uplink, role in roles:
        for member in view.members(uplink):
            device = view.uplink_pnics.get(member)
            if device is None:
                out.append(UplinkWithoutLink(view, member, role, None, "no_physical_nic"))
            elif device not in pnics:
                out.append(UplinkWithoutLink(view, member, role, device, "unknown_physical_nic"))
            elif not pnics[device].link_up:
                out.append(UplinkWithoutLink(view, member, role, device, "link_down"))
    return out


@dataclass(frozen=True)
class BeaconTooFewUplinks:
    view: PortGroupView
    uplinks: int


def beacon_with_too_few_uplinks(view: PortGroupView) -> BeaconTooFewUplinks | None:
    """Beacon probing needs 3+ uplinks to tell which one failed (KB1005577)."""
    count = view.teaming.uplink_count
    if view.teaming.check_beacon.value is not True or count is None or count >= BEACON_MIN_UPLINKS:
        return None
    return BeaconTooFewUplinks(view, count)


@dataclass(frozen=True)
class IpHashConflict:
    view: PortGroupView
    reason: Literal["standby_uplinks", "beacon_probing"]


def ip_hash_conflicts(view: PortGroupView) -> list[IpHashConflict]:
    """IP hash supports neither standby uplinks nor beacon probing.

    vSphere Networking ("Route Based on IP Hash", limitations): use Link Status Only; all
    uplinks in the Active list, Standby and Unused empty. Same in KB1001938 / KB1004048.
    """
    if view.teaming.load_balancing.value != LB_IP_HASH:
        return []
    out: list[IpHashConflict] = []
    if view.teaming.standby:
        out.append(IpHashConflict(view, "standby_uplinks"))
    if view.teaming.check_beacon.value is True:
        out.append(IpHashConflict(view, "beacon_probing"))
    return out


@dataclass(frozen=True)
class IpHashMixed:
    """Port groups on the same uplinks where some use IP hash and some do not."""

    host_name: str | None  # None for a distributed switch (one configuration for all hosts)
    switch: str
    ip_hash: tuple[str, ...]
    other: tuple[str, ...]


def ip_hash_mixed(views: Iterable[PortGroupView]) -> list[IpHashMixed]:
    """IP hash needs a static EtherChannel on the physical ports; the other policies must not
    run over an EtherChannel ("IP hash without 802.3ad ... and the reverse" disrupts networking,
    vSphere Networking / KB1001938). So on one switch it is all or nothing.

    Standard switches are grouped per host and vSwitch, distributed ones per switch.
    """
    groups: dict[tuple[str | None, str, Kind], dict[str, bool]] = defaultdict(dict)
    for v in views:
        lb = v.teaming.load_balancing.value
        if lb is None:
            continue
        key = (v.host_name if v.kind == "standard" else None, v.switch, v.kind)
        groups[key][v.portgroup] = lb == LB_IP_HASH
    out: list[IpHashMixed] = []
    for (host, switch, _kind), members in sorted(groups.items(), key=lambda kv: (kv[0][1], kv[0][0] or "")):
        ip = tuple(sorted(n for n, is_ip in members.items() if is_ip))
        other = tuple(sorted(n for n, is_ip in members.items() if not is_ip))
        if ip and other:
            out.append(IpHashMixed(host, switch, ip, other))
    return out


@dataclass(frozen=True)
class NotifySwitchesOff:
    view: PortGroupView


def notify_switches_off(view: PortGroupView) -> NotifySwitchesOff | None:
    """Without notifications the physical switches learn a failed-over MAC only when it sends."""
    return NotifySwitchesOff(view) if view.teaming.notify_switches.value is False else None


# --------------------------------------------------------------------------- blade interconnects


class BladeInterconnect(DataRow):
    id: str
    name: str
    vendor_pattern: str
    model_pattern: str
    behaviour: str
    fix: str

    _patterns_ok = field_validator("vendor_pattern", "model_pattern")(regex)

    def matches(self, identity: HostSystemIdentity) -> bool:
        if not identity.vendor or not identity.model:
            return False
        return bool(re.match(self.vendor_pattern, identity.vendor.strip(), re.IGNORECASE)
                    and re.match(self.model_pattern, identity.model.strip(), re.IGNORECASE))


BLADE_FILE = "blade_interconnects.toml"


@lru_cache(maxsize=1)
def blade_interconnects() -> tuple[BladeInterconnect, ...]:
    return parse_rows(read_packaged(BLADE_FILE), "interconnect", BladeInterconnect, BLADE_FILE)


@dataclass(frozen=True)
class LinkStatusOnlyOnBlade:
    view: PortGroupView
    interconnect: BladeInterconnect


def link_status_only_behind_blade(
    view: PortGroupView,
    identity: HostSystemIdentity | None,
    interconnects: Sequence[BladeInterconnect] | None = None,
) -> LinkStatusOnlyOnBlade | None:
    """Link-status-only detection on a blade whose interconnect may reboot without dropping link."""
    if identity is None or not view.teaming.link_status_only or view.in_use is False:
        return None
    for row in interconnects if interconnects is not None else blade_interconnects():
        if row.matches(identity):
            return LinkStatusOnlyOnBlade(view, row)
    return None


# --------------------------------------------------------------------------- consistency in a cluster


DRIFT_FIELDS = ("vlan_id", "load_balancing", "check_beacon", "notify_switches", "rolling_order", "active", "standby")
Value = int | str | bool | tuple[str, ...] | None


def _drift_value(view: PortGroupView, name: str) -> Value:
    t = view.teaming
    values: dict[str, Value] = {
        "vlan_id": view.vlan_id,
        "load_balancing": t.load_balancing.value,
        "check_beacon": t.check_beacon.value,
        "notify_switches": t.notify_switches.value,
        "rolling_order": t.rolling_order.value,
        "active": t.active,
        "standby": t.standby,
    }
    return values[name]


@dataclass(frozen=True)
class PortGroupDrift:
    """One setting of a same-named standard port group that differs between hosts."""

    portgroup: str
    setting: str  # one of DRIFT_FIELDS
    values: Mapping[str, Value]  # host name -> value


def portgroup_drift(views: Iterable[PortGroupView]) -> list[PortGroupDrift]:
    """Standard port groups with the same name but a different VLAN or teaming on the hosts
    given (one cluster's). vMotion and HA restarts move VMs by port group name, so a VM lands
    on another VLAN or another failover behaviour. Distributed port groups are one object for
    all hosts and cannot drift.
    """
    by_name: dict[str, dict[str, PortGroupView]] = defaultdict(dict)
    for v in views:
        if v.kind == "standard":
            by_name[v.portgroup][v.host_name] = v
    out: list[PortGroupDrift] = []
    for name in sorted(by_name):
        hosts = by_name[name]
        if len(hosts) < 2:
            continue
        for setting in DRIFT_FIELDS:
            values = {h: _drift_value(hosts[h], setting) for h in sorted(hosts)}
            if len(set(values.values())) > 1:
                out.append(PortGroupDrift(name, setting, values))
    return out
