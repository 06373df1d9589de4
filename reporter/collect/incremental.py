"""Incremental vRAM samples: a PropertyCollector filter on the VMs, then only changes.

The first sample of a vCenter creates a ContainerView of its VMs and a filter on
``convert.VRAM_VM_PATHS`` (name, template flag, power state, memory, host), and reads
every VM once through ``WaitForUpdatesEx`` with the initial version ``""``. Every later
sample asks ``WaitForUpdatesEx`` (``maxWaitSeconds = 0``: never blocks) with the version
it was last given and receives only the VMs that changed, entered or left. Hosts,
clusters and licences are small and are read in full each time, as in the plain light
read, so a sample equals a full light read taken at the same moment.

The view and the filter belong to the session (vCenter discards them with it); they
are not inventory state, and nothing else is created or changed.

A filter lives as long as its session, so the session is kept:

- in a long-running process (``vcreport serve``) a ``VramSampler`` keeps each vCenter's
  session, filter and last-known VMs in memory between samples;
- a one-shot ``vcreport vram sample`` (cron) keeps them in a state file per vCenter
  (``[collect] state_dir``, default ``[output] dir``/.state; the directory 0700, the file
  0600, the way ``govc`` keeps its sessions): the session cookie, the filter and view
  ids, the version and the last-known VM values. Never the password. The session is
  not logged out, so the next run can reuse it.

Whatever does not fit falls back to a full light read (a new filter, every VM): the
session expired (``NotAuthenticated``: log in again), the filter is gone
(``ManagedObjectNotFound``), or the version is unknown or stale
(``InvalidCollectorVersion``).
"""

from __future__ import annotations

import json
import logging
import os
import re
import ssl
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pyVmomi import vim, vmodl
from pyVmomi.SoapAdapter import SoapStubAdapter

from reporter.collect import convert
from reporter.collect.progress import Progress
from reporter.collect.retrieve import DEFAULT_PAGE_SIZE, _filter_spec, retrieve_one
from reporter.collect.session import Session, describe, ssl_context
from reporter.collect.vcenter import DEFAULT_ENGINE, VCenterCollector
from reporter.config import Config, VCenterConfig
from reporter.core.model import VM, CollectionError, Snapshot, VCenter
from reporter.errors import ConfigError

log = logging.getLogger(__name__)

_PC = vmodl.query.PropertyCollector
STATE_FORMAT = 1
STATE_DIR_NAME = ".state"

# The fallback reasons, as recorded in ``SampleStats.full_because``.
FIRST = "first sample"
SESSION_EXPIRED = "session expired"
FILTER_GONE = "filter gone"
STALE_VERSION = "version unknown or stale"


@dataclass
class FilterState:
    """What a vCenter's previous sample left: enough to ask for the changes since."""

    filter_moid: str
    view_moid: str
    version: str
    vms: dict[str, dict[str, Any]]  # moid -> {path: plain value (convert.VM_VALUES applied)}
    si: Any = field(default=None, repr=False)  # the ServiceInstance the filter was made on (None: unknown yet)
    # In memory only: the VM models of the last sample, and the VMs changed since (None: all).
    models: dict[str, VM] = field(default_factory=dict, repr=False)
    changed: set[str] | None = field(default=None, repr=False)


@dataclass
class SampleStats:
    """How one vCenter's VMs were sampled (for tests, benchmarks and the log)."""

    incremental: bool = False
    full_because: str | None = None
    objects_received: int = 0  # ObjectUpdates applied


class CachedSession(Session):
    """A ``Session`` that first tries an earlier session's cookie instead of logging in."""

    def __init__(self, vc: VCenterConfig, password: str, context: ssl.SSLContext,
                 cookie: str | None = None, api_version: str | None = None) -> None:
        super().__init__(vc, password, context)
        self._cookie = cookie
        self._api_version = api_version
        self.resumed = False

    def login(self) -> None:
        if self._cookie and self._api_version:
            cookie, self._cookie = self._cookie, None
            stub = SoapStubAdapter(host=self.vc.host, port=self.vc.port, version=self._api_version,
                                   sslContext=self._context, httpConnectionTimeout=self.vc.timeout_s)
            stub.cookie = cookie
            self.si = vim.ServiceInstance("ServiceInstance", stub)
            self.content = self.si.RetrieveContent()  # needs no session: a dead cookie shows on the next call
            self.resumed = True
            return
        self.resumed = False
        super().login()

    @property
    def cookie(self) -> str:
        return str(self.si._stub.cookie)

    @property
    def api_version(self) -> str:
        return str(self.si._stub.version)


