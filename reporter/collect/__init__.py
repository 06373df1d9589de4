"""Collection from vCenter: the only package that imports pyVmomi.

``collect(cfg)`` reads every configured vCenter in bulk (ContainerView +
PropertyCollector pages) and returns a plain ``Snapshot``. The pages are read by
one of two engines that give the same snapshot: ``fastxml`` (the default: raw SOAP
on pyVmomi's session, parsed with lxml) or ``retrieve`` (pyVmomi deserializes them;
the reference). pyVmomi does everything else: the session, the small calls.
Reads only: no method that changes vCenter state is ever called (the only calls
are login/logout, view creation/destruction for our own views, property reads,
``QueryOptions``, ``QueryAssignedLicenses`` and the host software reads of ``hostconfig``). TLS verification is on unless the
config or ``insecure=True`` turns it off.

vCenters are collected ``[collect] workers`` at a time (default 8), each on its own
session and thread. A vCenter that cannot be reached or logged in to becomes a
``CollectionError`` (stage ``connect``) and the others are still collected; when none
can be, the run fails with ``ConnectionFailed``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from reporter import __version__
from reporter.collect import heap, processes
from reporter.collect.progress import Progress
from reporter.collect.retrieve import DEFAULT_PAGE_SIZE, young_generation_gc
from reporter.collect.session import ConnectError, Logouts, Session, describe, ssl_context
from reporter.collect.vcenter import DEFAULT_ENGINE, ENGINES, VCenterCollector
from reporter.config import Config, VCenterConfig
from reporter.core.model import CollectionError, Snapshot, VCenter
from reporter.errors import ConfigError, ConnectionFailed

__all__ = ["DEFAULT_ENGINE", "DEFAULT_PAGE_SIZE", "ENGINES", "ENGINE_ENV", "collect", "sample_vram"]

ENGINE_ENV = "VCREPORT_COLLECT_ENGINE"

log = logging.getLogger(__name__)


def collect(cfg: Config, *, insecure: bool = False, progress: bool | None = None,
            page_size: int = DEFAULT_PAGE_SIZE, engine: str | None = None) -> Snapshot:
    """Full collection of every vCenter in ``cfg`` (see the module docstring).

    ``engine`` reads the bulk pages: ``"fast"`` (raw SOAP parsed with lxml, the
    default) or ``"pyvmomi"`` (pyVmomi's deserializer, the reference; several times
    slower on large inventories). Both give the same snapshot. Unset, the
    ``VCREPORT_COLLECT_ENGINE`` environment variable decides (an escape hatch for a
    vCenter whose replies the fast engine cannot read), else ``"fast"``.
    """
    return _run(cfg, insecure=insecure, progress=Progress(progress), light=False, page_size=page_size,
                engine=engine)


def sample_vram(cfg: Config, *, insecure: bool = False, progress: bool | None = False,
                page_size: int = DEFAULT_PAGE_SIZE, engine: str | None = None,
                incremental: bool = False, stats: dict[str, Any] | None = None) -> Snapshot:
    """A light collection for frequent vRAM sampling.

    Only what vRAM use and licence pools need: VMs (name, power state, memory, host,
    template flag), hosts (name, CPU packages/cores, cluster, version), clusters, and
    licences with their assignments. Everything else in the snapshot is left empty.

    ``incremental=True`` (``vcreport vram sample``) resumes the previous run's session
    and PropertyCollector filter from the state directory and transfers only the VMs
    that changed (see ``incremental``); ``stats`` receives how each vCenter was read.
    A long-running process keeps an ``incremental.VramSampler`` instead.
    """
    if incremental:
        from reporter.collect.incremental import one_shot

        return one_shot(cfg, insecure=insecure, page_size=page_size, engine=_engine(engine), stats=stats,
                        progress=Progress(progress))
    return _run(cfg, insecure=insecure, progress=Progress(progress), light=True, page_size=page_size,
                engine=engine)


def _label(vc: VCenterConfig) -> str:
    return f"{vc.name} ({vc.host}:{vc.port})"


def _engine(engine: str | None) -> str:
    source = ""
    if engine is None:
        engine = os.environ.get(ENGINE_ENV) or DEFAULT_ENGINE
        source = f" (from {ENGINE_ENV})" if os.environ.get(ENGINE_ENV) else ""
    if engine not in ENGINES:
        raise ConfigError(f"unknown collection engine {engine!r}{source}; choose one of {', '.join(ENGINES)}")
    return engine


Result = tuple[VCenter, list[CollectionError]] | CollectionError

# The smallest page a vCenter read among others is given (see ``shared_page_size``).
MIN_SHARED_PAGE = 100


def shared_page_size(page_size: int, workers: int) -> int:
    """The page size of each of ``workers`` vCenters read at once.

    A page in flight costs memory (its reply and parsed tree, ~50 MB for 1,000 full
    VMs), and every vCenter has up to two; so the pages shrink as more vCenters are
    read together, keeping the objects in flight near those of one vCenter alone
    (2 x ``page_size``). Smaller pages also spread the conversion work between the
    waits. Measured: 12 vCenters x 1,000 VMs at pages of 1,000 peaked at 977 MB,
    at pages of 200 at 488 MB, and finished sooner (benchmarks/RESULTS.md).
    """
    if workers <= 1:
        return page_size
    return max(min(page_size, MIN_SHARED_PAGE), page_size * 2 // workers)
CollectOne = Callable[[VCenterConfig, str, Progress], Result]


def _run(cfg: Config, *, insecure: bool, progress: Progress, light: bool, page_size: int,
         engine: str | None, collect_one: CollectOne | None = None) -> Snapshot:
    """Collect every vCenter; ``collect_one(vc, password, progress)`` reads one (default:
    a new session, a full or light read, logged out after)."""
    engine = _engine(engine)
    if not cfg.vcenter:
        where = f" in {cfg.source}" if cfg.source else ""
        raise ConfigError(f"no [[vcenter]] configured{where}")
    started = datetime.now(UTC)
    # Every password first: a missing one is the user's mistake and stops the run
    # before any vCenter is contacted.
    jobs = [(vc, vc.resolve_password(vc.name)) for vc in cfg.vcenter]
    workers = max(1, min(cfg.collect.workers, len(jobs)))
    page_size = shared_page_size(page_size, workers)
    spread = collect_one is None  # a caller's own reader (the vRAM sampler's cached sessions) keeps its threads
    logouts = Logouts()
    if collect_one is None:
        def collect_one(vc: VCenterConfig, password: str, prog: Progress) -> Result:
            return _collect_one(vc, password, insecure=insecure, progress=prog, light=light,
                                page_size=page_size, engine=engine, logouts=logouts)
    try:
        results = _collect_all(jobs, collect_one, workers=workers, progress=progress, spread=spread,
                               finish=logouts.join)
    finally:
        logouts.join()  # every session of this process logged out before the collection returns
    vcenters: dict[str, VCenter] = {}
    errors: list[CollectionError] = []
    failed: list[str] = []
    for vc, result in zip(cfg.vcenter, results, strict=True):  # config order, however the threads finished
        if isinstance(result, CollectionError):
            errors.append(result)
            failed.append(result.message)
            continue
        vcenter, stage_errors = result
        if vcenter.instance_uuid in vcenters:
            other = vcenters[vcenter.instance_uuid].name
            msg = f"{_label(vc)}: same vCenter (instance UUID {vcenter.instance_uuid}) as {other!r}; skipped"
            errors.append(CollectionError(vcenter=vc.name, stage="connect", error_type="DuplicateVCenter",
                                          message=msg))
            continue
        vcenters[vcenter.instance_uuid] = vcenter
        errors.extend(stage_errors)
    if not vcenters:
        raise ConnectionFailed("no vCenter could be collected: " + "; ".join(failed))
    return Snapshot(collected_at=started, tool_version=__version__, vcenters=vcenters, collection_errors=errors)


def _collect_all(jobs: list[tuple[VCenterConfig, str]], collect_one: CollectOne, *, workers: int,
                 progress: Progress, spread: bool = False, finish: Callable[[], None] | None = None) -> list[Result]:
    """Collect every vCenter, ``workers`` at a time, each on its own session and thread.

    A vCenter's time is mostly waiting for its replies (hundreds of ms per call over
    a WAN), so threads overlap one vCenter's waiting with another's conversion. One
    vCenter's failure, whatever it is, is its own ``CollectionError``: the others
    go on. With ``spread``, several vCenters are also shared out to forked processes, one per
    core (``processes``): the conversion is Python and one process converts on one core only.
    """
    def one(vc: VCenterConfig, password: str, prog: Progress) -> Result:
        try:
            return collect_one(vc, password, prog)
        except Exception as exc:  # a bug or fault in one vCenter must not cost the others
            log.debug("%s: collection failed", vc.name, exc_info=True)
            error_type, reason = describe(exc, vc, during="collection")
            prog.message(f"{_label(vc)}: {reason}")
            return CollectionError(vcenter=vc.name, stage="collect", error_type=error_type,
                                   message=f"{_label(vc)}: {reason}")
        finally:
            if workers > 1:
                heap.release_free_memory()  # this vCenter's pages, freed between the others' objects

    workers = max(1, min(workers, len(jobs)))
    if workers == 1:
        with young_generation_gc():
            return [one(vc, password, progress) for vc, password in jobs]

    def job(item: tuple[VCenterConfig, str, Progress]) -> Result:
        return one(*item)

    def threads(share: list[tuple[VCenterConfig, str, Progress]], run: Callable[[tuple[VCenterConfig, str, Progress]], Result],
                count: int) -> list[Result]:
        with young_generation_gc(), heap.shared_arenas(), \
                ThreadPoolExecutor(max_workers=max(1, min(count, len(share))), thread_name_prefix="collect") as pool:
            return list(pool.map(run, share))

    items = [(vc, password, progress.branch()) for vc, password in jobs]
    count = processes.process_count(len(items), workers) if spread else 1
    if count == 1:
        return threads(items, job, workers)
    return processes.run_shared(items, job, workers=workers, processes=count, threads=threads, finish=finish)


def _collect_one(vc: VCenterConfig, password: str, *, insecure: bool, progress: Progress, light: bool,
                 page_size: int, engine: str, logouts: Logouts | None = None,
                 ) -> tuple[VCenter, list[CollectionError]] | CollectionError:
    """One vCenter: a new session, the read, the logout (in the background with ``logouts``: the
    caller joins them)."""
    progress.start(vc.name, f"connecting to {vc.host}:{vc.port}")
    session: Session | None = None
    try:
        session = Session(vc, password, ssl_context(vc, insecure=insecure))
        session.login()
    except Exception as exc:
        error_type, reason = describe(exc, vc)
        if not isinstance(exc, ConnectError):
            log.debug("%s: connect failed", vc.name, exc_info=True)
        progress.message(f"{_label(vc)}: {reason}")
        if session is not None:
            session.logout()
        return CollectionError(vcenter=vc.name, stage="connect", error_type=error_type,
                               message=f"{_label(vc)}: {reason}")
    progress.done()
    try:
        collector = VCenterCollector(session, progress, light=light, page_size=page_size, engine=engine,
                                     logout_after=True)
        vcenter = collector.run()
        return vcenter, collector.out.errors
    finally:
        if logouts is not None:
            logouts.start(session)
        else:
            session.logout()
