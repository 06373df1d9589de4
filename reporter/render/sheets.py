"""Tabular views of a report for XLSX and CSV (and the inventory CSVs the audit PDF embeds).

One sheet per object type — the tabs admins know from RVTools (vInfo, vHost,
vDatastore, vDisk, vSnapshot, vLicense) — plus the findings and one sheet per
table a check family contributes (including the inventory-sized ones that the
HTML and PDF leave out). License keys arrive masked: the context is masked
before any renderer sees it.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from reporter.checks.registry import families as declared_families
from reporter.checks.registry import family_title
from reporter.core import states
from reporter.core.findings import Finding, Severity, Status
from reporter.core.gcpolicy import paused_gc
from reporter.core.model import SnapshotNode, VCenter
from reporter.domain.lifecycle import release_label
from reporter.domain.vm_snapshots import age_days, compatibility_mode_words, disk_mode_words
from reporter.render.base import ReportContext
from reporter.render.evidence import ONLY_WHEN_SET, column_title
from reporter.render.licensing_view import licensing_lines
from reporter.render.sheet_merge import MERGES, merged_rows
from reporter.render.sheet_text import Cell, column_label, flat_value, parse_iso, sheet_title

GB = 1024**3


@dataclass(frozen=True)
class Sheet:
    id: str  # CSV file name stem: "vms", "findings", or a family table's id
    title: str  # XLSX tab name: sheet_title(id), at most 31 characters
    columns: list[str]
    rows: list[list[Cell]]


def _gb(n: int | None) -> float | None:
    return None if n is None else round(n / GB, 2)


def _utc(d: datetime | None) -> datetime | None:
    return None if d is None else d.astimezone(UTC)


def summary_sheet(ctx: ReportContext) -> Sheet:
    snap = ctx.snapshot
    counts = ctx.results.counts()
    rows: list[list[Cell]] = [
        ["Report", ctx.title],
        ["Collected at (UTC)", _utc(snap.collected_at)],
        ["Generated at (UTC)", _utc(ctx.generated_at)],
        ["Tool version", ctx.tool_version],
        ["Snapshot SHA-256", ctx.snapshot_sha256 or "not available (snapshot not read from a file)"],
        ["Collection complete", snap.complete],
    ]
    for vc in snap.vcenters.values():
        rows.append([f"vCenter {vc.name}", f"{vc.host} — {vc.full_name or vc.version or ''} (instance {vc.instance_uuid})"])
    for sev in ("critical", "high", "medium", "low", "info"):
        rows.append([f"Open findings: {sev}", counts.get(sev, 0)])
    rows += _change_rows(ctx)
    # The licensing verdicts as the executive summary and the email word them (one computation).
    for line in licensing_lines(ctx):
        rows.append([f"Licensing: {line.pool}", " — ".join(p for p in (line.label, line.use, line.when, line.buy) if p)])
    rows.append(["Checks run", len(ctx.results.checks)])
    # Every check's status in words: "not evaluated" is never shown as a pass.
    labels = {"pass": "passed", "findings": "findings", "not_evaluated": "not evaluated", "error": "error"}
    for r in ctx.results.checks:
        rows.append([f"{r.meta.id} {r.meta.title}", f"{labels[r.status.value]}: {r.why}"])
    return Sheet("summary", "Summary", ["Item", "Value"], rows)


def _change_rows(ctx: ReportContext) -> list[list[Cell]]:
    """The change since the last run in the same output directory, as the other formats count it."""
    delta = ctx.delta
    if delta is None:
        return [["Since the last run", "no previous run to compare with"]]
    rows: list[list[Cell]] = [["Since the last run: new", len(delta.new)], ["Since the last run: fixed", len(delta.fixed)],
                              ["Since the last run: still open", len(delta.still_open)]]
    if delta.not_rechecked:
        rows.append(["Since the last run: not re-checked", len(delta.not_rechecked)])
    return rows


FINDING_COLUMNS = ["Severity", "Check", "Group", "Family", "Status", "New since last run", "vCenter", "Object type",
                   "Object", "Object id", "Message", "Remediation", "Waiver reason", "Waiver expires"]
# Evidence is not repeated in the findings sheet: each family's evidence sheet has it in columns.
EVIDENCE_ID_COLUMNS = ["Severity", "Check", "Group", "Status", "vCenter", "Object type", "Object", "Object id"]
WAIVER_KEYS = ("waiver", "waiver_expired")


def _group(f: Finding) -> str:
    # The root-cause group; findings made outside the engine (fixtures, old findings.json) have none.
    return f.group or f.check_id


# A finding's status and severity as the HTML and PDF editions word them (a reader filters the
# sheet by these words; the codes of findings.json are for programs).
STATUS_WORDS = {Status.fail: "open", Status.warn: "warning", Status.waived: "waived", Status.error: "not evaluated",
                Status.passed: "passed"}
SEVERITY_WORDS = {s: s.value.capitalize() for s in Severity}


class _GroupTitles:
    """A finding's group as the HTML and PDF editions head it (its title, not its key); a finding
    whose group the results do not describe (an older findings.json) gets its check's title."""

    def __init__(self, ctx: ReportContext) -> None:
        self._titles = {(r.meta.id, gid): info.title for r in ctx.results.checks for gid, info in r.groups.items()}
        self._checks = {r.meta.id: r.meta.title for r in ctx.results.checks}

    def __call__(self, f: Finding) -> str:
        return self._titles.get((f.check_id, f.group)) or self._checks.get(f.check_id, f.check_id)


