"""Licensing math over a snapshot: pure functions, no vCenter, no database.

``analyze(snapshot, settings)`` returns an :class:`Analysis` with

- ``pools``: vSphere 5.0 vRAM pools (``vram.Pool``) per edition per vCenter or Linked Mode
  group, with use (powered-on VMs, 96 GB cap), entitlement (assigned + unassigned CPU
  licenses x the edition's vRAM per CPU from the chosen table) and, where vRAM does not
  apply (vSphere 5.1+, per-core, evaluation), the reason;
- ``licenses``: the license inventory (``inventory.LicenseRow``);
- ``hosts``: per-host socket/core counts for the per-CPU (32-core rule) and per-core
  (16-core minimum) models, with the host's edition and pool;
- ``core_summaries``: the same per cluster, per vCenter and for the fleet, with the vSAN
  capacity included per offering.

The rules come from ``reporter/data/licensing.toml`` (docs/methodology.md#vram-pools and #per-cpu-per-core).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from reporter.config.settings import Settings
from reporter.core.model import Snapshot
from reporter.domain.licensing.cores import CoreSummary, HostCores, host_cores, summarize
from reporter.domain.licensing.inventory import LicenseRow, license_rows
from reporter.domain.licensing.options import LicensingOptions
from reporter.domain.licensing.rules import Rules, VramTable, load_rules
from reporter.domain.licensing.vram import Pool, VmUse, build_pools, pool_host_limits

__all__ = [
    "Analysis",
    "CoreSummary",
    "HostCores",
    "LicenseRow",
    "LicensingOptions",
    "Pool",
    "VmUse",
    "analyze",
    "load_rules",
]


@dataclass
class Analysis:
    snapshot: Snapshot
    options: LicensingOptions
    rules: Rules
    table: VramTable
    pools: list[Pool]
    licenses: list[LicenseRow]
    hosts: list[HostCores]
    core_summaries: list[CoreSummary]
    host_limit_violations: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def pool(self, pool_id: str) -> Pool | None:
        return next((p for p in self.pools if p.id == pool_id), None)

    def find_pool(self, wanted: str) -> Pool | None:
        """The pool a user named: its id exactly, else its label (case-insensitive, spaces trimmed)."""
        exact = self.pool(wanted)
        if exact is not None:
            return exact
        key = " ".join(wanted.split()).casefold()
        return next((p for p in self.pools if " ".join(p.label.split()).casefold() == key), None)

    def pool_list(self) -> str:
        """Every pool as a user can name it: ``vc01 · vSphere Enterprise Plus (vc01/enterprise_plus), ...``."""
        return "; ".join(f"{p.label} ({p.id})" for p in self.pools) or "none"

    @property
    def vram_pools(self) -> list[Pool]:
        return [p for p in self.pools if p.vram_applies]


def analyze(snapshot: Snapshot, settings: Settings | None = None, *, options: LicensingOptions | None = None) -> Analysis:
    """Licensing analysis of ``snapshot`` under the settings' (or the given) licensing options.

    Pure: checks share one result per run through ``CheckContext.memo``."""
    opts = options or LicensingOptions.from_settings(settings)
    return _analyze(snapshot, opts)


def _analyze(snapshot: Snapshot, opts: LicensingOptions) -> Analysis:
    rules = load_rules()
    table = rules.table(opts.vram_table)
    hosts_by_vc = {
        vc.instance_uuid: {moid: host_cores(vc, h, rules) for moid, h in vc.hosts.items()}
        for vc in snapshot.vcenters.values()
    }
    pools, _ = build_pools(snapshot, hosts_by_vc, rules, table, opts.linked_mode_groups)
    hosts = sorted((h for p in pools for h in p.hosts), key=lambda h: (h.vcenter, h.cluster or "", h.name))
    notes = []
    for vc in snapshot.vcenters.values():
        if vc.licenses is None:
            notes.append(f"{vc.name}: license data not readable (needs the Global.Licenses privilege); "
                         "vRAM use is shown without editions or entitlement")
    return Analysis(
        snapshot=snapshot, options=opts, rules=rules, table=table, pools=pools,
        licenses=license_rows(snapshot, rules), hosts=hosts,
        core_summaries=summarize(snapshot, hosts, opts.tib_per_core(rules), opts.order_minimum_cores),
        host_limit_violations=pool_host_limits(snapshot, rules, table, pools), notes=notes,
    )
