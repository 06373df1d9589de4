// Command sioc-save writes a running vCenter simulator's inventory into a directory that
// govmomi's simulator can load again (vcsim -load DIR, simulator.Model.Load): one XML-encoded
// types.ObjectContent per managed object, as 'govc object.save' does.
//
// The SIOC tests use it to inject datastore state the vSphere API of vcsim 0.24 cannot set
// (iormConfiguration): save, edit the datastore's XML, load into a second simulator.
// Unlike govc 0.24's object.save it also saves each host's advanced option manager, so
// host options set with UpdateOptions survive the round trip.
//
// Built in GOPATH mode from Debian's govmomi sources:
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o sioc-save .
//	sioc-save -url https://127.0.0.1:PORT/sdk -user U -password-env VAR -ca ca.pem -dir OUT
package main

import (
	"context"
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"

	"github.com/vmware/govmomi/property"
	"github.com/vmware/govmomi/session"
	"github.com/vmware/govmomi/view"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
	"github.com/vmware/govmomi/vim25/xml"
)

func main() {
	rawURL := flag.String("url", "", "https://HOST:PORT/sdk")
	user := flag.String("user", "", "user name")
	passwordEnv := flag.String("password-env", "", "environment variable holding the password")
	ca := flag.String("ca", "", "PEM file with the CA to trust (empty: do not verify; tests only)")
	dir := flag.String("dir", "", "output directory (created)")
	flag.Parse()
	if err := run(*rawURL, *user, os.Getenv(*passwordEnv), *ca, *dir); err != nil {
		fmt.Fprintln(os.Stderr, "sioc-save:", err)
		os.Exit(1)
	}
}

func run(rawURL, user, password, ca, dir string) error {
	ctx := context.Background()
	u, err := url.Parse(rawURL)
	if err != nil {
		return err
	}
	sc := soap.NewClient(u, ca == "")
	if ca != "" {
		if err := sc.SetRootCAs(ca); err != nil {
			return err
		}
	}
	c, err := vim25.NewClient(ctx, sc)
	if err != nil {
		return err
	}
	if err := session.NewManager(c).Login(ctx, url.UserPassword(user, password)); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	w := &writer{dir: dir}

	pc := property.DefaultCollector(c)
	var si []types.ObjectContent
	if err := pc.RetrieveOne(ctx, vim25.ServiceInstance, []string{"content"}, &si); err != nil {
		return err
	}
	if err := w.save(si); err != nil {
		return err
	}

	req := types.RetrievePropertiesEx{This: pc.Reference(), Options: types.RetrieveOptions{MaxObjects: 100}}
	all := types.NewBool(true)
	// The service content's managers (session, property collector, view manager ...).
	for _, ref := range mo.References(c.ServiceContent) {
		spec := types.PropertySpec{Type: ref.Type, All: all}
		if ref.Type == "LicenseManager" || ref.Type == "ServiceManager" {
			spec.All = nil // recreated with defaults on load
		}
		req.SpecSet = append(req.SpecSet, types.PropertyFilterSpec{
			ObjectSet: []types.ObjectSpec{{Obj: ref}},
			PropSet:   []types.PropertySpec{spec},
		})
	}

	// Every managed entity, plus the per-host and per-compute-resource helper objects.
	v, err := view.NewManager(c).CreateContainerView(ctx, c.ServiceContent.RootFolder, nil, true)
	if err != nil {
		return err
	}
	defer func() { _ = v.Destroy(ctx) }()
	follow := func(name, kind, path string) *types.TraversalSpec {
		return &types.TraversalSpec{SelectionSpec: types.SelectionSpec{Name: name}, Type: kind, Path: path}
	}
	req.SpecSet = append(req.SpecSet, types.PropertyFilterSpec{
		ObjectSet: []types.ObjectSpec{{
			Obj:  v.Reference(),
			Skip: types.NewBool(true),
			SelectSet: []types.BaseSelectionSpec{
				&types.TraversalSpec{
					Type: "ContainerView", Path: "view",
					SelectSet: []types.BaseSelectionSpec{
						&types.SelectionSpec{Name: "envBrowser"},
						&types.SelectionSpec{Name: "dsBrowser"},
						&types.SelectionSpec{Name: "hostOptions"},
						&types.SelectionSpec{Name: "hostNetwork"},
						&types.SelectionSpec{Name: "hostDatastores"},
					},
				},
				follow("envBrowser", "ComputeResource", "environmentBrowser"),
				follow("dsBrowser", "Datastore", "browser"),
				follow("hostOptions", "HostSystem", "configManager.advancedOption"),
				follow("hostNetwork", "HostSystem", "configManager.networkSystem"),
				follow("hostDatastores", "HostSystem", "configManager.datastoreSystem"),
			},
		}},
		PropSet: []types.PropertySpec{
			{Type: "ManagedEntity", All: all},
			{Type: "EnvironmentBrowser", All: all},
			{Type: "HostDatastoreBrowser", All: all},
			{Type: "OptionManager", All: all},
			{Type: "HostNetworkSystem", All: all},
			{Type: "HostDatastoreSystem", All: all},
		},
	})

	res, err := methods.RetrievePropertiesEx(ctx, c, &req)
	if err != nil {
		return err
	}
	if res.Returnval == nil {
		return nil
	}
	if err := w.save(res.Returnval.Objects); err != nil {
		return err
	}
	for token := res.Returnval.Token; token != ""; {
		next, err := methods.ContinueRetrievePropertiesEx(ctx, c, &types.ContinueRetrievePropertiesEx{This: req.This, Token: token})
		if err != nil {
			return err
		}
		if err := w.save(next.Returnval.Objects); err != nil {
			return err
		}
		token = next.Returnval.Token
	}
	fmt.Printf("saved %d objects to %s\n", w.n, dir)
	return nil
}

type writer struct {
	dir string
	n   int
}

// save writes each object as NNNN-Type-moid.xml; Model.Load reads them in name order,
// so the ServiceInstance (saved first) comes first.
func (w *writer) save(objects []types.ObjectContent) error {
	for _, obj := range objects {
		obj.MissingSet = nil
		name := filepath.Join(w.dir, fmt.Sprintf("%04d-%s.xml", w.n, obj.Obj.Encode()))
		w.n++
		f, err := os.Create(name)
		if err != nil {
			return err
		}
		enc := xml.NewEncoder(f)
		enc.Indent("", "  ")
		if err := enc.Encode(obj); err != nil {
			_ = f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
	return nil
}
