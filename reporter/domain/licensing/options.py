"""What the licensing math takes from the configuration, with the documented defaults."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from reporter.domain.licensing.rules import Rules, load_rules


@dataclass(frozen=True)
class LicensingOptions:
    vram_table: str = "aug2011"  # [licensing] vram_table
    vsan_tib_per_core: dict[str, float] = field(default_factory=dict)  # offering -> TiB per core
    order_minimum_cores: int | None = None  # off unless the config sets it (docs/methodology.md#per-cpu-per-core)
    linked_mode_groups: dict[str, str] = field(default_factory=dict)  # vCenter label -> group name

    @classmethod
    def from_settings(cls, settings: Any | None) -> LicensingOptions:
        """From ``reporter.config.settings.Settings`` (or None: all defaults)."""
        if settings is None:
            return cls()
        lic = getattr(settings, "licensing", None)
        rules = load_rules()
        tib = dict(rules.vsan_tib_per_core)
        if lic is not None:
            tib.update(getattr(lic, "vsan_tib_per_core", {}) or {})
        return cls(
            vram_table=getattr(lic, "vram_table", None) or "aug2011",
            vsan_tib_per_core=tib,
            order_minimum_cores=getattr(lic, "order_minimum_cores", None),
            linked_mode_groups=dict(getattr(settings, "linked_mode_groups", {}) or {}),
        )

    def tib_per_core(self, rules: Rules) -> dict[str, float]:
        merged = dict(rules.vsan_tib_per_core)
        merged.update(self.vsan_tib_per_core)
        return merged

    def key(self) -> tuple[Any, ...]:
        return (self.vram_table, tuple(sorted(self.vsan_tib_per_core.items())), self.order_minimum_cores,
                tuple(sorted(self.linked_mode_groups.items())))
