"""``vcreport plan``: what-if license planning over a snapshot (+ history when present).

A :class:`Scenario` changes a copy of the snapshot: power off VMs, add powered-on VMs to a
pool, switch a vSphere 5 pool to another edition, add CPU licenses, or look at the pool under
per-core subscription. The same licensing math (``reporter.domain.licensing.analyze``) then runs on
the current and the changed snapshot, and :func:`plan` lines them up metric by metric.

Scenarios are saved as small TOML files so a plan can be re-run::

    name = "Q3 SAP landscape"
    pool = "vc01/enterprise_plus"   # the pool's id, or its name "vc01 · vSphere Enterprise Plus"
    power_off = ["test-*", "build-0*"]
    add_cpu_licenses = 4
    edition = "enterprise_plus"   # or an edition key such as "esxEnterprisePlus"
    per_core = false

    [[add_vms]]
    count = 20
    memory_gb = 16

A scenario describes a steady state from now on. Both states get the pool verdict of
``reporter.domain.licensing.verdict`` (the current one is the report's own, handed in by the
caller): the scenario's use replaces today's high-water, the past days stay as history recorded
them, so the scenario's crossing date says when its use would take the 12-month average over.
"""

from __future__ import annotations

import fnmatch
import tomllib
from dataclasses import dataclass, field, replace
from datetime import UTC, date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from reporter.config.settings import Settings
from reporter.core.model import VM, License, Snapshot
from reporter.core.states import counted
from reporter.domain.licensing import Analysis, LicensingOptions, Pool, analyze
from reporter.domain.licensing.rules import load_rules
from reporter.domain.licensing.verdict import (
    LicensingVerdicts,
    PoolVerdict,
    Verdict,
    crossing_text,
    evaluate,
    evaluate_pool,
    over_since_text,
    short_history_note,
)
from reporter.domain.licensing.vram import edition_title, pool_label
from reporter.errors import ConfigError

if TYPE_CHECKING:  # pandas and SQLAlchemy load only when there is history to read
    from reporter.history import VramHistory


class AddVms(BaseModel):
    model_config = ConfigDict(extra="forbid")

    count: int = Field(ge=1, le=100000)
    memory_gb: float = Field(gt=0, le=24576)
    pool: str | None = None


class Scenario(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    pool: str | None = None
    add_vms: list[AddVms] = Field(default_factory=list)
    power_off: list[str] = Field(default_factory=list)
    edition: str | None = None
    add_cpu_licenses: int = Field(default=0, ge=0, le=100000)
    per_core: bool = False
    vram_table: Literal["aug2011", "jul2011"] | None = None

    def has_changes(self) -> bool:
        return bool(self.add_vms or self.power_off or self.edition or self.add_cpu_licenses or self.per_core
                    or self.vram_table)

    def short(self) -> str:
        """The change in a few symbols: '+20 x 16 GB, +2 CPU licenses'."""
        parts = [f"+{a.count} x {a.memory_gb:g} GB" for a in self.add_vms]
        parts += [f"power off {p}" for p in self.power_off]
        if self.edition:
            parts.append(f"edition {self.edition}")
        if self.add_cpu_licenses:
            parts.append(f"+{self.add_cpu_licenses} CPU licenses")
        if self.per_core:
            parts.append("per core")
        if self.vram_table:
            parts.append(f"{self.vram_table} table")
        return ", ".join(parts) or "no change"

    def describe(self) -> list[str]:
        out = []
        for a in self.add_vms:
            out.append(f"add {counted(a.count, 'powered-on VM')} of {a.memory_gb:g} GB" + (f" to {a.pool}" if a.pool else ""))
        if self.power_off:
            out.append("power off VMs matching " + ", ".join(self.power_off))
        if self.edition:
            out.append(f"switch the pool to {self.edition}")
        if self.add_cpu_licenses:
            out.append(f"add {counted(self.add_cpu_licenses, 'CPU license')}")
        if self.per_core:
            out.append("move to per-core subscription")
        if self.vram_table:
            out.append(f"use the {self.vram_table} vRAM table")
        return out or ["no change (current state only)"]


def load_scenario(path: str | Path) -> Scenario:
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{p}: no such scenario file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{p}: cannot read scenario: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p}: invalid TOML: {exc}") from None
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(x) for x in first["loc"])
        msg = "unknown key" if first["type"] == "extra_forbidden" else first["msg"]
        raise ConfigError(f"{p}: {key}: {msg}") from None


