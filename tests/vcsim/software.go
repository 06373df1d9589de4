package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/ioutil"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// govmomi 0.24 simulates neither HostImageConfigManager (VIBs, acceptance level, image
// profile) nor HostKernelModuleSystem (loaded drivers). With -host-software DIR every host
// gets both managers, answering from DIR/<host name>.json:
//
//	{
//	  "fault": "",                    // optional: "NoPermission", "NotSupported" or "ManagedObjectNotFound" makes every
//	                                  // method fail; "ReadOnly" fails those the Read-only role may not call,
//	                                  // "Pre65" fetchSoftwarePackages only (MethodNotFound)
//	  "acceptanceLevel": "community", // HostImageConfigGetAcceptance: vmware_certified|vmware_accepted|partner|community
//	  "profile": {"name": "...", "vendor": "..."},              // HostImageConfigGetProfile
//	  "installDate": "2019-12-10T08:00:00Z",                    // installDate (unset: NotSupported)
//	  "packages": [ SoftwarePackage, ... ],                      // fetchSoftwarePackages
//	  "modules":  [ KernelModuleInfo, ... ]                      // QueryModules
//	}
//
// Package and module objects use the vSphere API property names (name, vendor, version,
// acceptanceLevel, type, summary, description, creationDate as RFC 3339, depends: [{name,
// constraint, version}], maintenanceModeRequired, capability: {liveInstallAllowed, ...}, ...;
// id, name, version, filename, optionString, loaded, enabled, useCount, readOnlySection:
// {address, length}, ...). Unknown keys are an error, so a typo cannot pass silently.
// A host without a file answers NotSupported, as a host whose image manager cannot be
// reached does; -software-fault HOST=Fault,... overrides the fault per host.

type hostSoftware struct {
	Fault           string                        `json:"fault"`
	AcceptanceLevel string                        `json:"acceptanceLevel"`
	InstallDate     *time.Time                    `json:"installDate"`
	Profile         types.HostImageProfileSummary `json:"profile"`
	Packages        []types.SoftwarePackage       `json:"packages"`
	Modules         []types.KernelModuleInfo      `json:"modules"`
}

// softwareSource is one host's answers, shared by its two managers.
type softwareSource struct {
	host  types.ManagedObjectReference
	sw    *hostSoftware // nil: no fixture file for this host
	fault string
}

// privilegeOf is the privilege vCenter checks for each method (vSphere API reference):
// reading the acceptance level, the image profile and the install date needs only System.Read,
// listing the VIBs Host.Config.Image and listing the kernel modules Host.Config.Settings, so
// the built-in Read-only role gets NoPermission for those two.
var privilegeOf = map[string]string{
	"HostImageConfigGetAcceptance": "System.Read",
	"HostImageConfigGetProfile":    "System.Read",
	"InstallDate":                  "System.Read",
	"FetchSoftwarePackages":        "Host.Config.Image",
	"QueryModules":                 "Host.Config.Settings",
}

// methodFault is the SOAP fault a method of this host answers with, or nil. "ReadOnly" is
// the built-in Read-only role: the System.Read methods answer, the others are NoPermission;
// "Pre65" a host older than ESXi 6.5, which has every method but fetchSoftwarePackages.
func (s *softwareSource) methodFault(this types.ManagedObjectReference, method string) *soap.Fault {
	name := s.fault
	if name == "" && s.sw != nil {
		name = s.sw.Fault
	}
	if name == "" && s.sw == nil {
		name = "NotSupported"
	}
	privilege := privilegeOf[method]
	if privilege == "" {
		panic("no privilege listed for " + method)
	}
	if name == "Pre65" { // ESXi before 6.5: fetchSoftwarePackages does not exist yet
		if method != "FetchSoftwarePackages" {
			return nil
		}
		return simulator.Fault("Method fetchSoftwarePackages not found.",
			&types.MethodNotFound{Receiver: this, Method: "fetchSoftwarePackages"})
	}
	if name == "ReadOnly" {
		if privilege == "System.Read" {
			return nil
		}
		name = "NoPermission"
	}
	switch name {
	case "":
		return nil
	case "NoPermission":
		return simulator.Fault("Permission to perform this operation was denied.",
			&types.NoPermission{Object: this, PrivilegeId: privilege})
	case "NotSupported":
		return simulator.Fault("The operation is not supported on the object.", &types.NotSupported{})
	case "ManagedObjectNotFound":
		return simulator.Fault("The object has already been deleted or has not been completely created",
			&types.ManagedObjectNotFound{Obj: this})
	}
	return simulator.Fault("unknown fault "+name, &types.SystemError{Reason: name})
}

type imageConfigManager struct {
	mo.HostImageConfigManager
	src *softwareSource
}

