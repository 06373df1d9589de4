package main

import (
	"strconv"
	"sync"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// pagingCollector adds what govmomi 0.24's simulated PropertyCollector lacks and a
// real vCenter does: RetrievePropertiesEx honours RetrieveOptions.maxObjects and
// returns a token, ContinueRetrievePropertiesEx hands out the next page of the same
// size, and CancelRetrievePropertiesEx drops the rest. The simulator makes one
// instance per session (by reflection on this type), so tokens are per session as
// in vCenter.
type pagingCollector struct {
	simulator.PropertyCollector

	pageMu  sync.Mutex
	pending map[string]pendingPages
	next    int
}

type pendingPages struct {
	objects []types.ObjectContent
	size    int
}

func installPagingCollector() {
	si := simulator.Map.Get(vim25.ServiceInstance).(*simulator.ServiceInstance)
	ref := si.Content.PropertyCollector
	pc := &pagingCollector{}
	pc.Self = ref
	simulator.Map.Put(pc)
}

func (pc *pagingCollector) page(objects []types.ObjectContent, size int) *types.RetrieveResult {
	res := &types.RetrieveResult{Objects: objects}
	if size <= 0 || len(objects) <= size {
		return res
	}
	pc.pageMu.Lock()
	defer pc.pageMu.Unlock()
	if pc.pending == nil {
		pc.pending = make(map[string]pendingPages)
	}
	pc.next++
	token := "page-" + strconv.Itoa(pc.next)
	pc.pending[token] = pendingPages{objects: objects[size:], size: size}
	res.Objects = objects[:size]
	res.Token = token
	return res
}

func (pc *pagingCollector) take(token string) (pendingPages, bool) {
	pc.pageMu.Lock()
	defer pc.pageMu.Unlock()
	p, ok := pc.pending[token]
	delete(pc.pending, token)
	return p, ok
}

func (pc *pagingCollector) RetrievePropertiesEx(ctx *simulator.Context, r *types.RetrievePropertiesEx) soap.HasFault {
	body := pc.PropertyCollector.RetrievePropertiesEx(ctx, r)
	ex, ok := body.(*methods.RetrievePropertiesExBody)
	if !ok || ex.Res == nil || ex.Res.Returnval == nil {
		return body
	}
	ex.Res.Returnval = pc.page(ex.Res.Returnval.Objects, int(r.Options.MaxObjects))
	return ex
}

func (pc *pagingCollector) ContinueRetrievePropertiesEx(ctx *simulator.Context, r *types.ContinueRetrievePropertiesEx) soap.HasFault {
	body := &methods.ContinueRetrievePropertiesExBody{}
	p, ok := pc.take(r.Token)
	if !ok {
		body.Fault_ = simulator.Fault("unknown or finished token", &types.InvalidArgument{InvalidProperty: "token"})
		return body
	}
	body.Res = &types.ContinueRetrievePropertiesExResponse{Returnval: *pc.page(p.objects, p.size)}
	return body
}

func (pc *pagingCollector) CancelRetrievePropertiesEx(ctx *simulator.Context, r *types.CancelRetrievePropertiesEx) soap.HasFault {
	pc.take(r.Token)
	return &methods.CancelRetrievePropertiesExBody{Res: &types.CancelRetrievePropertiesExResponse{}}
}
