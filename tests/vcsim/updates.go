package main

import (
	"reflect"
	"strconv"
	"sync"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// WaitForUpdatesEx as a real vCenter answers it, which govmomi 0.24's simulator does not:
//
//   - data versions: "" gives every object of the session's filters and a version;
//     that version gives only what changed since (and the next version); any other
//     version is InvalidCollectorVersion (0.24 answers every version with "-" and
//     cannot tell a stale one);
//   - MaxWaitSeconds = 0 returns at once, with no result when nothing changed (0.24
//     sleeps 250 ms first);
//   - changes are found per changed object, not by re-reading every filter on every
//     change (0.24 re-reads the whole filter for each update, minutes at 10k VMs),
//     and a reconfigured VM counts as changed (0.24's ReconfigVM_Task changes the VM
//     without telling the collector, so memory changes were never reported).
//
// Filters stay what the simulator makes them: session objects, gone with the session.

// changeLog numbers every change to any managed object: a collector remembers the
// number it had reached and re-reads only objects changed after it.
type changeLog struct {
	mu      sync.Mutex
	seq     uint64
	changed map[types.ManagedObjectReference]uint64
}

var changes = &changeLog{changed: map[types.ManagedObjectReference]uint64{}}

func (l *changeLog) Reference() types.ManagedObjectReference {
	return types.ManagedObjectReference{Type: "VcreportChangeLog", Value: "vcreport-change-log"}
}

func (l *changeLog) mark(refs ...types.ManagedObjectReference) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, ref := range refs {
		l.seq++
		l.changed[ref] = l.seq
	}
}

// taskEntity: a task's target may have changed when the task did (see above).
func taskEntity(obj mo.Reference) []types.ManagedObjectReference {
	var info *types.TaskInfo
	switch t := obj.(type) {
	case *simulator.Task:
		info = &t.Info
	case *mo.Task:
		info = &t.Info
	}
	if info == nil || info.Entity == nil {
		return nil
	}
	return []types.ManagedObjectReference{*info.Entity}
}

func (l *changeLog) PutObject(obj mo.Reference) {
	l.mark(append(taskEntity(obj), obj.Reference())...)
}

func (l *changeLog) UpdateObject(obj mo.Reference, _ []types.PropertyChange) {
	l.mark(append(taskEntity(obj), obj.Reference())...)
}

func (l *changeLog) RemoveObject(ref types.ManagedObjectReference) { l.mark(ref) }

// since: the current number, and the objects changed after "after".
func (l *changeLog) since(after uint64) (uint64, map[types.ManagedObjectReference]bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[types.ManagedObjectReference]bool{}
	for ref, n := range l.changed {
		if n > after {
			out[ref] = true
		}
	}
	return l.seq, out
}

// collectorState is one session's collector: its version and, per filter, what the
// client has been told.
type collectorState struct {
	version int
	seq     uint64
	filters map[types.ManagedObjectReference]map[types.ManagedObjectReference]map[string]types.AnyType
}

var (
	statesMu sync.Mutex
	states   = map[*pagingCollector]*collectorState{}
)

func installVersionedUpdates() {
	simulator.Map.AddHandler(changes)
}

