"""The one caveat a finding's evidence earns when rule data could not be confirmed
(reporter/render/evidence.py: caveats)."""

from __future__ import annotations

from typing import Any

import pytest

from reporter.core.findings import Finding, Severity, Status
from reporter.render.evidence import UNVERIFIED_CAVEAT, caveats


def _finding(evidence: dict[str, Any]) -> Finding:
    return Finding(check_id="CBT-006", severity=Severity.high, status=Status.fail, vcenter="vc01",
                   object_type="host", object_name="esx01", object_id="u/host-1", message="m", evidence=evidence)


@pytest.mark.parametrize(("evidence", "expected"), [
    ({}, []),
    ({"build": 623860, "verified": True, "source": "KB2090639", "hosts": ["esx01", "esx02"]}, []),
    ({"fix_verified": False}, [UNVERIFIED_CAVEAT]),
    ({"rule": {"source": "unverified: vendor note"}}, [UNVERIFIED_CAVEAT]),
    ({"rules": [{"verified": True}, [{"x": 1}, {"verified": False}]]}, [UNVERIFIED_CAVEAT]),
    ({"note": "UNVERIFIED", "verified": None, "nested": [[1, "a"], {"source": 5}]}, []),  # only in a source
])
def test_caveat_only_for_rule_data_marked_unverified_at_any_depth(evidence: dict[str, Any],
                                                                  expected: list[str]) -> None:
    assert caveats(_finding(evidence)) == expected
