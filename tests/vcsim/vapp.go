package main

import (
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

// govmomi 0.24 creates vApps and VMs inside them but never sets a VM's parentVApp, and a
// vApp created inside a vApp is missing from its parent's child list (the simulator
// appends it to a copy), so container views, which walk that list, never see it.
// vappHook, a registry observer, repairs both as the objects appear; installVAppHook
// repairs a loaded inventory once.
//
// Not fixed here: a vApp's "resourcePool" property cannot be read at all from 0.24 (its
// PropertyCollector resolves the name to the embedded mo.ResourcePool struct, and clients
// reject the reply). Its "parent" is right; walk the nesting upwards.

type vappHook struct{}

func (vappHook) Reference() types.ManagedObjectReference {
	return types.ManagedObjectReference{Type: "LauncherHook", Value: "vapp-hook"}
}

func (vappHook) PutObject(obj mo.Reference) {
	if a, ok := obj.(*simulator.VirtualApp); ok {
		linkChildVApp(a)
	}
}

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

// linkChildVApp adds a to its parent vApp's child list. No lock: the parent is the object
// whose CreateVApp is running, and the simulator holds its lock already.
func linkChildVApp(a *simulator.VirtualApp) {
	if a.Parent == nil || a.Parent.Type != "VirtualApp" {
		return
	}
	parent, ok := simulator.Map.Get(*a.Parent).(*simulator.VirtualApp)
	if !ok || simulator.FindReference(parent.ResourcePool.ResourcePool, a.Self) != nil {
		return
	}
	parent.ResourcePool.ResourcePool = append(parent.ResourcePool.ResourcePool, a.Self)
}

// setParentVApp: a VM whose resource pool is a vApp has that vApp as parentVApp, as in vCenter.
func setParentVApp(vm *simulator.VirtualMachine) {
	if vm.ResourcePool != nil && vm.ResourcePool.Type == "VirtualApp" && vm.ParentVApp == nil {
		ref := *vm.ResourcePool
		vm.ParentVApp = &ref
	}
}

func installVAppHook() {
	for _, e := range simulator.Map.All("VirtualApp") {
		if a, ok := e.(*simulator.VirtualApp); ok {
			linkChildVApp(a)
		}
	}
	for _, e := range simulator.Map.All("VirtualMachine") {
		if vm, ok := e.(*simulator.VirtualMachine); ok {
			setParentVApp(vm)
		}
	}
	simulator.Map.AddHandler(vappHook{})
}
