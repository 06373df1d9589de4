"""How the collector talks to vCenter: read-only calls, bulk pages, session renewal.

Every SOAP call pyVmomi makes goes through ``SoapStubAdapter.InvokeMethod`` (lazy
property reads too: they become ``RetrieveContents`` calls inside it), and every bulk
page of the fast engine through ``RawSoap.send``; wrapping both records what the
collector asked the server. A third recorder reads the method name out of every SOAP
request body put on the wire (``HTTPConnection.request``), so a call that bypassed
both would still show up.
"""

from __future__ import annotations

import http.client
import re
from collections import Counter
from typing import Any

import pytest
from pyVmomi import SoapAdapter

from reporter.api import load_config
from reporter.collect import collect, rawsoap
from reporter.collect.vcenter import VCenterCollector

pytestmark = pytest.mark.vcsim

# Methods that read or only touch the collector's own session/view objects.
READ_ONLY = {
    "RetrieveServiceContent", "Login", "Logout",
    "CreateContainerView", "DestroyView",  # our own view object, not vCenter state
    "RetrievePropertiesEx", "ContinueRetrievePropertiesEx", "CancelRetrievePropertiesEx",
    "RetrieveProperties", "RetrieveContents", "Fetch",
    "QueryOptions", "QueryAssignedLicenses",
    # Host software (docs/methodology.md#host-software): reads of the image and kernel modules.
    "HostImageConfigGetAcceptance", "HostImageConfigGetProfile", "fetchSoftwarePackages", "QueryModules",
}


# The incremental vRAM sample may also keep a PropertyCollector filter. A filter (and the
# view it watches) is session-scoped state of our own, discarded with the session, not
# inventory state: creating, waiting on and destroying it changes nothing in vCenter.
# Deliberately separate from READ_ONLY, so the full collect is still held to the list above.
SAMPLE_ONLY = READ_ONLY | {"CreateFilter", "WaitForUpdatesEx", "DestroyPropertyFilter"}
# vAPI REST requests the tag reader may send (reporter/collect/tags.py): the session login and
# logout, GETs, and the one query that needs a body. Anything else (create, attach, ...) fails.
REST_READ_ONLY = (
    re.compile(r"POST /rest/com/vmware/cis/session"),
    re.compile(r"DELETE /rest/com/vmware/cis/session"),
    re.compile(r"GET /rest/com/vmware/cis/tagging/(category|tag)(/id:[^/?]+)?"),
    re.compile(r"POST /rest/com/vmware/cis/tagging/tag-association\?~action=list-attached-objects-on-tags"),
)


def rest_not_read_only(calls: list[str]) -> list[str]:
    return [c for c in calls if not any(p.fullmatch(c) for p in REST_READ_ONLY)]


# The first element in a SOAP request's Body: the method called.
_BODY_METHOD = re.compile(rb"<(?:\w+:)?Body[^>]*>\s*<(?:\w+:)?(\w+)")


class Recorder:
    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[str] = []  # pyVmomi's and the fast engine's calls, in order
        self.raw_calls: list[str] = []  # the fast engine's alone
        self.wire: list[str] = []  # every SOAP request sent
        self.accessors: list[str] = []
        self.rest: list[str] = []  # every vAPI REST request sent: "METHOD /path?~action=..."
        original = SoapAdapter.SoapStubAdapter.InvokeMethod
        original_accessor = SoapAdapter.SoapStubAdapter.InvokeAccessor
        original_raw = rawsoap.RawSoap.send
        original_request = http.client.HTTPConnection.request
        recorder = self

        def invoke(stub: Any, mo: Any, info: Any, args: Any, outerStub: Any = None) -> Any:
            recorder.calls.append(info.wsdlName)
            return original(stub, mo, info, args, outerStub)

        def raw_send(raw: Any, mo: Any, info: Any, req: bytes) -> Any:
            recorder.calls.append(info.wsdlName)
            recorder.raw_calls.append(info.wsdlName)
            return original_raw(raw, mo, info, req)

        def accessor(stub: Any, mo: Any, info: Any) -> Any:
            recorder.accessors.append(f"{type(mo).__name__}.{info.name}")
            return original_accessor(stub, mo, info)

        def request(conn: Any, method: str, url: str, body: Any = None, *args: Any, **kwargs: Any) -> Any:
            if url.startswith("/rest/"):
                recorder.rest.append(f"{method} {url}")
            elif method == "POST":
                data = body.encode() if isinstance(body, str) else bytes(body or b"")
                m = _BODY_METHOD.search(data)
                recorder.wire.append(m.group(1).decode() if m else f"unparsed POST {url}")
            return original_request(conn, method, url, body, *args, **kwargs)

        monkeypatch.setattr(SoapAdapter.SoapStubAdapter, "InvokeMethod", invoke)
        monkeypatch.setattr(SoapAdapter.SoapStubAdapter, "InvokeAccessor", accessor)
        monkeypatch.setattr(rawsoap.RawSoap, "send", raw_send)
        monkeypatch.setattr(http.client.HTTPConnection, "request", request)

    def counts(self) -> Counter[str]:
        return Counter(self.calls)


