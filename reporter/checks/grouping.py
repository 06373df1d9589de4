"""Root causes and identities: what every check module declares about its findings.

A check module may define, beside ``META`` and ``run``:

- ``group_of(f: Finding) -> GroupKey``: which findings share a root cause and a fix (CBT-006:
  one group per host build and defect; IOCAP: one per datastore ...). The default is one group
  per check.
- ``subkey_of(f: Finding) -> str``: what tells two findings of one object apart, when a check
  reports one object more than once (default: nothing, ``object_id`` is enough).
- ``RISK``: what an open finding puts at risk (``Risk.data_loss`` first), or ``risk_of(f)`` when
  it depends on the finding. Top actions are ranked by it.

The fingerprint is built before license keys are masked, from the check id, the object's
identity and the sub-key only — never from wording or severity — so a re-worded message, a
new severity or a masked key does not turn an old finding into a new one.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from reporter.core.findings import Finding


class Risk(IntEnum):
    """What an open finding puts at risk; lower ranks first in the top actions."""

    data_loss = 0  # data loss or outage: old snapshots, consolidation, corrupt backups, licensing
    performance = 1
    hygiene = 2

    @property
    def label(self) -> str:
        return {0: "data loss or outage", 1: "performance", 2: "hygiene"}[self.value]


@dataclass(frozen=True)
class GroupKey:
    key: str  # stable within the check, e.g. "5.0.0-623860/KB2090639"
    title: str  # what the reader sees, e.g. "ESXi 5.0.0 build 623860: KB2090639"


GroupFn = Callable[[Finding], GroupKey]
SubkeyFn = Callable[[Finding], str]
RiskFn = Callable[[Finding], Risk]

_UNSAFE = re.compile(r"[^\w.:@()+/-]+")


def group_id(check_id: str, key: str) -> str:
    """The ``group`` string of findings.json: ``CBT-006/5.0.0-623860/KB2090639``."""
    clean = _UNSAFE.sub("-", key.strip()).strip("-")
    return f"{check_id}/{clean}" if clean else check_id


def fingerprint(check_id: str, object_id: str, subkey: str = "") -> str:
    """``CBT-001/3f2a…`` (16 hex digits of SHA-256): the object id may hold a license key, so
    only its hash leaves this function."""
    digest = hashlib.sha256(f"{check_id}\x1f{object_id}\x1f{subkey}".encode()).hexdigest()[:16]
    return f"{check_id}/{digest}"


def per_check(title: str) -> GroupFn:
    """Every finding of the check shares one root cause and fix."""
    return lambda f: GroupKey("", title)


def no_subkey(f: Finding) -> str:
    return ""


def evidence_text(f: Finding, key: str, default: str = "unknown") -> str:
    value: Any = f.evidence.get(key)
    return default if value in (None, "") else str(value)


def by_evidence(key: str, title: Callable[[str], str]) -> GroupFn:
    """One group per value of an evidence field (and vCenter), e.g. one per datastore."""
    def group(f: Finding) -> GroupKey:
        value = evidence_text(f, key)
        where = f"{f.vcenter}/{value}" if f.vcenter else value
        return GroupKey(where, title(value) + (f" ({f.vcenter})" if f.vcenter else ""))
    return group


def constant_risk(risk: Risk) -> RiskFn:
    return lambda f: risk


HYGIENE: RiskFn = constant_risk(Risk.hygiene)