def _family_titles(ctx: ReportContext) -> dict[str, str]:
    """check id -> the title of its family ("Snapshots and CBT", not the family's settings id)."""
    return {r.meta.id: family_title(r.meta.family) for r in ctx.results.checks}


# Severity.rank, looked up once: the property rebuilds the member list on every call (23,000 calls
# for a 10,000-VM report, a quarter of building the sheets).
SEVERITY_RANK = {s: s.rank for s in Severity}


def sorted_findings(findings: list[Finding]) -> list[Finding]:
    """Worst first, then by group (root cause), then by object: what to fix first is on top."""
    rank = SEVERITY_RANK
    return sorted(findings, key=lambda f: (-rank[f.severity], _group(f), f.check_id, f.vcenter, f.object_name,
                                           f.object_id))


def findings_sheet(ctx: ReportContext, ordered: list[Finding] | None = None) -> Sheet:
    """``ordered``: the findings already in ``sorted_findings`` order (all_sheets sorts them once
    for this sheet and the evidence sheets)."""
    family = _family_titles(ctx)
    group_title = _GroupTitles(ctx)
    new = {f.key for f in ctx.delta.new} if ctx.delta else set()
    rows: list[list[Cell]] = []
    for f in sorted_findings(ctx.results.findings) if ordered is None else ordered:
        waiver = f.evidence.get("waiver") or {}
        rows.append([
            SEVERITY_WORDS[f.severity], f.check_id, group_title(f), family.get(f.check_id, ""),
            STATUS_WORDS[f.status],
            (f.key in new) if ctx.delta else None, f.vcenter, states.object_type(f.object_type), f.object_name, f.object_id, f.message,
            f.remediation, waiver.get("reason"), _date(waiver.get("expires")),
        ])
    return Sheet("findings", "Findings", FINDING_COLUMNS, rows)


def _date(v: Any) -> Cell:
    return (parse_iso(v) or v) if isinstance(v, str) else flat_value(v)


def evidence_sheets(ctx: ReportContext, ordered: list[Finding] | None = None) -> list[Sheet]:
    """One sheet per check family: its findings with every evidence item in a column of its own
    (``ordered`` as for findings_sheet)."""
    family = {r.meta.id: r.meta.family for r in ctx.results.checks}
    by_family: dict[str, list[Finding]] = {}
    for f in sorted_findings(ctx.results.findings) if ordered is None else ordered:
        by_family.setdefault(family.get(f.check_id, "other"), []).append(f)
    order = {fam: i for i, fam in enumerate(declared_families())}
    group_title = _GroupTitles(ctx)
    sheets = []
    for fam in sorted(by_family, key=lambda x: (order.get(x, len(order)), x)):
        keys: dict[str, str] = {}  # evidence key -> the first check that has it (whose label it takes)
        for f in by_family[fam]:
            for k in f.evidence:
                if k not in keys and k not in WAIVER_KEYS:
                    keys[k] = f.check_id
        if not keys:
            continue
        columns = list(keys)
        # A state code (poweredOn) reads as the vSphere Client words it (Powered on).
        words = [states.EVIDENCE_STATES.get(k) for k in columns]
        rows: list[list[Cell]] = [
            [SEVERITY_WORDS[f.severity], f.check_id, group_title(f), STATUS_WORDS[f.status],
             f.vcenter, states.object_type(f.object_type), f.object_name, f.object_id,
             *[w(v) if w is not None and isinstance(v, str) else
               _absent(k) if v is None and k in ev else flat_value(v)
               for k, w, v in zip(columns, words, map(ev.get, columns), strict=True)]]
            for f in by_family[fam] for ev in (f.evidence,)
        ]
        sid = f"{fam.replace('-', '_')}_evidence"
        sheets.append(Sheet(sid, sheet_title(sid), [*EVIDENCE_ID_COLUMNS, *_evidence_titles(keys)], rows))
    return sheets


