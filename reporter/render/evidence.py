"""Evidence as a reader sees it: human labels and units, small tables for structures, a plain
caveat for unverified rule data, and the methodology section a check is explained in.

Every format that shows evidence (HTML, PDF, email, XLSX, CSV) goes through here, so a label
reads the same everywhere. Keys holding vSphere names (``ctkEnabled``,
``sched.scsi0:0.throughputCap``) stay as they are: an administrator searches for them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from reporter.core import states
from reporter.core.findings import Finding
from reporter.render.words import PRODUCT_WORDS

# Bookkeeping that templates show on their own (waivers) or that is not evidence at all.
# "reference"/"source" cite KBs and methodology sections, which the check's references and
# methodology line already show. "pool_id"/"vram_pool_id" are the pool's key for findings.json;
# readers see the pool's name ("pool"), and the pool tables show the id in its own column.
HIDDEN = frozenset({"waiver", "waiver_expired", "source", "url", "expiry_known_from", "fix_verified", "verified",
                    "reference", "pool_id", "vram_pool_id"})

UNVERIFIED_CAVEAT = "Fixed build not confirmed by the KB; verify before relying on it."

# key -> label; the unit comes from the key's suffix (see _unit) unless the label map says otherwise.
LABELS: dict[str, str] = {
    # shared
    "interconnect": "Possible interconnect",
    "vm": "VM", "vms": "VMs", "host": "Host", "hosts": "Hosts", "datastore": "Datastore", "datastores": "Datastores",
    "disk": "Disk", "disks": "Disks", "node": "Device node", "mode": "Mode", "state": "State", "type": "Type",
    "kb": "KB", "rdm": "RDM", "pool": "vRAM pool", "edition": "Edition", "vcenters": "vCenters", "stage": "Stage",
    "error_type": "Error", "vcenter": "vCenter", "power_state": "Power state", "vm_power_state": "Power state",
    "hw_version": "Hardware version", "host_version": "ESXi version", "host_build": "ESXi build",
    # CBT
    "change_tracking_enabled": "CBT on (VM)", "in_backup_scope": "In backup scope", "change_id": "changeId",
    "capacity_gb": "Capacity", "defects": "Known defects", "release": "Release", "fixed_build": "Fixed build",
    "fix": "Fixed in", "disks_over_boundary": "Disks over the boundary", "vms_at_risk": "VMs at risk",
    # snapshots
    "snapshot_count": "Snapshots", "total_size_gb": "Snapshot space", "snapshot_gb": "Snapshot space",
    "merge_worst_case_gb": "Space needed to delete (worst case)", "free_gb": "Free space",
    "pct_of_free": "Share of free space", "oldest_snapshot": "Oldest snapshot", "oldest_age_days": "Oldest snapshot age",
    "age_warn_days": "Warning age", "age_high_days": "High age", "snapshots_over_threshold": "Snapshots over the age",
    "created": "Created", "age_days": "Age", "size_gb": "Size", "depth": "Depth", "current": "Current",
    "quiesced": "Quiesced", "memory": "Memory", "chain_depth": "Chain depth", "max_chain_depth": "Recommended maximum",
    "supported_maximum": "Supported maximum", "chain": "Chain", "size_warn_gb": "Space threshold",
    "pct_of_free_warn": "Warning share of free space", "pct_of_free_high": "High share of free space",
    "snapshots": "Snapshots", "consolidation_needed": "Consolidation needed", "leftover_deltas": "Leftover delta files",
    "delta_gb": "Delta size", "backup_snapshots": "Backup snapshots", "pattern": "Matched name",
    "grace_hours": "Grace period",
    "independent_disks": "Independent disks", "label": "Disk", "key": "Device key", "file": "File",
    "setting": "VMX setting",
    "size_note": "Size note",
    # CPU/MMU
    "configured_guest_id": "Guest OS id (configured)", "configured_guest_full_name": "Guest OS (configured)",
    "tools_guest_id": "Guest OS id (VMware Tools)", "tools_guest_full_name": "Guest OS (VMware Tools)",
    "windows_2003_by": "Windows 2003 per", "bitness": "Bitness", "service_pack": "Service pack",
    "virtual_exec_usage": "CPU virtualization setting", "virtual_mmu_usage": "MMU virtualization setting",
    "configured_mode": "Configured mode",
    "host_cpu_vendor": "Host CPU vendor", "host_hw_exec_supported": "Host has hardware CPU virtualization",
    "host_hw_mmu_supported": "Host has hardware MMU virtualization",
    "host_exec_usage_ignored": "Host ignores the per-VM CPU setting",
    "host_mmu_usage_ignored": "Host ignores the per-VM MMU setting",
    "host_ignores_setting": "Host ignores the setting", "host_ignores_basis": "Whether it ignores it, known from",
    "effective_mode_reason": "Effective mode because",
    # SIOC / I/O caps
    "scheduler": "Disk scheduler", "scheduler_reason": "Scheduler determined from", "scheduler_options": "Host options",
    "applies": "Enforced cap", "invalid": "Invalid values", "value": "Value", "reason": "Reason",
    "busy_vm_count_setting": "Busy-VM threshold", "multiple_host_access": "Shared by several hosts",
    "sioc_supported": "SIOC supported", "stats_collection_enabled": "Statistics collection",
    "congestion_threshold_ms": "Congestion threshold", "recommended_range_ms": "Recommended range",
    "default_ms": "Default threshold", "ssd": "SSD", "disks_on_datastore": "Disks on the datastore",
    "powered_on_vms": "Running VMs", "if_legacy": "If the legacy scheduler", "if_per_disk": "If the per-disk scheduler",
    # licensing
    "license_key": "License key", "edition_key": "Edition key", "expires": "Expires", "days_left": "Days left",
    "assigned_to": "Assigned to", "warn_days": "Warning window", "total": "Total", "used": "Used",
    "unassigned": "Unassigned", "cost_unit": "Cost unit", "vram_pool": "Adds to vRAM pool",
    "pool_id": "Pool ID (vcreport plan --pool)", "vram_pool_id": "Adds to pool ID (vcreport plan --pool)",
    "vram_gb_from_unassigned": "vRAM from unassigned licenses", "vram_table": "vRAM table",
    "vram_per_cpu_gb": "vRAM per CPU license", "per_vm_cap_gb": "Per-VM cap", "cpu_licenses_total": "CPU licenses",
    "cpu_licenses_assigned": "CPU licenses assigned", "cpu_licenses_unassigned": "CPU licenses unassigned",
    "entitled_gb": "Entitlement", "entitled_assigned_gb": "Entitlement (assigned)",
    "entitled_unassigned_gb": "Entitlement (unassigned)", "used_gb_now": "vRAM used now",
    "used_gb_uncapped": "vRAM used (without per-VM cap)", "cap_effect_gb": "Saved by the per-VM cap",
    "avg_12m_gb": "12-month average", "days_of_history": "History", "window_days": "Window",
    "missing_days": "Days missing", "first_day": "First day", "peak_high_water_gb": "Peak high-water",
    "licenses_needed": "Licenses needed", "cpu_licenses_to_add_now": "CPU licenses to add now",
    "cpu_licenses_to_add_to_hold_today": "CPU licenses to hold today's use",
    "today_high_water_gb": "Today's high-water", "high_water_from": "Today's high-water read from",
    "verdict": "Verdict", "headroom_gb": "Headroom on the 12-month average",
    "avg_headroom_pct": "Headroom, share of the entitlement", "crossing_date": "Crossing date (if today's use stays)",
    "crossing_date_trend": "Crossing date (at the recent trend)", "horizon_days": "At-risk horizon",
    # networking, host software, lifecycle
    "portgroup": "Port group", "portgroups": "Port groups", "pnic": "Physical NIC", "vlan_id": "VLAN ID",
    "vibs": "VIBs", "vibs_read": "VIBs read", "modules_read": "Kernel modules read", "kbs": "KBs",
    "vcenter_build": "vCenter build", "vcenter_version": "vCenter version",
    **states.FIELD_WORDS,
}

# Which methodology section explains a check (docs/methodology.md#<anchor>).
METHODOLOGY_SECTIONS: dict[str, str] = {
    "collection": "Collection", "vram-pools": "vRAM pools", "vram-compliance": "vRAM compliance",
    "license-inventory": "License inventory", "snapshot-age": "Snapshot age and chain depth",
    "snapshot-space": "Snapshot space", "snapshot-hygiene": "Snapshot hygiene", "cbt": "Changed Block Tracking",
    "cbt-defects": "Known CBT defects", "cpu-mmu-win2003": "Windows Server 2003 CPU/MMU mode",
    "sioc": "Storage I/O Control", "disk-io-caps": "Disk I/O caps", "disk-scheduler": "Disk I/O scheduler",
    "nic-teaming": "NIC teaming and failover", "host-software": "Host software and upgrade readiness",
    "build-lifecycle": "Build lifecycle",
}
_CHECK_SECTION: dict[str, str] = {
    "CBT-006": "cbt-defects", "LIC-001": "vram-compliance", "LIC-006": "license-inventory",
    "LIC-007": "license-inventory", "LIC-008": "license-inventory", "LIC-009": "license-inventory",
    "SNAP-003": "snapshot-space", "SNAP-004": "snapshot-hygiene", "SNAP-005": "snapshot-hygiene",
    "SNAP-006": "snapshot-hygiene", "IOCAP-003": "disk-scheduler", "IOCAP-009": "disk-scheduler",
}
_PREFIX_SECTION = {"CBT": "cbt", "CPU": "cpu-mmu-win2003", "GEN": "collection", "IOCAP": "disk-io-caps",
                   "LIC": "vram-pools", "SIOC": "sioc", "SNAP": "snapshot-age",
                   "NET": "nic-teaming", "SW": "host-software", "LC": "build-lifecycle"}


@dataclass(frozen=True)
class Methodology:
    anchor: str
    title: str

    @property
    def target(self) -> str:
        return f"docs/methodology.md#{self.anchor}"

    @property
    def text(self) -> str:
        """'Methodology: vRAM pools (docs/methodology.md#vram-pools)'."""
        return f"Methodology: {self.title} ({self.target})"


def methodology(check_id: str) -> Methodology | None:
    anchor = _CHECK_SECTION.get(check_id) or _PREFIX_SECTION.get(check_id.split("-", 1)[0])
    return Methodology(anchor, METHODOLOGY_SECTIONS[anchor]) if anchor else None


# Where a family uses a key in its own sense.
FAMILY_LABELS: dict[str, dict[str, str]] = {
    "IOCAP": {"fix": "Fix", "enforced": "Enforced", "effective_limit": "Effective limit",
              "why_not_enforced": "Why not enforced", "after_vmotion": "After vMotion"},
    "SIOC": {"vms": "VMs", "hosts": "Hosts", "type": "Datastore type"},
    "LIC": {"threshold_pct": "Headroom warning threshold"},
    "NET": {"kind": "Switch type", "check_beacon": "Beacon probing", "check_beacon_from": "Beacon probing set on",
            "failover_order_from": "Failover order set on", "load_balancing_from": "Load balancing set on",
            "notify_switches_from": "Notify switches set on"},
}


def label(key: str, check_id: str = "") -> str:
    """A reader's label for an evidence key; vSphere names (no underscore) are kept."""
    family = FAMILY_LABELS.get(check_id.split("-", 1)[0], {})
    if key in family:
        return family[key]
    if key in LABELS:
        return LABELS[key]
    if "_" not in key:
        if "." in key:  # a host name or a vmx key used as a key: shown as it is spelled
            return key
        return key[:1].upper() + key[1:] if key.islower() else key
    words = [w for w in re.split(r"_+", key) if w]
    if len(words) > 1 and words[-1] in _UNIT_WORDS:  # the unit follows the value: "Age: 12 days"
        words.pop()
    spelled = [PRODUCT_WORDS.get(w, w) for w in words]  # "cbt" -> "CBT", "vcenter" -> "vCenter"
    if spelled and words[0] not in PRODUCT_WORDS:
        spelled[0] = spelled[0][:1].upper() + spelled[0][1:]
    return " ".join(spelled)


