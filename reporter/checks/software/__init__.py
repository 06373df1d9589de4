"""Host software checks (family "software", ids SW-NNN): VIB acceptance levels, drivers and
upgrade readiness. docs/methodology.md#host-software."""

from reporter.checks.base import Family

FAMILY = Family(id="software", title="Host software and upgrade readiness", order=80)