def merge(base: Scenario | None, **cli: Any) -> Scenario:
    """CLI options on top of a scenario file: lists extend, scalars replace."""
    data = base.model_dump() if base else {}
    for k, v in cli.items():
        if v in (None, (), [], 0, False):
            continue
        if k in ("add_vms", "power_off"):
            data[k] = list(data.get(k) or []) + list(v)
        else:
            data[k] = v
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:  # e.g. --add-vms 10**20: the option's name and the limit, in one line
        first = exc.errors()[0]
        loc = [str(x) for x in first["loc"]]
        option = _OPTIONS.get(loc[-1], loc[0]) if loc else "scenario"
        raise ConfigError(f"{option}: {first['msg']}") from None


# Scenario fields as the plan command's options name them (for merge's messages).
_OPTIONS = {"count": "--add-vms", "memory_gb": "--vm-memory-gb", "add_cpu_licenses": "--add-cpu-licenses",
            "edition": "--edition", "pool": "--pool", "power_off": "--power-off", "vram_table": "--vram-table"}


@dataclass
class PlanLine:
    pool: str
    metric: str
    current: Any
    scenario: Any


@dataclass
class PlanResult:
    scenario: Scenario
    vram_table: str
    as_of: date
    snapshot_time: str
    lines: list[PlanLine]
    changes: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    current: Analysis | None = None
    planned: Analysis | None = None
    current_verdicts: LicensingVerdicts | None = None
    scenario_verdicts: LicensingVerdicts | None = None  # None when no change was asked for

    def to_json(self) -> dict[str, Any]:
        """``vcreport plan --json``: pool entries exactly as in summary.json."""
        cur = self.current_verdicts.to_summary() if self.current_verdicts else {"pools": []}
        scen = self.scenario_verdicts.to_summary() if self.scenario_verdicts else None
        return {"current": {"licensing": cur}, "scenario": None if scen is None else {"licensing": scen}}

    def outcomes(self) -> list[str]:
        """One line per planned vRAM pool: '+20 x 16 GB -> vc01 · vSphere Enterprise Plus at risk: goes over on 2027-01-14'."""
        if self.scenario_verdicts is None or self.current_verdicts is None:
            return []
        out = []
        short = self.scenario.short()
        for pv in self.scenario_verdicts.pools:
            if pv.pool_id not in self.shown_after:
                continue
            before = self.current_verdicts.pool(self.shown_after[pv.pool_id])
            after = outcome_text(pv)
            was = outcome_text(before) if before is not None else None
            now = "" if was is None else " (as now)" if was == after else f" (now: {was})"
            out.append(f"{short} -> {pv.pool_label} {after}{now}")
        return out

    shown_after: dict[str, str] = field(default_factory=dict)  # planned pool id -> current pool id


def outcome_text(v: PoolVerdict) -> str:
    """A verdict in a few words, with its date, as the report says it: 'at risk: goes over on
    2027-01-14' (at today's level; the plan's note says so)."""
    if v.verdict is Verdict.not_evaluated:
        return "not evaluated"
    if v.verdict is Verdict.non_compliant:
        return f"{v.verdict.label}: {over_since_text(v)}"  # as the report's summary line
    if v.crossing_date is not None:
        return f"{v.verdict.label}: goes over on {v.crossing_date.isoformat()}"
    return f"{v.verdict.label}: does not go over within 3 years"


def _find_pool(a: Analysis, wanted: str) -> Pool:
    """The pool named by its id or its label (case-insensitive)."""
    p = a.find_pool(wanted)
    if p is None:
        raise ConfigError(f"no pool {wanted!r} in the snapshot (pools, by name or id: {a.pool_list()})")
    return p


def _resolve_pool(a: Analysis, wanted: str | None, need: str) -> Pool:
    if wanted:
        return _find_pool(a, wanted)
    cands = a.vram_pools
    if len(cands) == 1:
        return cands[0]
    raise ConfigError(f"{need} needs a pool: choose one with --pool, by name or id (pools: {a.pool_list()})")


def _pool_ids(scenario: Scenario, current: Analysis) -> Scenario:
    """The scenario with every pool named by its id (a label is accepted wherever a pool is named)."""
    if not scenario.pool and not any(add.pool for add in scenario.add_vms):
        return scenario
    return scenario.model_copy(update={
        "pool": _find_pool(current, scenario.pool).id if scenario.pool else None,
        "add_vms": [add.model_copy(update={"pool": _find_pool(current, add.pool).id}) if add.pool else add
                    for add in scenario.add_vms],
    })


