"""LC-002: a vCenter older than a host it manages (unsupported: vCenter is upgraded first)."""

from __future__ import annotations

from collections.abc import Iterable

from reporter.checks.base import CheckContext, CheckMeta, Outcome, finding
from reporter.checks.grouping import Risk, per_vcenter
from reporter.checks.helpers import counted
from reporter.checks.lifecycle import FAMILY
from reporter.checks.lifecycle.common import KB_ESXI_BUILDS, KB_VCENTER_BUILDS, METHOD
from reporter.core.findings import Severity
from reporter.domain.lifecycle import HostVersion, release_label, vcenter_older_than_hosts
from reporter.domain.versions import padded, parse_version

META = CheckMeta(
    id="LC-002",
    title="vCenter older than a host it manages",
    family=FAMILY.id,
    severity=Severity.high,
    object_type="vcenter",
    description="A host runs a newer ESXi version than the vCenter that manages it.",
    rationale="vCenter must be at least the version of every host it manages (vSphere upgrade order: vCenter "
              "first); a newer host is unsupported and features or management of it can fail.",
    remediation=("Upgrade vCenter to at least the hosts' version.", f"See {METHOD}."),
    references=(KB_ESXI_BUILDS, KB_VCENTER_BUILDS),
)


def run(ctx: CheckContext) -> Outcome:
    out = Outcome()
    for vc in ctx.snapshot.vcenters.values():
        out.checked += 1
        gaps = vcenter_older_than_hosts(vc.version, [HostVersion(h.name, h.version, h.build) for h in vc.hosts.values()])
        if not gaps:
            continue
        hosts = [f"{g.host} ({g.host_version})" for g in gaps]
        out.findings.append(finding(
            META, vc, vc.name, f"{vc.instance_uuid}/vcenter",
            f"vCenter {vc.name} runs {release_label('vcenter', vc.build, vc.version).text} ({vc.version}), older than "
            f"{counted(len(gaps), 'host')} it manages: {', '.join(hosts)}.",
            evidence={"vcenter_version": vc.version, "vcenter_build": vc.build,
                      "hosts": [{"host": g.host, "version": g.host_version} for g in gaps]},
            remediation=[f"Upgrade vCenter {vc.name} to at least {_newest(g.host_version for g in gaps)}.",
                         "vSphere Client: vCenter Server Management (port 5480) > Update.", f"See {METHOD}."],
        ))
    return out


def _newest(versions: Iterable[str]) -> str:
    """The highest version by number, not by text ("10.0.0" is above "9.0.0")."""
    return max(versions, key=lambda v: padded(parse_version(v) or ()))


# Root cause and risk (see reporter.checks.grouping).
RISK = Risk.hygiene
group_of = per_vcenter("vCenter older than a host it manages")
