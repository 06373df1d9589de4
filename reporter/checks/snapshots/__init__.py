"""Snapshot checks (family "snapshots", ids SNAP-NNN): domain-reference §4."""