def column_title(key: str, check_id: str = "") -> str:
    """An evidence key as a spreadsheet column title: the label the report prints, with the unit
    it prints after each value in brackets ("capacity_gb" -> "Capacity (GB)"), so that a sheet
    names a value as the HTML and the PDF do."""
    text = label(key, check_id)
    unit = _unit(key)
    if not unit or unit.lower() in text.lower():
        return text
    # "Entitlement (assigned)" -> "Entitlement (assigned, GB)", not two brackets
    return f"{text[:-1]}, {unit})" if text.endswith(")") else f"{text} ({unit})"


_UNIT_WORDS = frozenset({"gb", "days", "ms", "pct", "iops", "hours", "mbps"})


def _unit(key: str) -> str:
    for suffix, unit in (("_gb", "GB"), ("_days", "days"), ("_ms", "ms"), ("_iops", "IOPS"), ("_hours", "hours"),
                         ("_mbps", "MB/s")):
        if key.endswith(suffix):
            return unit
    if "_gb_" in key:  # used_gb_now, used_gb_uncapped
        return "GB"
    if key.startswith("pct_") or key.endswith("_pct"):
        return "%"
    if key == "warn_days" or key == "days_left":
        return "days"
    return ""


def _is_identifier(key: str) -> bool:
    """A number that names something (a build, a device key, a VLAN): printed as it is spelled,
    without thousands separators (ESXi build 2312428, not 2,312,428)."""
    return key == "key" or key.endswith(("build", "_key", "_id"))