func (m *imageConfigManager) HostImageConfigGetAcceptance(req *types.HostImageConfigGetAcceptance) soap.HasFault {
	body := &methods.HostImageConfigGetAcceptanceBody{}
	if body.Fault_ = m.src.methodFault(m.Self, "HostImageConfigGetAcceptance"); body.Fault_ == nil {
		body.Res = &types.HostImageConfigGetAcceptanceResponse{Returnval: m.src.sw.AcceptanceLevel}
	}
	return body
}

func (m *imageConfigManager) HostImageConfigGetProfile(req *types.HostImageConfigGetProfile) soap.HasFault {
	body := &methods.HostImageConfigGetProfileBody{}
	if body.Fault_ = m.src.methodFault(m.Self, "HostImageConfigGetProfile"); body.Fault_ == nil {
		body.Res = &types.HostImageConfigGetProfileResponse{Returnval: m.src.sw.Profile}
	}
	return body
}

func (m *imageConfigManager) FetchSoftwarePackages(req *types.FetchSoftwarePackages) soap.HasFault {
	body := &methods.FetchSoftwarePackagesBody{}
	if body.Fault_ = m.src.methodFault(m.Self, "FetchSoftwarePackages"); body.Fault_ == nil {
		body.Res = &types.FetchSoftwarePackagesResponse{Returnval: m.src.sw.Packages}
	}
	return body
}

// InstallDate is when ESXi was installed; 0.24's SoftwarePackage has no per-VIB install date.
func (m *imageConfigManager) InstallDate(req *types.InstallDate) soap.HasFault {
	body := &methods.InstallDateBody{}
	if body.Fault_ = m.src.methodFault(m.Self, "InstallDate"); body.Fault_ == nil {
		if m.src.sw.InstallDate == nil {
			body.Fault_ = simulator.Fault("no installDate in the fixture", &types.NotSupported{})
		} else {
			body.Res = &types.InstallDateResponse{Returnval: *m.src.sw.InstallDate}
		}
	}
	return body
}

type kernelModuleSystem struct {
	mo.HostKernelModuleSystem
	src *softwareSource
}

func (m *kernelModuleSystem) QueryModules(req *types.QueryModules) soap.HasFault {
	body := &methods.QueryModulesBody{}
	if body.Fault_ = m.src.methodFault(m.Self, "QueryModules"); body.Fault_ == nil {
		body.Res = &types.QueryModulesResponse{Returnval: m.src.sw.Modules}
	}
	return body
}

func loadHostSoftware(path string) (*hostSoftware, error) {
	data, err := ioutil.ReadFile(path)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	sw := new(hostSoftware)
	if err := dec.Decode(sw); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return sw, nil
}

// parseHostValues splits "HOST=VALUE,HOST=VALUE" into a map.
func parseHostValues(spec string) (map[string]string, error) {
	out := map[string]string{}
	if spec == "" {
		return out, nil
	}
	for _, item := range strings.Split(spec, ",") {
		kv := strings.SplitN(item, "=", 2)
		if len(kv) != 2 || kv[0] == "" {
			return nil, fmt.Errorf("%q is not HOST=VALUE", item)
		}
		out[kv[0]] = kv[1]
	}
	return out, nil
}

// installHostSoftware wires configManager.imageConfigManager and
// configManager.kernelModuleSystem of every host (see the comment at the top).
func installHostSoftware(dir, faults string) error {
	faultByHost, err := parseHostValues(faults)
	if err != nil {
		return err
	}
	if dir == "" {
		if len(faultByHost) > 0 {
			return fmt.Errorf("-software-fault needs -host-software")
		}
		return nil
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return fmt.Errorf("%s is not a directory", dir)
	}
	hosts := map[string]*simulator.HostSystem{}
	for _, e := range simulator.Map.All("HostSystem") {
		if h, ok := e.(*simulator.HostSystem); ok {
			hosts[h.Name] = h
		}
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return err
	}
	fixtures := map[string]*hostSoftware{}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		if hosts[name] == nil {
			return fmt.Errorf("%s: no host named %q", f, name)
		}
		if fixtures[name], err = loadHostSoftware(f); err != nil {
			return err
		}
	}
	for name := range faultByHost {
		if hosts[name] == nil {
			return fmt.Errorf("-software-fault: no host named %q", name)
		}
	}
	for name, h := range hosts {
		src := &softwareSource{host: h.Self, sw: fixtures[name], fault: faultByHost[name]}
		icm := &imageConfigManager{src: src}
		icm.Self = types.ManagedObjectReference{Type: "HostImageConfigManager", Value: "imageConfigManager-" + h.Self.Value}
		kms := &kernelModuleSystem{src: src}
		kms.Self = types.ManagedObjectReference{Type: "HostKernelModuleSystem", Value: "kernelModuleSystem-" + h.Self.Value}
		simulator.Map.Put(icm)
		simulator.Map.Put(kms)
		icmRef, kmsRef := icm.Self, kms.Self
		h.ConfigManager.ImageConfigManager = &icmRef
		h.ConfigManager.KernelModuleSystem = &kmsRef
	}
	return nil
}
