"""LC-003: hosts of one cluster on different builds."""

from __future__ import annotations

from reporter.checks.base import CheckContext, CheckMeta, Outcome, finding, object_id
from reporter.checks.lifecycle import FAMILY
from reporter.checks.lifecycle.common import KB_ESXI_BUILDS, METHOD
from reporter.core.findings import Severity
from reporter.domain.lifecycle import HostVersion, mixed_builds, release_label

META = CheckMeta(
    id="LC-003",
    title="Mixed builds in a cluster",
    family=FAMILY.id,
    severity=Severity.low,
    object_type="cluster",
    description="The hosts of a cluster run different ESXi builds.",
    rationale="Outside an upgrade in progress, mixed builds mean some hosts miss fixes the others have, and "
              "vMotion/EVC and HA behave differently per host.",
    remediation=("Bring every host of the cluster to the same build (Lifecycle Manager image or baseline).",
                 f"See {METHOD}."),
    references=(KB_ESXI_BUILDS,),
)


def run(ctx: CheckContext) -> Outcome:
    out = Outcome()
    for vc in ctx.snapshot.vcenters.values():
        for c in sorted(vc.clusters.values(), key=lambda c: c.name):
            members = [vc.hosts[m] for m in c.hosts if m in vc.hosts]
            out.checked += 1
            mixed = mixed_builds([HostVersion(h.name, h.version, h.build) for h in members])
            if mixed is None:
                continue
            version = {h.build: h.version for h in members}
            parts = [f"{release_label('esxi', b, version.get(b)).text}: {', '.join(names)}"
                     for b, names in mixed.by_build.items()]
            out.findings.append(finding(
                META, vc, c.name, object_id(vc, c.moid),
                f"Cluster {c.name} has hosts on {len(mixed.by_build)} builds: " + "; ".join(parts) + ".",
                evidence={"builds": {b: list(n) for b, n in mixed.by_build.items()}, "unknown": list(mixed.unknown)},
                remediation=[f"vSphere Client: Hosts and Clusters > {c.name} > Updates: remediate every host to the "
                             "same image or baseline.", f"See {METHOD}."],
            ))
    return out
