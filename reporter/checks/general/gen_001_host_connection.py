"""GEN-001: hosts that vCenter cannot reach are invisible to every other check."""

from __future__ import annotations

from reporter.checks.base import CheckContext, CheckMeta, Outcome, Reference, finding, object_id
from reporter.checks.general import FAMILY
from reporter.checks.grouping import Risk, per_check
from reporter.checks.helpers import ps_quote, sh_quote
from reporter.core import states
from reporter.core.findings import Severity, Status

META = CheckMeta(
    id="GEN-001",
    title="Host disconnected or not responding",
    family=FAMILY.id,
    severity=Severity.high,
    object_type="host",
    description="An ESXi host whose connection state is not 'connected'.",
    rationale=(
        "vCenter shows stale or no data for a disconnected host: its VMs' power state, snapshots, "
        "CBT and I/O settings cannot be verified, HA/DRS cannot act on it, and every other check in "
        "this report is blind to it."
    ),
    remediation=(
        "In the vSphere Client select the host and choose Connection > Connect; if that fails, check "
        "the management network and that hostd/vpxa run on the host (KB1003490).",
        "PowerCLI: Get-VMHost -State Disconnected,NotResponding | Set-VMHost -State Connected",
        "govc: govc host.reconnect -host <name>",
    ),
    references=(
        Reference("KB1003490", "Troubleshooting an ESXi host in a Not Responding state",
                  "https://knowledge.broadcom.com/external/article?legacyId=1003490"),
    ),
)


def run(ctx: CheckContext) -> Outcome:
    out = Outcome()
    for vc in ctx.snapshot.vcenters.values():
        for host in vc.hosts.values():
            out.checked += 1
            state = host.connection_state
            if state == "connected":
                continue
            if state is None:
                out.findings.append(finding(
                    META, vc, host.name, object_id(vc, host.moid),
                    "Connection state could not be read.",
                    evidence={"connection_state": None}, severity=Severity.low, status=Status.warn,
                ))
                continue
            out.findings.append(finding(
                META, vc, host.name, object_id(vc, host.moid),
                f"Host is {states.in_sentence(states.connection_state(state))}: its VMs and settings cannot be verified.",
                evidence={"connection_state": state, "version": host.version, "build": host.build},
                remediation=[
                    f"In the vSphere Client select the host '{host.name}' and choose Connection > Connect; if that "
                    "fails, check the management network and that hostd/vpxa run on the host (KB1003490).",
                    f"PowerCLI: Get-VMHost -Name {ps_quote(host.name)} | Set-VMHost -State Connected",
                    f"govc: govc host.reconnect -host {sh_quote(host.name)}",
                ],
            ))
    return out


# Root cause and risk (see reporter.checks.grouping).
RISK = Risk.data_loss  # the host's VMs cannot be managed, backed up or restarted by HA as usual
group_of = per_check("Hosts disconnected or not responding")