def scalar(value: Any, key: str = "") -> str:
    """One value as text, with the unit its key implies (GB with one decimal, days, ms, %)."""
    if value is None:
        return states.ABSENT_WORDS.get(key, states.NOT_SET)
    if isinstance(value, bool):
        return states.yes_no(value)
    if isinstance(value, int) and _is_identifier(key):
        return str(value)
    if key in states.FIELD_WORDS and (words := states.field_value(key, value)) is not None:
        return words
    unit = _unit(key)
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            return str(value)
        if unit == "GB":
            return f"{value:,.1f} GB"
        if unit == "days":
            return f"{value:,.1f} days" if isinstance(value, float) and value != int(value) else f"{value:,.0f} days"
        text = f"{value:,.1f}" if isinstance(value, float) and value != int(value) else f"{value:,.0f}"
        return f"{text} {unit}".rstrip() if unit != "%" else f"{text} %"
    if isinstance(value, (datetime, date)):
        return value.strftime("%Y-%m-%d %H:%M UTC") if isinstance(value, datetime) else value.isoformat()
    if isinstance(value, str):
        if key in states.EVIDENCE_STATES:  # a vSphere state code: the vSphere Client's words (findings.json keeps the code)
            return states.EVIDENCE_STATES[key](value) or value
        if re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?([+-]\d\d:\d\d|Z)?", value):
            return value[:10] + " " + value[11:16] + " UTC"
        return value
    return str(value)


