"""NET-005: notify switches off."""

from __future__ import annotations

from reporter.checks.base import CheckContext, CheckMeta, Outcome, finding
from reporter.checks.network import FAMILY
from reporter.checks.network.common import METHOD, NETWORKING_GUIDE, each_view, evidence, fix_steps, identity
from reporter.core.findings import Severity
from reporter.domain.network import notify_switches_off

META = CheckMeta(
    id="NET-005",
    title="Notify switches off",
    family=FAMILY.id,
    severity=Severity.low,
    object_type="portgroup",
    description="A port group's teaming policy has Notify switches set to No.",
    rationale="After a failover ESXi then sends no RARP for the moved MAC addresses: the physical switches learn "
              "the new uplink only when each VM sends, so inbound traffic to quiet VMs is lost for a while. "
              "Exception: Microsoft NLB in unicast mode needs it off (waive the finding there).",
    remediation=("Set Notify switches to Yes.", f"See {METHOD}."),
    references=(NETWORKING_GUIDE,),
)


def run(ctx: CheckContext) -> Outcome:
    out = Outcome()
    for hn, view in each_view(ctx):
        out.checked += 1
        if notify_switches_off(view) is None:
            continue
        name, oid = identity(hn.vc, view)
        origin = view.teaming.notify_switches.origin
        out.findings.append(finding(
            META, hn.vc, name, oid,
            f"Port group {view.portgroup} on {view.switch} has Notify switches off (set on the "
            f"{'port group' if origin == 'portgroup' else 'switch'}).",
            evidence=evidence(view),
            remediation=fix_steps(view, notify=True, what="set Notify switches to Yes")
            + ["Leave it off only for Microsoft NLB in unicast mode, and waive the finding.", f"See {METHOD}."],
        ))
    return out
