package main

import (
	"fmt"
	"strings"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

// Host states the vSphere API cannot set but real inventories have (docs/methodology.md#collection:
// disconnected hosts and hosts whose option manager is gone are common).

func hostsByName(names string) ([]*simulator.HostSystem, error) {
	var out []*simulator.HostSystem
	if names == "" {
		return out, nil
	}
	byName := map[string]*simulator.HostSystem{}
	for _, e := range simulator.Map.All("HostSystem") {
		if h, ok := e.(*simulator.HostSystem); ok {
			byName[h.Name] = h
		}
	}
	for _, name := range strings.Split(names, ",") {
		h, ok := byName[name]
		if !ok {
			return nil, fmt.Errorf("no host named %q", name)
		}
		out = append(out, h)
	}
	return out, nil
}

// disconnectHosts marks hosts disconnected, as vCenter shows a host it lost.
func disconnectHosts(names string) error {
	hosts, err := hostsByName(names)
	if err != nil {
		return err
	}
	for _, h := range hosts {
		h.Runtime.ConnectionState = types.HostSystemConnectionStateDisconnected
		if h.Summary.Runtime != nil {
			h.Summary.Runtime.ConnectionState = types.HostSystemConnectionStateDisconnected
		}
	}
	return nil
}

// dropOptionManagers removes hosts' advanced option managers from the inventory, so
// QueryOptions on them fails with ManagedObjectNotFound.
func dropOptionManagers(names string) error {
	hosts, err := hostsByName(names)
	if err != nil {
		return err
	}
	for _, h := range hosts {
		if ref := h.ConfigManager.AdvancedOption; ref != nil {
			simulator.Map.Remove(*ref)
		}
	}
	return nil
}
