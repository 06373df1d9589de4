"""Settings of the cbt family (``[thresholds.cbt]`` in the config): which VMs backups cover.

CBT matters for VMs that an image-level backup product protects (docs/methodology.md#cbt).
The report cannot see the backup product's job list, so the scope is a setting: by
default every powered-on VM; or the VMs matching any of the tag, folder or name
selectors below.
"""

from __future__ import annotations

from pydantic import Field

from reporter.checks.cbt import FAMILY
from reporter.config.settings import FamilySettings, register_settings


@register_settings(FAMILY.id)
class CbtSettings(FamilySettings):
    scope_tags: list[str] = Field(
        default_factory=list,
        description=(
            "VMs carrying one of these vSphere tags are in backup scope: \"Category/Tag\" or just \"Tag\" "
            "(any category), case-insensitive. Needs tags in the snapshot file; when they were not "
            "collected, the report says so instead of guessing."
        ),
    )
    scope_folders: list[str] = Field(
        default_factory=list,
        description=(
            "VM folders in backup scope, as inventory paths like \"/DC/vm/prod\" (the folder and its "
            "subfolders) or globs like \"/DC*/vm/prod-*\"."
        ),
    )
    scope_name_patterns: list[str] = Field(
        default_factory=list,
        description="VM name globs in backup scope (case-insensitive), e.g. \"sql-*\".",
    )
    exclude_name_patterns: list[str] = Field(
        default_factory=list,
        description="VM name globs never in backup scope (case-insensitive), e.g. \"*-test\", \"vdi-*\".",
    )
    scope_include_powered_off: bool = Field(
        default=False,
        description=(
            "Also count powered-off and suspended VMs as in scope. Default off: the default scope is "
            "'all powered-on VMs'. CBT settings of a powered-off VM take effect at its next power-on."
        ),
    )
