"""Settings of the network family (``[thresholds.network]``): docs/methodology.md#nic-teaming."""

from __future__ import annotations

from pydantic import Field

from reporter.checks.network import FAMILY
from reporter.config.settings import FamilySettings, register_settings
from reporter.domain.network import DEFAULT_MIN_UPLINKS


@register_settings(FAMILY.id)
class NetworkSettings(FamilySettings):
    min_uplinks: int = Field(
        default=DEFAULT_MIN_UPLINKS, ge=1,
        description="Fewest uplinks (active + standby) a port group carrying VM or VMkernel traffic may have. "
                    "2: one uplink is a single point of failure.",
    )
    ignore_portgroups: list[str] = Field(
        default_factory=list,
        description="Port group name globs (case-insensitive) left out of every network check, e.g. "
                    "isolated test networks without uplinks on purpose (\"isolated-*\").",
    )
