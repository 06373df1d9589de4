"""Settings of the cpu-mmu family (``[thresholds.cpu-mmu]`` in the config)."""

from __future__ import annotations

from pydantic import Field

from reporter.checks.cpu_mmu import FAMILY
from reporter.config.settings import FamilySettings, register_settings


@register_settings(FAMILY.id)
class CpuMmuSettings(FamilySettings):
    assume_sp2_when_unknown: bool = Field(
        default=True,
        description=(
            "The service pack is not in the vSphere API; some VMware Tools versions put it in the "
            "reported full name (docs/methodology.md#cpu-mmu-win2003). When it is not reported, assume SP2 (the KB's "
            "premise: most Windows 2003 servers are on SP2) and say 'SP2 assumed'. Set false to get a "
            "'confirm SP2 first' warning instead of a recommendation for such VMs."
        ),
    )
    include_powered_off: bool = Field(
        default=True,
        description=(
            "Also report powered-off and suspended VMs. The CPU/MMU setting is read at power-on "
            "(KB2001372), so a powered-off VM picks a change up at its next power-on."
        ),
    )
    include_templates: bool = Field(
        default=False,
        description="Also report templates (VMs deployed from a template inherit its CPU/MMU setting).",
    )
    setting_ignored_from_version: str = Field(
        default="6.7",
        pattern=r"^\d+(\.\d+){0,2}$",
        description=(
            "ESXi version from which the per-VM CPU/MMU setting is no longer supported (vSphere 6.7 VM "
            "administration guide, 'Change CPU/MMU Virtualization Settings'; docs/methodology.md#cpu-mmu-win2003). Used "
            "only when the host does not report whether it ignores the per-VM CPU/MMU setting (hosts "
            "reached through an API version before 6.7 do not report it)."
        ),
    )
    max_candidate_hosts: int = Field(
        default=5, ge=0,
        description="How many hosts of the same cluster that could run the KB's recommended mode to name in a finding.",
    )