class IncrementalCollector(VCenterCollector):
    """The light read with the VMs taken from the filter (see the module docstring)."""

    def __init__(self, session: Session, progress: Progress, state: FilterState | None, *,
                 page_size: int = DEFAULT_PAGE_SIZE, engine: str = DEFAULT_ENGINE) -> None:
        super().__init__(session, progress, light=True, page_size=page_size, engine=engine)
        self.state = state
        self.stats = SampleStats()

    def _read_vms(self, session: Session) -> None:
        self.progress.start(self.vc.name, "virtual machines")
        vms_props = self._vm_values(session)
        self._wait_for("hosts")  # the hosts' clusters: read beside this stage (vcenter.VCenterCollector.run)
        st = self.state
        assert st is not None
        # Only VMs that changed, or whose host moved to another cluster, are converted
        # again: 10,000 unchanged models are reused as they are.
        old, changed, host_cluster = st.models, st.changed, self._host_cluster
        vms = {}
        for m, p in vms_props.items():
            vm = old.get(m)
            host = p.get("runtime.host")
            if vm is None or changed is None or m in changed or vm.cluster != (host_cluster.get(host) if host else None):
                try:
                    vm = convert.vram_vm_from(m, p, host_cluster)
                except Exception as exc:  # one odd object must not cost the others
                    self._object_error("vms", m, exc)
                    continue
            vms[m] = vm
        st.models, st.changed = vms, set()
        self.out.vms = vms
        self.progress.done(len(vms))

    def _vm_values(self, session: Session) -> dict[str, dict[str, Any]]:
        st = self.state
        if st is None:
            return self._full(session, FIRST)
        si = session.si  # before the content: a renewal in between shows as a changed si below
        if st.si is not None and st.si is not si:
            return self._full(session, SESSION_EXPIRED)  # logged in again: the old filter died with its session
        st.si = si
        content = session.content
        try:
            # The filter still there? (a filter vCenter discarded just reports nothing)
            retrieve_one(content, _PC.Filter(st.filter_moid, content.propertyCollector._stub), ["partialUpdates"])
        except vmodl.fault.ManagedObjectNotFound:
            # Another stage may have logged in again meanwhile (the resumed session had expired):
            # then the filter is gone with the old session.
            return self._full(session, SESSION_EXPIRED if session.si is not si else FILTER_GONE)
        try:
            self.state = self._apply_updates(session, st, st.version)
        except vmodl.query.InvalidCollectorVersion:
            return self._full(session, STALE_VERSION)
        self.stats.incremental = True
        return self.state.vms

    def _full(self, session: Session, reason: str) -> dict[str, dict[str, Any]]:
        log.debug("%s: full vRAM read (%s)", self.vc.name, reason)
        self.stats = SampleStats(full_because=reason)
        content = session.content
        old = self.state
        if old is not None and old.si is session.si:
            _destroy_quietly(content, old)  # same session: do not leave the stale filter and view behind
        view = content.viewManager.CreateContainerView(content.rootFolder, [vim.VirtualMachine], True)
        spec = _filter_spec(view, vim.VirtualMachine, convert.VRAM_VM_PATHS)
        filt = content.propertyCollector.CreateFilter(spec, partialUpdates=False)
        fresh = FilterState(filter_moid=filt._moId, view_moid=view._moId, version="", vms={}, si=session.si)
        self.state = self._apply_updates(session, fresh, "")
        return self.state.vms

    def _apply_updates(self, session: Session, st: FilterState, version: str) -> FilterState:
        """``WaitForUpdatesEx`` from ``version`` until the server has nothing more; a new state."""
        pc = session.content.propertyCollector
        options = _PC.WaitOptions(maxWaitSeconds=0)
        vms = {} if version == "" else dict(st.vms)
        changed: set[str] = set()
        values = convert.VM_VALUES
        while True:
            result = pc.WaitForUpdatesEx(version, options)
            if result is None:  # nothing changed since ``version``
                break
            version = result.version
            for fu in result.filterSet or []:
                if fu.filter._moId != st.filter_moid:
                    continue  # another filter of this session (an older one of ours): not this read
                for ou in fu.objectSet or []:
                    self.stats.objects_received += 1
                    moid = ou.obj._moId
                    changed.add(moid)
                    if ou.kind == "leave":
                        vms.pop(moid, None)
                        continue
                    props = dict(vms.get(moid, {})) if ou.kind == "modify" else {}
                    for change in ou.changeSet or []:
                        if change.op in ("remove", "indirectRemove") or change.val is None:
                            props.pop(change.name, None)
                        else:
                            conv = values.get(change.name)
                            props[change.name] = conv(change.val) if conv else change.val
                    vms[moid] = props
            if not result.truncated:
                break
        full = st.version == "" or not st.models
        return FilterState(filter_moid=st.filter_moid, view_moid=st.view_moid, version=version, vms=vms,
                           si=session.si, models={} if full else st.models, changed=None if full else changed)