def _absent(key: str) -> str | None:
    """An evidence item the check gave without a value, in the words the HTML and PDF print
    ("not set", or the key's own words such as "Not determined"); a blank cell only where those
    leave the item out. A blank means the row's check has no such item."""
    if key in ONLY_WHEN_SET:
        return None
    return states.ABSENT_WORDS.get(key, states.NOT_SET)


def _evidence_titles(keys: dict[str, str]) -> list[str]:
    """The report's label of each evidence key (``evidence.column_title``). Two keys a family's
    checks label alike (SNAP's "snapshot_count" and "snapshots": "Snapshots") keep their own
    spelled-out key instead, so that no sheet has two columns of one title."""
    titles = [column_title(k, check) for k, check in keys.items()]
    seen = Counter(titles)
    return [t if seen[t] == 1 else column_label(k) for t, k in zip(titles, keys, strict=True)]


def _names(vc: VCenter) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    return ({m: h.name for m, h in vc.hosts.items()}, {m: c.name for m, c in vc.clusters.items()},
            {m: d.name for m, d in vc.datastores.items()})


def _tags(tags: list[str] | None) -> str:
    """A VM's tags for a cell; tags not collected (no vAPI endpoint) say so."""
    return "(not collected)" if tags is None else ", ".join(tags)


