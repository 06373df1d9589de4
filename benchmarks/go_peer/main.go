// Command go_peer is the Go yardstick of benchmarks/collect.py: govmomi reading the
// same VM properties as reporter.collect, the way a Go tool would (one ContainerView,
// view.Retrieve into []mo.VirtualMachine: a single RetrieveProperties call, decoded
// into typed structs). Built from Debian's govmomi sources in GOPATH mode, like the
// test launcher:
//
//	cd benchmarks/go_peer && GO111MODULE=off GOPATH=/usr/share/gocode go build -o /tmp/go_peer .
//
// It prints one JSON line: {"login_s", "retrieve_s", "total_s", "objects"}; retrieve_s
// is view.Retrieve alone, total_s is login to logout.
package main

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"flag"
	"fmt"
	"io/ioutil"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/vmware/govmomi/session"
	"github.com/vmware/govmomi/view"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
)

type result struct {
	LoginS    float64 `json:"login_s"`
	RetrieveS float64 `json:"retrieve_s"`
	TotalS    float64 `json:"total_s"`
	Objects   int     `json:"objects"`
}

func main() {
	rawURL := flag.String("url", "", "vCenter SDK URL, https://HOST:PORT/sdk")
	user := flag.String("user", "", "user name")
	passwordEnv := flag.String("password-env", "", "environment variable holding the password")
	caFile := flag.String("ca", "", "PEM CA bundle to verify the server with (default: the system's)")
	props := flag.String("props", "", "comma-separated VirtualMachine property paths to read")
	flag.Parse()
	if *rawURL == "" || *user == "" || *passwordEnv == "" || *props == "" {
		fail("-url, -user, -password-env and -props are required")
	}
	u, err := url.Parse(*rawURL)
	if err != nil {
		fail("bad -url: %v", err)
	}
	u.User = url.UserPassword(*user, os.Getenv(*passwordEnv))

	ctx := context.Background()
	start := time.Now()
	sc := soap.NewClient(u, false)
	if *caFile != "" {
		pem, err := ioutil.ReadFile(*caFile)
		if err != nil {
			fail("read -ca: %v", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			fail("no certificate in %s", *caFile)
		}
		sc.DefaultTransport().TLSClientConfig.RootCAs = pool
	}
	c, err := vim25.NewClient(ctx, sc)
	if err != nil {
		fail("connect: %v", err)
	}
	sm := session.NewManager(c)
	if err := sm.Login(ctx, u.User); err != nil {
		fail("login: %v", err)
	}
	loggedIn := time.Now()

	v, err := view.NewManager(c).CreateContainerView(ctx, c.ServiceContent.RootFolder, []string{"VirtualMachine"}, true)
	if err != nil {
		fail("create view: %v", err)
	}
	var vms []mo.VirtualMachine
	t0 := time.Now()
	if err := v.Retrieve(ctx, []string{"VirtualMachine"}, strings.Split(*props, ","), &vms); err != nil {
		fail("retrieve: %v", err)
	}
	retrieved := time.Since(t0)
	_ = v.Destroy(ctx)
	_ = sm.Logout(ctx)

	out, _ := json.Marshal(result{
		LoginS: loggedIn.Sub(start).Seconds(), RetrieveS: retrieved.Seconds(),
		TotalS: time.Since(start).Seconds(), Objects: len(vms),
	})
	fmt.Println(string(out))
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "go_peer: "+format+"\n", args...)
	os.Exit(1)
}
