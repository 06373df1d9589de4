"""Snapshot checks (family "snapshots", ids SNAP-NNN):."""

from reporter.checks.base import Family

FAMILY = Family(id="snapshots", title="Snapshots", order=30)