def inventory_sheets(ctx: ReportContext) -> list[Sheet]:
    snap = ctx.snapshot
    now = snap.collected_at
    vcenters: list[list[Cell]] = []
    vms: list[list[Cell]] = []
    hosts: list[list[Cell]] = []
    clusters: list[list[Cell]] = []
    datastores: list[list[Cell]] = []
    disks: list[list[Cell]] = []
    snaps: list[list[Cell]] = []
    licenses: list[list[Cell]] = []
    assignments: list[list[Cell]] = []
    for vc in snap.vcenters.values():
        vc_now = vc.collected_at or now  # as the snapshot checks: ages at the time this vCenter was read
        host_n, cluster_n, ds_n = _names(vc)
        vcenters.append([vc.name, vc.host, vc.instance_uuid, vc.version, vc.build,
                         release_label("vcenter", vc.build, vc.version).text, vc.api_version, vc.full_name,
                         vc.user, len(vc.vms), len(vc.hosts), len(vc.clusters), len(vc.datastores)])
        for vm in vc.vms.values():
            prov = sum(d.capacity_bytes or 0 for d in vm.disks)
            vms.append([
                vc.name, vm.name, states.power_state(vm.power_state), vm.template, vm.num_cpu, vm.memory_mb, vm.guest_full_name,
                vm.tools_guest_full_name, vm.hw_version, vm.change_tracking_enabled, states.cpu_setting(vm.virtual_exec_usage),
                states.mmu_setting(vm.virtual_mmu_usage), host_n.get(vm.host or "", vm.host), cluster_n.get(vm.cluster or "", vm.cluster),
                vm.folder_path, vm.vapp, _tags(vm.tags), ", ".join(ds_n.get(d, d) for d in vm.datastores), len(vm.disks), _gb(prov),
                len(vm.iter_snapshots()), vm.consolidation_needed, vm.instance_uuid, vm.moid,
            ])
            for d in vm.disks:
                io_ = d.io
                disks.append([
                    vc.name, vm.name, d.label, d.device_node, _gb(d.capacity_bytes), ds_n.get(d.datastore or "", d.datastore),
                    d.backing_file, d.backing_type, disk_mode_words(d.disk_mode), d.thin, compatibility_mode_words(d.compatibility_mode),
                    _iops_limit(io_.limit) if io_ else None, io_.shares_level if io_ else None, io_.shares if io_ else None,
                    io_.reservation if io_ else None, d.change_id,
                ])
            current = vm.current_snapshot
            stack: list[tuple[SnapshotNode, str | None, int]] = [(s, None, 1) for s in reversed(vm.snapshots)]
            while stack:
                node, parent, depth = stack.pop()
                created = _utc(node.create_time)
                age = None if (days := age_days(node.create_time, vc_now)) is None else round(days, 1)
                snaps.append([vc.name, vm.name, node.name, node.description, created, age, depth, parent,
                              node.quiesced, node.state == "poweredOn" if node.state else None,
                              node.moid == current, node.moid])
                stack.extend((c, node.name, depth + 1) for c in reversed(node.children))
        for h in vc.hosts.values():
            hosts.append([
                vc.name, h.name, cluster_n.get(h.cluster or "", h.cluster), h.version, h.build,
                release_label("esxi", h.build, h.version).text, states.connection_state(h.connection_state),
                h.maintenance_mode, states.power_state(h.power_state), h.cpu_model, h.cpu_packages, h.cpu_cores, h.cpu_threads,
                _gb(h.memory_bytes), h.hw_exec_supported, h.hw_mmu_supported, h.moid,
            ])
        for c in vc.clusters.values():
            clusters.append([vc.name, c.name, len(c.hosts), ", ".join(host_n.get(m, m) for m in c.hosts), c.moid])
        for ds in vc.datastores.values():
            free_pct = round(100 * ds.free_bytes / ds.capacity_bytes, 1) if ds.capacity_bytes and ds.free_bytes is not None else None
            iorm = ds.iorm
            datastores.append([
                vc.name, ds.name, ds.type, _gb(ds.capacity_bytes), _gb(ds.free_bytes), free_pct, ds.accessible,
                ds.multiple_host_access, ds.ssd, ds.sioc_supported, iorm.enabled if iorm else None,
                iorm.congestion_threshold_ms if iorm else None, iorm.congestion_threshold_mode if iorm else None,
                len(ds.hosts), len(ds.vms), ds.url, ds.moid,
            ])
        assigned: dict[str, list[str]] = {}
        for a in vc.license_assignments or []:
            assigned.setdefault(a.license_key, []).append(a.entity_name or a.entity)
            assignments.append([vc.name, a.entity_name, states.object_type(a.entity_type), a.entity, a.license_key, a.edition_key])
        if vc.licenses is None:
            licenses.append([vc.name, None, None, "license data could not be read", None, None, None, None, None, None])
        for lic in vc.licenses or []:
            expires = lic.properties.get("expirationDate") or lic.properties.get("expiration")
            licenses.append([vc.name, lic.key, lic.edition_key, lic.name, states.cost_unit(lic.cost_unit), lic.total, lic.used,
                             _date(expires), ", ".join(assigned.get(lic.key, [])), flat_value(lic.properties)])
    sheets = [
        Sheet("vcenters", "vCenters", ["vCenter", "Host", "Instance UUID", "Version", "Build", "Release", "API version",
                                       "Product",
                                       "Collector user", "VMs", "Hosts", "Clusters", "Datastores"], vcenters),
        Sheet("vms", "VMs", ["vCenter", "VM", "Power state", "Template", "CPUs", "Memory (MB)", "Guest OS (configured)",
                             "Guest OS (VMware Tools)", "HW version", "CBT enabled", "CPU virtualization setting",
                             "MMU virtualization setting", "Host", "Cluster", "Folder", "vApp", "Tags", "Datastores", "Disks",
                             "Provisioned (GB)", "Snapshots", "Consolidation needed", "Instance UUID", "MoRef"], vms),
        Sheet("hosts", "Hosts", ["vCenter", "Host", "Cluster", "Version", "Build", "Release", "Connection",
                                 "Maintenance mode",
                                 "Power state", "CPU model", "CPU sockets", "CPU cores", "CPU threads", "Memory (GB)",
                                 "HW CPU virtualization", "HW MMU virtualization", "MoRef"], hosts),
        Sheet("clusters", "Clusters", ["vCenter", "Cluster", "Hosts", "Host names", "MoRef"], clusters),
        Sheet("datastores", "Datastores", ["vCenter", "Datastore", "Type", "Capacity (GB)", "Free (GB)", "Free %",
                                           "Accessible", "Shared", "SSD", "SIOC supported", "SIOC enabled",
                                           "Congestion threshold (ms)", "Threshold mode", "Hosts", "VMs", "URL",
                                           "MoRef"], datastores),
        Sheet("disks", "Disks", ["vCenter", "VM", "Disk", "Node", "Capacity (GB)", "Datastore", "File", "Backing",
                                 "Mode", "Thin", "RDM mode", "IOPS limit", "Shares level", "Shares",
                                 "IOPS reservation", "Change ID"], disks),
        Sheet("snapshots", "Snapshots", ["vCenter", "VM", "Snapshot", "Description", "Created (UTC)",
                                         "Age (days)", "Depth", "Parent", "Quiesced", "With memory", "Current",
                                         "MoRef"], snaps),
        Sheet("licenses", "Licenses", ["vCenter", "License key", "Edition key", "Name", "Cost unit", "Total", "Used",
                                       "Expires", "Assigned to", "Properties"], licenses),
        Sheet("license_assignments", "License assignments", ["vCenter", "Entity", "Entity type", "Entity id",
                                                             "License key", "Edition key"], assignments),
    ]
    if snap.collection_errors:
        sheets.insert(0, Sheet("collection_errors", "Collection errors", ["vCenter", "Stage", "Error", "Message", "Object"],
                               [[e.vcenter, e.stage, e.error_type, e.message, e.object_id] for e in snap.collection_errors]))
    return sheets


