"""Per-disk I/O caps (KB1038241) and which of them a host actually enforces.

Pure functions over the snapshot model: no pyVmomi, no I/O, never raises on bad
input (a value that does not parse comes back as a :class:`CapParseError`).
Domain facts: ``/work/shared/docs/methodology.md#disk-io-caps.

Three questions are answered here:

1. **What does a cap string mean?** ``sched.scsiX:Y.throughputCap`` (operations)
   and ``sched.scsiX:Y.bandwidthCap`` (bytes) take a whole number and a unit:
   ``IOps KIOps MIOps GIOps`` resp. ``Bps KBps MBps GBps``, case-insensitive.
   **No unit means IOps resp. Bps** - not K-units as KB1038241 says (docs/methodology.md#disk-io-caps;
   confirmed by VMware support). ``off`` is what ESXi
   itself writes into the .vmx for an unlimited disk.

   Prefix base (no VMware source states it, so both are settings):

   * IOPS prefixes are decimal (``K`` = 1000): an operation count has no
     binary-prefix convention, and ``2KIOps`` reading as 2000 is what an admin
     typing it means.
   * Bandwidth prefixes are binary (``K`` = 1024): VMware's storage stack uses
     1024-based units, and the vSphere 5.0 Resource Management Guide's own
     example converts "10MB per second with 64KB IOs" into "160 IOPS", which is
     10 x 1024 / 64 - only true with MB = 1024 KB.

2. **Which scheduler does the host run?** (:func:`determine_scheduler`) The
   legacy scheduler (ESX/ESXi < 5.5; 5.5-6.x with
   ``Disk.SchedulerWithReservation = 0``; 6.0 U1+ with per-file scheduling
   turned off; 7.0+ with ``VMkernel.Boot.isPerFileSchedModelActive = false``)
   enforces limits per VM per datastore; mClock (5.5-6.x default) and the
   per-file scheduler (7.0+ default) enforce each disk's limit alone, counting
   IOPS in 32 KB units. An option that could not be read makes the scheduler
   **unknown** - never guessed.

3. **What is enforced?** (:func:`evaluate_vm`) Under the legacy scheduler all
   of a VM's disks on one datastore must carry a limit of the same type (IOPS or
   bandwidth), otherwise nothing of that type is enforced; the enforced limit is
   the sum, shared by the disks. Under the per-disk schedulers each limit
   applies to its disk alone.

**The UI IOPS limit and ``throughputCap`` are one knob** (reference section 6:
``storageIOAllocation.limit`` is stored as ``sched.scsiX:Y.throughputCap`` in
the .vmx). When the snapshot shows both for one disk and they agree, that is
the same setting seen twice. When they disagree, the **API value wins** here:
it is what vCenter shows and what every reconfigure through the API (vSphere
Client, PowerCLI ``Set-VMResourceConfiguration``, a storage policy) writes back
into the .vmx, so the extraConfig string is the stale one. The conflict is
still reported so the admin removes it. A bandwidth cap exists only as
extraConfig, so it never conflicts with the API.

RDMs: a raw device mapping's I/O goes to its own LUN, not to the datastore that
holds its mapping file, and the legacy scheduler keeps one queue per VM and
storage *device*; so each RDM is evaluated as a device of its own.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Literal

from reporter.core.model import VM, Disk, Host, VCenter

# ---------------------------------------------------------------------------- units

KB1038241_URL = "https://knowledge.broadcom.com/external/article?legacyId=1038241"

_INT64_MAX = 2**63 - 1


class CapKind(str, Enum):
    iops = "iops"  # sched.<dev>.throughputCap, storageIOAllocation.limit
    bandwidth = "bandwidth"  # sched.<dev>.bandwidthCap (bytes per second)


# canonical spelling -> power of the prefix base
_UNITS: dict[CapKind, dict[str, int]] = {
    CapKind.iops: {"IOps": 0, "KIOps": 1, "MIOps": 2, "GIOps": 3},
    CapKind.bandwidth: {"Bps": 0, "KBps": 1, "MBps": 2, "GBps": 3},
}
_LOOKUP: dict[str, tuple[CapKind, str, int]] = {
    unit.lower(): (kind, unit, power) for kind, units in _UNITS.items() for unit, power in units.items()
}
UNITS: dict[CapKind, tuple[str, ...]] = {kind: tuple(units) for kind, units in _UNITS.items()}

_CAP_RE = re.compile(r"\s*(?P<num>[0-9]+)\s*(?P<unit>[A-Za-z]*)\s*")
_UNLIMITED_WORDS = frozenset({"off"})


@dataclass(frozen=True)
class Cap:
    """A parsed cap: ``value`` is IOPS (kind iops) or bytes per second (kind bandwidth)."""

    kind: CapKind
    value: int
    raw: str
    number: int
    unit: str  # canonical spelling of the unit ("KIOps"); the default unit when none was written
    unit_written: bool

    def describe(self) -> str:
        return describe_value(self.kind, self.value)


@dataclass(frozen=True)
class Unlimited:
    """``off`` - ESXi's own spelling of "no cap" in the .vmx."""

    kind: CapKind
    raw: str


