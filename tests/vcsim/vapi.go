package main

import (
	"net/http"
	"strings"

	"github.com/vmware/govmomi/simulator"
	vapisim "github.com/vmware/govmomi/vapi/simulator"
)

// mountVAPI serves govmomi 0.24's vAPI simulator (tagging, content library, session) under
// /rest on the SOAP server's listener and TLS, as a vCenter does. 0.24 has only the /rest
// flavour (no /api), and its session endpoint accepts any non-empty user and password: when
// the launcher has -username, the login here must use the same user and password as the
// SOAP side, or it gets 401 like a real vCenter.
//
// It is mounted after Service.NewServer because vapisim.New needs the final server URL (the
// simulator calls back into the SOAP side with it); http.ServeMux accepts new patterns while
// serving. The simulator package's own init() registers an endpoint too, but that only runs
// with Service.RegisterEndpoints, which the launcher leaves false.
func mountVAPI(service *simulator.Service, user, password string) {
	path, handler := vapisim.New(service.Listen, simulator.Map.OptionManager().Setting)
	service.Handle(path, &credentialCheck{next: handler, user: user, password: password})
}

type credentialCheck struct {
	next           http.Handler
	user, password string
}

func (c *credentialCheck) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	isLogin := r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/com/vmware/cis/session") &&
		r.URL.Query().Get("~action") == ""
	if isLogin && c.user != "" {
		u, p, ok := r.BasicAuth()
		if !ok || u != c.user || p != c.password {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
	}
	c.next.ServeHTTP(w, r)
}