def _edition_id(value: str) -> str:
    rules = load_rules()
    if value in rules.vram_editions():
        return value
    rule = rules.edition_for_key(value)
    if rule.model == "vsphere5" and rule.edition in rules.vram_editions():
        return rule.edition
    raise ConfigError(f"unknown vSphere 5 edition {value!r} (use one of: {', '.join(rules.vram_editions())})")


def apply(snapshot: Snapshot, scenario: Scenario, current: Analysis) -> tuple[Snapshot, dict[str, str], list[str], list[str]]:
    """The changed snapshot, the pool id mapping (current -> planned), what changed, notes."""
    rules = load_rules()
    vcs = {u: vc.model_copy(deep=True) for u, vc in snapshot.vcenters.items()}
    changes: list[str] = []
    notes: list[str] = []
    mapping = {p.id: p.id for p in current.pools}

    for pattern in scenario.power_off:
        hit = []
        for u, vc in vcs.items():
            vms = dict(vc.vms)
            for m, vm in vc.vms.items():
                if vm.powered_on and fnmatch.fnmatchcase(vm.name, pattern):
                    vms[m] = vm.model_copy(update={"power_state": "poweredOff"})
                    hit.append(vm.name)
            vcs[u] = vc.model_copy(update={"vms": vms})
        if hit:
            changes.append(f"power off {counted(len(hit), 'VM')} matching {pattern!r}: " + ", ".join(sorted(hit)[:20])
                           + (f" and {len(hit) - 20} more" if len(hit) > 20 else ""))
        else:
            notes.append(f"no powered-on VM matches {pattern!r}")

    seq = 0
    for add in scenario.add_vms:
        pool = _resolve_pool(current, add.pool or scenario.pool, "--add-vms")
        if not pool.hosts:
            raise ConfigError(f"pool {pool.label} ({pool.id}) has no hosts to place VMs on")
        host = pool.hosts[0]
        vc = vcs[host.vcenter_uuid]
        vms = dict(vc.vms)
        for _ in range(add.count):
            seq += 1
            moid = f"plan-vm-{seq}"
            vms[moid] = VM(moid=moid, name=f"planned-vm-{seq:04d}", power_state="poweredOn",
                           memory_mb=round(add.memory_gb * 1024), host=host.moid, cluster=host.cluster_moid)
        vcs[host.vcenter_uuid] = vc.model_copy(update={"vms": vms})
        changes.append(f"add {counted(add.count, 'powered-on VM')} of {add.memory_gb:g} GB to {pool.label} (placed on {host.name})")

    target: Pool | None = None
    if scenario.edition or scenario.add_cpu_licenses:
        target = _resolve_pool(current, scenario.pool, "--edition/--add-cpu-licenses")
        if target.model != "vsphere5":
            raise ConfigError(f"pool {target.label} ({target.id}) is not a vSphere 5 vRAM pool ({target.reason}); "
                              "--edition and --add-cpu-licenses plan vRAM entitlement")
    edition = target.edition if target else None
    target_label = target.label if target else ""
    if scenario.edition and target is not None:
        edition = _edition_id(scenario.edition)
        key = rules.canonical_key(edition)
        keys = set(target.license_keys)
        for u, vc in vcs.items():
            if vc.name not in target.vcenters:
                continue
            lics = [lic.model_copy(update={"edition_key": key}) if lic.key in keys else lic for lic in vc.licenses or []]
            asg = [x.model_copy(update={"edition_key": key}) if x.license_key in keys else x
                   for x in vc.license_assignments or []]
            vcs[u] = vc.model_copy(update={"licenses": lics if vc.licenses is not None else None,
                                           "license_assignments": asg if vc.license_assignments is not None else None})
        new_id = f"{target.scope}/{edition}"
        mapping[target.id] = new_id
        changes.append(f"switch {target.label} ({target.cpu_total} CPU licenses) to {rules.title(edition)}")
        target_label = pool_label(target.scope, edition_title(rules, edition))
    if scenario.add_cpu_licenses and target is not None and edition is not None:
        first = next(u for u, vc in vcs.items() if vc.name == target.vcenters[0])
        vc = vcs[first]
        lic = License(key=f"PLANNED-{scenario.add_cpu_licenses}-CPU", edition_key=rules.canonical_key(edition),
                      name=f"planned: {rules.title(edition)}", total=scenario.add_cpu_licenses, used=0,
                      cost_unit="cpuPackage", properties={"ProductVersion": "5.0"})
        vcs[first] = vc.model_copy(update={"licenses": list(vc.licenses or []) + [lic]})
        changes.append(f"add {counted(scenario.add_cpu_licenses, 'CPU license')} of {rules.title(edition)} to {target_label}")
    if scenario.per_core:
        changes.append("license per core (subscription): vRAM no longer applies")
    planned = snapshot.model_copy(update={"vcenters": vcs})
    return planned, mapping, changes, notes


