"""Host configuration read by the collector: networking, hardware identity, installed software.

Same conventions as ``reporter/model.py``: frozen pydantic models, no pyVmomi, JSON-able,
and **absent is not zero** - a property the API did not return is ``None``, never a default
that looks like a real value. In a *port group's* teaming policy ``None`` has one more
meaning: the field is not overridden and is inherited from the vSwitch (standard) or the
switch default port configuration (distributed). ``reporter/domain/network.py`` merges them.

API strings are kept as the vSphere API spells them (``loadbalance_ip``, ``vmware_accepted``,
...), as plain ``str``: a value a newer vSphere adds must load, not fail; the domain layer
knows the values it reasons about.

Where each field comes from (for the collector):

* ``HostSystem.config.network`` -> :class:`HostNetworkConfig` (``vswitch[].spec``,
  ``portgroup[].spec``, ``pnic[]``, ``vnic[]``, ``proxySwitch[]``);
* ``HostSystem.hardware.systemInfo`` -> :class:`HostSystemIdentity`;
* ``HostImageConfigManager`` (``HostImageConfigGetAcceptance``, ``HostImageConfigGetProfile``,
  ``fetchSoftwarePackages``) and ``HostKernelModuleSystem.QueryModules`` -> :class:`HostSoftware`;
* ``VmwareDistributedVirtualSwitch`` / ``DistributedVirtualPortgroup`` ->
  :class:`DistributedSwitch` / :class:`DistributedPortGroup` (vCenter-wide, keyed by moid).
"""

from __future__ import annotations

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --------------------------------------------------------------------------- teaming


class NicOrder(_Data):
    """Failover order: ``HostNicOrderPolicy`` (pnic names) or ``VMwareUplinkPortOrderPolicy``
    (dvUplink names). Overridden or inherited as a whole, like in the API."""

    active: list[str] = Field(default_factory=list)
    standby: list[str] = Field(default_factory=list)


class TeamingPolicy(_Data):
    """``HostNicTeamingPolicy`` / ``VmwareUplinkPortTeamingPolicy``; every field may be unset.

    On a vSwitch or a switch default every field is normally set; on a port group ``None``
    means "not overridden, inherited" (standard: the field is absent from the port group's
    ``spec.policy.nicTeaming``; distributed: the policy's ``inherited`` flag is true).
    """

    load_balancing: str | None = None  # policy: loadbalance_srcid | loadbalance_ip | loadbalance_srcmac | failover_explicit | loadbalance_loadbased
    notify_switches: bool | None = None  # notifySwitches
    rolling_order: bool | None = None  # rollingOrder; true = "failback: no"
    check_beacon: bool | None = None  # failureCriteria.checkBeacon; false = link status only
    nic_order: NicOrder | None = None  # nicOrder / uplinkPortOrder


# --------------------------------------------------------------------------- standard switches


class PhysicalNic(_Data):
    """``HostNetworkInfo.pnic[]``."""

    device: str  # vmnic0
    driver: str | None = None  # ixgben, ntg3, ...
    link_speed_mbps: int | None = None  # linkSpeed.speedMb; None = link down (linkSpeed unset)
    full_duplex: bool | None = None  # linkSpeed.duplex
    mac: str | None = None
    pci: str | None = None  # 0000:1a:00.0

    @property
    def link_up(self) -> bool:
        return self.link_speed_mbps is not None


class StandardSwitch(_Data):
    """``HostNetworkInfo.vswitch[]``: ``spec.policy.nicTeaming`` and the bridged pnics."""

    name: str  # vSwitch0
    uplinks: list[str] = Field(default_factory=list)  # spec.bridge.nicDevice: pnic device names
    mtu: int | None = None
    teaming: TeamingPolicy = Field(default_factory=TeamingPolicy)


class StandardPortGroup(_Data):
    """``HostNetworkInfo.portgroup[]``: ``spec`` with the port group's own overrides."""

    name: str
    vswitch: str  # spec.vswitchName
    vlan_id: int | None = None  # spec.vlanId: 0 none, 1-4094 VLAN, 4095 all (VGT)
    teaming_override: TeamingPolicy = Field(default_factory=TeamingPolicy)  # None fields = inherited
    vm_moids: list[str] | None = None  # VMs with a NIC on it (Network.vm); None = not collected


class VmkernelAdapter(_Data):
    """``HostNetworkInfo.vnic[]``: a VMkernel interface and where it is plugged in."""

    device: str  # vmk0
    portgroup: str | None = None  # standard port group name
    distributed_portgroup_key: str | None = None  # spec.distributedVirtualPort.portgroupKey (a dvPortgroup moid)
    services: list[str] = Field(default_factory=list)  # management | vmotion | vsan | ... (when collected)


