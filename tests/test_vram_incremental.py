# mypy: disable-error-code="no-untyped-call"
# (pyVmomi's generated types and pyVim are untyped)
"""Incremental vRAM samples on a real simulator: only changes move, the result equals a
full light read, and every fallback (expired session, destroyed filter, stale version)
gives the full read again. The one-shot state file is private and holds no password."""

from __future__ import annotations

import http.client
import json
import stat
from collections import Counter
from collections.abc import Iterator
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

import pytest
from pyVim.task import WaitForTask
from pyVmomi import SoapAdapter, vim, vmodl
from pyVmomi.SoapAdapter import SoapStubAdapter
from vcsim_harness import Vcsim

from reporter.collect import incremental, sample_vram
from reporter.collect.incremental import (
    FILTER_GONE,
    FIRST,
    SESSION_EXPIRED,
    STALE_VERSION,
    VramSampler,
)
from reporter.config import Config, load_config
from reporter.core.model import Snapshot
from reporter.history import samples_for_snapshot

pytestmark = pytest.mark.vcsim

VMS = 40


class Wire:
    """Bytes received per SOAP method (every reply body, whatever reads it) and the methods called."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.bytes: Counter[str] = Counter()
        self.calls: list[str] = []
        request, getresponse, read = (http.client.HTTPConnection.request, http.client.HTTPConnection.getresponse,
                                      http.client.HTTPResponse.read)
        wire = self

        def on_request(conn: Any, method: str, url: str, body: Any = None, *a: Any, **kw: Any) -> Any:
            data = body.encode() if isinstance(body, str) else bytes(body or b"")
            name = data.split(b"<soapenv:Body>", 1)[-1].lstrip().split(b" ", 1)[0].split(b">", 1)[0].lstrip(b"<")
            conn._vc_method = name.decode(errors="replace") if method == "POST" else f"{method} {url}"
            wire.calls.append(conn._vc_method)
            return request(conn, method, url, body, *a, **kw)

        def on_getresponse(conn: Any) -> Any:
            resp = getresponse(conn)
            resp._vc_method = getattr(conn, "_vc_method", "?")  # type: ignore[attr-defined]
            return resp

        def on_read(resp: Any, amt: Any = None) -> bytes:
            data: bytes = read(resp, amt)
            wire.bytes[getattr(resp, "_vc_method", "?")] += len(data)
            return data

        monkeypatch.setattr(http.client.HTTPConnection, "request", on_request)
        monkeypatch.setattr(http.client.HTTPConnection, "getresponse", on_getresponse)
        monkeypatch.setattr(http.client.HTTPResponse, "read", on_read)

    def reset(self) -> None:
        self.bytes.clear()
        self.calls.clear()


@pytest.fixture
def sim(vcsim_factory: Any) -> Vcsim:
    inst: Vcsim = vcsim_factory(vms=VMS, hosts=2)
    return inst


@pytest.fixture
def cfg(sim: Vcsim, tmp_path: Path) -> Config:
    return load_config(sim.config_file(tmp_path))


@pytest.fixture
def admin(sim: Vcsim) -> Any:
    return sim.si()


def vms_by_name(si: Any) -> dict[str, Any]:
    content = si.RetrieveContent()
    view = content.viewManager.CreateContainerView(content.rootFolder, [vim.VirtualMachine], True)
    try:
        return {vm.name: vm for vm in view.view}
    finally:
        view.DestroyView()


def change_inventory(admin: Any) -> set[str]:
    """Power 2 VMs off, 1 off and on again, change 1 VM's memory, delete 1: the VMs whose
    values differ afterwards (the one powered off and on again is as it was: nothing to send)."""
    vms = vms_by_name(admin)
    names = sorted(vms)
    off, cycle, memory, gone = names[0:2], names[2], names[3], names[4]
    for n in [*off, cycle, gone]:
        WaitForTask(vms[n].PowerOffVM_Task())
    WaitForTask(vms[cycle].PowerOnVM_Task())
    WaitForTask(vms[memory].ReconfigVM_Task(vim.vm.ConfigSpec(memoryMB=4096)))
    WaitForTask(vms[gone].Destroy_Task())
    return {*off, memory, gone}


def same_as_full_read(snap: Snapshot, cfg: Config) -> None:
    """The sample equals a light read taken now, object for object, and so do its history rows."""
    full = sample_vram(cfg)
    assert snap.collection_errors == full.collection_errors == []
    assert snap.vcenters == full.vcenters

    def strip(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{k: v for k, v in r.items() if k != "ts"} for r in rows]

    assert strip(samples_for_snapshot(snap, cfg, "sample")) == strip(samples_for_snapshot(full, cfg, "sample"))


def only_vcenter(snap: Snapshot) -> Any:
    (vc,) = snap.vcenters.values()
    return vc


# --------------------------------------------------------------------------- long-running


def test_second_sample_transfers_only_the_changes(cfg: Config, admin: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    wire = Wire(monkeypatch)
    sampler = VramSampler(cfg)
    try:
        first = sampler.sample()
        stats = sampler.last_stats["vcsim"]
        assert (stats.incremental, stats.full_because, stats.objects_received) == (False, FIRST, VMS)
        first_bytes = wire.bytes["WaitForUpdatesEx"]
        assert len(only_vcenter(first).vms) == VMS
        same_as_full_read(first, cfg)

        wire.reset()
        unchanged = sampler.sample()
        stats = sampler.last_stats["vcsim"]
        assert (stats.incremental, stats.objects_received) == (True, 0)
        assert "Login" not in wire.calls and "CreateFilter" not in wire.calls
        assert only_vcenter(unchanged).vms == only_vcenter(first).vms

        touched = change_inventory(admin)
        wire.reset()
        second = sampler.sample()
        stats = sampler.last_stats["vcsim"]
        assert (stats.incremental, stats.objects_received) == (True, len(touched))  # 4 VMs differ: 4 updates
        assert wire.bytes["WaitForUpdatesEx"] < first_bytes / 4
        vc = only_vcenter(second)
        assert len(vc.vms) == VMS - 1
        names = sorted(vm.name for vm in only_vcenter(first).vms.values())
        by_name = {vm.name: vm for vm in vc.vms.values()}
        assert [by_name[n].power_state for n in names[0:3]] == ["poweredOff", "poweredOff", "poweredOn"]
        assert by_name[names[3]].memory_mb == 4096
        assert names[4] not in by_name
        same_as_full_read(second, cfg)
    finally:
        sampler.close()


def test_long_running_sampler_logs_in_again_after_the_session_expired(sim: Vcsim, cfg: Config, admin: Any) -> None:
    sampler = VramSampler(cfg)
    try:
        sampler.sample()
        key = sampler._sessions["vcsim"].si.content.sessionManager.currentSession.key
        admin.content.sessionManager.TerminateSession([key])
        change_inventory(admin)
        snap = sampler.sample()
        stats = sampler.last_stats["vcsim"]
        assert (stats.incremental, stats.full_because, stats.objects_received) == (False, SESSION_EXPIRED, VMS - 1)
        same_as_full_read(snap, cfg)
    finally:
        sampler.close()


# --------------------------------------------------------------------------- one-shot (cron)


def one_shot(cfg: Config) -> tuple[Snapshot, Any]:
    stats: dict[str, Any] = {}
    snap = sample_vram(cfg, incremental=True, stats=stats)
    return snap, stats["vcsim"]


def state_file(cfg: Config) -> Path:
    return incremental.state_path(cfg, cfg.vcenter[0])


def saved(cfg: Config) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(state_file(cfg).read_text())
    return data


def resumed_stub(sim: Vcsim, cfg: Config) -> Any:
    """A stub on the session the state file names (what a second cron run resumes)."""
    data = saved(cfg)
    stub = SoapStubAdapter(host=sim.host, port=sim.port, version=data["api_version"], sslContext=sim.ssl_context())
    stub.cookie = data["cookie"]
    return stub


def test_one_shot_resumes_the_session_and_transfers_only_changes(sim: Vcsim, cfg: Config, admin: Any,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    snap, stats = one_shot(cfg)
    assert (stats.incremental, stats.full_because, stats.objects_received) == (False, FIRST, VMS)
    same_as_full_read(snap, cfg)
    touched = change_inventory(admin)
    wire = Wire(monkeypatch)
    snap, stats = one_shot(cfg)
    assert (stats.incremental, stats.objects_received) == (True, len(touched))
    # The session and the filter were reused: no login, no new filter, no logout (kept for the next run).
    assert not {"Login", "Logout", "CreateFilter"} & set(wire.calls)
    assert "WaitForUpdatesEx" in wire.calls
    same_as_full_read(snap, cfg)


def test_state_file_is_private_and_holds_no_password(sim: Vcsim, cfg: Config) -> None:
    one_shot(cfg)
    path = state_file(cfg)
    assert path.parent == Path(cfg.output.dir) / ".state"
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    assert sim.password not in text
    data = json.loads(text)
    assert set(data) == {"format", "host", "port", "user", "cookie", "api_version", "filter", "view", "version", "vms"}
    assert "password" not in text.lower()
    assert SimpleCookie(data["cookie"])[SoapAdapter.COOKIE_NAME].value  # the session, not the secret
    assert len(data["vms"]) == VMS


def test_state_dir_setting_and_a_loose_directory_is_tightened(sim: Vcsim, tmp_path: Path) -> None:
    loose = tmp_path / "state"
    loose.mkdir(mode=0o755)
    loose.chmod(0o755)
    path = sim.config_file(tmp_path)
    path.write_text(path.read_text() + '\n[collect]\nstate_dir = "state"\n')
    cfg = load_config(path)
    one_shot(cfg)
    assert state_file(cfg).parent == loose
    assert stat.S_IMODE(loose.stat().st_mode) == 0o700


def test_one_shot_falls_back_when_the_session_expired(sim: Vcsim, cfg: Config, admin: Any) -> None:
    one_shot(cfg)
    old_cookie = saved(cfg)["cookie"]
    key = SimpleCookie(old_cookie)[SoapAdapter.COOKIE_NAME].value
    admin.content.sessionManager.TerminateSession([key])
    change_inventory(admin)
    snap, stats = one_shot(cfg)
    assert (stats.incremental, stats.full_because, stats.objects_received) == (False, SESSION_EXPIRED, VMS - 1)
    same_as_full_read(snap, cfg)
    assert saved(cfg)["cookie"] != old_cookie  # the new session is kept for next time
    _, stats = one_shot(cfg)
    assert (stats.incremental, stats.objects_received) == (True, 0)


def test_one_shot_falls_back_when_the_filter_is_gone(sim: Vcsim, cfg: Config, admin: Any) -> None:
    one_shot(cfg)
    data = saved(cfg)
    vmodl.query.PropertyCollector.Filter(data["filter"], resumed_stub(sim, cfg)).Destroy()
    change_inventory(admin)
    snap, stats = one_shot(cfg)
    assert (stats.incremental, stats.full_because, stats.objects_received) == (False, FILTER_GONE, VMS - 1)
    same_as_full_read(snap, cfg)
    assert saved(cfg)["filter"] != data["filter"]
    assert saved(cfg)["cookie"] == data["cookie"]  # same session, new filter


@pytest.mark.parametrize("version", ["999", "not-a-version"])
def test_one_shot_falls_back_on_a_stale_or_unknown_version(sim: Vcsim, cfg: Config, admin: Any, version: str) -> None:
    one_shot(cfg)
    data = saved(cfg)
    data["version"] = version
    state_file(cfg).write_text(json.dumps(data))
    change_inventory(admin)
    snap, stats = one_shot(cfg)
    assert (stats.incremental, stats.full_because, stats.objects_received) == (False, STALE_VERSION, VMS - 1)
    same_as_full_read(snap, cfg)
    assert saved(cfg)["filter"] != data["filter"]  # the old filter destroyed, a new one made


def test_simulator_rejects_an_old_version_as_vcenter_does(sim: Vcsim) -> None:
    """The launcher's WaitForUpdatesEx: versions move on, an old one is InvalidCollectorVersion."""
    si = sim.si()
    content = si.RetrieveContent()
    pc = content.propertyCollector
    view = content.viewManager.CreateContainerView(content.rootFolder, [vim.VirtualMachine], True)
    PC = vmodl.query.PropertyCollector
    spec = PC.FilterSpec(objectSet=[PC.ObjectSpec(obj=view, skip=True, selectSet=[
        PC.TraversalSpec(name="v", path="view", skip=False, type=vim.view.ContainerView)])],
        propSet=[PC.PropertySpec(type=vim.VirtualMachine, pathSet=["runtime.powerState"])])
    pc.CreateFilter(spec, partialUpdates=False)
    now = PC.WaitOptions(maxWaitSeconds=0)
    first = pc.WaitForUpdatesEx("", now)
    assert len(first.filterSet[0].objectSet) == VMS
    assert pc.WaitForUpdatesEx(first.version, now) is None  # nothing changed
    vm = vms_by_name(si)[min(vms_by_name(si))]
    WaitForTask(vm.PowerOffVM_Task())
    second = pc.WaitForUpdatesEx(first.version, now)
    (ou,) = second.filterSet[0].objectSet
    assert (ou.kind, ou.obj._moId, [(c.name, c.val) for c in ou.changeSet]) == (
        "modify", vm._moId, [("runtime.powerState", "poweredOff")])
    with pytest.raises(vmodl.query.InvalidCollectorVersion):
        pc.WaitForUpdatesEx(first.version, now)


@pytest.fixture(autouse=True)
def _no_state_in_cwd(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    monkeypatch.chdir(tmp_path)  # a bug writing state relative to the working directory stays in tmp
    yield
