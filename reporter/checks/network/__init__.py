"""NIC teaming and failover detection checks (family "network", ids NET-NNN):
docs/methodology.md#nic-teaming."""

from reporter.checks.base import Family
from reporter.core.model import Snapshot


def _network_missing(snapshot: Snapshot) -> str | None:
    hosts = [h for vc in snapshot.vcenters.values() for h in vc.hosts.values()]
    if not hosts or any(h.network is not None for h in hosts):
        return None
    return ("Host networking (virtual switches, port groups, uplinks) is not in this snapshot: it was taken by an "
            "older version of the tool or without read access to the hosts' configuration. Collect again with "
            "this version and a role that includes Read-only on the hosts (docs/methodology.md#nic-teaming).")


FAMILY = Family(id="network", title="NIC teaming and failover detection", order=70, inputs_missing=_network_missing)
