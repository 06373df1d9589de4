"""Licensing checks (LIC-xxx) and detail tables: vSphere 5.0 vRAM compliance, the license
inventory, and the per-CPU / per-core models (domain-reference §2, §3)."""
