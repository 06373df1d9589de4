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

A vCenter that cannot be reached or logged in to becomes a ``CollectionError``
(stage ``connect``) and the others are still collected; when none can be, the run
fails with ``ConnectionFailed``.
"""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime, timezone

from reporter import __version__
from reporter.collect.progress import Progress
from reporter.collect.retrieve import DEFAULT_PAGE_SIZE, young_generation_gc
from reporter.collect.session import ConnectError, Session, describe, ssl_context
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
                page_size: int = DEFAULT_PAGE_SIZE, engine: str | None = None) -> Snapshot:
    """A light collection for frequent vRAM sampling.

    Only what vRAM use and licence pools need: VMs (name, power state, memory, host,
    template flag), hosts (name, CPU packages/cores, cluster, version), clusters, and
    licences with their assignments. Everything else in the snapshot is left empty.
    """
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


def _run(cfg: Config, *, insecure: bool, progress: Progress, light: bool, page_size: int,
         engine: str | None) -> Snapshot:
    engine = _engine(engine)
    if not cfg.vcenter:
        where = f" in {cfg.source}" if cfg.source else ""
        raise ConfigError(f"no [[vcenter]] configured{where}")
    started = datetime.now(UTC)
    vcenters: dict[str, VCenter] = {}
    errors: list[CollectionError] = []
    failed: list[str] = []
    for vc in cfg.vcenter:
        password = vc.resolve_password(vc.name)  # ConfigError: a user mistake, stops the run
        with young_generation_gc():
            result = _collect_one(vc, password, insecure=insecure, progress=progress, light=light,
                                  page_size=page_size, engine=engine)
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


def _collect_one(vc: VCenterConfig, password: str, *, insecure: bool, progress: Progress, light: bool,
                 page_size: int, engine: str) -> tuple[VCenter, list[CollectionError]] | CollectionError:
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
        collector = VCenterCollector(session, progress, light=light, page_size=page_size, engine=engine)
        vcenter = collector.run()
        return vcenter, collector.out.errors
    finally:
        session.logout()
