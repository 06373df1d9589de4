"""Host configuration: networking, hardware identity, distributed switches, host software.

Only in a full collection, never in the light vRAM sample. ``read_host_data`` reads while
the VMs are read; ``host_configs`` completes it once they are (a standard port group's VMs
are those of its host only, from each VM's ``network`` list, read with the VMs):

* bulk, both engines: ``HostSystem`` (``config.network``, ``hardware.systemInfo``, the two
  software managers), ``DistributedVirtualSwitch`` and ``DistributedVirtualPortgroup``
  (``config`` read whole: its VMware parts exist only on the VMware subtypes, and a path
  through a subtype is an InvalidProperty for the whole call) and ``Network`` names.
  These values are data objects, which both engines hand over as pyVmomi objects, so one
  converter serves both.
* per connected host, small reads: ``HostImageConfigGetAcceptance``,
  ``HostImageConfigGetProfile``, ``fetchSoftwarePackages`` (``HostImageConfigManager``) and
  ``QueryModules`` (``HostKernelModuleSystem``). A fault there (no privilege, not implemented,
  an old host) makes that host's software *unknown, with the reason*; it is not a collection
  error. Each method is called once per host; after the first fault on the image manager its
  other methods are not tried (they share its privilege and implementation).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any, Protocol

from pyVmomi import vim as _vim
from pyVmomi import vmodl

from reporter.collect.session import describe
from reporter.config import VCenterConfig
from reporter.core import states
from reporter.core.model_hostconfig import (
    DistributedPortGroup,
    DistributedSwitch,
    HostNetworkConfig,
    HostProxySwitch,
    HostSoftware,
    HostSystemIdentity,
    KernelModule,
    LacpGroup,
    NicOrder,
    PhysicalNic,
    ProxySwitchUplink,
    SoftwarePackage,
    StandardPortGroup,
    StandardSwitch,
    TeamingPolicy,
    VmkernelAdapter,
)
from reporter.domain.software import VIBS_BEFORE_65

log = logging.getLogger(__name__)
vim: Any = _vim  # pyVmomi's managed-object constructors are untyped

HOST_CONFIG_PATHS = [
    "config.network", "hardware.systemInfo", "runtime.connectionState",
    "configManager.imageConfigManager", "configManager.kernelModuleSystem",
]
DVS_PATHS = ["name", "uuid", "config"]
DVPG_PATHS = ["name", "config", "vm"]
NETWORK_PATHS = ["name"]
VM_NETWORK_PATH = "network"  # read with the VMs (``vcenter``): which networks each VM has a NIC on

# The read-only software methods (vSphere API wsdl names), deliberately allowed.
SOFTWARE_METHODS = ("HostImageConfigGetAcceptance", "HostImageConfigGetProfile", "fetchSoftwarePackages",
                    "QueryModules")
SOFTWARE_WORKERS = 4  # within pyVmomi's pool of 5 connections, like the host option reads


Props = dict[str, Any]


class Reader(Protocol):
    """What this module needs from ``VCenterCollector``: a bulk read of one object type."""

    def __call__(self, stage: str, what: str, vimtype: type, paths: list[str]) -> Iterable[tuple[str, Props]]: ...


def _moid(ref: Any) -> str | None:
    return None if ref is None else str(ref._moId)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


# --------------------------------------------------------------------------- teaming


def host_teaming(policy: Any) -> TeamingPolicy:
    """``HostNicTeamingPolicy`` -> model; an unset field stays None (a port group inherits it)."""
    if policy is None:
        return TeamingPolicy()
    criteria = policy.failureCriteria
    order = policy.nicOrder
    return TeamingPolicy(
        load_balancing=_text(policy.policy),
        notify_switches=policy.notifySwitches,
        rolling_order=policy.rollingOrder,
        check_beacon=criteria.checkBeacon if criteria is not None else None,
        nic_order=None if order is None else NicOrder(active=list(order.activeNic or []),
                                                      standby=list(order.standbyNic or [])),
    )


def _inherited(setting: Any, parent: bool) -> bool:
    """A distributed policy's ``inherited`` flag; unset, it follows the enclosing policy's."""
    flag = setting.inherited
    return parent if flag is None else bool(flag)


def dvs_teaming(policy: Any, *, keep_inherited: bool) -> TeamingPolicy:
    """``VmwareUplinkPortTeamingPolicy`` -> model. On a port group a field whose ``inherited``
    flag is true becomes None; on a switch default (``keep_inherited``) every value is kept."""
    if policy is None:
        return TeamingPolicy()
    top = bool(policy.inherited)

    def value(setting: Any, parent: bool) -> Any:
        if setting is None or (not keep_inherited and _inherited(setting, parent)):
            return None
        return setting.value

    criteria = policy.failureCriteria
    beacon = None
    if criteria is not None:
        beacon = value(criteria.checkBeacon, _inherited(criteria, top))
    order = policy.uplinkPortOrder
    nic_order = None
    if order is not None and (keep_inherited or not _inherited(order, top)):
        nic_order = NicOrder(active=list(order.activeUplinkPort or []), standby=list(order.standbyUplinkPort or []))
    return TeamingPolicy(
        load_balancing=_text(value(policy.policy, top)),
        notify_switches=value(policy.notifySwitches, top),
        rolling_order=value(policy.rollingOrder, top),
        check_beacon=beacon,
        nic_order=nic_order,
    )


# --------------------------------------------------------------------------- host networking


def _pnic(p: Any) -> PhysicalNic:
    speed = p.linkSpeed
    return PhysicalNic(device=p.device, driver=p.driver or None,
                       link_speed_mbps=speed.speedMb if speed is not None else None,
                       full_duplex=speed.duplex if speed is not None else None,
                       mac=p.mac or None, pci=p.pci or None)


def _vswitch(v: Any) -> StandardSwitch:
    spec = v.spec
    bridge = getattr(spec, "bridge", None) if spec is not None else None
    policy = spec.policy if spec is not None else None
    return StandardSwitch(name=v.name, uplinks=list(getattr(bridge, "nicDevice", None) or []),
                          mtu=v.mtu if v.mtu is not None else (spec.mtu if spec is not None else None),
                          teaming=host_teaming(policy.nicTeaming if policy is not None else None))


def _portgroup(pg: Any, vm_moids: list[str] | None) -> StandardPortGroup:
    spec = pg.spec
    policy = spec.policy
    return StandardPortGroup(name=spec.name, vswitch=spec.vswitchName, vlan_id=spec.vlanId,
                             teaming_override=host_teaming(policy.nicTeaming if policy is not None else None),
                             vm_moids=vm_moids)


def _vnic(v: Any) -> VmkernelAdapter:
    spec = v.spec
    port = spec.distributedVirtualPort if spec is not None else None
    return VmkernelAdapter(device=v.device, portgroup=v.portgroup or None,
                           distributed_portgroup_key=port.portgroupKey if port is not None else None)


def _proxy(p: Any) -> HostProxySwitch:
    backing = p.spec.backing if p.spec is not None else None
    pnic_by_port = {s.uplinkPortKey: s.pnicDevice for s in (getattr(backing, "pnicSpec", None) or [])
                    if s.uplinkPortKey}
    uplinks = [ProxySwitchUplink(uplink=str(kv.value), pnic=pnic_by_port.get(kv.key))
               for kv in (p.uplinkPort or [])]
    return HostProxySwitch(dvs_uuid=p.dvsUuid, dvs_name=p.dvsName or None, uplinks=uplinks)


def host_network(info: Any, vm_moids: Callable[[str], list[str] | None]) -> HostNetworkConfig | None:
    """``HostNetworkInfo`` -> model; ``vm_moids(portgroup name)`` gives that port group's VMs on
    this host (None: unknown)."""
    if info is None:
        return None
    return HostNetworkConfig(
        vswitches=[_vswitch(v) for v in info.vswitch or []],
        portgroups=[_portgroup(pg, vm_moids(pg.spec.name)) for pg in info.portgroup or []],
        pnics=[_pnic(p) for p in info.pnic or []],
        vmkernel_adapters=[_vnic(v) for v in info.vnic or []],
        proxy_switches=[_proxy(p) for p in info.proxySwitch or []],
    )


def system_identity(info: Any) -> HostSystemIdentity | None:
    if info is None:
        return None
    return HostSystemIdentity(vendor=info.vendor or None, model=info.model or None)


# --------------------------------------------------------------------------- distributed switches


def distributed_switch(moid: str, p: Props) -> tuple[DistributedSwitch, set[str]]:
    """The switch and the moids of its uplink port groups."""
    cfg = p.get("config")
    if cfg is None:
        return DistributedSwitch(moid=moid, name=p.get("name") or moid, uuid=p.get("uuid")), set()
    product = cfg.productInfo
    uplink_policy = cfg.uplinkPortPolicy
    default = cfg.defaultPortConfig
    lags = [LacpGroup(name=g.name, mode=_text(g.mode), uplink_count=g.uplinkNum,
                      load_balancing=_text(g.loadbalanceAlgorithm), uplink_names=list(g.uplinkName or []))
            for g in getattr(cfg, "lacpGroupConfig", None) or []]
    switch = DistributedSwitch(
        moid=moid, name=p.get("name") or cfg.name or moid, uuid=p.get("uuid") or cfg.uuid,
        version=product.version if product is not None else None,
        uplink_port_names=list(getattr(uplink_policy, "uplinkPortName", None) or []),
        lacp_groups=lags,
        host_moids=[m for m in (_moid(h.config.host) for h in cfg.host or [] if h.config is not None) if m],
        default_teaming=dvs_teaming(getattr(default, "uplinkTeamingPolicy", None), keep_inherited=True),
    )
    return switch, {m for m in (_moid(r) for r in cfg.uplinkPortgroup or []) if m}


def _vlan(spec: Any) -> tuple[int | None, list[tuple[int, int]]]:
    if spec is None:
        return None, []
    value = spec.vlanId
    if isinstance(value, int):
        return int(value), []
    if isinstance(value, list):  # TrunkVlanSpec: NumericRange[]
        return None, [(int(r.start), int(r.end)) for r in value]
    return None, []  # PVLAN or unknown


def distributed_portgroup(moid: str, p: Props, uplink_portgroups: set[str]) -> DistributedPortGroup | None:
    cfg = p.get("config")
    if cfg is None:
        return None
    setting = cfg.defaultPortConfig
    vlan, trunk = _vlan(getattr(setting, "vlan", None))
    return DistributedPortGroup(
        moid=moid, name=p.get("name") or cfg.name or moid, dvs_moid=_moid(cfg.distributedVirtualSwitch) or "",
        key=cfg.key or None, vlan_id=vlan, vlan_trunk_ranges=trunk,
        uplink_portgroup=bool(cfg.uplink) or moid in uplink_portgroups,
        teaming=dvs_teaming(getattr(setting, "uplinkTeamingPolicy", None), keep_inherited=False),
        vm_moids=sorted(_moid(v) or "" for v in p.get("vm") or []),
    )


# --------------------------------------------------------------------------- host software


def _fault_reason(exc: BaseException, vc: VCenterConfig, method: str) -> str:
    return describe(exc, vc, during=method)[1]


def host_software(stub: Any, props: Props, vc: VCenterConfig) -> HostSoftware:
    """One host's image and modules; any fault becomes the reason, never an exception
    (``NotAuthenticated`` excepted: the stage is retried with a new session)."""
    state = _text(props.get("runtime.connectionState"))
    if state != "connected":
        return HostSoftware(software_unknown_reason=states.host_not_readable(state or None, "software"))
    reasons: list[str] = []
    out: dict[str, Any] = {}
    image = props.get("configManager.imageConfigManager")
    if image is None:
        reasons.append("the host has no image configuration manager (configManager.imageConfigManager unset)")
    else:
        manager = vim.host.ImageConfigManager(image._moId, stub)
        try:
            out["acceptance_level"] = _text(manager.QueryHostAcceptanceLevel())
            profile = manager.QueryHostImageProfile()
            out["image_profile_name"] = (profile.name or None) if profile is not None else None
            out["image_profile_vendor"] = (profile.vendor or None) if profile is not None else None
            out["packages"] = [_package(p) for p in manager.FetchSoftwarePackages() or []]
        except vim.fault.NotAuthenticated:
            raise
        except (vmodl.MethodFault, OSError) as exc:
            method = _current_image_method(out)
            if method == "fetchSoftwarePackages" and isinstance(exc, (vmodl.fault.MethodNotFound,
                                                                      vmodl.fault.NotSupported)):
                reasons.append(VIBS_BEFORE_65)  # the method is new in vSphere API 6.5
            else:
                reasons.append(_fault_reason(exc, vc, method))
    modules = props.get("configManager.kernelModuleSystem")
    if modules is None:
        reasons.append("the host has no kernel module system (configManager.kernelModuleSystem unset)")
    else:
        try:
            out["kernel_modules"] = [_module(m) for m in
                                     vim.host.KernelModuleSystem(modules._moId, stub).QueryModules() or []]
        except vim.fault.NotAuthenticated:
            raise
        except (vmodl.MethodFault, OSError) as exc:
            reasons.append(_fault_reason(exc, vc, "QueryModules"))
    return HostSoftware(software_unknown_reason="; ".join(reasons) or None, **out)


def _current_image_method(done: dict[str, Any]) -> str:
    if "acceptance_level" not in done:
        return "HostImageConfigGetAcceptance"
    if "image_profile_name" not in done:
        return "HostImageConfigGetProfile"
    return "fetchSoftwarePackages"


def _package(p: Any) -> SoftwarePackage:
    return SoftwarePackage(
        name=p.name, vendor=p.vendor or None, version=p.version or None,
        acceptance_level=_text(p.acceptanceLevel) or None, type=_text(p.type) or None,
        depends=[d.name for d in p.depends or [] if d.name],
        install_date=getattr(p, "creationDate", None),
    )


def _module(m: Any) -> KernelModule:
    return KernelModule(name=m.name, loaded=m.loaded, enabled=m.enabled, filename=m.filename or None,
                        version=m.version or None)


def software_of_hosts(stub: Any, hosts: list[tuple[str, Props]], vc: VCenterConfig,
                      on_done: Callable[[int], None] | None = None) -> dict[str, HostSoftware]:
    """``host_software`` for every host, a few at a time over the session's connections."""
    out: dict[str, HostSoftware] = {}
    with ThreadPoolExecutor(max_workers=SOFTWARE_WORKERS, thread_name_prefix="host-software") as pool:
        futures = {pool.submit(host_software, stub, p, vc): m for m, p in hosts}
        for n, future in enumerate(as_completed(futures), 1):
            out[futures[future]] = future.result()  # re-raises NotAuthenticated
            if on_done is not None:
                on_done(n)
    return out


