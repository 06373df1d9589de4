"""NET-004: IP hash load balancing configured so it cannot work: with standby uplinks or
beacon probing, or on some but not all port groups of one switch (KB1004048, KB1001938).
One check because the fix is the same decision: IP hash on the whole switch, matched by a
static EtherChannel, or on none of it."""

from __future__ import annotations

from reporter.checks.base import CheckContext, CheckMeta, Outcome, finding, object_id
from reporter.checks.grouping import Risk, per_vcenter
from reporter.checks.network import FAMILY
from reporter.checks.network.common import (
    KB_ETHERCHANNEL,
    KB_LINK_AGGREGATION,
    METHOD,
    each_view,
    evidence,
    fix_steps,
    host_networks,
    identity,
)
from reporter.core.findings import Finding, Severity
from reporter.core.model import VCenter
from reporter.domain.network import ip_hash_conflicts, ip_hash_mixed

META = CheckMeta(
    id="NET-004",
    title="IP hash load balancing misconfigured",
    family=FAMILY.id,
    severity=Severity.high,
    object_type="portgroup",
    description="IP hash load balancing with standby uplinks or beacon probing, or IP hash on some but not all "
                "port groups sharing the same uplinks.",
    rationale="IP hash needs a static EtherChannel on the physical switch and every uplink active with link "
              "status only; the other policies must not run over an EtherChannel. A mix, or standby uplinks, "
              "makes the physical switch and ESXi disagree on where a MAC lives: lost and duplicated frames.",
    remediation=(
        "Decide per switch: IP hash (with a static EtherChannel over all its uplinks, every uplink active, Link "
        "status only) or not (no EtherChannel, Route based on originating virtual port).",
        f"See {METHOD}.",
    ),
    references=(KB_ETHERCHANNEL, KB_LINK_AGGREGATION),
)


# What IP hash does not support, as the evidence names it (the vSphere Client's words).
_CONFLICT_WORDS = {"standby_uplinks": "Standby uplinks", "beacon_probing": "Beacon probing failure detection"}


def run(ctx: CheckContext) -> Outcome:
    out = Outcome()
    for hn, view in each_view(ctx):
        out.checked += 1
        conflicts = ip_hash_conflicts(view)
        if not conflicts:
            continue
        name, oid = identity(hn.vc, view)
        reasons = [c.reason for c in conflicts]
        said = " and ".join({"standby_uplinks": f"standby uplinks ({', '.join(view.teaming.standby)})",
                             "beacon_probing": "beacon probing"}[r] for r in reasons)
        conflict_words = [_CONFLICT_WORDS[r] for r in reasons]
        out.findings.append(finding(
            META, hn.vc, name, oid,
            f"Port group {view.portgroup} on {view.switch} uses IP hash load balancing with {said}; IP hash "
            "supports neither (KB1004048).",
            evidence=evidence(view) | {"reasons": conflict_words},
            remediation=fix_steps(view, active=[*view.teaming.active, *view.teaming.standby], standby=[],
                                  detection="link",
                                  what="move every uplink to Active adapters and set Link status only")
            + [f"See {METHOD}."],
        ))
    for hn in host_networks(ctx):
        for mixed in ip_hash_mixed(hn.views):
            if mixed.host_name is None:
                continue  # a distributed switch: reported once below
            out.findings.append(_mixed(hn.vc, mixed.switch, f"{object_id(hn.vc, hn.host.moid)}/vswitch/{mixed.switch}",
                                       f"{hn.host.name} / {mixed.switch}", mixed.ip_hash, mixed.other))
    seen: set[str] = set()
    for hn, view in each_view(ctx):
        if view.kind != "distributed" or view.switch in seen:
            continue
        seen.add(view.switch)
        same = [v for h2, v in each_view(ctx) if h2.vc is hn.vc and v.kind == "distributed" and v.switch == view.switch]
        for mixed in ip_hash_mixed(same):
            switch = next((s for s in (hn.vc.distributed_switches or {}).values() if s.name == view.switch), None)
            oid = object_id(hn.vc, switch.moid) if switch else f"{hn.vc.instance_uuid}/dvs/{view.switch}"
            out.findings.append(_mixed(hn.vc, mixed.switch, oid, mixed.switch, mixed.ip_hash, mixed.other))
    return out


def _mixed(vc: VCenter, switch: str, oid: str, name: str, ip: tuple[str, ...], other: tuple[str, ...]) -> Finding:
    return finding(
        META, vc, name, oid,
        f"On {name}, {'port group' if len(ip) == 1 else 'port groups'} {', '.join(ip)} {'uses' if len(ip) == 1 else 'use'} "
        f"IP hash and {', '.join(other)} {'does' if len(other) == 1 else 'do'} not: the physical "
        "ports are either an EtherChannel or not, so one of the two groups is wrong (KB1001938).",
        evidence={"switch": switch, "ip_hash": list(ip), "other": list(other)},
        remediation=[
            "If the physical ports form a static EtherChannel: set Route based on IP hash on every port group "
            "of the switch (best on the switch itself, with no port group overrides).",
            "If they do not: set the IP hash port groups back to Route based on originating virtual port.",
            f"See {METHOD}.",
        ],
        object_type="switch",
    )


# Root cause and risk (see reporter.checks.grouping).
RISK = Risk.data_loss
group_of = per_vcenter("IP hash load balancing misconfigured")
