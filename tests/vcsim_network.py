"""Shape a simulator's networking through the vSphere API (pyVmomi), and read it back.

Standard switches go through ``HostNetworkSystem`` (the launcher's ``network.go`` makes
govmomi 0.24 keep specs and compute effective policies as ESXi does). Distributed switches
go through ``CreateDVS_Task`` (with host members and their pnics), ``ReconfigureDvs_Task``,
``UpdateDVSLacpGroupConfig_Task``, ``AddDVPortgroup_Task`` and ``CreateDVPortgroup_Task``;
the launcher's ``dvs.go`` completes what 0.24 drops or lacks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pyVim import task as _task
from pyVmomi import vim as _vim
from pyVmomi import vmodl as _vmodl

# pyVmomi's type constructors and WaitForTask are untyped: use them as Any.
vim: Any = _vim
vmodl: Any = _vmodl
WaitForTask: Any = _task.WaitForTask


def find_by_name(si: Any, vimtype: Any, name: str) -> Any:
    """The inventory object of type ``vimtype`` called ``name``; ``LookupError`` if none."""
    content = si.RetrieveContent()
    view = content.viewManager.CreateContainerView(content.rootFolder, [vimtype], True)
    try:
        for obj in view.view:
            if obj.name == name:
                return obj
    finally:
        view.Destroy()
    raise LookupError(f"no {vimtype.__name__} named {name!r}")


def retrieve(si: Any, vimtype: Any, paths: Sequence[str]) -> dict[str, dict[str, Any]]:
    """``{name: {path: value}}`` for every object of ``vimtype``, read with one
    RetrievePropertiesEx over a container view (as the collector reads)."""
    content = si.RetrieveContent()
    view = content.viewManager.CreateContainerView(content.rootFolder, [vimtype], True)
    try:
        spec = vmodl.query.PropertyCollector.FilterSpec(
            objectSet=[vmodl.query.PropertyCollector.ObjectSpec(
                obj=view, skip=True,
                selectSet=[vmodl.query.PropertyCollector.TraversalSpec(type=vim.view.ContainerView, path="view")])],
            propSet=[vmodl.query.PropertyCollector.PropertySpec(type=vimtype, pathSet=["name", *paths])])
        out: dict[str, dict[str, Any]] = {}
        result = content.propertyCollector.RetrievePropertiesEx([spec], vmodl.query.PropertyCollector.RetrieveOptions())
        while result is not None:
            for obj in result.objects:
                props = {p.name: p.val for p in obj.propSet}
                out[props.pop("name")] = props
            if not result.token:
                break
            result = content.propertyCollector.ContinueRetrievePropertiesEx(result.token)
        return out
    finally:
        view.Destroy()


# --------------------------------------------------------------------------- standard switches


def teaming_policy(
    *,
    policy: str | None = None,
    notify_switches: bool | None = None,
    rolling_order: bool | None = None,
    reverse_policy: bool | None = None,
    check_beacon: bool | None = None,
    active: Sequence[str] | None = None,
    standby: Sequence[str] | None = None,
) -> Any:
    """A ``HostNicTeamingPolicy``; every argument left None is unset (a port group inherits it).

    ``policy``: loadbalance_srcid | loadbalance_ip | loadbalance_srcmac | failover_explicit.
    """
    order = None
    if active is not None or standby is not None:
        order = vim.host.NetworkPolicy.NicOrderPolicy(activeNic=list(active or ()), standbyNic=list(standby or ()))
    criteria = vim.host.NetworkPolicy.NicFailureCriteria(checkBeacon=check_beacon)
    return vim.host.NetworkPolicy.NicTeamingPolicy(
        policy=policy, notifySwitches=notify_switches, rollingOrder=rolling_order, reversePolicy=reverse_policy,
        failureCriteria=criteria, nicOrder=order)


def add_vswitch(host: Any, name: str, nics: Sequence[str], *, teaming: Any = None, mtu: int = 1500,
                num_ports: int = 128) -> None:
    """Add vSwitch ``name`` bridging ``nics`` (e.g. ``["vmnic2", "vmnic3"]``) to ``host``."""
    spec = vim.host.VirtualSwitch.Specification(
        numPorts=num_ports, mtu=mtu,
        bridge=vim.host.VirtualSwitch.BondBridge(nicDevice=list(nics)) if nics else None,
        policy=vim.host.NetworkPolicy(nicTeaming=teaming) if teaming is not None else None)
    host.configManager.networkSystem.AddVirtualSwitch(vswitchName=name, spec=spec)


def update_vswitch(host: Any, name: str, *, nics: Sequence[str] | None = None, teaming: Any = None) -> None:
    """Change a vSwitch's uplinks and/or teaming, keeping the rest of its spec."""
    ns = host.configManager.networkSystem
    current = next(v for v in host.config.network.vswitch if v.name == name)
    spec = current.spec
    if nics is not None:
        spec.bridge = vim.host.VirtualSwitch.BondBridge(nicDevice=list(nics))
    if teaming is not None:
        spec.policy = spec.policy or vim.host.NetworkPolicy()
        spec.policy.nicTeaming = teaming
    ns.UpdateVirtualSwitch(vswitchName=name, spec=spec)


