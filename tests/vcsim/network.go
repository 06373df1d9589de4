package main

import (
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// govmomi 0.24's HostNetworkSystem keeps its own networkInfo apart from the host's
// config.network, drops the spec of AddVirtualSwitch (no bridge, no policy), has no
// UpdateVirtualSwitch or UpdatePortGroup, computes no port group policy and refuses a port
// group name a second host already uses (DuplicateName), so a cluster cannot have the same
// standard port group on every host. networkSystem replaces it: one HostNetworkInfo (the
// host's config.network, which the network system's networkInfo points at), specs kept as
// given, ESXi's default vSwitch policy when none is given, and each port group's
// computedPolicy its own override merged field by field over its vSwitch's policy.

type networkSystem struct {
	simulator.HostNetworkSystem
}

func vswitchKey(name string) string   { return "key-vim.host.VirtualSwitch-" + name }
func portgroupKey(name string) string { return "key-vim.host.PortGroup-" + name }
func pnicKey(device string) string    { return "key-vim.host.PhysicalNic-" + device }

// installNetworkSystems swaps every host's network system for a networkSystem.
func installNetworkSystems() {
	for _, e := range simulator.Map.All("HostSystem") {
		h, ok := e.(*simulator.HostSystem)
		if !ok || h.ConfigManager.NetworkSystem == nil || h.Config == nil || h.Config.Network == nil {
			continue
		}
		old, ok := simulator.Map.Get(*h.ConfigManager.NetworkSystem).(*simulator.HostNetworkSystem)
		if !ok {
			continue
		}
		ns := &networkSystem{HostNetworkSystem: *old}
		ns.Host = &h.HostSystem
		ns.NetworkInfo = h.Config.Network
		simulator.Map.Put(ns)
	}
}

func (s *networkSystem) info() *types.HostNetworkInfo { return s.Host.Config.Network }

func (s *networkSystem) vswitch(name string) *types.HostVirtualSwitch {
	for i := range s.info().Vswitch {
		if s.info().Vswitch[i].Name == name {
			return &s.info().Vswitch[i]
		}
	}
	return nil
}

func (s *networkSystem) portgroup(name string) *types.HostPortGroup {
	for i := range s.info().Portgroup {
		if s.info().Portgroup[i].Spec.Name == name {
			return &s.info().Portgroup[i]
		}
	}
	return nil
}

// defaultVswitchPolicy is what ESXi gives a vSwitch created without a policy.
func defaultVswitchPolicy(nics []string) *types.HostNetworkPolicy {
	return &types.HostNetworkPolicy{
		Security: &types.HostNetworkSecurityPolicy{
			AllowPromiscuous: types.NewBool(false), MacChanges: types.NewBool(false), ForgedTransmits: types.NewBool(false),
		},
		NicTeaming: &types.HostNicTeamingPolicy{
			Policy: "loadbalance_srcid", ReversePolicy: types.NewBool(true), NotifySwitches: types.NewBool(true),
			RollingOrder: types.NewBool(false),
			FailureCriteria: &types.HostNicFailureCriteria{
				CheckSpeed: "minimum", Speed: 10, CheckDuplex: types.NewBool(false), FullDuplex: types.NewBool(false),
				CheckErrorPercent: types.NewBool(false), CheckBeacon: types.NewBool(false),
			},
			NicOrder: &types.HostNicOrderPolicy{ActiveNic: nics},
		},
		OffloadPolicy: &types.HostNetOffloadCapabilities{
			CsumOffload: types.NewBool(true), TcpSegmentation: types.NewBool(true), ZeroCopyXmit: types.NewBool(true),
		},
		ShapingPolicy: &types.HostNetworkTrafficShapingPolicy{Enabled: types.NewBool(false)},
	}
}

func bridgeNics(spec *types.HostVirtualSwitchSpec) []string {
	if b, ok := spec.Bridge.(*types.HostVirtualSwitchBondBridge); ok {
		return b.NicDevice
	}
	return nil
}

// checkNics faults when a bridged NIC does not exist or already serves another vSwitch.
func (s *networkSystem) checkNics(vswitch string, nics []string) types.BaseMethodFault {
	for _, nic := range nics {
		found := false
		for _, p := range s.info().Pnic {
			found = found || p.Device == nic
		}
		if !found {
			return &types.NotFound{}
		}
		for _, vs := range s.info().Vswitch {
			for _, key := range vs.Pnic {
				if key == pnicKey(nic) && vs.Name != vswitch {
					return &types.ResourceInUse{Type: "PhysicalNic", Name: nic}
				}
			}
		}
		if dvsUsingPnic(s.Host.Self, nic) != "" {
			return &types.ResourceInUse{Type: "PhysicalNic", Name: nic}
		}
	}
	return nil
}

// vswitchUsingPnic names the standard switch of host that bridges nic, or "".
func vswitchUsingPnic(host types.ManagedObjectReference, nic string) string {
	h, ok := simulator.Map.Get(host).(*simulator.HostSystem)
	if !ok || h.Config == nil || h.Config.Network == nil {
		return ""
	}
	for _, vs := range h.Config.Network.Vswitch {
		for _, key := range vs.Pnic {
			if key == pnicKey(nic) {
				return vs.Name
			}
		}
	}
	return ""
}

func (s *networkSystem) applyVswitchSpec(vs *types.HostVirtualSwitch, spec types.HostVirtualSwitchSpec) {
	nics := bridgeNics(&spec)
	if spec.Policy == nil {
		spec.Policy = defaultVswitchPolicy(nics)
	}
	if spec.NumPorts == 0 {
		spec.NumPorts = 128
	}
	vs.Spec = spec
	vs.NumPorts = spec.NumPorts
	vs.NumPortsAvailable = spec.NumPorts - int32(len(vs.Portgroup))
	vs.Mtu = spec.Mtu
	if vs.Mtu == 0 {
		vs.Mtu = 1500
	}
	vs.Pnic = nil
	for _, nic := range nics {
		vs.Pnic = append(vs.Pnic, pnicKey(nic))
	}
	for i := range s.info().Portgroup {
		if pg := &s.info().Portgroup[i]; pg.Vswitch == vs.Key {
			pg.ComputedPolicy = mergePolicy(vs.Spec.Policy, &pg.Spec.Policy)
		}
	}
}

func (s *networkSystem) AddVirtualSwitch(req *types.AddVirtualSwitch) soap.HasFault {
	body := &methods.AddVirtualSwitchBody{}
	if s.vswitch(req.VswitchName) != nil {
		body.Fault_ = simulator.Fault("", &types.AlreadyExists{Name: req.VswitchName})
		return body
	}
	spec := types.HostVirtualSwitchSpec{}
	if req.Spec != nil {
		spec = *req.Spec
	}
	if fault := s.checkNics(req.VswitchName, bridgeNics(&spec)); fault != nil {
		body.Fault_ = simulator.Fault("", fault)
		return body
	}
	s.info().Vswitch = append(s.info().Vswitch, types.HostVirtualSwitch{Name: req.VswitchName, Key: vswitchKey(req.VswitchName)})
	s.applyVswitchSpec(&s.info().Vswitch[len(s.info().Vswitch)-1], spec)
	body.Res = &types.AddVirtualSwitchResponse{}
	return body
}

func (s *networkSystem) UpdateVirtualSwitch(req *types.UpdateVirtualSwitch) soap.HasFault {
	body := &methods.UpdateVirtualSwitchBody{}
	vs := s.vswitch(req.VswitchName)
	if vs == nil {
		body.Fault_ = simulator.Fault("", &types.NotFound{})
		return body
	}
	if fault := s.checkNics(req.VswitchName, bridgeNics(&req.Spec)); fault != nil {
		body.Fault_ = simulator.Fault("", fault)
		return body
	}
	s.applyVswitchSpec(vs, req.Spec)
	body.Res = &types.UpdateVirtualSwitchResponse{}
	return body
}

func (s *networkSystem) RemoveVirtualSwitch(ctx *simulator.Context, req *types.RemoveVirtualSwitch) soap.HasFault {
	body := &methods.RemoveVirtualSwitchBody{}
	vs := s.vswitch(req.VswitchName)
	if vs == nil {
		body.Fault_ = simulator.Fault("", &types.NotFound{})
		return body
	}
	for _, pg := range append([]types.HostPortGroup(nil), s.info().Portgroup...) {
		if pg.Vswitch == vs.Key {
			s.removePortgroup(pg.Spec.Name)
		}
	}
	list := s.info().Vswitch
	for i := range list {
		if list[i].Name == req.VswitchName {
			s.info().Vswitch = append(list[:i], list[i+1:]...)
			break
		}
	}
	body.Res = &types.RemoveVirtualSwitchResponse{}
	return body
}

func (s *networkSystem) AddPortGroup(ctx *simulator.Context, req *types.AddPortGroup) soap.HasFault {
	body := &methods.AddPortGroupBody{}
	spec := req.Portgrp
	if spec.Name == "" {
		body.Fault_ = simulator.Fault("", &types.InvalidArgument{InvalidProperty: "name"})
		return body
	}
	vs := s.vswitch(spec.VswitchName)
	if vs == nil {
		body.Fault_ = simulator.Fault("", &types.NotFound{})
		return body
	}
	if s.portgroup(spec.Name) != nil {
		body.Fault_ = simulator.Fault("", &types.AlreadyExists{Name: spec.Name})
		return body
	}
	if fault := s.attachNetwork(spec.Name); fault != nil {
		body.Fault_ = simulator.Fault("", fault)
		return body
	}
	vs.Portgroup = append(vs.Portgroup, portgroupKey(spec.Name))
	vs.NumPortsAvailable--
	s.info().Portgroup = append(s.info().Portgroup, types.HostPortGroup{
		Key: portgroupKey(spec.Name), Vswitch: vs.Key, Spec: spec,
		ComputedPolicy: mergePolicy(vs.Spec.Policy, &spec.Policy),
	})
	body.Res = &types.AddPortGroupResponse{}
	return body
}

func (s *networkSystem) UpdatePortGroup(req *types.UpdatePortGroup) soap.HasFault {
	body := &methods.UpdatePortGroupBody{}
	pg := s.portgroup(req.PgName)
	if pg == nil {
		body.Fault_ = simulator.Fault("", &types.NotFound{})
		return body
	}
	if req.Portgrp.Name != req.PgName || req.Portgrp.VswitchName != pg.Spec.VswitchName {
		// Renaming or moving a port group also renames/moves its Network: not simulated.
		body.Fault_ = simulator.Fault("renaming or moving a port group is not simulated", &types.NotSupported{})
		return body
	}
	vs := s.vswitch(pg.Spec.VswitchName)
	pg.Spec = req.Portgrp
	pg.ComputedPolicy = mergePolicy(vs.Spec.Policy, &pg.Spec.Policy)
	body.Res = &types.UpdatePortGroupResponse{}
	return body
}

func (s *networkSystem) RemovePortGroup(ctx *simulator.Context, req *types.RemovePortGroup) soap.HasFault {
	body := &methods.RemovePortGroupBody{}
	if s.portgroup(req.PgName) == nil {
		body.Fault_ = simulator.Fault("", &types.NotFound{})
		return body
	}
	s.removePortgroup(req.PgName)
	body.Res = &types.RemovePortGroupResponse{}
	return body
}

func (s *networkSystem) removePortgroup(name string) {
	key := portgroupKey(name)
	for i := range s.info().Vswitch {
		vs := &s.info().Vswitch[i]
		for j, k := range vs.Portgroup {
			if k == key {
				vs.Portgroup = append(vs.Portgroup[:j], vs.Portgroup[j+1:]...)
				vs.NumPortsAvailable++
				break
			}
		}
	}
	list := s.info().Portgroup
	for i := range list {
		if list[i].Spec.Name == name {
			s.info().Portgroup = append(list[:i], list[i+1:]...)
			break
		}
	}
	s.detachNetwork(name)
}

// networkFolder is the network folder of the host's datacenter.
func (s *networkSystem) networkFolder() *simulator.Folder {
	var ref *types.ManagedObjectReference = s.Host.Parent
	for ref != nil {
		obj := simulator.Map.Get(*ref)
		if dc, ok := obj.(*simulator.Datacenter); ok {
			f, _ := simulator.Map.Get(dc.NetworkFolder).(*simulator.Folder)
			return f
		}
		e, ok := obj.(mo.Entity)
		if !ok {
			return nil
		}
		ref = e.Entity().Parent
	}
	return nil
}

// networkCounter numbers the Network entities port groups create; calls on two hosts'
// network systems hold different locks and can interleave, hence atomic.
var networkCounter int64

func (s *networkSystem) hostObject() mo.Reference { return simulator.Map.Get(s.Host.Self) }

// attachNetwork makes the standard port group's Network (one per name per datacenter, as
// in vCenter) list this host, creating it for the first host.
func (s *networkSystem) attachNetwork(name string) types.BaseMethodFault {
	folder := s.networkFolder()
	if folder == nil {
		return nil // a host outside any datacenter (ESX model): no Network entities
	}
	var network *mo.Network
	if e := simulator.Map.FindByName(name, folder.ChildEntity); e != nil {
		n, ok := e.(*mo.Network)
		if !ok {
			return &types.DuplicateName{Name: name, Object: e.Reference()}
		}
		network = n
	} else {
		network = &mo.Network{}
		network.Name = name
		n := atomic.AddInt64(&networkCounter, 1)
		network.Self = types.ManagedObjectReference{Type: "Network", Value: fmt.Sprintf("network-pg-%d", n)}
		network.Summary = &types.NetworkSummary{Network: &network.Self, Name: name, Accessible: true}
		// As the simulator does: the folder lists the child before the registry has it, so
		// container views see it.
		simulator.Map.WithLock(folder, func() {
			folder.ChildEntity = append(folder.ChildEntity, network.Self)
		})
		simulator.Map.PutEntity(folder, network)
	}
	simulator.Map.AddReference(network, &network.Host, s.Host.Self)
	simulator.Map.AddReference(s.hostObject(), &s.Host.Network, network.Self)
	if cr := simulator.Map.Get(*s.Host.Parent); cr != nil {
		switch c := cr.(type) {
		case *mo.ComputeResource:
			simulator.Map.AddReference(c, &c.Network, network.Self)
		case *simulator.ClusterComputeResource:
			simulator.Map.AddReference(c, &c.Network, network.Self)
		}
	}
	return nil
}

func (s *networkSystem) detachNetwork(name string) {
	folder := s.networkFolder()
	if folder == nil {
		return
	}
	network, ok := simulator.Map.FindByName(name, folder.ChildEntity).(*mo.Network)
	if !ok {
		return
	}
	simulator.Map.RemoveReference(network, &network.Host, s.Host.Self)
	simulator.Map.RemoveReference(s.hostObject(), &s.Host.Network, network.Self)
	// The Network stays in the compute resource's list while another of its hosts has it;
	// vCenter removes it with the last host, and so does this.
	if len(network.Host) == 0 {
		simulator.Map.WithLock(folder, func() {
			simulator.RemoveReference(&folder.ChildEntity, network.Self)
		})
		simulator.Map.Remove(network.Self)
	}
}

// mergePolicy is ESXi's effective port group policy: every field the port group sets
// overrides the vSwitch's, every unset field (nil, "") inherits it.
func mergePolicy(vswitch, override *types.HostNetworkPolicy) types.HostNetworkPolicy {
	var out types.HostNetworkPolicy
	if vswitch != nil {
		out = *vswitch
	}
	if override == nil {
		return out
	}
	if override.Security != nil {
		base := types.HostNetworkSecurityPolicy{}
		if out.Security != nil {
			base = *out.Security
		}
		o := override.Security
		base.AllowPromiscuous = pickBool(o.AllowPromiscuous, base.AllowPromiscuous)
		base.MacChanges = pickBool(o.MacChanges, base.MacChanges)
		base.ForgedTransmits = pickBool(o.ForgedTransmits, base.ForgedTransmits)
		out.Security = &base
	}
	if override.NicTeaming != nil {
		out.NicTeaming = mergeTeaming(out.NicTeaming, override.NicTeaming)
	}
	if o := override.ShapingPolicy; o != nil && o.Enabled != nil {
		out.ShapingPolicy = o
	}
	if o := override.OffloadPolicy; o != nil && (o.CsumOffload != nil || o.TcpSegmentation != nil || o.ZeroCopyXmit != nil) {
		out.OffloadPolicy = o
	}
	return out
}

func mergeTeaming(base, o *types.HostNicTeamingPolicy) *types.HostNicTeamingPolicy {
	out := types.HostNicTeamingPolicy{}
	if base != nil {
		out = *base
	}
	if o.Policy != "" {
		out.Policy = o.Policy
	}
	out.ReversePolicy = pickBool(o.ReversePolicy, out.ReversePolicy)
	out.NotifySwitches = pickBool(o.NotifySwitches, out.NotifySwitches)
	out.RollingOrder = pickBool(o.RollingOrder, out.RollingOrder)
	if o.NicOrder != nil {
		out.NicOrder = o.NicOrder
	}
	if oc := o.FailureCriteria; oc != nil {
		c := types.HostNicFailureCriteria{}
		if out.FailureCriteria != nil {
			c = *out.FailureCriteria
		}
		if oc.CheckSpeed != "" {
			c.CheckSpeed = oc.CheckSpeed
		}
		if oc.Speed != 0 {
			c.Speed = oc.Speed
		}
		if oc.Percentage != 0 {
			c.Percentage = oc.Percentage
		}
		c.CheckDuplex = pickBool(oc.CheckDuplex, c.CheckDuplex)
		c.FullDuplex = pickBool(oc.FullDuplex, c.FullDuplex)
		c.CheckErrorPercent = pickBool(oc.CheckErrorPercent, c.CheckErrorPercent)
		c.CheckBeacon = pickBool(oc.CheckBeacon, c.CheckBeacon)
		out.FailureCriteria = &c
	}
	return &out
}

func pickBool(override, base *bool) *bool {
	if override != nil {
		return override
	}
	return base
}

// setPnicCount gives every host at least n physical NICs (vmnic0..vmnic<n-1>), copies of
// its last one with their own device name, key, PCI address and MAC: vcsim hosts have two,
// and beacon probing is only meaningful with three or more uplinks.
func setPnicCount(n int) {
	if n <= 0 {
		return
	}
	for _, e := range simulator.Map.All("HostSystem") {
		h, ok := e.(*simulator.HostSystem)
		if !ok || h.Config == nil || h.Config.Network == nil || len(h.Config.Network.Pnic) == 0 {
			continue
		}
		net := h.Config.Network
		for i := len(net.Pnic); i < n; i++ {
			p := net.Pnic[len(net.Pnic)-1]
			p.Device = "vmnic" + strconv.Itoa(i)
			p.Key = pnicKey(p.Device)
			p.Pci = fmt.Sprintf("0000:%02x:00.0", 0x20+i)
			p.Mac = fmt.Sprintf("00:0c:29:81:d9:%02x", i)
			if p.LinkSpeed != nil {
				link := *p.LinkSpeed
				p.LinkSpeed = &link
			}
			p.FcoeConfiguration = nil
			net.Pnic = append(net.Pnic, p)
		}
	}
}

// markPnicsDown clears linkSpeed of the named physical NICs ("HOST:vmnic1,..."), which is
// how the API shows a NIC without link.
func markPnicsDown(spec string) error {
	if spec == "" {
		return nil
	}
	for _, item := range strings.Split(spec, ",") {
		parts := strings.SplitN(item, ":", 2)
		if len(parts) != 2 {
			return fmt.Errorf("%q is not HOST:vmnicN", item)
		}
		hosts, err := hostsByName(parts[0])
		if err != nil {
			return err
		}
		found := false
		for i := range hosts[0].Config.Network.Pnic {
			if p := &hosts[0].Config.Network.Pnic[i]; p.Device == parts[1] {
				p.LinkSpeed = nil
				found = true
			}
		}
		if !found {
			return fmt.Errorf("host %s has no physical NIC %s", parts[0], parts[1])
		}
	}
	return nil
}

// setHostModels sets hardware.systemInfo and summary.hardware vendor/model
// ("HOST=Vendor:Model,..."), e.g. DC0_C0_H0=HP:ProLiant BL460c Gen9 for blade tests.
func setHostModels(spec string) error {
	models, err := parseHostValues(spec)
	if err != nil {
		return err
	}
	for name, value := range models {
		hosts, err := hostsByName(name)
		if err != nil {
			return err
		}
		vm := strings.SplitN(value, ":", 2)
		if len(vm) != 2 || vm[0] == "" || vm[1] == "" {
			return fmt.Errorf("%q is not Vendor:Model", value)
		}
		h := hosts[0]
		h.Hardware.SystemInfo.Vendor, h.Hardware.SystemInfo.Model = vm[0], vm[1]
		if h.Summary.Hardware != nil {
			h.Summary.Hardware.Vendor, h.Summary.Hardware.Model = vm[0], vm[1]
		}
	}
	return nil
}
