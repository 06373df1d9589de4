package main

import (
	"sort"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// govmomi 0.24's LicenseAssignmentManager answers QueryAssignedLicenses without an entity
// with a single assignment whose entityId is empty. A vCenter lists what is licensed: one
// assignment per host (entityId the host's moid, its name as entityDisplayName) and one for
// itself (its instance UUID). assignmentManager does that, every entity in evaluation mode as
// the simulator's hosts and vCenter are; a query for one entity is left to the simulator.
type assignmentManager struct {
	simulator.LicenseAssignmentManager
}

func installLicenseAssignments() {
	si := simulator.Map.Get(vim25.ServiceInstance).(*simulator.ServiceInstance)
	if si.Content.LicenseManager == nil {
		return
	}
	lm, ok := simulator.Map.Get(*si.Content.LicenseManager).(*simulator.LicenseManager)
	if !ok || lm.LicenseAssignmentManager == nil {
		return
	}
	old, ok := simulator.Map.Get(*lm.LicenseAssignmentManager).(*simulator.LicenseAssignmentManager)
	if !ok {
		return
	}
	m := &assignmentManager{LicenseAssignmentManager: *old}
	simulator.Map.Put(m)
}

func (m *assignmentManager) QueryAssignedLicenses(req *types.QueryAssignedLicenses) soap.HasFault {
	if req.EntityId != "" {
		return m.LicenseAssignmentManager.QueryAssignedLicenses(req)
	}
	about := simulator.Map.Get(vim25.ServiceInstance).(*simulator.ServiceInstance).Content.About
	out := []types.LicenseAssignmentManagerLicenseAssignment{}
	for _, e := range simulator.Map.All("HostSystem") {
		h, ok := e.(*simulator.HostSystem)
		if !ok {
			continue
		}
		out = append(out, types.LicenseAssignmentManagerLicenseAssignment{
			EntityId: h.Self.Value, EntityDisplayName: h.Name, AssignedLicense: simulator.EvalLicense,
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].EntityId < out[j].EntityId }) // a stable order, as vCenter's
	out = append(out, types.LicenseAssignmentManagerLicenseAssignment{
		EntityId: about.InstanceUuid, EntityDisplayName: about.Name, AssignedLicense: simulator.EvalLicense,
	})
	return &methods.QueryAssignedLicensesBody{Res: &types.QueryAssignedLicensesResponse{Returnval: out}}
}
