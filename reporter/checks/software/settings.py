"""Settings of the software family (``[thresholds.software]``): docs/methodology.md#host-software."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from reporter.checks.software import FAMILY
from reporter.config.settings import FamilySettings, register_settings


@register_settings(FAMILY.id)
class SoftwareSettings(FamilySettings):
    target_release: Literal["7.0", "8.0"] = Field(
        default="8.0",
        description="The ESXi release the upgrade-readiness verdict is for: \"8.0\" (default) or \"7.0\".",
    )
    minimum_vib_acceptance: Literal["VMwareCertified", "VMwareAccepted", "PartnerSupported"] = Field(
        default="VMwareAccepted",
        description="VIBs below this acceptance level are listed (default VMwareAccepted: PartnerSupported and "
                    "CommunitySupported VIBs are not tested by VMware). PartnerSupported: list community VIBs only.",
    )