def add_portgroup(host: Any, name: str, vswitch: str, *, vlan: int = 0, teaming: Any = None) -> None:
    """Add a standard port group; ``teaming`` (from ``teaming_policy``) overrides the vSwitch's."""
    spec = vim.host.PortGroup.Specification(
        name=name, vlanId=vlan, vswitchName=vswitch,
        policy=vim.host.NetworkPolicy(nicTeaming=teaming))
    host.configManager.networkSystem.AddPortGroup(portgrp=spec)


def update_portgroup(host: Any, name: str, *, vlan: int | None = None, teaming: Any = None) -> None:
    """Change a standard port group's VLAN and/or teaming override."""
    current = next(p for p in host.config.network.portgroup if p.spec.name == name)
    spec = current.spec
    if vlan is not None:
        spec.vlanId = vlan
    if teaming is not None:
        spec.policy.nicTeaming = teaming
    host.configManager.networkSystem.UpdatePortGroup(pgName=name, portgrp=spec)


# --------------------------------------------------------------------------- distributed switches


def dv_teaming_policy(
    *,
    policy: str = "loadbalance_srcid",
    notify_switches: bool = True,
    rolling_order: bool = False,
    check_beacon: bool = False,
    active: Sequence[str] = ("uplink1", "uplink2"),
    standby: Sequence[str] = (),
) -> Any:
    """A ``VmwareUplinkPortTeamingPolicy`` with every value set (not inherited)."""
    dvs = vim.dvs.VmwareDistributedVirtualSwitch
    return dvs.UplinkPortTeamingPolicy(
        inherited=False,
        policy=vim.StringPolicy(inherited=False, value=policy),
        notifySwitches=vim.BoolPolicy(inherited=False, value=notify_switches),
        rollingOrder=vim.BoolPolicy(inherited=False, value=rolling_order),
        failureCriteria=dvs.FailureCriteria(inherited=False, checkBeacon=vim.BoolPolicy(inherited=False, value=check_beacon)),
        uplinkPortOrder=dvs.UplinkPortOrderPolicy(inherited=False, activeUplinkPort=list(active),
                                                  standbyUplinkPort=list(standby)))


