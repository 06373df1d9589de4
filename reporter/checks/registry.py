"""The check registry. A check is a module ``reporter/checks/<family>/<id>_<what>.py`` (for
``SNAP-001``: ``snap_001_age.py``) that defines ``META: CheckMeta`` and
``run(ctx: CheckContext) -> Outcome``; its family is declared once, as ``FAMILY`` in the
package's ``__init__``. Adding a check never touches the engine: the registry finds it by
walking this package.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from types import ModuleType

from reporter.checks.base import Check, CheckContext, CheckFn, CheckMeta, Family
from reporter.checks.grouping import Risk, constant_risk, no_subkey

_REGISTRY: dict[str, Check] = {}
_FAMILIES: dict[str, Family] = {}


def load_all() -> dict[str, Check]:
    """Import every family package and check module once; returns the checks by id."""
    if _REGISTRY:
        return _REGISTRY
    package = importlib.import_module("reporter.checks")
    found: dict[str, Check] = {}
    families: dict[str, Family] = {}
    for info in pkgutil.walk_packages(package.__path__, prefix="reporter.checks."):
        # Every module is imported (table producers and settings register themselves);
        # those that define META and run() are checks.
        module = importlib.import_module(info.name)
        if info.ispkg:
            family = getattr(module, "FAMILY", None)
            if isinstance(family, Family):
                families[family.id] = family
            continue
        meta = getattr(module, "META", None)
        run = getattr(module, "run", None)
        if meta is None or run is None:
            continue
        if not isinstance(meta, CheckMeta):
            raise TypeError(f"{info.name}.META is not a CheckMeta")
        if meta.id in found:
            raise RuntimeError(f"duplicate check id {meta.id} in {info.name}")
        expected = re.sub(r"\W", "_", meta.id.lower()) + "_"
        if not info.name.rsplit(".", 1)[1].startswith(expected):
            raise RuntimeError(f"{info.name}: a check module is named after its id ({expected}…)")
        found[meta.id] = _check(meta, run, module)
    unknown = {c.meta.family for c in found.values()} - families.keys()
    if unknown:
        raise RuntimeError(f"checks name undeclared families: {', '.join(sorted(unknown))}")
    _FAMILIES.update(families)
    _REGISTRY.update(sorted(found.items()))
    return _REGISTRY


def _check(meta: CheckMeta, run: CheckFn, module: ModuleType) -> Check:
    """The check with what its module declares about grouping, sub-keys and risk."""
    risk_of = getattr(module, "risk_of", None)
    if risk_of is None:
        risk = getattr(module, "RISK", Risk.hygiene)
        if not isinstance(risk, Risk):
            raise TypeError(f"{module.__name__}.RISK is not a Risk")
        risk_of = constant_risk(risk)
    return Check(meta=meta, run=run, group_of=getattr(module, "group_of", None),
                 subkey_of=getattr(module, "subkey_of", no_subkey), risk_of=risk_of)


def all_checks() -> list[Check]:
    return list(load_all().values())


def families() -> dict[str, Family]:
    """The declared families in report order."""
    load_all()
    return dict(sorted(_FAMILIES.items(), key=lambda kv: (kv[1].order, kv[0])))


def family_title(family_id: str) -> str:
    family = families().get(family_id)
    return family.title if family else family_id.replace("-", " ").replace("_", " ").capitalize()


def families_missing_inputs(ctx: CheckContext) -> dict[str, str]:
    """Families whose inputs the snapshot lacks altogether (``Family.inputs_missing``): family id
    -> why. Decided once per run; the engine and the family tables both read it."""
    def build() -> dict[str, str]:
        out: dict[str, str] = {}
        for fid, family in families().items():
            why = family.inputs_missing(ctx.snapshot) if family.inputs_missing else None
            if why:
                out[fid] = why
        return out

    return ctx.memo("families.missing_inputs", build)