POOL_ID_METRIC = "Pool ID (vcreport plan --pool)"


def _pool_metrics(p: Pool | None, *, per_core_model: bool, verdict: PoolVerdict | None,
                  tib: dict[str, float]) -> dict[str, Any]:
    if p is None:
        return {}
    applies = p.vram_applies and not per_core_model
    ent = p.entitled_gb if applies else None
    per_cpu32 = sum(h.per_cpu_32 or 0 for h in p.hosts)
    per_core = sum(h.per_core or 0 for h in p.hosts)
    m: dict[str, Any] = {
        "Licensing model": ("per-core subscription" if per_core_model else
                            {"vsphere5": "per CPU + vRAM (vSphere 5)" if p.vram_applies else "per CPU",
                             "per_cpu": "per CPU", "per_cpu_32": "per CPU (32-core rule)", "per_core": "per-core subscription",
                             "eval": "evaluation", "free": "free Hypervisor"}.get(p.model, p.model)),
        "Edition": p.edition_title,
        "vRAM applies": "yes" if applies else f"no ({'per-core subscription' if per_core_model else p.reason})",
        "VMs powered on": len(p.vms),
        "vRAM used (GB)": round(p.used_gb, 1),
        "vRAM used uncapped (GB)": round(p.used_raw_gb, 1),
        "CPU licenses (total)": p.cpu_total if p.model in ("vsphere5", "per_cpu", "per_cpu_32") else None,
        "vRAM entitled (GB)": None if ent is None else round(ent, 1),
        "Headroom (GB)": None if ent is None else round(ent - p.used_gb, 1),
        "Headroom (%)": None if not ent else round(100 * (ent - p.used_gb) / ent, 1),
        **_verdict_metrics(verdict),
        "Per-CPU licenses (32-core rule)": per_cpu32,
        "Per-core licensed cores (16 min)": per_core,
        "License keys": ", ".join(p.license_keys) or None,
    }
    if per_core_model:
        for o, v in sorted(tib.items()):
            m[f"vSAN TiB included ({o.upper()})"] = round(per_core * v, 2)
    return m


def _verdict_metrics(v: PoolVerdict | None) -> dict[str, Any]:
    """The pool verdict's figures, in the words the report uses."""
    if v is None:
        return {}
    crossing = crossing_text(v)
    return {
        "Verdict": v.verdict.label,
        "12-month average (GB)": None if v.avg_12m_gb is None else round(v.avg_12m_gb, 1),
        "Days of history": v.history_days,
        "Today's high-water (GB)": round(v.high_water_today_gb, 1),
        "Crossing date": crossing,
        "Crossing date at the recent trend": v.crossing_date_trend.isoformat() if v.crossing_date_trend else None,
        "CPU licenses to add now": v.cpu_licenses_to_add_now,
        "CPU licenses to hold today's use": v.cpu_licenses_to_add_to_hold_today,
    }


def _scenario_verdicts(planned: Analysis, history: Any, current: LicensingVerdicts, mapping: dict[str, str],
                       scenario: Scenario, shown: list[str]) -> LicensingVerdicts:
    """The verdict of every planned pool: its past from the history of the pool it came from, and
    the scenario's use as today's high-water (a steady state from today on)."""
    back = {new: old for old, new in mapping.items()}
    per_core = {mapping.get(pid, pid) for pid in shown} if scenario.per_core else set()
    out = []
    for p in planned.pools:
        v = evaluate_pool(p, history, as_of=current.as_of, horizon_days=current.horizon_days,
                          headroom_warn_pct=current.headroom_warn_pct, history_id=back.get(p.id, p.id),
                          today_high_water_gb=p.used_gb)
        if p.id in per_core and p.vram_applies:
            v = replace(v, verdict=Verdict.not_evaluated,
                        why="No vRAM verdict: per-core subscription (scenario): no vRAM entitlement.",
                        entitled_gb=None, avg_12m_gb=None, history_days=0, cpu_licenses_to_add_now=None,
                        cpu_licenses_to_add_to_hold_today=None, crossing_date=None, crossing_date_trend=None,
                        trend_days=0, non_compliant_since=None, rolling_avg=(), projected_avg=())
        out.append(v)
    return LicensingVerdicts(as_of=current.as_of, horizon_days=current.horizon_days,
                             headroom_warn_pct=current.headroom_warn_pct, pools=tuple(out))


