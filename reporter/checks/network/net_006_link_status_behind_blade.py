"""NET-006: link-status-only failure detection on a blade whose interconnect may stop
forwarding without dropping link (reporter/data/blade_interconnects.toml). One finding per
host: the interconnect and its firmware procedure are per enclosure, not per port group."""

from __future__ import annotations

from reporter.checks.base import CheckContext, CheckMeta, Outcome, finding, object_id
from reporter.checks.grouping import Risk, per_vcenter
from reporter.checks.helpers import counted
from reporter.checks.network import FAMILY
from reporter.checks.network.common import KB_BEACON, METHOD, host_networks
from reporter.core.findings import Severity
from reporter.domain.network import link_status_only_behind_blade

META = CheckMeta(
    id="NET-006",
    title="Link status only behind a blade interconnect",
    family=FAMILY.id,
    severity=Severity.medium,
    object_type="host",
    description="A blade host (identified by server vendor and model) whose port groups detect failures by link "
                "status only, behind an interconnect that can reboot without dropping the blade's link.",
    rationale="During an interconnect firmware activation (HP Virtual Connect: about 20 s per module) the module "
              "forwards nothing but the blade NICs keep link: ESXi keeps sending to it and the traffic of those "
              "uplinks is black-holed.",
    remediation=(
        "Activate interconnect firmware manually, one module at a time, so hosts see link down; or use a "
        "detection that sees the failure (beacon probing with 3+ uplinks, or link state tracking / SmartLink on "
        "the interconnect).",
        f"See {METHOD}.",
    ),
    references=(KB_BEACON,),
)


def run(ctx: CheckContext) -> Outcome:
    out = Outcome()
    for hn in host_networks(ctx):
        out.checked += 1
        hits = [h for h in (link_status_only_behind_blade(v, hn.host.system) for v in hn.views) if h is not None]
        if not hits:
            continue
        row = hits[0].interconnect
        system = hn.host.system
        pgs = sorted({f"{h.view.switch} / {h.view.portgroup}" for h in hits})
        out.findings.append(finding(
            META, hn.vc, hn.host.name, object_id(hn.vc, hn.host.moid),
            f"Host {hn.host.name} is a {system.vendor if system else '?'} {system.model if system else '?'} blade "
            f"(possibly behind {row.name}) and {counted(len(pgs), 'port group')} {'detects' if len(pgs) == 1 else 'detect'} failures by link status only: "
            f"{', '.join(pgs)}. {row.behaviour}",
            evidence={"vendor": system.vendor if system else None, "model": system.model if system else None,
                      "interconnect": row.name, "portgroups": pgs, "verified": row.verified},
            remediation=[row.fix,
                         "Confirm which interconnect the enclosure has (Virtual Connect, pass-through or a switch "
                         "module): a pass-through module drops link and is not affected.",
                         f"See {METHOD}."],
        ))
    return out


# Root cause and risk (see reporter.checks.grouping).
RISK = Risk.data_loss
group_of = per_vcenter("Link status only behind a blade interconnect")