# --------------------------------------------------------------------------- the stage


@dataclass
class HostConfigs:
    network: dict[str, HostNetworkConfig | None] = field(default_factory=dict)
    system: dict[str, HostSystemIdentity | None] = field(default_factory=dict)
    software: dict[str, HostSoftware] = field(default_factory=dict)
    switches: dict[str, DistributedSwitch] = field(default_factory=dict)
    portgroups: dict[str, DistributedPortGroup] = field(default_factory=dict)


def _portgroup_vms(vm_networks: dict[str, list[str]], network_names: dict[str, str],
                   distributed: set[str], vm_host: dict[str, str | None]) -> dict[tuple[str, str], list[str]]:
    """(host moid, standard port group name) -> VMs on that host with a NIC on it.

    From each VM's ``network`` list (``vm_networks``: VM moid -> network moids): vCenter has
    one ``Network`` per port group name, shared by every host that has such a port group,
    so its own ``vm`` list spans all of them."""
    out: dict[tuple[str, str], list[str]] = {}
    for vm, networks in vm_networks.items():
        host = vm_host.get(vm)
        if host is None:
            continue
        for net in set(networks):
            if net in distributed or net not in network_names:
                continue
            out.setdefault((host, network_names[net]), []).append(vm)
    return {k: sorted(v) for k, v in out.items()}


