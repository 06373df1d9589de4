package main

import (
	"bytes"
	"context"
	"fmt"
	"html"
	"io/ioutil"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/types"
)

// govmomi 0.24's distributed switch drops most of what a vCenter keeps: CreateDVS_Task
// ignores spec.host (no members) and the VMware-specific spec fields (lacpApiVersion,
// maxMtu, linkDiscoveryProtocolConfig, ...), ReconfigureDvs_Task applies host add/remove
// only (no defaultPortConfig, no uplinkPortPolicy, "edit" of a member is NotSupported),
// config.host (each member's pnic backing) stays empty, and UpdateDVSLacpGroupConfig_Task
// and CreateDVPortgroup_Task do not exist. The switch objects cannot be swapped for a
// wrapper type (the simulator type-asserts them in several places), so the launcher wraps
// the /sdk HTTP handler instead: a host-qualified ServeMux pattern ("127.0.0.1/sdk")
// takes precedence over the simulator's plain "/sdk". Requests for these methods are
// decoded with the simulator's own decoder; CreateDVS_Task goes to the simulator and is
// completed afterwards, the other three are answered here with a simulator Task after the
// simulator itself has checked the session. Everything else passes through untouched.

type sdkInterceptor struct {
	service *simulator.Service
	delay   time.Duration
}

// interceptSDK also delays every SOAP call by delay, a WAN round trip: here rather than in
// the simulator's DelayConfig, which skips calls that fault before they reach a handler
// (a host without an image config manager, say) and is not wired up for -load inventories.
func interceptSDK(service *simulator.Service, u *url.URL, delay time.Duration) {
	i := &sdkInterceptor{service: service, delay: delay}
	// ServeMux matches host patterns against the request's host without its port.
	host, _, _ := net.SplitHostPort(u.Host)
	for _, h := range []string{host, "localhost"} {
		service.ServeMux.Handle(h+u.Path, i)
	}
}

var dvsMethodMarkers = [][]byte{[]byte("CreateDVS_Task"), []byte("ReconfigureDvs_Task"),
	[]byte("UpdateDVSLacpGroupConfig_Task"), []byte("CreateDVPortgroup_Task")}

func (i *sdkInterceptor) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost && i.delay > 0 {
		time.Sleep(i.delay)
	}
	if r.Method != http.MethodPost {
		i.service.ServeSDK(w, r)
		return
	}
	body, err := ioutil.ReadAll(r.Body)
	_ = r.Body.Close()
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	r.Body = ioutil.NopCloser(bytes.NewReader(body))
	marked := false
	for _, m := range dvsMethodMarkers {
		marked = marked || bytes.Contains(body, m)
	}
	if !marked {
		i.service.ServeSDK(w, r)
		return
	}
	method, err := simulator.UnmarshalBody(types.TypeFunc(), body)
	if err != nil {
		i.service.ServeSDK(w, r) // let the simulator answer the malformed request
		return
	}
	switch req := method.Body.(type) {
	case *types.CreateDVS_Task:
		i.createDVS(w, r, req)
	case *types.ReconfigureDvs_Task:
		i.own(w, r, "ReconfigureDvs_TaskResponse", req.This, func(s *simulator.DistributedVirtualSwitch) types.ManagedObjectReference {
			return simulator.CreateTask(s, "reconfigureDvs", func(*simulator.Task) (types.AnyType, types.BaseMethodFault) {
				return nil, reconfigureDVS(s, req.Spec)
			}).Run()
		})
	case *types.UpdateDVSLacpGroupConfig_Task:
		i.own(w, r, "UpdateDVSLacpGroupConfig_TaskResponse", req.This, func(s *simulator.DistributedVirtualSwitch) types.ManagedObjectReference {
			return simulator.CreateTask(s, "updateDVSLacpGroupConfig", func(*simulator.Task) (types.AnyType, types.BaseMethodFault) {
				return nil, updateLacp(s, req.LacpGroupSpec)
			}).Run()
		})
	case *types.CreateDVPortgroup_Task:
		i.own(w, r, "CreateDVPortgroup_TaskResponse", req.This, func(s *simulator.DistributedVirtualSwitch) types.ManagedObjectReference {
			return simulator.CreateTask(s, "createDVPortgroup", func(*simulator.Task) (types.AnyType, types.BaseMethodFault) {
				return createDVPortgroup(s, req.Spec)
			}).Run()
		})
	default:
		i.service.ServeSDK(w, r)
	}
}