class ProxySwitchUplink(_Data):
    """One dvUplink of a distributed switch on this host and the pnic behind it."""

    uplink: str  # uplink port name (dvUplink1)
    pnic: str | None = None  # vmnic device; None = no physical NIC assigned to this uplink


class HostProxySwitch(_Data):
    """``HostNetworkInfo.proxySwitch[]``: this host's member of a distributed switch."""

    dvs_uuid: str
    dvs_name: str | None = None
    uplinks: list[ProxySwitchUplink] = Field(default_factory=list)


class HostNetworkConfig(_Data):
    """What the host's ``config.network`` says; the whole object is ``None`` when unreadable."""

    vswitches: list[StandardSwitch] = Field(default_factory=list)
    portgroups: list[StandardPortGroup] = Field(default_factory=list)
    pnics: list[PhysicalNic] = Field(default_factory=list)
    vmkernel_adapters: list[VmkernelAdapter] = Field(default_factory=list)
    proxy_switches: list[HostProxySwitch] = Field(default_factory=list)


class HostSystemIdentity(_Data):
    """``HostSystem.hardware.systemInfo`` (server vendor and model, e.g. blade or rack)."""

    vendor: str | None = None  # "HP", "HPE", "Dell Inc.", "Cisco Systems Inc"
    model: str | None = None  # "ProLiant BL460c Gen8"


# --------------------------------------------------------------------------- distributed switches


class LacpGroup(_Data):
    """``VMwareDvsLacpGroupConfig`` (enhanced LACP, ``config.lacpGroupConfig``)."""

    name: str
    mode: str | None = None  # active | passive
    uplink_count: int | None = None  # uplinkNum
    load_balancing: str | None = None  # loadbalanceAlgorithm
    uplink_names: list[str] = Field(default_factory=list)


class DistributedSwitch(_Data):
    moid: str
    name: str
    uuid: str | None = None
    version: str | None = None  # config.productInfo.version, "7.0.3"
    uplink_port_names: list[str] = Field(default_factory=list)  # config.uplinkPortPolicy.uplinkPortName
    lacp_groups: list[LacpGroup] = Field(default_factory=list)
    host_moids: list[str] = Field(default_factory=list)  # config.host[].config.host
    default_teaming: TeamingPolicy = Field(default_factory=TeamingPolicy)  # defaultPortConfig.uplinkTeamingPolicy


class DistributedPortGroup(_Data):
    moid: str
    name: str
    dvs_moid: str
    key: str | None = None  # config.key (what a vmk's portgroupKey points at)
    vlan_id: int | None = None  # VmwareDistributedVirtualSwitchVlanIdSpec.vlanId; None = trunk/pvlan/unknown
    vlan_trunk_ranges: list[tuple[int, int]] = Field(default_factory=list)  # TrunkVlanSpec.vlanId[start, end]
    uplink_portgroup: bool = False  # config.uplink: the dvUplinks port group, not a workload network
    teaming: TeamingPolicy = Field(default_factory=TeamingPolicy)  # None fields = inherited from the switch
    vm_moids: list[str] | None = None  # None = not collected


# --------------------------------------------------------------------------- host software


class SoftwarePackage(_Data):
    """``SoftwarePackage`` (a VIB) from ``HostImageConfigManager.fetchSoftwarePackages``."""

    name: str
    vendor: str | None = None
    version: str | None = None  # "1.4.3.0-1vmw.800.1.0.20513097"
    acceptance_level: str | None = None  # vmware_certified | vmware_accepted | partner | community (raw API string)
    type: str | None = None  # bootbank | tools | meta
    depends: list[str] = Field(default_factory=list)  # depends[].name (relation names, versions dropped)
    install_date: AwareDatetime | None = None  # creationDate


class KernelModule(_Data):
    """``KernelModuleInfo`` from ``HostKernelModuleSystem.QueryModules``."""

    name: str
    loaded: bool | None = None
    enabled: bool | None = None
    filename: str | None = None
    version: str | None = None


class HostSoftware(_Data):
    """The host's image: acceptance level, image profile, VIBs, kernel modules.

    ``software_unknown_reason`` says why something could not be read (no privilege, the API
    is absent on old hosts, a fault); the parts that were read are still filled in and the
    parts that were not are ``None``.
    """

    acceptance_level: str | None = None  # HostImageConfigGetAcceptance
    image_profile_name: str | None = None  # HostImageConfigGetProfile().name
    image_profile_vendor: str | None = None
    packages: list[SoftwarePackage] | None = None
    kernel_modules: list[KernelModule] | None = None
    software_unknown_reason: str | None = None
