package main

import (
	"reflect"
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
//
// With singlePage set (the launcher's -single-page) maxObjects is ignored and every
// result comes back in one page, as unpatched govmomi 0.24 answers (maxObjects is
// only a hint to a real vCenter too): clients must cope with a page of any size.
type pagingCollector struct {
	simulator.PropertyCollector

	pageMu  sync.Mutex
	pending map[string]pendingPages
	next    int
}

// singlePage is package state, not a field: the per-session collectors are fresh
// zero values made by reflection.
var singlePage bool

type pendingPages struct {
	objects []types.ObjectContent
	size    int
}

func installPagingCollector(onePage bool) {
	singlePage = onePage
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
	size := int(r.Options.MaxObjects)
	if singlePage {
		size = 0 // one page: no token, as govmomi 0.24 unpatched
	}
	ex.Res.Returnval = pc.page(ex.Res.Returnval.Objects, size)
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

// fetchBody mirrors simulator/internal.FetchBody (an internal package we cannot import).
type fetchBody struct {
	Res    *fetchResponse `xml:"FetchResponse,omitempty"`
	Fault_ *soap.Fault    `xml:"http://schemas.xmlsoap.org/soap/envelope/ Fault,omitempty"`
}

type fetchResponse struct {
	Returnval types.AnyType `xml:"returnval,omitempty,typeattr"`
}

func (b *fetchBody) Fault() *soap.Fault { return b.Fault_ }

// Fetch is what pyVmomi's lazy property access (vm.snapshot, vm.config, ...) calls.
// govmomi 0.24 panics when the property is unset (it indexes an empty result) and
// the client sees a dropped connection; a real vCenter returns no value. Answer an
// unset property with an empty result, and leave everything else to the simulator.
// req is *internal.Fetch, taken as interface{} because that package is internal.
func (pc *pagingCollector) Fetch(ctx *simulator.Context, req interface{}) soap.HasFault {
	v := reflect.ValueOf(req).Elem()
	this := v.FieldByName("This").Interface().(types.ManagedObjectReference)
	prop := v.FieldByName("Prop").String()
	if this != vim25.ServiceInstance && simulator.Map.Get(this) != nil {
		res := pc.PropertyCollector.RetrievePropertiesEx(ctx, &types.RetrievePropertiesEx{
			SpecSet: []types.PropertyFilterSpec{{
				PropSet:   []types.PropertySpec{{Type: this.Type, PathSet: []string{prop}}},
				ObjectSet: []types.ObjectSpec{{Obj: this}},
			}},
		})
		if ex, ok := res.(*methods.RetrievePropertiesExBody); ok && ex.Res != nil && ex.Res.Returnval != nil {
			objs := ex.Res.Returnval.Objects
			if len(objs) == 1 && len(objs[0].PropSet) == 0 && len(objs[0].MissingSet) == 0 {
				return &fetchBody{Res: &fetchResponse{}}
			}
		}
	}
	fetch := reflect.ValueOf(&pc.PropertyCollector).MethodByName("Fetch")
	out := fetch.Call([]reflect.Value{reflect.ValueOf(ctx), reflect.ValueOf(req)})
	return out[0].Interface().(soap.HasFault)
}