@pytest.fixture(scope="module")
def sim(vcsim_launcher):
    # Default inventory: 1 cluster of 3 hosts + 1 standalone host, 1 datastore, 8 VMs.
    inst = vcsim_launcher.start()
    yield inst
    inst.stop()
    vcsim_launcher.running.remove(inst)


@pytest.fixture
def cfg(sim, tmp_path):
    return load_config(sim.config_file(tmp_path))


@pytest.mark.parametrize("engine", ["fast", "pyvmomi"])
def test_collector_calls_only_read_only_methods(cfg, monkeypatch, engine):
    rec = Recorder(monkeypatch)
    snap = collect(cfg, progress=False, engine=engine)
    assert snap.collection_errors == []
    assert set(rec.calls) <= READ_ONLY, f"state-changing or unexpected calls: {set(rec.calls) - READ_ONLY}"
    # And the reads really happened (the allow-list check alone could pass on nothing).
    assert {"Login", "Logout", "RetrievePropertiesEx", "QueryOptions", "QueryAssignedLicenses"} <= set(rec.calls)
    assert rec.accessors == []  # no lazy per-object property access
    # Nothing reached the server past the two recorders: the wire saw exactly these calls.
    assert Counter(rec.wire) == Counter(rec.calls)
    # The fast engine reads the eleven bulk reads raw (one page each at the default page size):
    # folders, datacenters, vApps, clusters, hosts, datastores, VMs (with their networks; their
    # view's list first, listed reads), distributed switches, their port groups, networks and the
    # hosts' configuration; the pyVmomi engine never does.
    expected_raw = ["RetrievePropertiesEx"] * (11 + 1) if engine == "fast" else []
    assert rec.raw_calls == expected_raw
    # The tag reader's REST calls are reads too, and they happened.
    assert rest_not_read_only(rec.rest) == []
    assert rec.rest[0] == "POST /rest/com/vmware/cis/session" and rec.rest[-1] == "DELETE /rest/com/vmware/cis/session"
    assert "GET /rest/com/vmware/cis/tagging/category" in rec.rest


