"""The check registry. A check is a module under ``reporter/checks/<family>/``
that defines ``META: CheckMeta`` and ``run(ctx: CheckContext) -> Outcome``.
Adding a check never touches the engine: the registry finds it by walking
this package.
"""

from __future__ import annotations

import importlib
import pkgutil

from reporter.checks.base import Check, CheckContext, CheckMeta, Outcome, Reference, finding, object_id

__all__ = ["Check", "CheckContext", "CheckMeta", "Outcome", "Reference", "finding", "object_id", "all_checks", "load_all"]

_REGISTRY: dict[str, Check] | None = None


def load_all() -> dict[str, Check]:
    global _REGISTRY
    if _REGISTRY is not None:
        return _REGISTRY
    found: dict[str, Check] = {}
    for info in pkgutil.walk_packages(__path__, prefix=__name__ + "."):
        if info.name.endswith(".base"):
            continue
        # Every module is imported (table producers and helpers register themselves);
        # those that define META and run() are checks.
        module = importlib.import_module(info.name)
        meta = getattr(module, "META", None)
        run = getattr(module, "run", None)
        if meta is None or run is None:
            continue
        if not isinstance(meta, CheckMeta):
            raise TypeError(f"{info.name}.META is not a CheckMeta")
        if meta.id in found:
            raise RuntimeError(f"duplicate check id {meta.id} in {info.name}")
        found[meta.id] = Check(meta=meta, run=run)
    _REGISTRY = dict(sorted(found.items()))
    return _REGISTRY


def all_checks() -> list[Check]:
    return list(load_all().values())