@dataclass(frozen=True)
class CapParseError:
    """A value that is not a cap. Reported as a finding; never raised."""

    kind: CapKind
    raw: str
    reason: str


ParsedCap = Cap | Unlimited | CapParseError


def parse_cap(raw: object, kind: CapKind, *, iops_base: int = 1000, bandwidth_base: int = 1024) -> ParsedCap:
    """Parse one ``throughputCap`` (kind iops) or ``bandwidthCap`` (kind bandwidth) value.

    Never raises: anything that is not ``<whole number>[unit]`` or ``off`` comes back as
    :class:`CapParseError` with the reason.
    """
    text = raw if isinstance(raw, str) else ("" if raw is None else str(raw))
    stripped = text.strip()
    if stripped.lower() in _UNLIMITED_WORDS:
        return Unlimited(kind, text)
    if not stripped:
        return CapParseError(kind, text, "empty value")
    m = _CAP_RE.fullmatch(text)
    if m is None:
        if re.fullmatch(r"\s*-?[0-9]*[.,][0-9]+\s*[A-Za-z]*\s*", text):
            return CapParseError(kind, text, "only whole numbers are accepted (KB1038241 examples: 500IOps, 10MBps)")
        if stripped.startswith("-"):
            return CapParseError(kind, text, "a negative cap is not valid (use 'off' or remove the key for no cap)")
        return CapParseError(kind, text, f"not '<whole number><unit>'; units: {_unit_list(kind)}")
    number = int(m.group("num"))
    unit_text = m.group("unit")
    if unit_text:
        hit = _LOOKUP.get(unit_text.lower())
        if hit is None:
            return CapParseError(kind, text, f"unknown unit {unit_text!r}; units: {_unit_list(kind)}")
        unit_kind, unit, power = hit
        if unit_kind is not kind:
            key = "throughputCap" if kind is CapKind.iops else "bandwidthCap"
            other = "a bandwidth" if unit_kind is CapKind.bandwidth else "an operations (IOPS)"
            return CapParseError(kind, text, f"{unit!r} is {other} unit; {key} takes {_unit_list(kind)}")
    else:
        # Reference section 6: no unit = IOps resp. Bps (the KB's "K-units" default is wrong).
        unit, power = ("IOps", 0) if kind is CapKind.iops else ("Bps", 0)
    base = iops_base if kind is CapKind.iops else bandwidth_base
    value = number * base**power
    if number == 0:
        return CapParseError(kind, text, "a cap of 0 is not a limit (use 'off' or remove the key for no cap)")
    if value > _INT64_MAX:
        return CapParseError(kind, text, "value out of range")
    return Cap(kind, value, text, number, unit, bool(unit_text))


def format_cap(number: int, unit: str) -> str:
    """The .vmx spelling of a cap, e.g. ``format_cap(500, "IOps") == "500IOps"``."""
    return f"{number}{unit}"