@pytest.mark.parametrize("engine", ["fast", "pyvmomi"])
def test_bulk_reads_with_pages_exact_call_counts(cfg, monkeypatch, engine):
    """Calls grow with pages, never with objects: 8 VMs in pages of 3 = 1 + 2 calls."""
    rec = Recorder(monkeypatch)
    snap = collect(cfg, progress=False, page_size=3, engine=engine)
    (vc,) = snap.vcenters.values()
    assert (len(vc.vms), len(vc.hosts)) == (8, 4)
    counts = rec.counts()
    # One view and one RetrievePropertiesEx per type (folders, datacenters, vApps, clusters,
    # hosts, datastores, VMs with their networks, distributed switches, distributed port
    # groups, networks, host configuration) + one for the LicenseManager's properties. The
    # views end with the session (no DestroyView: a view lasts until its session ends, and
    # the collector logs out right after).
    assert counts["CreateContainerView"] == 11
    assert "DestroyView" not in counts
    # ... and one more for the session's currentSession after the empty vApp read: an empty read
    # is only believed on a live session.
    # The fast engine reads the VMs listed: their view's list, then 3 requests of 3 listed VMs
    # (asked for ahead, each one page) instead of 1 request and 2 continuations.
    listed = engine == "fast"
    assert counts["RetrievePropertiesEx"] == 12 + 1 + (1 + 2 if listed else 0)
    # Continue: 4 folders -> 1, 8 VMs -> 2 (pyVmomi engine), and 4 hosts -> 1 twice (inventory,
    # then the hosts' configuration).
    assert counts["ContinueRetrievePropertiesEx"] == (3 if listed else 5)
    # The service content is read once, before the login; nothing else is read twice.
    assert counts["RetrieveServiceContent"] == 1
    # Host software: the simulator's hosts answer NotSupported, so per host one image-manager
    # call (the others are not tried after its fault) and one QueryModules.
    assert (counts["HostImageConfigGetAcceptance"], counts["QueryModules"]) == (4, 4)
    assert "fetchSoftwarePackages" not in counts
    assert counts["QueryOptions"] == 4 * 2  # connected hosts x option keys
    assert counts["QueryAssignedLicenses"] == 1
    assert counts["Login"] == 1 and counts["Logout"] == 1
    assert "CancelRetrievePropertiesEx" not in counts  # every page was read to the end
    assert Counter(rec.wire) == counts


def test_page_size_does_not_change_the_result(cfg):
    one = collect(cfg, progress=False, page_size=1)
    big = collect(cfg, progress=False, page_size=1000)
    assert one.vcenters == big.vcenters
    assert one.collection_errors == big.collection_errors == []


def _end_session(admin: Any, key: str) -> None:
    """End a session for good. vcsim puts a session back at the end of each request made with
    it, so a request of another stage in flight can bring a terminated session back: end it
    again until it stays gone."""
    import time

    manager = admin.content.sessionManager
    gone = 0
    while gone < 3:
        if any(s.key == key for s in manager.sessionList):
            manager.TerminateSession([key])
            gone = 0
        else:
            gone += 1
        time.sleep(0.05)


def _terminate_own_session(admin: Any, session: Any) -> None:
    _end_session(admin, session.si.content.sessionManager.currentSession.key)


def test_expired_session_is_renewed_once(sim, cfg, monkeypatch):
    original = VCenterCollector._read_clusters
    expired: list[bool] = []

    def read_clusters(self: VCenterCollector, session: Any) -> None:
        if not expired:
            expired.append(True)
            _terminate_own_session(admin, session)
        original(self, session)

    admin = sim.si()
    monkeypatch.setattr(VCenterCollector, "_read_clusters", read_clusters)
    rec = Recorder(monkeypatch)
    snap = collect(cfg, progress=False)
    assert snap.collection_errors == []
    (vc,) = snap.vcenters.values()
    assert [c.name for c in vc.clusters.values()] == ["DC0_C0"]
    assert len(vc.vms) == 8
    assert rec.counts()["Login"] == 2


def test_session_lost_twice_fails_only_that_stage(sim, cfg, monkeypatch):
    """The clusters stage sees its session expire on every call: it logs in again once, then
    fails. The other stages run at the same time on the same session: the renewal ends the
    session they were using, and they go on on the new one."""
    from pyVmomi import vim

    sessions_seen: list[Any] = []

    def read_clusters(self: VCenterCollector, session: Any) -> None:
        sessions_seen.append(session.si)
        raise vim.fault.NotAuthenticated()

    monkeypatch.setattr(VCenterCollector, "_read_clusters", read_clusters)
    rec = Recorder(monkeypatch)
    snap = collect(cfg, progress=False)
    assert [(e.vcenter, e.stage, e.error_type) for e in snap.collection_errors] == [
        ("vcsim", "clusters", "NotAuthenticated")]
    assert len(sessions_seen) == 2 and sessions_seen[0] is not sessions_seen[1]  # once again, on a new login
    assert rec.counts()["Login"] == 2
    (vc,) = snap.vcenters.values()
    assert vc.clusters == {}
    assert len(vc.vms) == 8 and len(vc.hosts) == 4  # the other stages still ran


