"""NET-001: a port group in use with fewer uplinks (active + standby) than ``min_uplinks``."""

from __future__ import annotations

from reporter.checks.base import CheckContext, CheckMeta, Outcome, finding
from reporter.checks.grouping import Risk, per_vcenter
from reporter.checks.helpers import counted
from reporter.checks.network import FAMILY
from reporter.checks.network.common import KB_LINK_AGGREGATION, METHOD, each_view, evidence, fix_steps, identity, where
from reporter.checks.network.settings import NetworkSettings
from reporter.core.findings import Severity
from reporter.domain.network import too_few_uplinks

META = CheckMeta(
    id="NET-001",
    title="Port group without uplink redundancy",
    family=FAMILY.id,
    severity=Severity.high,
    object_type="portgroup",
    description="A port group that VMs or VMkernel adapters use has fewer uplinks (active + standby) in its "
                "effective failover order than the minimum ([thresholds.network] min_uplinks, default 2).",
    rationale="With a single uplink there is no failover: one cable, switch port, NIC or physical switch "
              "failure cuts the VMs or the VMkernel service (management, vMotion, storage) off.",
    remediation=(
        "Give the vSwitch (or distributed switch) a second physical NIC, connected to a different physical "
        "switch, and add it to the port group's failover order as active or standby.",
        f"See {METHOD}.",
    ),
    references=(KB_LINK_AGGREGATION,),
)


def run(ctx: CheckContext) -> Outcome:
    minimum = ctx.settings.get(NetworkSettings).min_uplinks
    out = Outcome()
    missing = [h.name for vc in ctx.snapshot.vcenters.values() for h in vc.hosts.values() if h.network is None]
    if missing:
        out.notes.append(f"Networking of {counted(len(missing), 'host')} was not collected (a snapshot of an older version, "
                         "or the host's configuration was unreadable): no network check covers them.")
    for hn, view in each_view(ctx):
        out.checked += 1
        hit = too_few_uplinks(view, minimum)
        if hit is None:
            continue
        name, oid = identity(hn.vc, view)
        uplinks = list(view.teaming.active) + list(view.teaming.standby)
        spare = "a second uplink" if view.kind == "distributed" else "a second vmnic"
        out.findings.append(finding(
            META, hn.vc, name, oid,
            f"Port group {view.portgroup} on {view.switch} has {counted(hit.uplinks, 'uplink')} in its failover order "
            f"({', '.join(uplinks) or 'none'}, {where(view)}); at least {minimum} are needed for failover.",
            evidence=evidence(view) | {"uplinks": hit.uplinks, "minimum": minimum},
            remediation=[f"Connect {spare} to a different physical switch and add it to the failover order."]
            + fix_steps(view, active=list(view.teaming.active), standby=[*view.teaming.standby, "<second uplink>"],
                        what="add the second uplink under Standby (or Active) adapters")
            + [f"See {METHOD}."],
        ))
    return out


# Root cause and risk (see reporter.checks.grouping).
RISK = Risk.data_loss
group_of = per_vcenter("Port groups without uplink redundancy")
