"""Host software checks (family "software", ids SW-NNN): VIB acceptance levels, drivers and
upgrade readiness. docs/methodology.md#host-software."""

from reporter.checks.base import Family, not_collected_on_any_host

FAMILY = Family(
    id="software", title="Host software and upgrade readiness", order=80,
    inputs_missing=not_collected_on_any_host(
        "software",
        "Host software (acceptance level, installed VIBs, loaded drivers) is not in this snapshot: it was taken by "
        "an older version of the tool. Collect again with this version to evaluate upgrade readiness "
        "(docs/methodology.md#host-software)."),
)