def _destroy_quietly(content: Any, st: FilterState) -> None:
    stub = content.propertyCollector._stub
    try:
        _PC.Filter(st.filter_moid, stub).Destroy()  # DestroyPropertyFilter: our own filter
    except Exception as exc:  # it may already be gone
        log.debug("destroying the old filter failed: %s", exc)
    try:
        vim.view.ContainerView(st.view_moid, stub).DestroyView()
    except Exception as exc:  # it may already be gone
        log.debug("destroying the old view failed: %s", exc)


# --------------------------------------------------------------------------- one vCenter


def _connect_error(vc: VCenterConfig, exc: Exception, progress: Progress) -> CollectionError:
    error_type, reason = describe(exc, vc)
    label = f"{vc.name} ({vc.host}:{vc.port})"
    progress.message(f"{label}: {reason}")
    return CollectionError(vcenter=vc.name, stage="connect", error_type=error_type, message=f"{label}: {reason}")


def sample_one(session: Session, state: FilterState | None, progress: Progress, *, page_size: int,
               engine: str) -> tuple[VCenter, list[CollectionError], FilterState | None, SampleStats]:
    """One vCenter's sample on a logged-in session; the state to keep (None: start over next time)."""
    collector = IncrementalCollector(session, progress, state, page_size=page_size, engine=engine)
    vcenter = collector.run()
    vms_failed = any(e.stage == "vms" and e.object_id is None for e in collector.out.errors)
    return vcenter, collector.out.errors, (None if vms_failed else collector.state), collector.stats


# --------------------------------------------------------------------------- long-running


class VramSampler:
    """Samples kept warm between calls (``vcreport serve``): sessions and filters in memory.

    ``sample()`` returns a Snapshot like ``sample_vram``; ``close()`` logs out.
    ``last_stats`` says per vCenter how its VMs were read.
    """

    def __init__(self, cfg: Config, *, insecure: bool = False, page_size: int = DEFAULT_PAGE_SIZE,
                 engine: str | None = None) -> None:
        self.cfg = cfg
        self.insecure = insecure
        self.page_size = page_size
        self.engine = engine
        self._sessions: dict[str, Session] = {}
        self._states: dict[str, FilterState | None] = {}
        self.last_stats: dict[str, SampleStats] = {}

    def sample(self, *, progress: bool | None = False) -> Snapshot:
        from reporter.collect import _engine, _run

        engine = _engine(self.engine)

        def one(vc: VCenterConfig, password: str, prog: Progress) -> Any:
            session = self._sessions.get(vc.name)
            if session is None or session.si is None:  # first sample, or logging in again failed last time
                session = Session(vc, password, ssl_context(vc, insecure=self.insecure))
                try:
                    session.login()
                except Exception as exc:  # every connect failure is reported the same way
                    session.logout()
                    return _connect_error(vc, exc, prog)
                self._sessions[vc.name] = session
            vcenter, errors, state, stats = sample_one(session, self._states.get(vc.name), prog,
                                                       page_size=self.page_size, engine=engine)
            self._states[vc.name] = state
            self.last_stats[vc.name] = stats
            return vcenter, errors

        return _run(self.cfg, insecure=self.insecure, progress=Progress(progress), light=True,
                    page_size=self.page_size, engine=engine, collect_one=one)

    def close(self) -> None:
        for session in self._sessions.values():
            session.logout()  # vCenter drops the session's filter and view with it
        self._sessions.clear()
        self._states.clear()


