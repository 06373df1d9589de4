"""Settings of the snapshots family (``[thresholds.snapshots]`` in the config).

Defaults follow VMware's "Best practices for using snapshots in the vSphere environment"
(KB1025279, docs/methodology.md#snapshot-hygiene): snapshots are not backups, keep one no longer than
24–72 hours, use 2–3 in a chain (32 is the supported maximum). Where VMware publishes
no number (size), the default is a site policy and says so.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from reporter.checks.snapshots import FAMILY
from reporter.config.settings import FamilySettings, register_settings

# docs/methodology.md#snapshot-hygiene: names backup products give the snapshots they take (a failed job
# leaves them behind). Matched case-insensitively as substrings of the snapshot name.
DEFAULT_BACKUP_PATTERNS = (
    "VEEAM BACKUP TEMPORARY SNAPSHOT",
    "Consolidate Helper",
    "_VCB-BACKUP_",
    "NBU_SNAPSHOT",
    "Commvault",
    "Avamar",
    "VDP",
    "Restore Point",
)

MAX_SUPPORTED_CHAIN = 32  # KB1025279: at most 32 snapshots in a chain are supported


@register_settings(FAMILY.id)
class SnapshotSettings(FamilySettings):
    age_warn_days: float = Field(
        default=3.0, gt=0,
        description=(
            "A snapshot older than this many days is reported (warning tier, medium). KB1025279: do not "
            "keep a snapshot longer than 24–72 hours; the default is the upper bound, 72 hours."
        ),
    )
    age_high_days: float = Field(
        default=7.0, gt=0,
        description=(
            "From this age on the finding is high severity. Site policy (VMware gives one limit, 72 h): "
            "a week is more than twice the guidance, by then a delta has usually grown large."
        ),
    )
    max_chain_depth: int = Field(
        default=3, ge=1, le=MAX_SUPPORTED_CHAIN,
        description=(
            "Report a VM whose running point sits on a chain of more than this many snapshots. "
            "KB1025279 recommends 2–3 for performance; 32 is the supported maximum (at 32 the "
            "finding is high severity: no further snapshot, so no snapshot-based backup, can be taken)."
        ),
    )
    size_warn_gb: float = Field(
        default=100.0, gt=0,
        description=(
            "Report a VM whose snapshots hold more than this many GB on disk (sum of their delta and "
            "memory files, from the VM's file layout as vCenter reports it). Site policy: VMware publishes no size limit; KB1025279 notes "
            "a delta can grow to the size of its base disk."
        ),
    )
    pct_of_free_warn: float = Field(
        default=50.0, gt=0,
        description=(
            "Report a VM whose snapshot files on a datastore amount to this percentage of that "
            "datastore's free space or more (medium). Deleting or consolidating needs free space, "
            "worst case the size of the deltas being merged (KB1025279)."
        ),
    )
    pct_of_free_high: float = Field(
        default=100.0, gt=0,
        description=(
            "From this percentage of the datastore's free space on the finding is high severity: a "
            "worst-case consolidation may not fit, and a full datastore stops every VM on it that needs "
            "to write to a thin disk or delta."
        ),
    )
    backup_snapshot_patterns: list[str] = Field(
        default_factory=lambda: list(DEFAULT_BACKUP_PATTERNS),
        description=(
            "Snapshot names that backup products use (docs/methodology.md#snapshot-hygiene). A name containing one of "
            "these (case-insensitive) is treated as a backup snapshot. Add your product's names here."
        ),
    )
    backup_snapshot_grace_hours: float = Field(
        default=24.0, ge=0,
        description=(
            "A backup snapshot younger than this may belong to a job still running; only older ones "
            "are reported as left behind. 24 h covers a nightly backup window."
        ),
    )

    @model_validator(mode="after")
    def _tiers_ordered(self) -> SnapshotSettings:
        if self.age_high_days < self.age_warn_days:
            raise ValueError("age_high_days must be at least age_warn_days")
        if self.pct_of_free_high < self.pct_of_free_warn:
            raise ValueError("pct_of_free_high must be at least pct_of_free_warn")
        return self
