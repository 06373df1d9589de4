"""General checks: hosts not connected, and what the collector could not read."""

from reporter.checks.base import Family

FAMILY = Family(id="general", title="Collection and inventory health", order=10)