def plan(snapshot: Snapshot, scenario: Scenario, settings: Settings | None = None,
         history: VramHistory | None = None, *,
         current_verdicts: LicensingVerdicts | None = None) -> PlanResult:
    """``current_verdicts``: the report's verdict for this snapshot and history (``reporter.api.plan``
    passes the pipeline's, so a plan and a report agree); without it, the verdict with the default
    thresholds."""
    opts = LicensingOptions.from_settings(settings)
    if scenario.vram_table:
        opts = LicensingOptions(vram_table=scenario.vram_table, vsan_tib_per_core=opts.vsan_tib_per_core,
                                order_minimum_cores=opts.order_minimum_cores, linked_mode_groups=opts.linked_mode_groups)
    current = analyze(snapshot, options=LicensingOptions.from_settings(settings))
    scenario = _pool_ids(scenario, current)
    base = analyze(snapshot, options=opts) if scenario.vram_table else current
    planned_snap, mapping, changes, notes = apply(snapshot, scenario, base)
    planned = analyze(planned_snap, options=opts)
    shown = [scenario.pool] if scenario.pool else [p.id for p in current.pools]
    if current_verdicts is None:
        as_of = history.as_of if history is not None else snapshot.collected_at.astimezone(UTC).date()
        current_verdicts = evaluate(current, history, as_of=as_of)
    scenario_verdicts = (_scenario_verdicts(planned, history, current_verdicts, mapping, scenario, shown)
                         if scenario.has_changes() else None)
    tib = opts.tib_per_core(load_rules())
    lines: list[PlanLine] = []
    shown_after: dict[str, str] = {}
    for pid in shown:
        cur = current.pool(pid)
        new = planned.pool(mapping.get(pid, pid))
        if new is not None:
            shown_after[new.id] = pid
        cv = current_verdicts.pool(pid)
        nv = (scenario_verdicts.pool(new.id) if scenario_verdicts is not None and new is not None
              else cv if new is not None and new.id == pid else None)
        cm = _pool_metrics(cur, per_core_model=False, verdict=cv, tib=tib)
        nm = _pool_metrics(new, per_core_model=scenario.per_core, verdict=nv, tib=tib)
        old_label = cur.label if cur is not None else pid
        label = old_label if new is None or new.id == pid else f"{old_label} -> {new.label}"
        lines.append(PlanLine(label, POOL_ID_METRIC, pid, new.id if new is not None else None))
        for metric in list(dict.fromkeys([*cm, *nm])):
            lines.append(PlanLine(label, metric, cm.get(metric), nm.get(metric)))
    fleet_cur = current.core_summaries[-1]
    fleet_new = planned.core_summaries[-1]
    lines.append(PlanLine("all vCenters", "Per-CPU licenses (32-core rule)", fleet_cur.per_cpu_32, fleet_new.per_cpu_32))
    lines.append(PlanLine("all vCenters", "Per-core licensed cores (16 min)", fleet_cur.per_core, fleet_new.per_core))
    if opts.order_minimum_cores:
        lines.append(PlanLine("all vCenters", f"Cores to order ({opts.order_minimum_cores}-core minimum)",
                              fleet_cur.order_cores, fleet_new.order_cores))
    if history is None:
        notes.append("no vRAM history given: the 12-month average is not shown (configure [history])")
    for pid in shown:
        cv = current_verdicts.pool(pid)
        if cv is not None and (note := short_history_note(cv)):
            notes.append(f"{cv.pool_label}: {note}")
    return PlanResult(
        scenario=scenario, vram_table=opts.vram_table, as_of=current_verdicts.as_of,
        snapshot_time=snapshot.collected_at.isoformat(), lines=lines, changes=changes or ["no change"],
        notes=notes, current=current, planned=planned, current_verdicts=current_verdicts,
        scenario_verdicts=scenario_verdicts, shown_after=shown_after,
    )

