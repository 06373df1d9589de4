"""Per-family check settings (thresholds) with documented defaults.

A check family registers one pydantic model; ``[thresholds.<family>]`` in the
config is validated against it. Checks read their family's values with
``settings.get(MyFamilySettings)``. Defaults come from VMware guidance and are
documented on each field.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from reporter.config.sections import Config, LicensingConfig
from reporter.errors import ConfigError

T = TypeVar("T", bound=BaseModel)

_FAMILIES: dict[str, type[BaseModel]] = {}


class FamilySettings(BaseModel):
    """Base for a family's thresholds: strict, so a typo in the config is an error."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def register_settings(family: str) -> Callable[[type[T]], type[T]]:
    """Class decorator: ``@register_settings("snapshots")``."""

    def deco(cls: type[T]) -> type[T]:
        existing = _FAMILIES.get(family)
        if existing is not None and existing is not cls and existing.__qualname__ != cls.__qualname__:
            raise RuntimeError(f"settings family {family!r} registered twice")
        _FAMILIES[family] = cls
        cls.__family__ = family  # type: ignore[attr-defined]
        return cls

    return deco


def registered_families() -> dict[str, type[BaseModel]]:
    """The families registered so far. The check registry imports every family before a
    config is validated (``reporter.checks.registry.load_all``); config never imports checks."""
    return dict(_FAMILIES)


def validate_thresholds(raw: dict[str, dict[str, Any]], source: str) -> dict[str, BaseModel]:
    families = registered_families()
    out: dict[str, BaseModel] = {}
    for family, values in raw.items():
        cls = families.get(family)
        if cls is None:
            known = ", ".join(sorted(families)) or "none"
            raise ConfigError(f"{source}: thresholds.{family}: unknown check family (known: {known})")
        if not isinstance(values, dict):
            raise ConfigError(f"{source}: thresholds.{family}: must be a table")
        try:
            out[family] = cls.model_validate(values)
        except ValidationError as exc:
            first = exc.errors()[0]
            key = ".".join(str(p) for p in first["loc"])
            msg = "unknown key" if first["type"] == "extra_forbidden" else first["msg"]
            raise ConfigError(f"{source}: thresholds.{family}.{key}: {msg}") from None
    return out


@dataclass(frozen=True)
class Settings:
    """Everything a check may read besides the snapshot."""

    thresholds: dict[str, BaseModel] = field(default_factory=dict)
    licensing: LicensingConfig = field(default_factory=LicensingConfig)
    linked_mode_groups: dict[str, str] = field(default_factory=dict)  # vcenter label -> group

    def get(self, cls: type[T]) -> T:
        family = getattr(cls, "__family__", None)
        value = self.thresholds.get(family) if family else None
        if value is None:
            return cls()
        assert isinstance(value, cls)
        return value

    @classmethod
    def from_config(cls, cfg: Config | None) -> Settings:
        if cfg is None:
            return cls()
        if isinstance(cfg._settings, Settings):
            return cfg._settings
        source = str(cfg.source) if cfg.source else "<config>"
        settings = cls(
            thresholds=validate_thresholds(cfg.thresholds, source),
            licensing=cfg.licensing,
            linked_mode_groups={v.name: v.linked_mode_group for v in cfg.vcenter if v.linked_mode_group},
        )
        cfg._settings = settings
        return settings