// authenticated asks the simulator whether the request's session cookie is a live session:
// CurrentTime needs one, so it answers 200 only then.
func (i *sdkInterceptor) authenticated(r *http.Request) bool {
	probe := `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">` +
		`<soapenv:Body><CurrentTime xmlns="urn:vim25"><_this type="ServiceInstance">ServiceInstance</_this></CurrentTime>` +
		`</soapenv:Body></soapenv:Envelope>`
	req := httptest.NewRequest(http.MethodPost, r.URL.String(), strings.NewReader(probe))
	for _, c := range r.Cookies() {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	i.service.ServeSDK(rec, req)
	return rec.Code == http.StatusOK
}

// own answers a method here. Without a session, or on an object that is not a
// distributed switch, the simulator answers (NotAuthenticated, ManagedObjectNotFound or
// MethodNotFound, as for any method).
func (i *sdkInterceptor) own(w http.ResponseWriter, r *http.Request, response string, this types.ManagedObjectReference,
	run func(*simulator.DistributedVirtualSwitch) types.ManagedObjectReference) {
	if this.Type == "VmwareDistributedVirtualSwitch" {
		// vCenter's type for these switches; vcsim registers them as DistributedVirtualSwitch.
		this.Type = "DistributedVirtualSwitch"
	}
	s, ok := simulator.Map.Get(this).(*simulator.DistributedVirtualSwitch)
	if !ok || !i.authenticated(r) {
		i.service.ServeSDK(w, r)
		return
	}
	var task types.ManagedObjectReference
	simulator.Map.WithLock(s, func() { task = run(s) })
	writeTaskResponse(w, response, task)
}

func writeTaskResponse(w http.ResponseWriter, response string, task types.ManagedObjectReference) {
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>`+
		`<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>`+
		`<%s xmlns="urn:vim25"><returnval type="%s">%s</returnval></%s></soapenv:Body></soapenv:Envelope>`,
		response, html.EscapeString(task.Type), html.EscapeString(task.Value), response)
}

// createDVS lets the simulator create the switch, then adds what it dropped before the
// client sees the task.
func (i *sdkInterceptor) createDVS(w http.ResponseWriter, r *http.Request, req *types.CreateDVS_Task) {
	spec := req.Spec.ConfigSpec.GetDVSConfigSpec()
	if fault := pnicConflict(spec.Host); fault != nil {
		folder, ok := simulator.Map.Get(req.This).(*simulator.Folder)
		if !ok || !i.authenticated(r) {
			i.service.ServeSDK(w, r)
			return
		}
		task := simulator.CreateTask(folder, "createDVS", func(*simulator.Task) (types.AnyType, types.BaseMethodFault) {
			return nil, fault
		}).Run()
		writeTaskResponse(w, "CreateDVS_TaskResponse", task)
		return
	}
	before := map[types.ManagedObjectReference]bool{}
	for _, e := range simulator.Map.All("DistributedVirtualSwitch") {
		before[e.Reference()] = true
	}
	rec := httptest.NewRecorder()
	i.service.ServeSDK(rec, r)
	for _, e := range simulator.Map.All("DistributedVirtualSwitch") {
		s, ok := e.(*simulator.DistributedVirtualSwitch)
		if !ok || before[s.Self] || s.Name != spec.Name {
			continue
		}
		simulator.Map.WithLock(s, func() {
			applyVMwareSpec(s, req.Spec.ConfigSpec)
			if fault := updateMembers(s, spec.Host); fault != nil {
				log.Printf("CreateDVS_Task %s: host members: %#v", s.Name, fault)
			}
		})
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

func reconfigureDVS(s *simulator.DistributedVirtualSwitch, spec types.BaseDVSConfigSpec) types.BaseMethodFault {
	base := spec.GetDVSConfigSpec()
	if fault := updateMembers(s, base.Host); fault != nil {
		return fault
	}
	cfg := s.Config.GetDVSConfigInfo()
	if base.DefaultPortConfig != nil {
		cfg.DefaultPortConfig = base.DefaultPortConfig
	}
	if base.UplinkPortPolicy != nil {
		cfg.UplinkPortPolicy = base.UplinkPortPolicy
	}
	if base.Policy != nil {
		cfg.Policy = base.Policy
	}
	if base.Description != "" {
		cfg.Description = base.Description
		s.Summary.Description = base.Description
	}
	if base.MaxPorts != 0 {
		cfg.MaxPorts = base.MaxPorts
	}
	applyVMwareSpec(s, spec)
	return nil
}

// applyVMwareSpec keeps the VMware-specific settings of a VMwareDVSConfigSpec.
func applyVMwareSpec(s *simulator.DistributedVirtualSwitch, spec types.BaseDVSConfigSpec) {
	vs, ok := spec.(*types.VMwareDVSConfigSpec)
	if !ok {
		return
	}
	cfg, ok := s.Config.(*types.VMwareDVSConfigInfo)
	if !ok {
		return
	}
	if vs.MaxMtu != 0 {
		cfg.MaxMtu = vs.MaxMtu
	}
	if vs.LinkDiscoveryProtocolConfig != nil {
		cfg.LinkDiscoveryProtocolConfig = vs.LinkDiscoveryProtocolConfig
	}
	if vs.IpfixConfig != nil {
		cfg.IpfixConfig = vs.IpfixConfig
	}
	if vs.LacpApiVersion != "" {
		cfg.LacpApiVersion = vs.LacpApiVersion
	}
	if vs.MulticastFilteringMode != "" {
		cfg.MulticastFilteringMode = vs.MulticastFilteringMode
	}
}

// updateMembers applies host member specs: add/remove through the simulator (which wires
// summary.hostMember, the hosts' and clusters' network lists), edit here; config.host
// keeps every member's backing (its pnics) as vCenter does.
func updateMembers(s *simulator.DistributedVirtualSwitch, members []types.DistributedVirtualSwitchHostMemberConfigSpec) types.BaseMethodFault {
	if fault := pnicConflict(members); fault != nil {
		return fault
	}
	var delegate []types.DistributedVirtualSwitchHostMemberConfigSpec
	for _, m := range members {
		if m.Operation == string(types.ConfigSpecOperationEdit) {
			if memberIndex(s, m.Host) < 0 {
				return &types.NotFound{}
			}
		} else {
			delegate = append(delegate, m)
		}
	}
	if len(delegate) > 0 {
		body := s.ReconfigureDvsTask(&types.ReconfigureDvs_Task{This: s.Self, Spec: &types.DVSConfigSpec{Host: delegate}})
		ref := body.(*methods.ReconfigureDvs_TaskBody).Res.Returnval
		if t, ok := simulator.Map.Get(ref).(*simulator.Task); ok && t.Info.Error != nil {
			return t.Info.Error.Fault
		}
	}
	cfg := s.Config.GetDVSConfigInfo()
	for _, m := range members {
		host := m.Host
		i := memberIndex(s, host)
		switch types.ConfigSpecOperation(m.Operation) {
		case types.ConfigSpecOperationAdd:
			member := types.DistributedVirtualSwitchHostMember{
				Config: types.DistributedVirtualSwitchHostMemberConfigInfo{
					Host: &host, MaxProxySwitchPorts: m.MaxProxySwitchPorts, Backing: m.Backing,
					VendorSpecificConfig: m.VendorSpecificConfig,
				},
				ProductInfo: s.Summary.ProductInfo,
				Status:      "up",
			}
			if member.Config.Backing == nil {
				member.Config.Backing = &types.DistributedVirtualSwitchHostMemberPnicBacking{}
			}
			cfg.Host = append(cfg.Host, member)
		case types.ConfigSpecOperationEdit:
			if m.Backing != nil {
				cfg.Host[i].Config.Backing = m.Backing
			}
			if m.MaxProxySwitchPorts != 0 {
				cfg.Host[i].Config.MaxProxySwitchPorts = m.MaxProxySwitchPorts
			}
		case types.ConfigSpecOperationRemove:
			if i >= 0 {
				cfg.Host = append(cfg.Host[:i], cfg.Host[i+1:]...)
			}
		}
	}
	return nil
}

// pnicConflict: a physical NIC serves one switch, and ESXi refuses to give a distributed
// switch one that a standard switch already bridges.
func pnicConflict(members []types.DistributedVirtualSwitchHostMemberConfigSpec) types.BaseMethodFault {
	for _, m := range members {
		if b, ok := m.Backing.(*types.DistributedVirtualSwitchHostMemberPnicBacking); ok {
			for _, p := range b.PnicSpec {
				if vswitchUsingPnic(m.Host, p.PnicDevice) != "" {
					return &types.ResourceInUse{Type: "PhysicalNic", Name: p.PnicDevice}
				}
			}
		}
	}
	return nil
}

// dvsUsingPnic names the distributed switch whose member host is backed by nic, or "".
func dvsUsingPnic(host types.ManagedObjectReference, nic string) string {
	for _, e := range simulator.Map.All("DistributedVirtualSwitch") {
		s, ok := e.(*simulator.DistributedVirtualSwitch)
		if !ok || s.Config == nil {
			continue
		}
		for _, m := range s.Config.GetDVSConfigInfo().Host {
			b, ok := m.Config.Backing.(*types.DistributedVirtualSwitchHostMemberPnicBacking)
			if !ok || m.Config.Host == nil || *m.Config.Host != host {
				continue
			}
			for _, p := range b.PnicSpec {
				if p.PnicDevice == nic {
					return s.Name
				}
			}
		}
	}
	return ""
}

func memberIndex(s *simulator.DistributedVirtualSwitch, host types.ManagedObjectReference) int {
	for i, m := range s.Config.GetDVSConfigInfo().Host {
		if m.Config.Host != nil && *m.Config.Host == host {
			return i
		}
	}
	return -1
}

var lagCounter int64

// updateLacp applies link aggregation group specs; vCenter accepts them only on a switch
// in enhanced LACP mode (lacpApiVersion multipleLag).
func updateLacp(s *simulator.DistributedVirtualSwitch, specs []types.VMwareDvsLacpGroupSpec) types.BaseMethodFault {
	cfg, ok := s.Config.(*types.VMwareDVSConfigInfo)
	if !ok || cfg.LacpApiVersion != string(types.VMwareDvsLacpApiVersionMultipleLag) {
		return &types.NotSupported{}
	}
	for _, spec := range specs {
		lag := spec.LacpGroupConfig
		i := -1
		for j, g := range cfg.LacpGroupConfig {
			if g.Key == lag.Key || (lag.Key == "" && g.Name == lag.Name) {
				i = j
			}
		}
		switch types.ConfigSpecOperation(spec.Operation) {
		case types.ConfigSpecOperationAdd:
			if i >= 0 || lag.Name == "" {
				return &types.InvalidArgument{InvalidProperty: "lacpGroupConfig.name"}
			}
			lag.Key = fmt.Sprintf("lacp-%d", atomic.AddInt64(&lagCounter, 1))
			if len(lag.UplinkName) == 0 {
				for n := int32(0); n < lag.UplinkNum; n++ {
					lag.UplinkName = append(lag.UplinkName, fmt.Sprintf("%s-%d", lag.Name, n))
				}
			}
			cfg.LacpGroupConfig = append(cfg.LacpGroupConfig, lag)
		case types.ConfigSpecOperationEdit:
			if i < 0 {
				return &types.NotFound{}
			}
			cfg.LacpGroupConfig[i] = lag
		case types.ConfigSpecOperationRemove:
			if i < 0 {
				return &types.NotFound{}
			}
			cfg.LacpGroupConfig = append(cfg.LacpGroupConfig[:i], cfg.LacpGroupConfig[i+1:]...)
		default:
			return &types.InvalidArgument{InvalidProperty: "operation"}
		}
	}
	return nil
}

// createDVPortgroup is AddDVPortgroup_Task for one spec, returning the new port group.
func createDVPortgroup(s *simulator.DistributedVirtualSwitch, spec types.DVPortgroupConfigSpec) (types.AnyType, types.BaseMethodFault) {
	self := s.Self
	ctx := &simulator.Context{Context: context.Background(), Map: simulator.Map, Caller: &self} // the switch is locked
	body := s.AddDVPortgroupTask(ctx, &types.AddDVPortgroup_Task{This: s.Self, Spec: []types.DVPortgroupConfigSpec{spec}})
	ref := body.(*methods.AddDVPortgroup_TaskBody).Res.Returnval
	if t, ok := simulator.Map.Get(ref).(*simulator.Task); ok && t.Info.Error != nil {
		return nil, t.Info.Error.Fault
	}
	for _, pg := range s.Portgroup {
		if e, ok := simulator.Map.Get(pg).(*simulator.DistributedVirtualPortgroup); ok && e.Name == spec.Name {
			return pg, nil
		}
	}
	return nil, &types.NotFound{}
}
