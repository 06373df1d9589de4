"""The finding contract (fixed; written as findings.json by every report run)."""

from __future__ import annotations

from enum import Enum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Severity(str, Enum):
    info = "info"
    low = "low"
    medium = "medium"
    high = "high"
    critical = "critical"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]  # every finding is sorted by it: no list per call


_SEVERITY_RANK = {s: i for i, s in enumerate(Severity)}


class Status(str, Enum):
    fail = "fail"
    warn = "warn"
    passed = "pass"
    waived = "waived"
    error = "error"


class Finding(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False)

    check_id: str
    severity: Severity
    status: Status
    vcenter: str  # the vCenter's label ("" for fleet-wide findings)
    object_type: str  # vm | host | datastore | cluster | license | pool | vcenter | disk
    object_name: str
    object_id: str  # "<vcenter instance uuid>/<moid>" or another stable id
    message: str
    evidence: dict[str, Any] = Field(default_factory=dict)
    remediation: str = ""
    # Findings with the same root cause and the same fix share a group ("CBT-006/5.0.0-623860/KB2090639").
    group: str = ""
    # Identity across runs, independent of masking, wording and severity (see checks.grouping).
    fingerprint: str = ""

    @property
    def key(self) -> tuple[str, str]:
        """Identity across runs, for new/fixed/still-open deltas: the fingerprint, or for a
        findings.json written before fingerprints existed, the check and object id."""
        return (self.check_id, self.fingerprint or self.object_id)
