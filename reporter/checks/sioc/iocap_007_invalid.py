"""IOCAP-007: a KB1038241 cap value that does not parse."""

from __future__ import annotations

from reporter.checks.base import CheckContext, CheckMeta, Outcome, finding, object_id
from reporter.checks.grouping import Risk, per_check
from reporter.checks.sioc import FAMILY
from reporter.checks.sioc.common import (
    CLIENT_ADVANCED_PATH,
    KB1038241,
    SECTION,
    included,
    ps_remove_advanced,
    ps_set_advanced,
    settings,
)
from reporter.core.findings import Severity
from reporter.domain.iocaps import CapKind, CapParseError, cap_keys, parse_cap

META = CheckMeta(
    id="IOCAP-007",
    title="Invalid disk I/O cap value",
    family=FAMILY.id,
    severity=Severity.medium,
    object_type="vm",
    description=(
        "A sched.<disk>.throughputCap or bandwidthCap configuration parameter that is not a whole number with "
        "an optional unit (IOps, KIOps, MIOps, GIOps / Bps, KBps, MBps, GBps) or 'off'."
    ),
    rationale=(
        "What ESXi does with a value outside the documented format is not documented: treat the disk as "
        "uncapped. The admin who typed it believes the VM is throttled (KB1038241; docs/methodology.md#disk-io-caps: "
        "no unit means IOps resp. Bps)."
    ),
    remediation=(
        "Replace the value with a valid one (e.g. 500IOps, 2KIOps, 10MBps) or remove the key.",
        CLIENT_ADVANCED_PATH,
    ),
    references=(KB1038241,),
)


def run(ctx: CheckContext) -> Outcome:
    s = settings(ctx)
    out = Outcome()
    for vc in ctx.snapshot.vcenters.values():
        for vm in sorted(vc.vms.values(), key=lambda v: (v.name, v.moid)):
            if not included(vm, s):
                continue
            out.checked += 1
            bad = []
            for (node, kind), (key, raw) in sorted(cap_keys(vm.extra_config).items()):
                parsed = parse_cap(raw, kind, iops_base=s.iops_unit_base, bandwidth_base=s.bandwidth_unit_base)
                if isinstance(parsed, CapParseError):
                    bad.append((node, kind, key, parsed))
            if not bad:
                continue
            lines, steps = [], []
            for node, kind, key, err in bad:
                lines.append(f"{key} = {err.raw!r}: {err.reason}")
                other = CapKind.bandwidth if kind is CapKind.iops else CapKind.iops
                swapped = parse_cap(err.raw, other, iops_base=s.iops_unit_base, bandwidth_base=s.bandwidth_unit_base)
                if not isinstance(swapped, CapParseError):
                    right = f"sched.{node}.{'bandwidthCap' if other is CapKind.bandwidth else 'throughputCap'}"
                    steps.append(f"  {key}: the value is a {other.value} cap - move it to {right}: "
                                 f"{ps_set_advanced(vm, right, err.raw.strip())}; {ps_remove_advanced(vm, key)}")
                else:
                    example = "500IOps" if kind is CapKind.iops else "10MBps"
                    steps.append(f"  {key}: set a valid value (e.g. {example}) - "
                                 f"{ps_set_advanced(vm, key, '<value>')} - or remove it: {ps_remove_advanced(vm, key)}")
            out.findings.append(finding(
                META, vc, vm.name, object_id(vc, vm.moid),
                f"'{vm.name}' has {len(bad)} invalid I/O cap value{'s' if len(bad) > 1 else ''}: " + "; ".join(lines)
                + ". Treat the disk as uncapped.",
                evidence={"invalid": [{"setting": k, "value": e.raw, "reason": e.reason} for _, _, k, e in bad],
                          "source": f"{SECTION}; KB1038241"},
                remediation="\n".join(steps + [CLIENT_ADVANCED_PATH]),
            ))
    return out


# Root cause and risk (see reporter.checks.grouping).
RISK = Risk.hygiene
group_of = per_check("Invalid I/O cap values")
