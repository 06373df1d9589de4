"""Collection from vCenter: the only package that imports pyVmomi.

``collect(cfg)`` reads every configured vCenter in bulk (ContainerView +
PropertyCollector pages, see ``retrieve``) and returns a plain ``Snapshot``.
Reads only: no method that changes vCenter state is ever called (the only calls
are login/logout, view creation/destruction for our own views, property reads,
``QueryOptions`` and ``QueryAssignedLicenses``). TLS verification is on unless the
config or ``insecure=True`` turns it off.

A vCenter that cannot be reached or logged in to becomes a ``CollectionError``
(stage ``connect``) and the others are still collected; when none can be, the run
fails with ``ConnectionFailed``.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone

from .. import __version__
from ..config import Config, VCenterConfig
from ..errors import ConfigError, ConnectionFailed
from ..model import CollectionError, Snapshot, VCenter
from .progress import Progress
from .retrieve import DEFAULT_PAGE_SIZE, young_generation_gc
from .session import ConnectError, Session, describe, ssl_context
from .vcenter import VCenterCollector

__all__ = ["collect", "sample_vram", "DEFAULT_PAGE_SIZE"]

log = logging.getLogger(__name__)


def collect(cfg: Config, *, insecure: bool = False, progress: bool | None = None,
            page_size: int = DEFAULT_PAGE_SIZE) -> Snapshot:
    """Full collection of every vCenter in ``cfg`` (see the module docstring)."""
    return _run(cfg, insecure=insecure, progress=Progress(progress), light=False, page_size=page_size)


def sample_vram(cfg: Config, *, insecure: bool = False, progress: bool | None = False,
                page_size: int = DEFAULT_PAGE_SIZE) -> Snapshot:
    """A light collection for frequent vRAM sampling.

    Only what vRAM use and licence pools need: VMs (name, power state, memory, host,
    template flag), hosts (name, CPU packages/cores, cluster, version), clusters, and
    licences with their assignments. Everything else in the snapshot is left empty.
    """
    return _run(cfg, insecure=insecure, progress=Progress(progress), light=True, page_size=page_size)


def _label(vc: VCenterConfig) -> str:
    return f"{vc.name} ({vc.host}:{vc.port})"


def _run(cfg: Config, *, insecure: bool, progress: Progress, light: bool, page_size: int) -> Snapshot:
    if not cfg.vcenter:
        where = f" in {cfg.source}" if cfg.source else ""
        raise ConfigError(f"no [[vcenter]] configured{where}")
    started = datetime.now(timezone.utc)
    vcenters: dict[str, VCenter] = {}
    errors: list[CollectionError] = []
    failed: list[str] = []
    for vc in cfg.vcenter:
        password = vc.resolve_password(vc.name)  # ConfigError: a user mistake, stops the run
        with young_generation_gc():
            result = _collect_one(vc, password, insecure=insecure, progress=progress, light=light,
                                  page_size=page_size)
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
                 page_size: int) -> tuple[VCenter, list[CollectionError]] | CollectionError:
    progress.start(vc.name, f"connecting to {vc.host}:{vc.port}")
    session: Session | None = None
    try:
        session = Session(vc, password, ssl_context(vc, insecure=insecure))
        session.login()
    except Exception as exc:  # noqa: BLE001 - every connect failure is reported the same way
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
        collector = VCenterCollector(session, progress, light=light, page_size=page_size)
        vcenter = collector.run()
        return vcenter, collector.out.errors
    finally:
        session.logout()
