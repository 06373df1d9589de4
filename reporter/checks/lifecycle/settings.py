"""Settings of the lifecycle family (``[thresholds.lifecycle]``): docs/methodology.md#build-lifecycle."""

from __future__ import annotations

from pydantic import Field

from reporter.checks.lifecycle import FAMILY
from reporter.config.settings import FamilySettings, register_settings
from reporter.domain.lifecycle import DEFAULT_EOGS_WARNING_DAYS


@register_settings(FAMILY.id)
class LifecycleSettings(FamilySettings):
    eogs_warning_days: int = Field(
        default=DEFAULT_EOGS_WARNING_DAYS, ge=0,
        description="Warn this many days before a release's End of General Support (default 180: about the time "
                    "an upgrade project needs).",
    )