@dataclass(frozen=True)
class EvidenceTable:
    """A list of records (or one record) as a small table."""

    columns: list[str]
    rows: list[list[str]]


@dataclass(frozen=True)
class EvidenceItem:
    key: str
    label: str
    text: str | None  # scalars and short lists
    table: EvidenceTable | None = None  # structures


def _is_unverified(value: Any) -> bool:
    if isinstance(value, dict):
        if value.get("fix_verified") is False or value.get("verified") is False:
            return True
        src = value.get("source")
        if isinstance(src, str) and src.upper().startswith("UNVERIFIED"):
            return True
        children: Iterable[Any] = value.values()
    elif isinstance(value, list):
        children = value
    else:
        return False
    # Descends only into structures: every finding's evidence is walked for each report view
    # (~300,000 values at 10,000 VMs), mostly scalars, where a call per value cost more than the
    # rest of the walk. A plain loop: a generator in any() costs a frame switch per value.
    for child in children:  # noqa: SIM110
        if isinstance(child, (dict, list)) and _is_unverified(child):
            return True
    return False


def _table(value: Any) -> EvidenceTable:
    if isinstance(value, dict):
        return EvidenceTable(["Item", "Value"], [[label(k), flat(v, k)] for k, v in value.items() if k not in HIDDEN])
    records = [v for v in value if isinstance(v, dict)]
    keys: list[str] = []
    for r in records:
        keys += [k for k in r if k not in HIDDEN and k not in keys]
    return EvidenceTable([label(k) for k in keys], [[flat(r.get(k), k) for k in keys] for r in records])


def flat(value: Any, key: str) -> str:
    """A value inside a table cell: nested structures as 'label: value' text (never JSON)."""
    if isinstance(value, dict):
        return "; ".join(f"{label(k)}: {flat(v, k)}" for k, v in value.items() if k not in HIDDEN)
    if isinstance(value, (list, tuple)):
        if all(not isinstance(v, (dict, list)) for v in value):
            if key.endswith("_range_ms") and len(value) == 2:
                return f"{scalar(value[0])}–{scalar(value[1])} ms"
            return ", ".join(scalar(v) for v in value) or states.NO_ITEMS
        return " | ".join(flat(v, key) for v in value)
    return scalar(value, key)


# Reasons that exist only when something is wrong: left out when there is none, rather than
# printed as "not set" beside "Enforced: yes".
ONLY_WHEN_SET = frozenset({"why_not_enforced"})


def items(evidence: dict[str, Any], check_id: str = "") -> list[EvidenceItem]:
    out: list[EvidenceItem] = []
    for k, v in evidence.items():
        if k in HIDDEN or (v is None and k in ONLY_WHEN_SET):
            continue
        structured = isinstance(v, dict) or (isinstance(v, list) and any(isinstance(x, dict) for x in v))
        if structured and v:
            out.append(EvidenceItem(k, label(k, check_id), None, _table(v)))
        else:
            out.append(EvidenceItem(k, label(k, check_id), flat(v, k)))
    return out


def caveats(f: Finding) -> list[str]:
    """Plain sentences for rule data the report could not confirm."""
    return caveats_of((f,))


def caveats_of(findings: Iterable[Finding]) -> list[str]:
    """The caveats of any of ``findings``, sorted: the walk stops at the first finding with each."""
    return [UNVERIFIED_CAVEAT] if any(_is_unverified(f.evidence) for f in findings) else []


def as_text(evidence: dict[str, Any], check_id: str = "") -> str:
    """One line for spreadsheet cells and plain text: 'Label: value; Label: a | b'."""
    return "; ".join(f"{i.label}: {i.text if i.table is None else flat(evidence[i.key], i.key)}"
                     for i in items(evidence, check_id))
