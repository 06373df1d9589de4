package main

import (
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

// govmomi 0.24 creates vApps and VMs inside them but never sets a VM's parentVApp.
// vappHook, a registry observer, sets it as each VM appears; installVAppHook also repairs
// a loaded inventory once.
//
// Not fixed here: a vApp's "resourcePool" property cannot be read at all from 0.24 (its
// PropertyCollector resolves the name to the embedded mo.ResourcePool struct, and clients
// reject the reply), and a vApp made inside a vApp is missing from that list anyway. Its
// "parent" is right; walk the nesting upwards.

type vappHook struct{}

func (vappHook) Reference() types.ManagedObjectReference {
	return types.ManagedObjectReference{Type: "LauncherHook", Value: "vapp-hook"}
}

func (vappHook) PutObject(mo.Reference) {}

// UpdateObject sees every task's completion; a VM-creating task's result is the VM.
func (vappHook) UpdateObject(obj mo.Reference, changes []types.PropertyChange) {
	if obj.Reference().Type != "Task" {
		return
	}
	for _, c := range changes {
		if ref, ok := c.Val.(types.ManagedObjectReference); ok && c.Name == "info.result" && ref.Type == "VirtualMachine" {
			if vm, ok := simulator.Map.Get(ref).(*simulator.VirtualMachine); ok {
				setParentVApp(vm)
			}
		}
	}
}

func (vappHook) RemoveObject(types.ManagedObjectReference) {}

// setParentVApp: a VM whose resource pool is a vApp has that vApp as parentVApp, as in vCenter.
func setParentVApp(vm *simulator.VirtualMachine) {
	if vm.ResourcePool != nil && vm.ResourcePool.Type == "VirtualApp" && vm.ParentVApp == nil {
		ref := *vm.ResourcePool
		vm.ParentVApp = &ref
	}
}

func installVAppHook() {
	for _, e := range simulator.Map.All("VirtualMachine") {
		if vm, ok := e.(*simulator.VirtualMachine); ok {
			setParentVApp(vm)
		}
	}
	simulator.Map.AddHandler(vappHook{})
}