def _iops_limit(limit: int | None) -> int | str | None:
    """A disk's Limit - IOPs as the vSphere Client shows it: "Unlimited" for -1."""
    return states.field_value("storageIOAllocation.limit", limit) or limit


def family_sheets(ctx: ReportContext) -> list[Sheet]:
    order = {f: i for i, f in enumerate(declared_families())}
    tables = sorted(ctx.tables, key=lambda t: (order.get(t.family, len(order)), t.family))
    return [Sheet(t.id, sheet_title(t.id), list(t.columns), _typed_rows(t.rows)) for t in tables]


def _typed_rows(rows: Sequence[Sequence[Any]]) -> list[list[Cell]]:
    """Family tables carry dates as ISO text: a column whose first value is one becomes dates
    (Excel date cells, sortable and filterable as dates). Looking only at columns that start
    with a date keeps this cheap on inventory-sized tables."""
    out = [list(r) for r in rows]
    if not out:
        return out
    width = max(len(r) for r in out)
    for col in range(width):
        first = next((r[col] for r in out if col < len(r) and r[col] not in (None, "")), None)
        if not isinstance(first, str) or parse_iso(first) is None:
            continue
        for r in out:
            if col < len(r) and isinstance(r[col], str):
                r[col] = parse_iso(r[col]) or r[col]
    return out


@dataclass(frozen=True)
class SheetParts:
    """What the workbook and the CSV files are both made of: every sheet before the workbook's
    merges and before ids and titles are made unique (``all_sheets`` does both)."""

    head: list[Sheet]  # Summary, Findings, each family's evidence
    inventory: list[Sheet]  # the object types, a family table in the place of its namesake
    family: list[Sheet]  # the other family tables


def sheet_parts(ctx: ReportContext) -> SheetParts:
    """The sheets of ``ctx``, built; shared by every ``all_sheets`` call inside ``sharing_sheets``."""
    shared = _shared.get(id(ctx))
    if shared is not None and shared.ctx is ctx:
        return shared.take()
    return _build_parts(ctx)


def _build_parts(ctx: ReportContext) -> SheetParts:
    # A million small, acyclic cells at 10,000 VMs: automatic collections while they are built
    # would only traverse them (reporter.core.gcpolicy).
    with paused_gc():
        return _parts_of(ctx)


def _parts_of(ctx: ReportContext) -> SheetParts:
    family = family_sheets(ctx)
    # A family table with the id of an inventory sheet ("snapshots") is that family's richer
    # view of the same objects: it takes the inventory sheet's place instead of adding a twin.
    by_id = {s.id: s for s in family}
    inventory = []
    for s in inventory_sheets(ctx):
        replacement = by_id.pop(s.id, None)
        inventory.append(Sheet(s.id, sheet_title(s.id), replacement.columns, replacement.rows) if replacement
                         else Sheet(s.id, sheet_title(s.id), s.columns, s.rows))
    ordered = sorted_findings(ctx.results.findings)  # once for both (12,000 findings at 10,000 VMs)
    head = [summary_sheet(ctx), findings_sheet(ctx, ordered), *evidence_sheets(ctx, ordered)]
    return SheetParts(head=head, inventory=inventory, family=[s for s in family if s.id in by_id])


