"""Changed Block Tracking checks (family "cbt", ids CBT-NNN):."""

from reporter.checks.base import Family

FAMILY = Family(id="cbt", title="Changed Block Tracking (CBT)", order=40)
