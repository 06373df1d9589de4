"""NIC teaming and failover detection checks (family "network", ids NET-NNN):
docs/methodology.md#nic-teaming."""

from reporter.checks.base import Family

FAMILY = Family(id="network", title="NIC teaming and failover detection", order=70)
