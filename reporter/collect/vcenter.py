"""Collect one vCenter: identity, inventory by object type, host options, licences.

Each stage is read in bulk (see ``retrieve``) and converted as its pages arrive.
A stage that fails is recorded as a ``CollectionError`` with its stage name and the
others still run, so one unreadable part never costs the whole vCenter.
"""

from __future__ import annotations

import copy
import logging
import threading
from collections.abc import Callable
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

# pyVmomi's SOAP stub keeps a pool of 5 connections; stay within it.
HOST_OPTION_WORKERS = 4

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
    errors: list[CollectionError] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what was not collected, without being an error


class VCenterCollector:
    """Reads one logged-in vCenter; ``light=True`` is the vRAM sample (see ``sample_vram``)."""

    def __init__(self, session: Session, progress: Progress, *, light: bool = False,
                 page_size: int = DEFAULT_PAGE_SIZE, engine: str = DEFAULT_ENGINE) -> None:
        self.session = session
        self._retrieve = ENGINES[engine]
        self.vc: VCenterConfig = session.vc
        self.progress = progress
        self.light = light
        self.page_size = page_size
        self.out = Collected()
        self._folder_paths: dict[str, str] = {}
        self._vapps: dict[str, str] = {}
        self._unreadable: dict[str, dict[str, dict[str, str]]] = {}  # stage -> moid -> path -> why
        self._host_cluster: dict[str, str | None] = {}

    # ------------------------------------------------------------------ driver

    def run(self) -> VCenter:
        about = self.session.content.about
        if not self.light:
            self._stage("folders", self._read_folders)
            self._stage("vapps", self._read_vapps)
        self._stage("clusters", self._read_clusters)
        self._stage("hosts", self._read_hosts)
        # Datastores and licences do not depend on the VMs: they are read on a second
        # connection while the VM pages are converted (over a WAN their round trips
        # would otherwise add to the VM stage, the longest). Their errors keep the
        # stage order: datastores, vms, licenses.
        datastores = self._aside("datastores", "_read_datastores") if not self.light else None
        licenses = self._aside("licenses", "_read_licenses")
        before = len(self.out.errors)
        self._stage("vms", self._read_vms)
        vm_errors = self.out.errors[before:]
        del self.out.errors[before:]
        if datastores is not None:
            side = datastores.join()
            self.out.datastores = side.datastores
            self.out.errors += side.errors
        self.out.errors += vm_errors
        side = licenses.join()
        self.out.licenses, self.out.license_assignments = side.licenses, side.license_assignments
        self.out.errors += side.errors
        if not self.light:
            self._stage("host-config", self._read_host_configs)
        if not self.light:
            self._read_tags()
        self._mark_unreadable()
        o = self.out
        hosts = _with_host_configs(o.hosts, o.host_configs)
        return VCenter(
            name=self.vc.name, host=self.vc.host, instance_uuid=about.instanceUuid,
            version=about.version, build=about.build, api_version=about.apiVersion, full_name=about.fullName,
            user=self.vc.user, vms=o.vms, hosts=hosts, clusters=o.clusters, datastores=o.datastores,
            licenses=o.licenses, license_assignments=o.license_assignments, collection_notes=o.notes,
            distributed_switches=o.host_configs.switches if o.host_configs else None,
            distributed_portgroups=o.host_configs.portgroups if o.host_configs else None,
        )

    def _aside(self, stage: str, method: str) -> _Aside:
        """Run one stage in another thread, on a copy of this collector with its own results."""
        side = copy.copy(self)
        side.out = Collected(hosts=self.out.hosts)  # the licence assignments name hosts
        side.progress = self.progress.branch()
        return _Aside(side, stage, getattr(side, method))

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

    def _read(self, stage: str, what: str, vimtype: type, paths: list[str],  # type: ignore[no-untyped-def]
              values: dict[str, Callable[[Any], Any]] | None = None):
        stats = ReadStats()
        self.progress.start(self.vc.name, what)
        yield from self._retrieve(self.session.content, vimtype, paths, page_size=self.page_size, stats=stats,
                                  on_page=self.progress.count, values=values,
                                  on_error=lambda moid, exc: self._object_error(stage, moid, exc))
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
        self._folder_paths = convert.folder_paths(objects)

    def _read_vapps(self, session: Session) -> None:
        objects = list(self._read("vapps", "vApps", vim.VirtualApp, convert.VAPP_PATHS))
        paths, self._vapps = convert.vapp_paths(objects, self._folder_paths)
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
        options: dict[str, tuple[dict[str, Any], dict[str, str]]] = {}
        if not self.light:
            options = self._host_options(raw)
        hosts = {}
        for m, p in raw:
            try:
                fields = convert.host_fields(p)
                fields["name"] = fields["name"] or m
                opts, errs = options.get(m, ({}, {}))
                hosts[m] = Host(moid=m, advanced_options=opts, advanced_option_errors=errs, **fields)
            except Exception as exc:
                self._object_error("hosts", m, exc)
                continue
            self._host_cluster[m] = fields["cluster"]
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
                errors[key] = f"host is {state or 'in an unknown state'}: option not readable"
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
        vms: dict[str, VM] = {}
        host_cluster = self._host_cluster
        if self.light:
            for m, p in self._read("vms", "virtual machines", vim.VirtualMachine, convert.VRAM_VM_PATHS,
                                   convert.VM_VALUES):
                try:
                    vms[m] = convert.vram_vm_from(m, p, host_cluster)
                except Exception as exc:
                    self._object_error("vms", m, exc)
        else:
            paths = self._folder_paths
            vm_from = convert.vm_from
            for m, p in self._read("vms", "virtual machines", vim.VirtualMachine, convert.VM_PATHS,
                                   convert.VM_VALUES):
                try:
                    vms[m] = vm_from(m, p, paths, host_cluster, self._vapps)
                except Exception as exc:
                    self._object_error("vms", m, exc)
        self.out.vms = vms

    def _read_host_configs(self, session: Session) -> None:
        """Networking, identity, distributed switches and host software (``hostconfig``)."""
        vm_host = {m: vm.host for m, vm in self.out.vms.items()}

        def read(stage: str, what: str, vimtype: type, paths: list[str]) -> Any:
            return self._read(stage, what, vimtype, paths)

        def software_progress(n: int) -> None:
            if n == 1:
                self.progress.start(self.vc.name, "host software")
            self.progress.count(n)

        self.out.host_configs = hostconfig.read_host_configs(
            read, self.session.si._stub, self.vc, vm_host, self._object_error, software_progress)
        if self.out.host_configs.software:
            self.progress.done(len(self.out.host_configs.software))
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
        vms = self.out.vms
        for m, vm in vms.items():  # in place: each old VM is freed as its copy replaces it
            vms[m] = share_fields_set(vm.model_copy(update={"tags": data.of("VirtualMachine", m)}))
        self.progress.done(len(data.tags))

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
        host_names = {m: h.name for m, h in self.out.hosts.items()}
        uuid = content.about.instanceUuid
        self.out.license_assignments = [convert.assignment_from(a, host_names, uuid) for a in assigned or []]


class _Aside:
    """A stage running in its own thread; ``join`` gives its results."""

    def __init__(self, collector: VCenterCollector, stage: str, fn: Callable[[Session], None]) -> None:
        self.collector = collector
        self._thread = threading.Thread(target=collector._stage, args=(stage, fn), daemon=True,
                                        name=f"{collector.vc.name}-{stage}")
        self._thread.start()

    def join(self) -> Collected:
        self._thread.join()
        return self.collector.out
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
