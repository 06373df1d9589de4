// Command vcsim-launcher runs govmomi's vCenter simulator for the test suite and
// the benchmark. It is built from Debian's govmomi sources (GOPATH mode):
//
//	cd tests/vcsim && GO111MODULE=off GOPATH=/usr/share/gocode go build -o vcsim-launcher .
//
// The first line on stdout is "URL https://HOST:PORT/sdk" once the server accepts
// connections; the launcher then runs until SIGTERM/SIGINT, or until stdin closes
// when -watch-stdin is given (so a crashed test runner never leaks a simulator).
package main

import (
	"bufio"
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"io/ioutil"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/google/uuid"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address:port to listen on (port 0 = any free port)")
	vms := flag.Int("vm", 4, "total number of VMs (spread evenly over clusters and standalone hosts)")
	dcs := flag.Int("dc", 1, "datacenters")
	clusters := flag.Int("cluster", 1, "clusters per datacenter")
	clusterHosts := flag.Int("host", 3, "hosts per cluster")
	standalone := flag.Int("standalone", 1, "standalone hosts per datacenter")
	datastores := flag.Int("ds", 1, "local datastores per datacenter (mounted on every host)")
	folders := flag.Int("folder", 0, "datacenters placed inside a folder")
	autostart := flag.Bool("autostart", true, "power on the created VMs")
	load := flag.String("load", "", "load the inventory from this directory (govc object.save) instead of creating one")
	certFile := flag.String("cert", "", "PEM certificate to serve (default: the simulator's built-in certificate)")
	keyFile := flag.String("key", "", "PEM private key for -cert")
	delayMS := flag.Int("delay-ms", 0, "delay every SOAP call, faults included, by this many milliseconds (simulated WAN latency)")
	username := flag.String("username", "", "accept only this user name (default: any non-empty user/password)")
	password := flag.String("password", "", "password for -username")
	instanceUUID := flag.String("uuid", "", "vCenter instance UUID (default: a random one, as every vCenter has its own)")
	disconnect := flag.String("disconnect", "", "comma-separated host names to mark disconnected")
	dropOptions := flag.String("drop-option-manager", "", "comma-separated host names whose advanced option manager is removed")
	singlePage := flag.Bool("single-page", false, "answer RetrievePropertiesEx in one page, ignoring maxObjects (unpatched vcsim 0.24, some real vCenters)")
	watchStdin := flag.Bool("watch-stdin", false, "exit when stdin is closed")
	hostSoftware := flag.String("host-software", "", "directory of HOSTNAME.json files for the hosts' image config managers and kernel module systems (see software.go)")
	softwareFault := flag.String("software-fault", "", "HOST=Fault,... (NoPermission, NotSupported, ManagedObjectNotFound): the host's software managers answer with this fault; needs -host-software")
	noVAPI := flag.Bool("no-vapi", false, "do not serve the vAPI REST endpoint (/rest: session, tagging), as a vCenter without it")
	hostPnics := flag.Int("host-pnics", 0, "give every host at least this many physical NICs (vcsim has 2)")
	pnicDown := flag.String("pnic-down", "", "HOST:vmnicN,... physical NICs without link (linkSpeed unset)")
	hostModel := flag.String("host-model", "", "HOST=Vendor:Model,... hardware vendor and model of hosts")
	flag.Parse()

	model := simulator.VPX()
	if *load != "" {
		if err := model.Load(*load); err != nil {
			fatal("load %s: %v", *load, err)
		}
	} else {
		units := *dcs * (*clusters + *standalone)
		if units < 1 {
			fatal("need at least one cluster or standalone host")
		}
		model.Datacenter = *dcs
		model.Cluster = *clusters
		model.ClusterHost = *clusterHosts
		model.Host = *standalone
		model.Datastore = *datastores
		model.Folder = *folders
		model.Autostart = *autostart
		// Model.Machine is "VMs per resource pool / standalone host".
		model.Machine = (*vms + units - 1) / units
		if *vms == 0 {
			model.Machine = 0
		}
		if err := model.Create(); err != nil {
			fatal("create model: %v", err)
		}
	}
	defer model.Remove()
	die := func(format string, args ...interface{}) {
		model.Remove() // os.Exit skips deferred calls: remove the datastore directories here
		fatal(format, args...)
	}
	installPagingCollector(*singlePage)
	installVersionedUpdates()
	setInstanceUUID(*instanceUUID)
	if err := disconnectHosts(*disconnect); err != nil {
		die("-disconnect: %v", err)
	}
	if err := dropOptionManagers(*dropOptions); err != nil {
		die("-drop-option-manager: %v", err)
	}
	setPnicCount(*hostPnics)
	installNetworkSystems()
	if err := markPnicsDown(*pnicDown); err != nil {
		die("-pnic-down: %v", err)
	}
	if err := setHostModels(*hostModel); err != nil {
		die("-host-model: %v", err)
	}
	if err := installHostSoftware(*hostSoftware, *softwareFault); err != nil {
		die("-host-software: %v", err)
	}
	installVAppHook()
	installLicenseAssignments()

	u, err := url.Parse("https://" + *listen + "/sdk")
	if err != nil {
		die("bad -listen %q: %v", *listen, err)
	}
	if *username != "" {
		u.User = url.UserPassword(*username, *password)
	}
	model.Service.Listen = u

	cfg := new(tls.Config)
	if *certFile != "" {
		cert, err := tls.LoadX509KeyPair(*certFile, *keyFile)
		if err != nil {
			die("load certificate: %v", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	model.Service.TLS = cfg

	server := model.Service.NewServer()
	defer server.Close()
	if !*noVAPI {
		mountVAPI(model.Service, *username, *password)
	}
	interceptSDK(model.Service, server.URL, time.Duration(*delayMS)*time.Millisecond)

	// server.URL is the service's Listen URL, which holds the credentials the
	// SessionManager checks: print a copy without them.
	printed := *server.URL
	printed.User = nil
	fmt.Printf("URL %s\n", printed.String())
	os.Stdout.Sync()

	done := make(chan os.Signal, 1)
	signal.Notify(done, syscall.SIGTERM, syscall.SIGINT)
	if *watchStdin {
		go func() {
			_, _ = io.Copy(ioutil.Discard, bufio.NewReader(os.Stdin))
			done <- syscall.SIGTERM
		}()
	}
	<-done
}

// setInstanceUUID gives this simulator its own About.instanceUuid: govmomi 0.24
// means to randomise it but assigns the random value to a copy, so every vcsim would
// otherwise report the same UUID and two of them could not be told apart.
func setInstanceUUID(id string) {
	if id == "" {
		id = uuid.New().String()
	}
	si := simulator.Map.Get(vim25.ServiceInstance).(*simulator.ServiceInstance)
	si.Content.About.InstanceUuid = id
}

func fatal(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "vcsim-launcher: "+format+"\n", args...)
	os.Exit(1)
}