@dataclass
class _Shared:
    ctx: ReportContext
    uses: int  # all_sheets calls still to come; the parts are let go after the last
    parts: SheetParts | None = None

    def take(self) -> SheetParts:
        parts = self.parts
        if parts is None:
            parts = self.parts = _build_parts(self.ctx)
        self.uses -= 1
        if self.uses <= 0:  # the last one: the parts live on only as long as that render needs them
            self.parts = None
            _shared.pop(id(self.ctx), None)
        return parts


# Report contexts whose sheets are being shared, by id (a context is a dataclass: not hashable).
_shared: dict[int, _Shared] = {}


@contextmanager
def sharing_sheets(ctx: ReportContext, uses: int = 2) -> Iterator[None]:
    """Within the block, the first ``uses`` ``all_sheets(ctx)`` calls build the sheets once: the
    workbook and the CSV files of one report (the same cells, only merged differently), which
    built them twice (0.8 s at 10,000 VMs). No call in the block mutates a sheet: the rows are
    shared. The parts are let go after the last use, or at the end of the block."""
    _shared[id(ctx)] = _Shared(ctx, uses)
    try:
        yield
    finally:
        _shared.pop(id(ctx), None)


def all_sheets(ctx: ReportContext, *, merge_tables: bool = False) -> list[Sheet]:
    """Summary, Findings, each family's evidence, the inventory, then each family table; ids and
    titles made unique. Every title is sheet_title(id), so a CSV file and its sheet share a name.

    ``merge_tables`` (the workbook): family tables that are extra columns of an inventory sheet
    become those columns. CSV keeps every table as its own file, whose names scripts rely on."""
    parts = sheet_parts(ctx)
    inventory = list(parts.inventory)
    by_id = {s.id: s for s in parts.family}  # this call's own: a merged table leaves it
    # A family table that is only extra columns of an inventory sheet ("cbt_disks" of "disks")
    # becomes those columns (sheet_merge.py says when it does and what is not copied).
    for merge in MERGES if merge_tables else ():
        table = by_id.get(merge.table_id)
        pos = next((i for i, s in enumerate(inventory) if s.id == merge.into), None)
        if table is None or pos is None:
            continue
        base = inventory[pos]
        merged = merged_rows(base.columns, base.rows, table.columns, table.rows, merge)
        if merged is not None:
            inventory[pos] = Sheet(base.id, base.title, *merged)
            del by_id[merge.table_id]
    family = [s for s in parts.family if s.id in by_id]
    sheets = [*parts.head, *inventory, *family]
    seen_ids: set[str] = set()
    seen_titles: set[str] = set()
    out = []
    for s in sheets:
        sid = _unique(_safe_id(s.id), seen_ids, 100)
        title = _unique(_safe_title(s.title), seen_titles, 31)
        out.append(Sheet(sid, title, s.columns, s.rows))
    return out


def _safe_id(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._") or "table"


def _safe_title(name: str) -> str:
    # Excel forbids []:*?/\ in sheet names and limits them to 31 characters.
    return re.sub(r"[\[\]:*?/\\]", "_", name).strip("'")[:31] or "Sheet"


def _unique(name: str, seen: set[str], limit: int) -> str:
    candidate, i = name[:limit], 2
    while candidate.lower() in seen:
        suffix = f"_{i}"
        candidate = name[: limit - len(suffix)] + suffix
        i += 1
    seen.add(candidate.lower())
    return candidate


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_value(v: Cell) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return states.yes_no(v)
    if isinstance(v, datetime | date):
        return v.isoformat()
    if isinstance(v, float):
        return repr(v)
    text = str(v)
    # A VM named "=HYPERLINK(...)" must not become a formula when an admin opens the
    # CSV in Excel (OWASP "CSV injection"): text cells that start like a formula get a
    # leading apostrophe. Numbers are numbers, so negative values are untouched.
    if isinstance(v, str) and text.startswith(FORMULA_START):
        return "'" + text
    return text


def sheet_csv(sheet: Sheet) -> bytes:
    """UTF-8 with BOM (Excel opens it with the right encoding), RFC 4180 quoting, CRLF."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(sheet.columns)
    for row in sheet.rows:
        w.writerow([csv_value(v) for v in row])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def findings_json(findings: list[Finding]) -> bytes:
    """The exact bytes of findings.json (shared by the JSON renderer's format and the audit PDF)."""
    doc = [f.model_dump(mode="json") for f in findings]
    return (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
