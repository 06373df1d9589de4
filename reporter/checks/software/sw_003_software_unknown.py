"""SW-003: a host whose software could not be read (no privilege, not implemented, host
disconnected): its acceptance level and upgrade readiness are unknown, not "fine"."""

from __future__ import annotations

from reporter.checks.base import CheckContext, CheckMeta, Outcome, finding, object_id
from reporter.checks.software import FAMILY
from reporter.checks.software.common import METHOD, hosts
from reporter.core.findings import Severity

META = CheckMeta(
    id="SW-003",
    title="Host software could not be read",
    family=FAMILY.id,
    severity=Severity.info,
    object_type="host",
    description="The host's image acceptance level, VIBs or kernel modules could not be read.",
    rationale="Without them the report cannot say whether the host runs unsupported VIBs or can be upgraded; "
              "the host is shown as 'unknown', never as ready.",
    remediation=(
        "Give the collector's role read access to the host (System.Read, part of the Read-only role), and check "
        "that the host is connected.",
        f"See {METHOD}.",
    ),
)


def run(ctx: CheckContext) -> Outcome:
    out = Outcome()
    missing = 0
    for vc, host in hosts(ctx):
        sw = host.software
        if sw is None:
            missing += 1  # not collected at all (a snapshot of an older version): said once, below
            continue
        out.checked += 1
        if sw.software_unknown_reason is None:
            continue
        out.findings.append(finding(
            META, vc, host.name, object_id(vc, host.moid),
            f"Host {host.name}: software unknown ({sw.software_unknown_reason}).",
            evidence={"reason": sw.software_unknown_reason, "acceptance_level": sw.acceptance_level,
                      "vibs_read": sw.packages is not None, "modules_read": sw.kernel_modules is not None},
            remediation=[
                "Read access to the host (System.Read, included in the Read-only role) is enough; check that the "
                "collector's role is propagated to the host, and that the host is connected.",
                f"See {METHOD}.",
            ],
        ))
    if missing:
        out.notes.append(f"Host software of {missing} host(s) was not collected (a snapshot of an older version): "
                         "their acceptance level and upgrade readiness are unknown.")
    return out
