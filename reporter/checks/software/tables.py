"""Detail tables of the software family: host software, the VIB tab, upgrade readiness per
host and per cluster."""

from __future__ import annotations

from reporter.checks.base import CheckContext
from reporter.checks.software import FAMILY
from reporter.checks.software.common import hosts, readiness
from reporter.checks.software.settings import SoftwareSettings
from reporter.checks.tables import Scalar, Table, register_tables
from reporter.domain.lifecycle import release_label
from reporter.domain.software import cluster_readiness, parse_acceptance

SUMMARY_ROW_LIMIT = 200


@register_tables(FAMILY.id)
def software_tables(ctx: CheckContext) -> list[Table]:
    return [host_software_table(ctx), readiness_table(ctx), cluster_table(ctx), vib_table(ctx)]


def _level(value: str | None) -> str | None:
    level = parse_acceptance(value)
    return level.label if level else value


def host_software_table(ctx: CheckContext) -> Table:
    rows: list[list[Scalar]] = []
    for vc, h in hosts(ctx):
        sw = h.software
        if sw is None:
            rows.append([vc.name, h.name, None, None, None, None, "not collected"])
            continue
        rows.append([vc.name, h.name, _level(sw.acceptance_level), sw.image_profile_name,
                     None if sw.packages is None else len(sw.packages),
                     None if sw.kernel_modules is None else sum(1 for m in sw.kernel_modules if m.loaded),
                     f"unknown ({sw.software_unknown_reason})" if sw.software_unknown_reason else "read"])
    return Table(id="host_software", family=FAMILY.id, title="Host image and acceptance level",
                 columns=["vCenter", "Host", "Acceptance level", "Image profile", "VIBs", "Loaded modules", "Software"],
                 rows=rows, in_summary=len(rows) <= SUMMARY_ROW_LIMIT)


def readiness_table(ctx: CheckContext) -> Table:
    target = ctx.settings.get(SoftwareSettings).target_release
    verdicts = readiness(ctx)
    rows: list[list[Scalar]] = []
    for vc, h in hosts(ctx):
        r = verdicts[(vc.instance_uuid, h.moid)]
        cluster = vc.clusters.get(h.cluster or "")
        verdict = "ready (already there)" if r.already_at_target else r.verdict
        rows.append([vc.name, h.name, cluster.name if cluster else None, release_label("esxi", h.build, h.version).text,
                     verdict, "; ".join(f"{b.subject}: {b.detail}" for b in r.blockers) or None,
                     "; ".join(f"{c.subject}: {c.detail}" for c in r.cautions) or None,
                     "; ".join(r.unknowns) or None])
    return Table(id="upgrade_readiness", family=FAMILY.id, title=f"Upgrade readiness to ESXi {target} per host",
                 columns=["vCenter", "Host", "Cluster", "Release", "Verdict", "Blocked by", "Verify", "Not readable"],
                 rows=rows,
                 note=("blocked = a verified rule matches; unknown = nothing verified blocks, but something needed "
                       "could not be read; 'Verify' lists unverified rules that match. docs/methodology.md#host-software"),
                 in_summary=len(rows) <= SUMMARY_ROW_LIMIT)


def cluster_table(ctx: CheckContext) -> Table:
    target = ctx.settings.get(SoftwareSettings).target_release
    verdicts = readiness(ctx)
    rows: list[list[Scalar]] = []
    for vc in ctx.snapshot.vcenters.values():
        for c in sorted(vc.clusters.values(), key=lambda c: c.name):
            members = [verdicts[(vc.instance_uuid, m)] for m in c.hosts if (vc.instance_uuid, m) in verdicts]
            roll = cluster_readiness(c.name, members, target)
            rows.append([vc.name, c.name, roll.verdict, len(members), ", ".join(roll.blocked_hosts) or None,
                         ", ".join(roll.unknown_hosts) or None, ", ".join(roll.ready_hosts) or None])
    return Table(id="upgrade_readiness_clusters", family=FAMILY.id, title=f"Upgrade readiness to ESXi {target} per cluster",
                 columns=["vCenter", "Cluster", "Verdict", "Hosts", "Blocked", "Unknown", "Ready"], rows=rows)


def vib_table(ctx: CheckContext) -> Table:
    rows: list[list[Scalar]] = []
    for vc, h in hosts(ctx):
        for p in (h.software.packages or []) if h.software else []:
            rows.append([vc.name, h.name, p.name, p.vendor, p.version, _level(p.acceptance_level), p.type,
                         p.install_date.date().isoformat() if p.install_date else None, ", ".join(p.depends) or None])
    return Table(id="VIB", family=FAMILY.id, title="Installed VIBs",
                 columns=["vCenter", "Host", "VIB", "Vendor", "Version", "Acceptance level", "Type", "Created",
                          "Depends on"], rows=rows, in_summary=False)
