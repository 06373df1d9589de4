"""Collect one vCenter: identity, inventory by object type, host options, licences.

Each stage is read in bulk (see ``retrieve``) and converted as its pages arrive.
A stage that fails is recorded as a ``CollectionError`` with its stage name and the
others still run, so one unreadable part never costs the whole vCenter.

Over a WAN every call waits a round trip (hundreds of ms), so the stages do not wait
for each other: each runs in its own thread on its own pooled connection of the
session. A stage waits only for what it converts with: the VMs for the folder paths,
vApps and hosts' clusters (their reads are short and usually done before the first VM
arrives), the vApps for the folders, the licence assignments for the host names. What
needs the VMs (the port groups' VMs, the tags on the VMs) is put together after them.
So one vCenter takes about: login (3 round trips), the VMs' view and its list (2, see
``listed``), the VM read, the logout (1) — however many object types there are. Each read keeps its own view: a view
shared by all would hide an expired session, as some servers answer a read through the
view of an ended session with nothing instead of ``NotAuthenticated`` (for the same
reason an empty read is checked against the session, see ``_read``). The errors come
out in the order of the stages (``STAGE_ORDER``), whichever finished first.
"""

from __future__ import annotations

import copy
import logging
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from pyVmomi import vim, vmodl

from reporter.collect import convert, fastxml, hostconfig, retrieve, tags
from reporter.collect.progress import Progress
from reporter.collect.retrieve import DEFAULT_PAGE_SIZE, ReadStats, retrieve_one
from reporter.collect.session import Session, describe
from reporter.config import VCenterConfig
from reporter.core import states
from reporter.core.model import (
    VM,
    Cluster,
    CollectionError,
    Datastore,
    Host,
    License,
    LicenseAssignment,
    VCenter,
    share_fields_set,
)

log = logging.getLogger(__name__)

# Per-host calls in parallel, over the session's pool of connections (session.POOL_SIZE).
HOST_OPTION_WORKERS = 4

# The order of a vCenter's errors (by stage; within a stage, as they came).
STAGE_ORDER = ("connect", "folders", "vapps", "clusters", "hosts", "datastores", "vms", "licenses",
               "license-assignments", "distributed-switches", "host-config", "tags")
_STAGE_RANK = {name: n for n, name in enumerate(STAGE_ORDER)}

# Read engines: "fast" parses the bulk pages with lxml (fastxml), "pyvmomi" lets
# pyVmomi deserialize them (retrieve; the reference). Both give the same snapshot.
ENGINES = {"fast": fastxml.retrieve, "pyvmomi": retrieve.retrieve}
DEFAULT_ENGINE = "fast"


@dataclass
class Collected:
    vms: dict[str, VM] = field(default_factory=dict)
    hosts: dict[str, Host] = field(default_factory=dict)
    clusters: dict[str, Cluster] = field(default_factory=dict)
    datastores: dict[str, Datastore] = field(default_factory=dict)
    licenses: list[License] | None = None
    license_assignments: list[LicenseAssignment] | None = None
    host_configs: hostconfig.HostConfigs | None = None  # None = not read (light sample, stage failed)
    host_data: hostconfig.HostData | None = None  # read beside the VMs, completed after them
    tag_data: tags.TagData | None = None
    vm_networks: dict[str, list[str]] = field(default_factory=dict)  # VM moid -> network moids
    errors: list[CollectionError] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what was not collected, without being an error