func (pc *pagingCollector) WaitForUpdatesEx(ctx *simulator.Context, r *types.WaitForUpdatesEx) soap.HasFault {
	body := &methods.WaitForUpdatesExBody{}
	var deadline time.Time
	wait := true
	if r.Options != nil && r.Options.MaxWaitSeconds != nil {
		wait = *r.Options.MaxWaitSeconds > 0
		deadline = time.Now().Add(time.Duration(*r.Options.MaxWaitSeconds) * time.Second)
	}
	statesMu.Lock()
	state := states[pc]
	if state == nil || r.Version == "" {
		state = &collectorState{filters: map[types.ManagedObjectReference]map[types.ManagedObjectReference]map[string]types.AnyType{}}
		states[pc] = state
	} else if r.Version != strconv.Itoa(state.version) {
		statesMu.Unlock()
		body.Fault_ = simulator.Fault("", &types.InvalidCollectorVersion{})
		return body
	}
	statesMu.Unlock()
	for {
		set, fault := pc.updates(ctx, state)
		if fault != nil {
			body.Fault_ = simulator.Fault("", fault)
			return body
		}
		if set != nil || r.Version == "" {
			if set == nil {
				set = &types.UpdateSet{}
			}
			state.version++
			set.Version = strconv.Itoa(state.version)
			body.Res = &types.WaitForUpdatesExResponse{Returnval: set}
			return body
		}
		if !wait || (!deadline.IsZero() && time.Now().After(deadline)) {
			body.Res = &types.WaitForUpdatesExResponse{} // nothing changed: no result
			return body
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// updates: what changed in the session's filters since the state's last answer (every
// object for a filter the client has not been told about yet); nil when nothing did.
func (pc *pagingCollector) updates(ctx *simulator.Context, state *collectorState) (*types.UpdateSet, types.BaseMethodFault) {
	seq, changed := changes.since(state.seq)
	set := &types.UpdateSet{}
	live := map[types.ManagedObjectReference]bool{}
	for _, ref := range pc.PropertyCollector.Filter {
		live[ref] = true
		filter, ok := ctx.Session.Get(ref).(*simulator.PropertyFilter)
		if !ok {
			continue
		}
		known, seen := state.filters[ref]
		if !seen {
			known = map[types.ManagedObjectReference]map[string]types.AnyType{}
			state.filters[ref] = known
		}
		update, fault := pc.filterUpdate(ctx, filter.Spec, known, changed, !seen)
		if fault != nil {
			return nil, fault
		}
		if len(update.ObjectSet) > 0 {
			update.Filter = ref
			set.FilterSet = append(set.FilterSet, update)
		}
	}
	for ref := range state.filters {
		if !live[ref] {
			delete(state.filters, ref) // destroyed by the client
		}
	}
	state.seq = seq
	if len(set.FilterSet) == 0 {
		return nil, nil
	}
	return set, nil
}

func (pc *pagingCollector) retrieve(ctx *simulator.Context, spec types.PropertyFilterSpec) ([]types.ObjectContent, types.BaseMethodFault) {
	res := pc.PropertyCollector.RetrievePropertiesEx(ctx, &types.RetrievePropertiesEx{SpecSet: []types.PropertyFilterSpec{spec}})
	if f := res.Fault(); f != nil {
		if mf, ok := f.VimFault().(types.BaseMethodFault); ok {
			return nil, mf
		}
		return nil, &types.SystemError{Reason: f.String}
	}
	return res.(*methods.RetrievePropertiesExBody).Res.Returnval.Objects, nil
}

func (pc *pagingCollector) filterUpdate(ctx *simulator.Context, spec types.PropertyFilterSpec,
	known map[types.ManagedObjectReference]map[string]types.AnyType,
	changed map[types.ManagedObjectReference]bool, all bool) (types.PropertyFilterUpdate, types.BaseMethodFault) {
	update := types.PropertyFilterUpdate{}
	types_ := map[string]bool{}
	for _, p := range spec.PropSet {
		types_[p.Type] = true
	}
	abstract := types_["ManagedEntity"] || types_["ComputeResource"]
	var reread []types.ObjectSpec
	needMembers := all
	var candidates []types.ManagedObjectReference
	for ref := range changed {
		if abstract || types_[ref.Type] {
			candidates = append(candidates, ref)
			if _, ok := known[ref]; !ok {
				needMembers = true // maybe a new object in the filter's traversal
			}
		}
	}
	if needMembers {
		// Which objects the filter covers now (its traversal, no properties).
		members := spec
		members.PropSet = nil
		for _, p := range spec.PropSet {
			members.PropSet = append(members.PropSet, types.PropertySpec{Type: p.Type})
		}
		members.ReportMissingObjectsInResults = types.NewBool(true)
		covered, fault := pc.retrieve(ctx, members)
		if fault != nil {
			return update, fault
		}
		inFilter := map[types.ManagedObjectReference]bool{}
		for _, o := range covered {
			inFilter[o.Obj] = true
			if _, ok := known[o.Obj]; all || !ok || changed[o.Obj] {
				reread = append(reread, types.ObjectSpec{Obj: o.Obj})
			}
		}
		for ref := range known {
			if !inFilter[ref] {
				delete(known, ref)
				update.ObjectSet = append(update.ObjectSet, types.ObjectUpdate{Kind: types.ObjectUpdateKindLeave, Obj: ref})
			}
		}
	} else {
		for _, ref := range candidates {
			reread = append(reread, types.ObjectSpec{Obj: ref})
		}
	}
	if len(reread) == 0 {
		return update, nil
	}
	props := spec
	props.ObjectSet = reread
	props.ReportMissingObjectsInResults = types.NewBool(true)
	objects, fault := pc.retrieve(ctx, props)
	if fault != nil {
		return update, fault
	}
	returned := map[types.ManagedObjectReference]bool{}
	for _, o := range objects {
		returned[o.Obj] = true
	}
	for _, o := range reread {
		if _, ok := known[o.Obj]; ok && !returned[o.Obj] { // deleted meanwhile
			delete(known, o.Obj)
			update.ObjectSet = append(update.ObjectSet, types.ObjectUpdate{Kind: types.ObjectUpdateKindLeave, Obj: o.Obj})
		}
	}
	for _, o := range objects {
		now := map[string]types.AnyType{}
		for _, p := range o.PropSet {
			if p.Val != nil {
				now[p.Name] = p.Val
			}
		}
		before, ok := known[o.Obj]
		known[o.Obj] = now
		if !ok {
			ou := types.ObjectUpdate{Kind: types.ObjectUpdateKindEnter, Obj: o.Obj}
			for _, p := range o.PropSet {
				if p.Val != nil {
					ou.ChangeSet = append(ou.ChangeSet, types.PropertyChange{Name: p.Name, Op: types.PropertyChangeOpAssign, Val: p.Val})
				}
			}
			update.ObjectSet = append(update.ObjectSet, ou)
			continue
		}
		ou := types.ObjectUpdate{Kind: types.ObjectUpdateKindModify, Obj: o.Obj}
		for name, val := range now {
			if old, had := before[name]; !had || !reflect.DeepEqual(old, val) {
				ou.ChangeSet = append(ou.ChangeSet, types.PropertyChange{Name: name, Op: types.PropertyChangeOpAssign, Val: val})
			}
		}
		for name := range before {
			if _, has := now[name]; !has { // unset now: an assign without a value, as vCenter sends it
				ou.ChangeSet = append(ou.ChangeSet, types.PropertyChange{Name: name, Op: types.PropertyChangeOpAssign})
			}
		}
		if len(ou.ChangeSet) > 0 {
			update.ObjectSet = append(update.ObjectSet, ou)
		}
	}
	return update, nil
}