def test_progress_on_a_terminal_and_quiet_otherwise(cfg, capsys):
    collect(cfg, progress=None)  # auto: pytest's captured stderr is not a TTY
    assert capsys.readouterr().err == ""
    collect(cfg, progress=True)
    err = capsys.readouterr().err
    assert "vcsim: virtual machines: 8 in" in err
    assert "vcsim: hosts: 4 in" in err


def test_one_unconvertible_object_is_left_out_with_the_reason(cfg, monkeypatch):
    from reporter.collect import convert

    original = convert.vm_from

    def vm_from(moid: str, props: dict[str, Any], *rest: Any) -> Any:
        if props.get("name") == "DC0_H0_VM0":  # a power state the model does not know
            props = dict(props, **{"runtime.powerState": "exploded"})
        return original(moid, props, *rest)

    monkeypatch.setattr(convert, "vm_from", vm_from)
    snap = collect(cfg, progress=False)
    (vc,) = snap.vcenters.values()
    assert sorted(vm.name for vm in vc.vms.values()) == [
        "DC0_C0_RP0_VM0", "DC0_C0_RP0_VM1", "DC0_C0_RP0_VM2", "DC0_C0_RP0_VM3",
        "DC0_H0_VM1", "DC0_H0_VM2", "DC0_H0_VM3"]
    (err,) = snap.collection_errors
    assert (err.vcenter, err.stage, err.error_type) == ("vcsim", "vms", "ValidationError")
    assert err.message == (f"{err.object_id} left out: unexpected data (power_state: Input should be "
                           "'poweredOn', 'poweredOff' or 'suspended')")


def test_unreadable_property_is_reported_once_per_path(cfg, monkeypatch):
    from reporter.collect import convert

    monkeypatch.setattr(convert, "VM_PATHS", [*convert.VM_PATHS, "config.noSuchProperty"])
    snap = collect(cfg, progress=False)
    (vc,) = snap.vcenters.values()
    assert len(vc.vms) == 8  # the VMs are still there
    (err,) = snap.collection_errors
    assert (err.stage, err.error_type) == ("vms", "InvalidProperty")
    assert err.object_id in vc.vms
    assert err.message == f"property config.noSuchProperty could not be read (InvalidProperty) on {err.object_id} and 7 more"


def test_incremental_vram_samples_call_only_read_only_methods(sim, cfg, monkeypatch, tmp_path):
    """Every sampler path: first sample, incremental, a stale version (destroys the old
    filter), the one-shot state file path; nothing outside SAMPLE_ONLY reaches the wire."""
    import json

    from pyVim.task import WaitForTask
    from pyVmomi import vim

    from reporter.collect import incremental, sample_vram

    rec = Recorder(monkeypatch)
    sampler = incremental.VramSampler(cfg)
    try:
        sampler.sample()
        mark = len(rec.calls), len(rec.wire), len(rec.accessors)  # the test's own changes are not the sampler's
        admin = sim.si()
        content = admin.RetrieveContent()
        view = content.viewManager.CreateContainerView(content.rootFolder, [vim.VirtualMachine], True)
        vm = sorted(view.view, key=lambda v: v.name)[0]
        view.DestroyView()
        WaitForTask(vm.ReconfigVM_Task(vim.vm.ConfigSpec(memoryMB=2048)))
        WaitForTask(vm.ReconfigVM_Task(vim.vm.ConfigSpec(memoryMB=32)))  # back as it was: the shared sim
        del rec.calls[mark[0]:], rec.wire[mark[1]:], rec.accessors[mark[2]:]
        sampler.sample()
        sampler._states["vcsim"].version = "stale"
        sampler.sample()
    finally:
        sampler.close()
    sample_vram(cfg, incremental=True)
    path = incremental.state_path(cfg, cfg.vcenter[0])
    data = json.loads(path.read_text())
    data["version"] = "stale"
    path.write_text(json.dumps(data))
    sample_vram(cfg, incremental=True)
    sample_vram(cfg, incremental=True)
    calls = set(rec.calls)
    assert calls <= SAMPLE_ONLY, f"unexpected calls: {calls - SAMPLE_ONLY}"
    assert {"CreateFilter", "WaitForUpdatesEx", "DestroyPropertyFilter", "RetrievePropertiesEx"} <= calls
    assert rec.accessors == []
    assert Counter(rec.wire) == Counter(rec.calls)