# --------------------------------------------------------------------------- one-shot (state file)


def state_dir(cfg: Config) -> Path:
    return Path(cfg.collect.state_dir) if cfg.collect.state_dir else Path(cfg.output.dir) / STATE_DIR_NAME


def state_path(cfg: Config, vc: VCenterConfig) -> Path:
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", vc.name)
    return state_dir(cfg) / f"vram-sample-{safe}.json"


def _private_dir(path: Path) -> None:
    """The state directory: created 0700; refused when someone else can read it."""
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        st = path.stat()
        if st.st_uid == os.getuid() and st.st_mode & 0o077:
            os.chmod(path, 0o700)
        elif st.st_mode & 0o077:
            raise ConfigError(f"state directory {path} is readable by others and not ours to fix: "
                              "set [collect] state_dir to a private directory")
    except OSError as exc:
        raise ConfigError(f"cannot create state directory {path}: {exc.strerror}") from None


@dataclass
class SavedSample:
    cookie: str
    api_version: str
    state: FilterState


def load_state(path: Path, vc: VCenterConfig) -> SavedSample | None:
    """The saved state of this vCenter (same host, port and user), or None."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        if raw.get("format") != STATE_FORMAT or (raw["host"], raw["port"], raw["user"]) != (vc.host, vc.port, vc.user):
            return None
        st = FilterState(filter_moid=raw["filter"], view_moid=raw["view"], version=raw["version"], vms=raw["vms"])
        return SavedSample(cookie=raw["cookie"], api_version=raw["api_version"], state=st)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("%s: ignoring unreadable vRAM sample state %s: %s", vc.name, path, exc)
        return None


def save_state(path: Path, vc: VCenterConfig, session: CachedSession, state: FilterState) -> None:
    """Write the state file atomically, 0600 from its first byte (the cookie is a credential)."""
    _private_dir(path.parent)
    data = {
        "format": STATE_FORMAT, "host": vc.host, "port": vc.port, "user": vc.user,
        "cookie": session.cookie, "api_version": session.api_version,
        "filter": state.filter_moid, "view": state.view_moid, "version": state.version, "vms": state.vms,
    }
    fd, tmp = tempfile.mkstemp(prefix=".vram-", suffix=".tmp", dir=path.parent)  # mkstemp: mode 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, separators=(",", ":"))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def one_shot(cfg: Config, *, insecure: bool, page_size: int, engine: str,
             stats: dict[str, Any] | None = None, progress: Progress | None = None) -> Snapshot:
    """A sample that resumes the previous run's session and filter from the state files."""
    from reporter.collect import _run

    _private_dir(state_dir(cfg))

    def one(vc: VCenterConfig, password: str, prog: Progress) -> Any:
        path = state_path(cfg, vc)
        saved = load_state(path, vc)
        session = CachedSession(vc, password, ssl_context(vc, insecure=insecure),
                                cookie=saved.cookie if saved else None,
                                api_version=saved.api_version if saved else None)
        try:
            session.login()
        except Exception as exc:  # every connect failure is reported the same way
            # The state stays: an unreachable vCenter may still hold the session next time.
            return _connect_error(vc, exc, prog)
        state = saved.state if saved else None
        if state is not None:
            # The filter's own session when the cookie was taken; else a marker no session is.
            state.si = session.si if session.resumed else object()
        vcenter, errors, new_state, sample_stats = sample_one(session, state, prog, page_size=page_size,
                                                              engine=engine)
        if stats is not None:
            stats[vc.name] = sample_stats
        if new_state is None:
            path.unlink(missing_ok=True)
            session.logout()
        else:
            try:
                save_state(path, vc, session, new_state)  # and no logout: the next run resumes this session
            except (OSError, ConfigError) as exc:
                # The sample itself is good; only the next one will be a full read.
                log.warning("%s: cannot keep the vRAM sample state in %s: %s", vc.name, path.parent, exc)
                session.logout()
        return vcenter, errors

    return _run(cfg, insecure=insecure, progress=progress or Progress(False), light=True, page_size=page_size,
                engine=engine, collect_one=one)