def suggest_cap_string(kind: CapKind, value: int, *, iops_base: int = 1000, bandwidth_base: int = 1024) -> str:
    """The shortest exact .vmx spelling of ``value`` (IOPS or bytes/s): 2000 -> ``2KIOps``."""
    base = iops_base if kind is CapKind.iops else bandwidth_base
    units = UNITS[kind]
    power = 0
    while power + 1 < len(units) and value % base ** (power + 1) == 0:
        power += 1
    return format_cap(value // base**power, units[power])


def describe_value(kind: CapKind, value: int) -> str:
    if kind is CapKind.iops:
        return f"{value} IOPS"
    return f"{_human_bytes(value)}/s"


def _human_bytes(n: int) -> str:
    for unit, size in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if n >= size:
            v = n / size
            return f"{v:.0f} {unit}" if v == int(v) else f"{v:.1f} {unit}"
    return f"{n} B"


def _unit_list(kind: CapKind) -> str:
    return ", ".join(UNITS[kind])


# ---------------------------------------------------------------------------- scheduler

OPT_SCHED_WITH_RESERVATION = "Disk.SchedulerWithReservation"
OPT_PER_FILE_SCHED = "VMkernel.Boot.isPerFileSchedModelActive"


class Scheduler(str, Enum):
    legacy = "legacy"  # per VM per datastore, sum of same-type limits
    mclock = "mclock"  # ESXi 5.5-6.x default: per disk, 32 KB units
    per_file = "per-file"  # ESXi 7.0+ default: per disk, 32 KB units
    unknown = "unknown"

    @property
    def per_disk(self) -> bool:
        return self in (Scheduler.mclock, Scheduler.per_file)

    @property
    def label(self) -> str:
        return {
            Scheduler.legacy: "legacy (per VM per datastore)",
            Scheduler.mclock: "mClock (per disk)",
            Scheduler.per_file: "per-file (per disk)",
            Scheduler.unknown: "unknown",
        }[self]


@dataclass(frozen=True)
class SchedulerInfo:
    kind: Scheduler
    reason: str
    options: dict[str, object] = field(default_factory=dict)  # the option values the decision used

    def evidence(self) -> dict[str, object]:
        return {"scheduler": self.kind.value, "scheduler_reason": self.reason, "scheduler_options": dict(self.options)}


def parse_version(version: str | None) -> tuple[int, int] | None:
    if not version:
        return None
    m = re.match(r"\s*(\d+)\.(\d+)", version)
    return (int(m.group(1)), int(m.group(2))) if m else None


def _option_bool(value: object) -> bool | None:
    """A host option value as a flag; None when it is not a recognisable 0/1/true/false."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value != 0
    if isinstance(value, str):
        v = value.strip().lower()
        if v in ("1", "true", "yes", "on"):
            return True
        if v in ("0", "false", "no", "off"):
            return False
    return None


def _lookup(host: Host, key: str) -> tuple[str, object]:
    """("error", reason) | ("missing", None) | ("unset", None) | ("value", bool) | ("bad", raw)."""
    if key in host.advanced_option_errors:
        return "error", host.advanced_option_errors[key]
    if key not in host.advanced_options:
        return "missing", None
    raw = host.advanced_options[key]
    if raw is None:  # InvalidName from QueryOptions: not set on this host -> version default
        return "unset", None
    flag = _option_bool(raw)
    return ("value", flag) if flag is not None else ("bad", raw)


def determine_scheduler(host: Host | None) -> SchedulerInfo:
    """The disk I/O scheduler of ``host`` from its version and advanced options (reference section 6)."""
    if host is None:
        return SchedulerInfo(Scheduler.unknown, "the VM's host is not in the collected inventory")
    ver = parse_version(host.version)
    if ver is None:
        return SchedulerInfo(Scheduler.unknown, f"host version {host.version!r} is unknown")
    vtext = f"ESXi {host.version}"
    if ver < (5, 5):
        return SchedulerInfo(Scheduler.legacy, f"{vtext} predates the mClock scheduler (ESXi 5.5)")

    used: dict[str, object] = {}

    def read(key: str) -> tuple[str, object]:
        state, value = _lookup(host, key)
        used[key] = {"error": f"unknown: {value}", "missing": "not collected", "unset": "not set (default)"}.get(
            state, host.advanced_options.get(key))
        return state, value

    def unknown(key: str, state: str, detail: object) -> SchedulerInfo:
        if state == "error":
            why = f"{key} could not be read on this host ({detail})"
        elif state == "missing":
            why = f"{key} was not collected from this host"
        else:
            why = f"{key} has an unrecognised value {detail!r}"
        return SchedulerInfo(Scheduler.unknown, why, used)

    if ver < (7, 0):
        state, value = read(OPT_SCHED_WITH_RESERVATION)
        if state in ("error", "missing", "bad"):
            return unknown(OPT_SCHED_WITH_RESERVATION, state, value)
        if state == "value" and value is False:
            return SchedulerInfo(Scheduler.legacy, f"{vtext} with {OPT_SCHED_WITH_RESERVATION} = 0", used)
        if ver >= (6, 0):
            # vSphere 6.0 U1+ Storage guide: turning per-file scheduling off reverts to the legacy
            # scheduler (one queue per VM and storage device). Absent on older builds = default (on).
            pstate, pvalue = read(OPT_PER_FILE_SCHED)
            if pstate in ("error", "bad"):
                return unknown(OPT_PER_FILE_SCHED, pstate, pvalue)
            if pstate == "value" and pvalue is False:
                return SchedulerInfo(Scheduler.legacy, f"{vtext} with {OPT_PER_FILE_SCHED} = false", used)
        default = "not set (default 1)" if state == "unset" else "= 1"
        return SchedulerInfo(Scheduler.mclock, f"{vtext} with {OPT_SCHED_WITH_RESERVATION} {default}", used)

    state, value = read(OPT_PER_FILE_SCHED)
    if state in ("error", "missing", "bad"):
        return unknown(OPT_PER_FILE_SCHED, state, value)
    if state == "value" and value is False:
        return SchedulerInfo(Scheduler.legacy, f"{vtext} with {OPT_PER_FILE_SCHED} = false", used)
    default = "not set (default true)" if state == "unset" else "= true"
    return SchedulerInfo(Scheduler.per_file, f"{vtext} with {OPT_PER_FILE_SCHED} {default}", used)


# ---------------------------------------------------------------------------- per-disk caps

_KEY_RE = re.compile(r"sched\.(?P<dev>[a-z]+[0-9]+:[0-9]+)\.(?P<what>throughputcap|bandwidthcap)", re.IGNORECASE)


def cap_keys(extra_config: Mapping[str, str]) -> dict[tuple[str, CapKind], tuple[str, str]]:
    """``{(device node, kind): (key as written, raw value)}`` for every cap key in extraConfig."""
    out: dict[tuple[str, CapKind], tuple[str, str]] = {}
    for key, value in extra_config.items():
        m = _KEY_RE.fullmatch(key.strip())
        if m is None:
            continue
        kind = CapKind.iops if m.group("what").lower() == "throughputcap" else CapKind.bandwidth
        out[(m.group("dev").lower(), kind)] = (key, value)
    return out


@dataclass(frozen=True)
class DiskCaps:
    """One disk's caps from both sources and the cap that applies to it."""

    disk: Disk
    api_limit: int | None  # storageIOAllocation.limit when > 0; None = unlimited / not set
    api_limit_raw: int | None  # as collected (-1, None, 0, 500 ...)
    throughput: ParsedCap | None  # extraConfig throughputCap, None = key absent
    throughput_key: str | None
    bandwidth: ParsedCap | None  # extraConfig bandwidthCap, None = key absent
    bandwidth_key: str | None
    iops: int | None  # the IOPS cap in effect for this disk
    iops_source: Literal["api", "extraConfig"] | None
    bandwidth_bps: int | None  # the bandwidth cap in effect (bytes/s)
    conflict: bool  # API limit and throughputCap disagree (API wins)
    node: str = ""  # the disk's vmx slot, "scsi0:1"

    def __post_init__(self) -> None:
        if not self.node:
            object.__setattr__(self, "node", self.disk.device_node)

    @property
    def name(self) -> str:
        label = self.disk.label or f"disk {self.disk.key}"
        return f"{label} ({self.node})"

    @property
    def rdm(self) -> bool:
        return self.disk.backing_type == "rdm"

    @property
    def capped(self) -> bool:
        return self.iops is not None or self.bandwidth_bps is not None

    @property
    def kinds(self) -> frozenset[CapKind]:
        out = set()
        if self.iops is not None:
            out.add(CapKind.iops)
        if self.bandwidth_bps is not None:
            out.add(CapKind.bandwidth)
        return frozenset(out)

    @property
    def errors(self) -> list[CapParseError]:
        return [p for p in (self.throughput, self.bandwidth) if isinstance(p, CapParseError)]

    @property
    def has_legacy_caps(self) -> bool:
        """An extraConfig cap key other than ``off``."""
        return any(p is not None and not isinstance(p, Unlimited) for p in (self.throughput, self.bandwidth))

    def configured(self) -> str:
        """What is configured on this disk, for tables and evidence."""
        parts: list[str] = []
        if self.api_limit is not None:
            parts.append(f"limit {self.api_limit} IOPS")
        for key, parsed in ((self.throughput_key, self.throughput), (self.bandwidth_key, self.bandwidth)):
            if parsed is None or key is None:
                continue
            tag = " (invalid)" if isinstance(parsed, CapParseError) else ""
            parts.append(f"{key.split('.', 2)[-1]}={parsed.raw!r}{tag}")
        return ", ".join(parts) or "none"

    def effective(self) -> str:
        parts = []
        if self.iops is not None:
            parts.append(f"{self.iops} IOPS")
        if self.bandwidth_bps is not None:
            parts.append(describe_value(CapKind.bandwidth, self.bandwidth_bps))
        return " + ".join(parts) or "unlimited"


def disk_caps(vm: VM, disk: Disk, *, iops_base: int = 1000, bandwidth_base: int = 1024,
              keys: dict[tuple[str, CapKind], tuple[str, str]] | None = None) -> DiskCaps:
    keys = cap_keys(vm.extra_config) if keys is None else keys
    raw_limit = disk.io.limit if disk.io is not None else None
    api = raw_limit if (raw_limit is not None and raw_limit > 0) else None
    slot = disk.device_node
    node = slot.lower()
    tp_entry = keys.get((node, CapKind.iops))
    bw_entry = keys.get((node, CapKind.bandwidth))
    tp = parse_cap(tp_entry[1], CapKind.iops, iops_base=iops_base, bandwidth_base=bandwidth_base) if tp_entry else None
    bw = parse_cap(bw_entry[1], CapKind.bandwidth, iops_base=iops_base, bandwidth_base=bandwidth_base) if bw_entry else None
    iops: int | None = None
    source: Literal["api", "extraConfig"] | None = None
    conflict = False
    if api is not None:
        iops, source = api, "api"
        # Same knob: a throughputCap that says something else is stale (module docstring).
        conflict = (isinstance(tp, Cap) and tp.value != api) or isinstance(tp, Unlimited)
    elif isinstance(tp, Cap):
        iops, source = tp.value, "extraConfig"
    return DiskCaps(
        disk=disk, api_limit=api, api_limit_raw=raw_limit,
        throughput=tp, throughput_key=tp_entry[0] if tp_entry else None,
        bandwidth=bw, bandwidth_key=bw_entry[0] if bw_entry else None,
        iops=iops, iops_source=source, bandwidth_bps=bw.value if isinstance(bw, Cap) else None,
        conflict=conflict, node=slot,
    )


# ---------------------------------------------------------------------------- enforcement


class Enforced(str, Enum):
    yes = "yes"
    no = "no"
    partly = "partly"  # one cap type enforced, another configured but not
    none_configured = "n/a"
    unknown = "unknown"


@dataclass(frozen=True)
class TypeOutcome:
    """One cap type (IOPS or bandwidth) within one VM x datastore under one scheduler."""

    kind: CapKind
    capped: tuple[str, ...]  # device nodes that carry this type
    missing: tuple[str, ...]  # device nodes without it (only matters under legacy)
    enforced: bool
    total: int | None  # legacy: the enforced sum; per disk: None


@dataclass(frozen=True)
class Enforcement:
    """What one scheduler makes of one VM x datastore's caps."""

    scheduler: Literal["legacy", "per-disk"]
    types: tuple[TypeOutcome, ...]  # only the types configured on at least one disk
    per_disk: tuple[tuple[str, int | None, int | None], ...]  # (node, iops, bandwidth) applied per disk

    @property
    def status(self) -> Enforced:
        if not self.types:
            return Enforced.none_configured
        flags = [t.enforced for t in self.types]
        if all(flags):
            return Enforced.yes
        return Enforced.partly if any(flags) else Enforced.no

    def describe(self) -> str:
        if not self.types:
            return "no cap"
        if self.scheduler == "legacy":
            parts = []
            for t in self.types:
                if t.enforced and t.total is not None:
                    parts.append(f"{describe_value(t.kind, t.total)} shared by {', '.join(t.capped)}")
            return "; ".join(parts) or "nothing enforced"
        parts = []
        for node, iops, bw in self.per_disk:
            caps = [] if iops is None else [f"{iops} IOPS"]
            if bw is not None:
                caps.append(describe_value(CapKind.bandwidth, bw))
            if caps:
                parts.append(f"{node} \u2264 {' + '.join(caps)}")
        return "; ".join(parts)

    def signature(self) -> frozenset[tuple[frozenset[str], str, int]]:
        """What is enforced, as (disks sharing the cap, type, value) constraints: comparable across
        schedulers, so a single capped disk reads the same under both."""
        if self.scheduler == "legacy":
            return frozenset((frozenset(t.capped), t.kind.value, t.total) for t in self.types
                             if t.enforced and t.total is not None)
        out = set()
        for node, iops, bw in self.per_disk:
            if iops is not None:
                out.add((frozenset({node}), CapKind.iops.value, iops))
            if bw is not None:
                out.add((frozenset({node}), CapKind.bandwidth.value, bw))
        return frozenset(out)


def enforce(disks: Iterable[DiskCaps], scheduler: Literal["legacy", "per-disk"]) -> Enforcement:
    disks = list(disks)
    if not any(d.capped for d in disks):  # most VMs: nothing to enforce under either scheduler
        return Enforcement(scheduler, (), ())
    types: list[TypeOutcome] = []
    for kind in (CapKind.iops, CapKind.bandwidth):
        values = [(d.node, d.iops if kind is CapKind.iops else d.bandwidth_bps) for d in disks]
        capped = tuple(n for n, v in values if v is not None)
        if not capped:
            continue
        missing = tuple(n for n, v in values if v is None)
        if scheduler == "legacy":
            enforced = not missing
            total = sum(v for _, v in values if v is not None) if enforced else None
        else:
            enforced, total = True, None
        types.append(TypeOutcome(kind, capped, missing if scheduler == "legacy" else (), enforced, total))
    per_disk = tuple((d.node, d.iops, d.bandwidth_bps) for d in disks if d.capped) if scheduler == "per-disk" else ()
    return Enforcement(scheduler, tuple(types), per_disk)


@dataclass(frozen=True)
class GroupEvaluation:
    """One VM's disks on one datastore (or one RDM), evaluated under its host's scheduler."""

    vm: VM
    datastore: str | None  # datastore moid (for an RDM: the datastore of its mapping file)
    rdm: bool  # this group is a single RDM, evaluated as its own device
    disks: tuple[DiskCaps, ...]
    scheduler: SchedulerInfo
    legacy: Enforcement
    per_disk: Enforcement

    @property
    def group_id(self) -> str:
        if self.rdm:
            return f"rdm:{self.disks[0].node}"
        return self.datastore or "unknown-datastore"

    @property
    def actual(self) -> Enforcement | None:
        if self.scheduler.kind is Scheduler.legacy:
            return self.legacy
        if self.scheduler.kind.per_disk:
            return self.per_disk
        return None

    @property
    def any_cap(self) -> bool:
        return any(d.capped for d in self.disks)

    @property
    def configured_anything(self) -> bool:
        return any(d.capped or d.has_legacy_caps or d.errors for d in self.disks)

    @property
    def schedulers_agree(self) -> bool:
        """Both schedulers enforce the same caps on the same disks (e.g. a single capped disk)."""
        return (self.legacy.status == self.per_disk.status
                and self.legacy.signature() == self.per_disk.signature())

    @property
    def enforced(self) -> Enforced:
        actual = self.actual
        if actual is not None:
            return actual.status
        if not self.any_cap:
            return Enforced.none_configured
        return self.legacy.status if self.schedulers_agree else Enforced.unknown

    def effective(self) -> str:
        actual = self.actual
        if actual is not None:
            return actual.describe()
        if self.schedulers_agree:
            return self.legacy.describe()
        return f"legacy: {self.legacy.describe()} | per-disk: {self.per_disk.describe()}"

    def why_not(self) -> str:
        """Why (part of) the configured caps are not enforced; "" when all are."""
        actual = self.actual
        if actual is None:
            if self.any_cap and not self.schedulers_agree:
                return f"scheduler unknown: {self.scheduler.reason}"
            return ""
        return not_enforced_reason(actual, self.disks)

    @property
    def mixed_types(self) -> bool:
        kinds = {k for d in self.disks for k in d.kinds}
        return len(kinds) > 1


def not_enforced_reason(enf: Enforcement, disks: Iterable[DiskCaps] = ()) -> str:
    """Why the legacy scheduler does not enforce (some of) the caps; "" when it enforces all."""
    invalid = {(d.node, p.kind): p for d in disks for p in d.errors}
    reasons = []
    for t in enf.types:
        if t.enforced:
            continue
        word = "IOPS" if t.kind is CapKind.iops else "bandwidth"
        missing = []
        for node in t.missing:
            err = invalid.get((node, t.kind))
            missing.append(f"{node} (its value {err.raw!r} is invalid)" if err is not None else node)
        reasons.append(f"{word} cap on {', '.join(t.capped)} but not on {', '.join(missing)}")
    if not reasons:
        return ""
    return "legacy scheduler needs a cap of the same type on every disk of the VM on this datastore: " + "; ".join(reasons)


def evaluate_vm(vm: VM, vc: VCenter, *, iops_base: int = 1000, bandwidth_base: int = 1024,
                scheduler: SchedulerInfo | None = None) -> list[GroupEvaluation]:
    """Every datastore (and RDM) of ``vm`` with its caps, under the scheduler of the VM's host."""
    sched = scheduler or determine_scheduler(vc.hosts.get(vm.host) if vm.host else None)
    keys = cap_keys(vm.extra_config)
    groups: dict[tuple[str | None, str | None], list[DiskCaps]] = {}
    for disk in vm.disks:
        caps = disk_caps(vm, disk, iops_base=iops_base, bandwidth_base=bandwidth_base, keys=keys)
        gkey = (disk.datastore, disk.device_node) if caps.rdm else (disk.datastore, None)
        groups.setdefault(gkey, []).append(caps)
    out = []
    for (ds, rdm_node), disks in groups.items():
        out.append(GroupEvaluation(
            vm=vm, datastore=ds, rdm=rdm_node is not None, disks=tuple(disks), scheduler=sched,
            legacy=enforce(disks, "legacy"), per_disk=enforce(disks, "per-disk"),
        ))
    return out


def orphan_cap_keys(vm: VM) -> list[str]:
    """Cap keys for a device node the VM has no disk on (left over after a disk was removed)."""
    nodes = {d.device_node.lower() for d in vm.disks}
    return sorted(key for (node, _kind), (key, _v) in cap_keys(vm.extra_config).items() if node not in nodes)
