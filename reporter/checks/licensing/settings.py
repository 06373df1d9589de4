"""Thresholds of the licensing family (``[thresholds.licensing]`` in the config)."""

from __future__ import annotations

from pydantic import Field

from reporter.checks.licensing import FAMILY
from reporter.config.settings import FamilySettings, register_settings


@register_settings(FAMILY.id)
class LicensingSettings(FamilySettings):
    headroom_warn_pct: float = Field(
        default=10.0, ge=0, le=100,
        description="A vRAM pool is 'at risk' (LIC-003) when the entitlement left on its 12-month average is "
                    "below this percentage. Site policy; 10 % is roughly one host's worth "
                    "in a 10-CPU pool.",
    )
    at_risk_horizon_days: int = Field(
        default=90, ge=0, le=3650,
        description="A vRAM pool within its entitlement on the 12-month average is 'at risk' when the average "
                    "would go over within this many days if every day's high-water stayed at today's.",
    )
    expiry_warn_days: int = Field(
        default=30, ge=0, le=3650,
        description="LIC-006/LIC-007 warn this many days before a term or evaluation license expires "
                    "(evaluation mode lasts 60 days; hosts disconnect from vCenter when it ends).",
    )
    mismatch_tolerance_gb: float = Field(
        default=1.0, ge=0,
        description="LIC-004 ignores differences up to this many GB between vCenter's reported vRAM and "
                    "the figure computed from the inventory (rounding, VMs changing between reads).",
    )
    top_consumers: int = Field(
        default=20, ge=1, le=10000,
        description="How many VMs the 'top vRAM consumers' table lists per pool.",
    )
    hosts_in_summary_max: int = Field(
        default=50, ge=0,
        description="The per-host core table appears in HTML/PDF up to this many hosts; above it only in "
                    "XLSX/CSV.",
    )
