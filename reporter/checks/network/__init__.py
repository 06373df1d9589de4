"""NIC teaming and failover detection checks (family "network", ids NET-NNN):
docs/methodology.md#nic-teaming."""

from reporter.checks.base import Family, not_collected_on_any_host

FAMILY = Family(
    id="network", title="NIC teaming and failover detection", order=70,
    inputs_missing=not_collected_on_any_host(
        "network",
        "Host networking (virtual switches, port groups, uplinks) is not in this snapshot: it was taken by an older "
        "version of the tool or without read access to the hosts' configuration. Collect again with this version "
        "and a role that includes Read-only on the hosts (docs/methodology.md#nic-teaming)."),
)