def create_dvs(datacenter: Any, name: str, hosts: Sequence[Any], *, uplinks: Sequence[str] = ("uplink1", "uplink2"),
               teaming: Any = None, pnics: Sequence[str] = (), lacp_api_version: str | None = None) -> Any:
    """Create a distributed switch in ``datacenter``'s network folder with ``hosts`` as
    members (each backed by the physical NICs ``pnics``, e.g. ``["vmnic2", "vmnic3"]``) and
    ``teaming`` (``dv_teaming_policy``) as the switch default; returns the switch.
    ``lacp_api_version="multipleLag"`` is enhanced LACP, needed by ``add_lag``."""
    dvs = vim.dvs.VmwareDistributedVirtualSwitch
    backing = vim.dvs.HostMember.PnicBacking(pnicSpec=[vim.dvs.HostMember.PnicSpec(pnicDevice=p) for p in pnics])
    config = dvs.ConfigSpec(
        name=name,
        uplinkPortPolicy=vim.DistributedVirtualSwitch.NameArrayUplinkPortPolicy(uplinkPortName=list(uplinks)),
        defaultPortConfig=dvs.VmwarePortConfigPolicy(uplinkTeamingPolicy=teaming) if teaming is not None else None,
        host=[vim.dvs.HostMember.ConfigSpec(operation="add", host=h, backing=backing) for h in hosts],
        lacpApiVersion=lacp_api_version)
    task = datacenter.networkFolder.CreateDVS_Task(vim.DistributedVirtualSwitch.CreateSpec(configSpec=config))
    WaitForTask(task)
    return task.info.result


def set_dvs_default_teaming(switch: Any, teaming: Any) -> None:
    """Change the switch-wide default teaming (``dv_teaming_policy``)."""
    dvs = vim.dvs.VmwareDistributedVirtualSwitch
    WaitForTask(switch.ReconfigureDvs_Task(dvs.ConfigSpec(
        configVersion=switch.config.configVersion,
        defaultPortConfig=dvs.VmwarePortConfigPolicy(uplinkTeamingPolicy=teaming))))


def add_lag(switch: Any, name: str, uplinks: int, *, mode: str = "active",
            load_balancing: str = "srcDestIpTcpUdpPortVlan") -> Any:
    """Add a LACP link aggregation group (enhanced LACP); returns its config as stored."""
    dvs = vim.dvs.VmwareDistributedVirtualSwitch
    group = dvs.LacpGroupConfig(name=name, mode=mode, uplinkNum=uplinks, loadbalanceAlgorithm=load_balancing)
    # vcsim 0.24 types its switches DistributedVirtualSwitch, not VmwareDistributedVirtualSwitch as
    # vCenter does, so pyVmomi's proxy lacks the LACP method: call it on a VMware-typed proxy.
    vmware_switch = dvs(switch._moId, switch._stub)
    WaitForTask(vmware_switch.UpdateDVSLacpGroupConfig_Task([dvs.LacpGroupSpec(lacpGroupConfig=group, operation="add")]))
    return next(g for g in switch.config.lacpGroupConfig if g.name == name)


@dataclass(frozen=True)
class DvPortgroup:
    name: str
    vlan: int = 0
    teaming: Any = None  # dv_teaming_policy(...); None: vcsim's default (loadbalance_srcid)
    num_ports: int = 8


def _dvportgroup_spec(pg: DvPortgroup) -> Any:
    dvs = vim.dvs.VmwareDistributedVirtualSwitch
    setting = dvs.VmwarePortConfigPolicy(
        vlan=dvs.VlanIdSpec(inherited=False, vlanId=pg.vlan), uplinkTeamingPolicy=pg.teaming)
    return vim.dvs.DistributedVirtualPortgroup.ConfigSpec(
        name=pg.name, type="earlyBinding", numPorts=pg.num_ports, defaultPortConfig=setting)


def create_dvportgroup(switch: Any, portgroup: DvPortgroup) -> Any:
    """One distributed port group through ``CreateDVPortgroup_Task``; returns it."""
    task = switch.CreateDVPortgroup_Task(_dvportgroup_spec(portgroup))
    WaitForTask(task)
    return task.info.result


def add_dvportgroups(switch: Any, portgroups: Sequence[DvPortgroup]) -> list[Any]:
    """Add distributed port groups to ``switch`` (``AddDVPortgroup_Task``); returns them in the given order."""
    WaitForTask(switch.AddDVPortgroup_Task([_dvportgroup_spec(pg) for pg in portgroups]))
    by_name = {p.name: p for p in switch.portgroup}
    return [by_name[pg.name] for pg in portgroups]
