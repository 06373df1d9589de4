"""Host software checks (family "software", ids SW-NNN): VIB acceptance levels, drivers and
upgrade readiness. docs/methodology.md#host-software."""

from reporter.checks.base import Family
from reporter.core.model import Snapshot


def _software_missing(snapshot: Snapshot) -> str | None:
    hosts = [h for vc in snapshot.vcenters.values() for h in vc.hosts.values()]
    if not hosts or any(h.software is not None for h in hosts):
        return None
    return ("Host software (acceptance level, installed VIBs, loaded drivers) is not in this snapshot: it was taken "
            "by an older version of the tool. Collect again with this version to evaluate upgrade readiness "
            "(docs/methodology.md#host-software).")


FAMILY = Family(id="software", title="Host software and upgrade readiness", order=80,
                inputs_missing=_software_missing)
