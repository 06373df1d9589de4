"""NET-002: an uplink in a port group's active/standby order whose physical NIC has no link
(or no physical NIC behind it): the redundancy is already lost. One finding per host and NIC."""

from __future__ import annotations

from reporter.checks.base import CheckContext, CheckMeta, Outcome, finding, object_id
from reporter.checks.grouping import Risk, per_vcenter
from reporter.checks.helpers import ps_quote, sh_quote
from reporter.checks.network import FAMILY
from reporter.checks.network.common import METHOD, NETWORKING_GUIDE, host_networks
from reporter.core.findings import Severity
from reporter.domain.network import UplinkWithoutLink, uplinks_without_link

META = CheckMeta(
    id="NET-002",
    title="Uplink without link in a failover order",
    family=FAMILY.id,
    severity=Severity.high,
    object_type="pnic",
    description="A physical NIC listed as an active or standby uplink of a port group has no link, or a "
                "distributed switch uplink in the order has no physical NIC on the host.",
    rationale="The team runs with one uplink fewer than designed: the next failure of the remaining uplink is "
              "an outage, and a down standby uplink gives no failover at all.",
    remediation=(
        "Check the cable, the physical switch port (shut/err-disabled, VLAN), and the NIC; or remove the NIC "
        "from the failover order if it was taken out of service on purpose.",
        f"See {METHOD}.",
    ),
    references=(NETWORKING_GUIDE,),
)

# Each reason in the message's sentence and as the evidence's words (read beside the host and NIC).
_REASONS = {"link_down": ("has no link", "No link"),
            "no_physical_nic": ("has no physical NIC on this host", "No physical NIC on this host"),
            "unknown_physical_nic": ("is not a physical NIC of this host", "Not a physical NIC of this host")}


def run(ctx: CheckContext) -> Outcome:
    out = Outcome()
    for hn in host_networks(ctx):
        groups: dict[tuple[str, str], list[UplinkWithoutLink]] = {}
        unknown: set[str] = set()
        for view in hn.views:
            if not hn.knows_pnics_of(view):
                unknown.add(view.switch)
                continue
            out.checked += 1
            for hit in uplinks_without_link(view, hn.pnics):
                groups.setdefault((hit.pnic or f"{view.switch}/{hit.uplink}", hit.reason), []).append(hit)
        for switch in sorted(unknown):
            out.notes.append(f"{hn.vc.name}/{hn.host.name}: which physical NIC backs each uplink of {switch} was not "
                             "reported; its uplinks' link state is not checked.")
        for (nic, reason), hits in sorted(groups.items()):
            pgs = sorted({f"{h.view.portgroup} ({h.role})" for h in hits})
            host = hn.host.name
            steps = [
                f"vSphere Client: Hosts and Clusters > {host} > Configure > Networking > Physical adapters: check "
                f"{nic}'s link; fix the cable or switch port.",
                f"PowerCLI: Get-VMHostNetworkAdapter -VMHost {ps_quote(host)} -Physical -Name {ps_quote(nic)} | "
                "Select-Object Name, BitRatePerSec, FullDuplex",
                f"esxcli (or govc host.esxcli -host {sh_quote(host)} ...): esxcli network nic list; "
                f"esxcli network nic get -n {sh_quote(nic)}",
                f"See {METHOD}.",
            ]
            out.findings.append(finding(
                META, hn.vc, f"{host} / {nic}", f"{object_id(hn.vc, hn.host.moid)}/pnic/{nic}",
                f"Uplink {nic} on host {host} {_REASONS[reason][0]}, but "
                + (f"port group {pgs[0]} lists it in its failover order" if len(pgs) == 1 else
                   f"port groups {', '.join(pgs)} list it in their failover order") + ": redundancy is lost.",
                evidence={"host": host, "pnic": nic, "reason": _REASONS[reason][1], "portgroups": pgs},
                remediation=steps,
            ))
    return out


# Root cause and risk (see reporter.checks.grouping).
RISK = Risk.data_loss
group_of = per_vcenter("Uplinks without link in a failover order")