class VCenterCollector:
    """Reads one logged-in vCenter; ``light=True`` is the vRAM sample (see ``sample_vram``).

    ``logout_after``: the session is logged out right after ``run``, and the reads' views
    with it (a view lives until ``DestroyView`` or the end of its session); otherwise each
    read destroys its view (a session kept for the next sample must not gather views).
    """

    def __init__(self, session: Session, progress: Progress, *, light: bool = False,
                 page_size: int = DEFAULT_PAGE_SIZE, engine: str = DEFAULT_ENGINE,
                 logout_after: bool = False) -> None:
        self.session = session
        self._retrieve = ENGINES[engine]
        self.vc: VCenterConfig = session.vc
        self.progress = progress
        self.light = light
        self.page_size = page_size
        self.logout_after = logout_after
        self.out = Collected()
        # Shared by the stages (each runs on a shallow copy of this collector, see ``_start``):
        # filled in place, never rebound.
        self._folder_paths: dict[str, str] = {}
        self._vapps: dict[str, str] = {}
        self._unreadable: dict[str, dict[str, dict[str, str]]] = {}  # stage -> moid -> path -> why
        self._host_cluster: dict[str, str | None] = {}
        self._host_names: dict[str, str] = {}
        self._ready: dict[str, threading.Event] = {}  # stage -> its results are there (or it failed)

    # ------------------------------------------------------------------ driver

    def run(self) -> VCenter:
        about = self.session.content.about
        full = not self.light
        stages: list[threading.Thread] = []
        if full:
            stages += [self._start("folders", "_read_folders"), self._start("vapps", "_read_vapps")]
        stages += [self._start("clusters", "_read_clusters"), self._start("hosts", "_read_hosts")]
        if full:
            stages += [self._start("datastores", "_read_datastores"), self._start("host-config", "_read_host_data"),
                       self._start("tags", None)]
        stages.append(self._start("licenses", "_read_licenses"))
        self._stage("vms", self._read_vms)  # here: the longest stage keeps the live progress line
        for thread in stages:
            thread.join()
        if full and self.out.host_data is not None:
            self._stage("host-config", self._complete_host_configs)
        if full:
            self._apply_tags()
        self._mark_unreadable()
        o = self.out
        o.errors.sort(key=lambda e: _STAGE_RANK.get(e.stage, len(STAGE_ORDER)))  # stable: in-stage order kept
        hosts = _with_host_configs(o.hosts, o.host_configs)
        return VCenter(
            name=self.vc.name, host=self.vc.host, instance_uuid=about.instanceUuid,
            version=about.version, build=about.build, api_version=about.apiVersion, full_name=about.fullName,
            user=self.vc.user, vms=o.vms, hosts=hosts, clusters=o.clusters, datastores=o.datastores,
            licenses=o.licenses, license_assignments=o.license_assignments, collection_notes=o.notes,
            distributed_switches=o.host_configs.switches if o.host_configs else None,
            distributed_portgroups=o.host_configs.portgroups if o.host_configs else None,
        )

    def _start(self, stage: str, method: str | None) -> threading.Thread:
        """Run one stage (a ``_read_*`` method, None: the tags) in its own thread, on a copy of
        this collector with its own progress lines (results and shared maps are the same objects)."""
        side = copy.copy(self)
        side.progress = self.progress.branch()
        ready = self._ready[stage] = threading.Event()

        def run() -> None:
            try:
                if method is None:
                    side._read_tags()
                else:
                    side._stage(stage, getattr(side, method))
            finally:
                ready.set()

        thread = threading.Thread(target=run, daemon=True, name=f"{self.vc.name}-{stage}")
        thread.start()
        return thread

    def _mark_ready(self, stage: str) -> None:
        event = self._ready.get(stage)
        if event is not None:
            event.set()

    def _wait_for(self, *stages: str) -> None:
        """Until those stages (the ones this run started) have their results, or failed."""
        for stage in stages:
            event = self._ready.get(stage)
            if event is not None:
                event.wait()

    def _stage(self, stage: str, fn: Callable[[Session], None]) -> None:
        try:
            self.session.call(fn)
        except Exception as exc:
            error_type, reason = describe(exc, self.vc, during=f"reading {stage}")
            log.debug("%s: stage %s failed", self.vc.name, stage, exc_info=True)
            self.error(stage, error_type, reason)
            self.progress.message(f"{self.vc.name}: {stage}: {reason}")

    def error(self, stage: str, error_type: str, message: str, object_id: str | None = None) -> None:
        self.out.errors.append(CollectionError(
            vcenter=self.vc.name, stage=stage, error_type=error_type, message=message, object_id=object_id))

    def _read(self, stage: str, what: str, vimtype: type, paths: list[str],
              values: dict[str, Callable[[Any], Any]] | None = None,
              listed: bool = False) -> Iterator[tuple[str, dict[str, Any]]]:
        stats = ReadStats()
        self.progress.start(self.vc.name, what)
        si = self.session.si
        yielded = 0
        # listed (the fast engine): the view's objects listed first, then read in requests asked for ahead
        extra = {"listed": True} if listed and self._retrieve is fastxml.retrieve else {}
        for item in self._retrieve(self.session.content, vimtype, paths, page_size=self.page_size, stats=stats,
                                   on_page=self.progress.count, values=values,
                                   on_error=lambda moid, exc: self._object_error(stage, moid, exc),
                                   keep_view=self.logout_after, **extra):
            yielded += 1
            yield item
        # Some servers (vcsim) answer a read through the view of an ended session with no objects
        # rather than NotAuthenticated, and with the stages at once another stage's expiry or
        # renewal can end the session under this read. An empty read, or one that overlapped a
        # renewal, is therefore only believed on a live session; otherwise the stage runs again
        # (``Session.call``) on a new one.
        if not yielded and not stats.objects:
            self.session.ensure_alive()
        if self.session.si is not si:
            raise vim.fault.NotAuthenticated(msg="the session was renewed during this read")
        self.progress.done(stats.objects)
        self._report_missing(stage, stats)

    def _object_error(self, stage: str, moid: str, exc: Exception) -> None:
        """An object whose data could not be converted is left out, with the reason."""
        log.debug("%s: %s %s not converted", self.vc.name, stage, moid, exc_info=True)
        if isinstance(exc, ValidationError):
            first = exc.errors()[0]
            where = ".".join(str(x) for x in first["loc"])
            detail = f"{where}: {first['msg']}"
        else:
            detail = (str(exc).splitlines() or [""])[0] or type(exc).__name__
        self.error(stage, type(exc).__name__, f"{moid} left out: unexpected data ({detail})", object_id=moid)

    def _report_missing(self, stage: str, stats: ReadStats) -> None:
        # One error per (property, fault), not one per object: 10,000 identical
        # "NoPermission on config.extraConfig" lines help nobody.
        groups: dict[tuple[str, str], list[str]] = {}
        per_object = self._unreadable.setdefault(stage, {})
        for m in stats.missing:
            groups.setdefault((m.path, m.fault), []).append(m.moid)
            per_object.setdefault(m.moid, {})[m.path] = m.reason
        for (path, fault), ids in groups.items():
            more = f" and {len(ids) - 1} more" if len(ids) > 1 else ""
            self.error(stage, fault, f"property {path} could not be read ({fault}) on {ids[0]}{more}",
                       object_id=ids[0])

    def _mark_unreadable(self) -> None:
        """Each object records the properties it could not read (``unreadable``): unknown, not unset."""
        o = self.out
        kinds: tuple[tuple[str, dict[str, Any]], ...] = (
            ("vms", o.vms), ("hosts", o.hosts), ("datastores", o.datastores), ("clusters", o.clusters))
        for stage, objects in kinds:
            for moid, paths in self._unreadable.get(stage, {}).items():
                obj = objects.get(moid)
                if obj is not None:
                    objects[moid] = share_fields_set(obj.model_copy(update={"unreadable": dict(sorted(paths.items()))}))

    # ------------------------------------------------------------------ stages

    def _read_folders(self, session: Session) -> None:
        objects = list(self._read("folders", "folders", vim.Folder, convert.FOLDER_PATHS))
        objects += self._read("folders", "datacenters", vim.Datacenter, convert.FOLDER_PATHS)
        self._folder_paths.update(convert.folder_paths(objects))

    def _read_vapps(self, session: Session) -> None:
        objects = list(self._read("vapps", "vApps", vim.VirtualApp, convert.VAPP_PATHS))
        self._wait_for("folders")
        paths, vapps = convert.vapp_paths(objects, self._folder_paths)
        self._vapps.update(vapps)
        self._folder_paths.update(paths)  # VMs in a vApp take its path as their folder path

    def _convert_each(self, stage: str, label: str, vimtype: type, paths: list[str],
                      convert_one: Callable[[str, dict[str, Any]], Any]) -> dict[str, Any]:
        """Read one object type and convert each object; one odd object must not cost the others."""
        out: dict[str, Any] = {}
        for m, p in self._read(stage, label, vimtype, paths):
            try:
                out[m] = convert_one(m, p)
            except Exception as exc:
                self._object_error(stage, m, exc)
        return out

    def _read_clusters(self, session: Session) -> None:
        self.out.clusters = self._convert_each("clusters", "clusters", vim.ClusterComputeResource,
                                               convert.CLUSTER_PATHS, convert.cluster_from)

    def _read_hosts(self, session: Session) -> None:
        paths = convert.VRAM_HOST_PATHS if self.light else convert.HOST_PATHS
        raw = list(self._read("hosts", "hosts", vim.HostSystem, paths))
        fields_of: dict[str, dict[str, Any]] = {}
        for m, p in raw:
            try:
                fields = convert.host_fields(p)
            except Exception as exc:
                self._object_error("hosts", m, exc)
                continue
            fields["name"] = fields["name"] or m
            fields_of[m] = fields
            self._host_cluster[m] = fields["cluster"]
            self._host_names[m] = fields["name"]
        self._mark_ready("hosts")  # what the VMs and licence assignments wait for; not the options
        options: dict[str, tuple[dict[str, Any], dict[str, str]]] = {}
        if not self.light:
            options = self._host_options(raw)
        hosts = {}
        for m, fields in fields_of.items():
            opts, errs = options.get(m, ({}, {}))
            try:
                hosts[m] = Host(moid=m, advanced_options=opts, advanced_option_errors=errs, **fields)
            except Exception as exc:
                self._object_error("hosts", m, exc)
        self.out.hosts = hosts

    def _host_options(self, raw: list[tuple[str, dict[str, Any]]]) -> dict[str, tuple[dict[str, Any], dict[str, str]]]:
        """``QueryOptions(key)`` once per connected host and key (docs/methodology.md#collection and #disk-scheduler).

        ``InvalidName`` means the option is not set on that host: value None, no
        error. Any other failure makes just that value unknown, with the reason.
        These are small per-host calls, so a few run in parallel over the session's
        connection pool (it matters over a WAN: 500 hosts x 2 keys x 50 ms).
        """
        stub = self.session.si._stub
        out: dict[str, tuple[dict[str, Any], dict[str, str]]] = {}
        self.progress.start(self.vc.name, "host options")
        with ThreadPoolExecutor(max_workers=HOST_OPTION_WORKERS, thread_name_prefix="host-options") as pool:
            futures = [pool.submit(self._options_of_host, stub, m, p) for m, p in raw]
            for n, future in enumerate(as_completed(futures), 1):
                m, values, errors = future.result()  # re-raises NotAuthenticated: the stage is retried
                out[m] = (values, errors)
                self.progress.count(n)
        self.progress.done(len(raw))
        return out

    def _options_of_host(self, stub: Any, m: str, p: dict[str, Any]) -> tuple[str, dict[str, Any], dict[str, str]]:
        values: dict[str, Any] = {}
        errors: dict[str, str] = {}
        state = convert.text(p.get("runtime.connectionState"))
        ref = p.get("configManager.advancedOption")
        for key in convert.HOST_OPTION_KEYS:
            if state != "connected":
                errors[key] = states.host_not_readable(state or None, "option")
            elif ref is None:
                errors[key] = "host has no advanced option manager (configManager.advancedOption unset)"
            else:
                try:
                    values[key] = _query_option(vim.option.OptionManager(ref._moId, stub), key)
                except vim.fault.NotAuthenticated:
                    raise
                except (vmodl.MethodFault, OSError) as exc:
                    errors[key] = describe(exc, self.vc, during=f"QueryOptions({key})")[1]
        return m, values, errors

    def _read_datastores(self, session: Session) -> None:
        self.out.datastores = self._convert_each("datastores", "datastores", vim.Datastore,
                                                 convert.DATASTORE_PATHS, convert.datastore_from)

    def _read_vms(self, session: Session) -> None:
        """Every VM; converted once the folders, vApps and hosts it refers to are known (its
        read is already under way by then: the request went out first)."""
        vms: dict[str, VM] = {}
        host_cluster = self._host_cluster
        first = True
        if self.light:
            for m, p in self._read("vms", "virtual machines", vim.VirtualMachine, convert.VRAM_VM_PATHS,
                                   convert.VM_VALUES):
                if first:
                    self._wait_for("hosts")
                    first = False
                try:
                    vms[m] = convert.vram_vm_from(m, p, host_cluster)
                except Exception as exc:
                    self._object_error("vms", m, exc)
        else:
            paths = self._folder_paths
            vm_from = convert.vm_from
            networks = self.out.vm_networks
            networks.clear()  # a retried stage starts over
            values = {**convert.VM_VALUES, hostconfig.VM_NETWORK_PATH: convert.moids}
            for m, p in self._read("vms", "virtual machines", vim.VirtualMachine,
                                   [*convert.VM_PATHS, hostconfig.VM_NETWORK_PATH], values, listed=True):
                if first:
                    self._wait_for("folders", "vapps", "hosts")
                    first = False
                networks[m] = p.pop(hostconfig.VM_NETWORK_PATH, None) or []
                try:
                    vms[m] = vm_from(m, p, paths, host_cluster, self._vapps)
                except Exception as exc:
                    self._object_error("vms", m, exc)
        self.out.vms = vms

    def _read_host_data(self, session: Session) -> None:
        """Networking, identity, distributed switches and host software (``hostconfig``),
        read beside the VMs; ``_complete_host_configs`` adds the VMs after."""
        def read(stage: str, what: str, vimtype: type, paths: list[str]) -> Any:
            return self._read(stage, what, vimtype, paths)

        def software_progress(n: int) -> None:
            if n == 1:
                self.progress.start(self.vc.name, "host software")
            self.progress.count(n)

        self.out.host_data = hostconfig.read_host_data(read, self.session.si._stub, self.vc, self._object_error,
                                                       software_progress)
        if self.out.host_data.software:
            self.progress.done(len(self.out.host_data.software))

    def _complete_host_configs(self, session: Session) -> None:
        assert self.out.host_data is not None
        vm_host = {m: vm.host for m, vm in self.out.vms.items()}
        self.out.host_configs = hostconfig.host_configs(self.out.host_data, self.out.vm_networks, vm_host,
                                                        self._object_error)

    def _read_tags(self) -> None:
        """VM tags from the vAPI REST endpoint (``collect.tags``); without it, a note."""
        self.progress.start(self.vc.name, "tags")
        client = tags.RestClient(self.vc.host, self.vc.port, self.session.tls_context, self.vc.timeout_s)
        try:
            data = tags.read_tags(client, self.vc.user, self.session.rest_password())
        except tags.TagsUnavailable as exc:
            self.progress.done()
            self.out.notes.append(f"tags not collected: {exc}")
            return
        except Exception as exc:
            self.progress.done()
            log.debug("%s: tags failed", self.vc.name, exc_info=True)
            self.error("tags", type(exc).__name__, f"tags not collected: {exc}")
            return
        self.out.tag_data = data
        self.progress.done(len(data.tags))

    def _apply_tags(self) -> None:
        data = self.out.tag_data
        if data is not None:
            vms = self.out.vms
            for m, vm in vms.items():  # in place: each old VM is freed as its copy replaces it
                vms[m] = share_fields_set(vm.model_copy(update={"tags": data.of("VirtualMachine", m)}))

    def _read_licenses(self, session: Session) -> None:
        content = session.content
        lm = content.licenseManager
        if lm is None:
            self.error("licenses", "NotAvailable", "this endpoint has no LicenseManager")
            return
        try:
            props = retrieve_one(content, lm, ["licenses", "licenseAssignmentManager"])
        except vim.fault.NotAuthenticated:
            raise
        except vim.fault.NoPermission as exc:
            self.out.licenses = None
            self.error("licenses", "NoPermission", describe(exc, self.vc, during="reading licenses")[1]
                       + " — licence data needs the Global.Licenses privilege")
            return
        self.out.licenses = [convert.license_from(info) for info in props.get("licenses") or []]
        lam = props.get("licenseAssignmentManager")
        if lam is None:
            return
        try:
            assigned = lam.QueryAssignedLicenses()
        except vim.fault.NotAuthenticated:
            raise
        except (vmodl.MethodFault, OSError) as exc:
            error_type, reason = describe(exc, self.vc, during="QueryAssignedLicenses")
            self.error("license-assignments", error_type, reason)
            return
        self._wait_for("hosts")
        host_names = dict(self._host_names)
        uuid = content.about.instanceUuid
        self.out.license_assignments = [convert.assignment_from(a, host_names, uuid) for a in assigned or []]


def _with_host_configs(hosts: dict[str, Host], configs: hostconfig.HostConfigs | None) -> dict[str, Host]:
    if configs is None:
        return hosts
    return {m: h.model_copy(update={"network": configs.network.get(m), "system": configs.system.get(m),
                                    "software": configs.software.get(m)})
            for m, h in hosts.items()}


def _query_option(manager: Any, key: str) -> Any:
    try:
        found = manager.QueryOptions(key)
    except vim.fault.InvalidName:
        return None
    # QueryOptions matches by prefix (a key ending in "." lists a subtree): keep the exact key only.
    for opt in found or []:
        if opt.key == key:
            return convert.jsonable(opt.value)
    return None
