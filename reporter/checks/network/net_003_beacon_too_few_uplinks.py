"""NET-003: beacon probing with fewer than 3 uplinks (KB1005577)."""

from __future__ import annotations

from reporter.checks.base import CheckContext, CheckMeta, Outcome, finding
from reporter.checks.grouping import Risk, per_vcenter
from reporter.checks.helpers import counted
from reporter.checks.network import FAMILY
from reporter.checks.network.common import KB_BEACON, METHOD, each_view, evidence, fix_steps, identity
from reporter.core.findings import Severity
from reporter.domain.network import BEACON_MIN_UPLINKS, beacon_with_too_few_uplinks

META = CheckMeta(
    id="NET-003",
    title="Beacon probing with fewer than 3 uplinks",
    family=FAMILY.id,
    severity=Severity.medium,
    object_type="portgroup",
    description="A port group uses beacon probing as network failure detection with fewer than 3 uplinks.",
    rationale="With two uplinks, when one path fails both stop receiving the other's beacons and ESXi cannot "
              "tell which one failed (KB1005577): it may keep the broken uplink, or flap.",
    remediation=(
        "Use Link status only, or add a third uplink (to a different physical switch) so beacon probing can "
        "vote.",
        f"See {METHOD}.",
    ),
    references=(KB_BEACON,),
)


def run(ctx: CheckContext) -> Outcome:
    out = Outcome()
    for hn, view in each_view(ctx):
        out.checked += 1
        hit = beacon_with_too_few_uplinks(view)
        if hit is None:
            continue
        name, oid = identity(hn.vc, view)
        origin = view.teaming.check_beacon.origin
        out.findings.append(finding(
            META, hn.vc, name, oid,
            f"Port group {view.portgroup} on {view.switch} uses beacon probing (set on the "
            f"{'port group' if origin == 'portgroup' else 'switch'}) with {counted(hit.uplinks, 'uplink')}; beacon probing "
            f"needs at least {BEACON_MIN_UPLINKS} to tell which uplink failed (KB1005577).",
            evidence=evidence(view) | {"uplinks": hit.uplinks},
            remediation=fix_steps(view, detection="link", what="set Network failure detection to Link status only")
            + ["Or add a third uplink to the team and keep beacon probing.", f"See {METHOD}."],
        ))
    return out


# Root cause and risk (see reporter.checks.grouping).
RISK = Risk.data_loss
group_of = per_vcenter("Beacon probing with fewer than 3 uplinks")
