"""Licensing checks (LIC-xxx) and detail tables: vSphere 5.0 vRAM compliance, the license
inventory, and the per-CPU / per-core models."""

from reporter.checks.base import Family

FAMILY = Family(id="licensing", title="Licensing", order=20)