def test_the_reads_of_a_vcenter_do_not_wait_for_each_other(vcsim_factory, tmp_path, monkeypatch):
    """With 300 ms per call, the VM read goes out right after its view, while the other
    inventory reads are still in flight: no read through a view has answered before it is
    sent (one after the other, folders, vApps, clusters, hosts and datastores would have)."""
    import threading
    import time

    sim = vcsim_factory(delay_ms=300)
    cfg = load_config(sim.config_file(tmp_path))
    events: list[tuple[float, str, str]] = []  # (time, "sent" / "answered", what)
    lock = threading.Lock()
    original_request = http.client.HTTPConnection.request
    original_response = http.client.HTTPConnection.getresponse

    def request(conn: Any, method: str, url: str, body: Any = None, *args: Any, **kwargs: Any) -> Any:
        data = body.encode() if isinstance(body, str) else bytes(body or b"")
        m = _BODY_METHOD.search(data)
        what = m.group(1).decode() if m else url
        if what == "RetrievePropertiesEx" and b"ContainerView" in data:
            kind = re.search(rb"<type>(\w+)</type>\s*(?:<all>|<pathSet>)", data)
            what = f"read {kind.group(1).decode() if kind else '?'}"  # "read ContainerView": the VMs' list
        elif what == "RetrievePropertiesEx" and b'<objectSet><obj type="VirtualMachine">' in data:
            what = "read listed VirtualMachine"  # the VMs, listed
        conn._recorded = what
        with lock:
            events.append((time.monotonic(), "sent", what))
        return original_request(conn, method, url, body, *args, **kwargs)

    def getresponse(conn: Any) -> Any:
        resp = original_response(conn)
        with lock:
            events.append((time.monotonic(), "answered", getattr(conn, "_recorded", "?")))
        return resp

    monkeypatch.setattr(http.client.HTTPConnection, "request", request)
    monkeypatch.setattr(http.client.HTTPConnection, "getresponse", getresponse)
    snap = collect(cfg, progress=False)
    assert snap.collection_errors == [] and snap.vm_count() == 8
    events.sort()
    # The VM read begins with the list of its view (listed reads), then reads them listed.
    vm_sent = next(t for t, kind, what in events if kind == "sent" and what == "read ContainerView")
    answered_before = [what for t, kind, what in events if kind == "answered" and what.startswith("read ") and t < vm_sent]
    assert answered_before == []
    reads = {what for _, kind, what in events if kind == "sent" and what.startswith("read ")}
    assert {"read Folder", "read Datacenter", "read VirtualApp", "read ClusterComputeResource", "read HostSystem",
            "read Datastore", "read ContainerView", "read listed VirtualMachine"} <= reads


def test_an_empty_read_on_an_ended_session_is_read_again(sim, cfg, monkeypatch):
    """The session ends after the VMs' view was made and before their read is sent: vcsim then
    answers the read with no objects instead of NotAuthenticated. The collector does not
    believe an empty read without checking the session: it logs in again and reads again."""
    admin = sim.si()
    original_send = rawsoap.RawSoap.send
    killed: list[str] = []

    def send(raw: Any, mo: Any, info: Any, req: bytes) -> Any:
        if not killed and info.wsdlName == "RetrievePropertiesEx" and b"VirtualMachine" in req:
            cookie = raw.stub.cookie  # this session's, to end it from the admin's session
            (mine,) = [s.key for s in admin.content.sessionManager.sessionList if s.key in cookie]
            _end_session(admin, mine)
            killed.append(info.wsdlName)
        return original_send(raw, mo, info, req)

    monkeypatch.setattr(rawsoap.RawSoap, "send", send)
    rec = Recorder(monkeypatch)
    snap = collect(cfg, progress=False)
    assert killed
    assert snap.collection_errors == []
    (vc,) = snap.vcenters.values()
    assert len(vc.vms) == 8
    assert rec.counts()["Login"] == 2