OnError = Callable[[str, str, Exception], None]  # (stage, moid, exception)


@dataclass
class HostData:
    """What ``read_host_data`` read: all of the host configuration but what needs the VMs."""

    switches: dict[str, DistributedSwitch] = field(default_factory=dict)
    portgroups: dict[str, DistributedPortGroup] = field(default_factory=dict)
    uplink_portgroups: set[str] = field(default_factory=set)
    network_names: dict[str, str] = field(default_factory=dict)
    hosts: list[tuple[str, Props]] = field(default_factory=list)
    software: dict[str, HostSoftware] = field(default_factory=dict)


def read_host_data(read: Reader, stub: Any, vc: VCenterConfig, on_error: OnError,
                   on_software: Callable[[int], None] | None = None) -> HostData:
    """The bulk reads and the host software of this module (see the module docstring). An
    object whose data cannot be converted goes to ``on_error`` and is left out, like elsewhere."""
    out = HostData()
    for m, p in read("distributed-switches", "distributed switches", vim.DistributedVirtualSwitch, DVS_PATHS):
        try:
            switch, uplinks = distributed_switch(m, p)
        except Exception as exc:
            on_error("distributed-switches", m, exc)
            continue
        out.switches[m] = switch
        out.uplink_portgroups |= uplinks
    for m, p in read("distributed-switches", "distributed port groups", vim.dvs.DistributedVirtualPortgroup,
                     DVPG_PATHS):
        try:
            pg = distributed_portgroup(m, p, out.uplink_portgroups)
        except Exception as exc:
            on_error("distributed-switches", m, exc)
            continue
        if pg is not None:
            out.portgroups[m] = pg
    out.network_names = {m: p.get("name") or m for m, p in read("host-config", "networks", vim.Network,
                                                                  NETWORK_PATHS)}
    out.hosts = list(read("host-config", "host configuration", vim.HostSystem, HOST_CONFIG_PATHS))
    out.software = software_of_hosts(stub, out.hosts, vc, on_software)
    return out


def host_configs(data: HostData, vm_networks: dict[str, list[str]], vm_host: dict[str, str | None],
                 on_error: OnError) -> HostConfigs:
    """The host configuration, converted, with the VMs of each port group."""
    out = HostConfigs(switches=data.switches, portgroups=dict(data.portgroups), software=data.software)
    pg_vms = _portgroup_vms(vm_networks, data.network_names, set(data.portgroups) | data.uplink_portgroups, vm_host)
    on_dvpg: dict[str, set[str]] = {}
    for vm, networks in vm_networks.items():
        for net in networks:
            if net in out.portgroups:
                on_dvpg.setdefault(net, set()).add(vm)
    for m, vms in on_dvpg.items():
        pg = out.portgroups[m]
        out.portgroups[m] = pg.model_copy(update={"vm_moids": sorted(set(pg.vm_moids or []) | vms)})
    for m, p in data.hosts:
        try:
            # A port group no VM uses has no entry: [] (known unused), not None.
            out.network[m] = host_network(p.get("config.network"), lambda name, m=m: pg_vms.get((m, name), []))  # type: ignore[misc]
            out.system[m] = system_identity(p.get("hardware.systemInfo"))
        except Exception as exc:
            on_error("host-config", m, exc)
    return out
