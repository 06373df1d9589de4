"""Checks: the registry (``registry``), what a check is (``base``), the engine that runs them
and applies waivers (``engine``), family detail tables (``tables``) and helpers shared by the
families (``helpers``). One package per family below this one."""

from reporter.checks.base import Check, CheckContext, CheckMeta, Family, Outcome, Reference, finding, object_id
from reporter.checks.registry import all_checks, families, family_title, load_all

__all__ = [
    "Check", "CheckContext", "CheckMeta", "Family", "Outcome", "Reference", "all_checks", "families",
    "family_title", "finding", "load_all", "object_id",
]
