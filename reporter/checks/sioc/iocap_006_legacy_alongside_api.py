"""IOCAP-006: KB1038241 configuration-parameter (extraConfig) caps alongside API (vSphere Client) disk limits."""

from __future__ import annotations

from reporter.checks.base import CheckContext, CheckMeta, Outcome, finding, object_id
from reporter.checks.grouping import Risk, per_check
from reporter.checks.helpers import ps_quote
from reporter.checks.sioc import FAMILY
from reporter.checks.sioc.common import (
    CLIENT_LIMIT_PATH,
    KB1038241,
    REF_IOALLOC,
    SECTION,
    disk_evidence,
    included,
    ps_set_iops,
    settings,
)
from reporter.core.findings import Severity
from reporter.domain.iocaps import Cap, Unlimited, cap_keys, disk_caps

META = CheckMeta(
    id="IOCAP-006",
    title="Legacy configuration-parameter caps alongside disk limits",
    family=FAMILY.id,
    severity=Severity.medium,
    object_type="vm",
    description=(
        "A VM whose disks are capped both through the disk's Limit - IOPs (Edit Settings) and "
        "through KB1038241 configuration parameters (sched.<disk>.throughputCap / bandwidthCap)."
    ),
    rationale=(
        "The UI IOPS limit and throughputCap are one knob: both are sched.<disk>.throughputCap in the .vmx "
        "(docs/methodology.md#disk-io-caps). When they disagree, this report evaluates the API value - it is what vCenter "
        "shows and what every reconfigure through the API writes back - so the configuration parameter is stale and "
        "misleads whoever reads it. Caps kept only as configuration parameters are invisible in the disk's "
        "Limit - IOPs field."
    ),
    remediation=(
        "Set the limit you want through the API (it rewrites sched.<disk>.throughputCap), then check that the "
        "configuration parameter shows the same value.",
        CLIENT_LIMIT_PATH,
    ),
    references=(KB1038241, REF_IOALLOC),
)


def run(ctx: CheckContext) -> Outcome:
    s = settings(ctx)
    out = Outcome()
    for vc in ctx.snapshot.vcenters.values():
        for vm in sorted(vc.vms.values(), key=lambda v: (v.name, v.moid)):
            if not included(vm, s):
                continue
            out.checked += 1
            keys = cap_keys(vm.extra_config)
            if not keys:
                continue
            caps = [disk_caps(vm, d, iops_base=s.iops_unit_base, bandwidth_base=s.bandwidth_unit_base, keys=keys)
                    for d in vm.disks]
            if not any(c.api_limit is not None for c in caps):
                continue
            conflicts = [c for c in caps if c.conflict]
            # Caps that exist only as configuration parameters next to API limits on the same VM.
            hidden = [c for c in caps if not c.conflict and (
                (isinstance(c.throughput, Cap) and c.api_limit is None) or isinstance(c.bandwidth, Cap))]
            if not conflicts and not hidden:
                continue
            lines, steps = [], []
            for c in conflicts:
                if isinstance(c.throughput, Unlimited):
                    said = "'off' (unlimited)"
                elif c.throughput is not None:
                    said = f"{c.throughput.raw!r}" + (f" = {c.throughput.value} IOPS" if isinstance(c.throughput, Cap) else "")
                else:
                    said = "not set"
                lines.append(f"{c.node}: vCenter reports a limit of {c.api_limit} IOPS but {c.throughput_key} = {said}; "
                             f"{c.api_limit} IOPS is used (API value wins)")
                steps.append(f"  {c.name}: re-apply the intended value through the API, e.g. "
                             f"{ps_set_iops(vm, c, c.api_limit or -1)}")
            for c in hidden:
                if isinstance(c.throughput, Cap) and c.api_limit is None:
                    lines.append(f"{c.node}: {c.throughput_key} = {c.throughput.raw!r} ({c.throughput.value} IOPS) is set "
                                 "only as a configuration parameter; the disk's Limit - IOPs shows no limit")
                    steps.append(f"  {c.name}: set it through the API so vCenter shows it - "
                                 f"{ps_set_iops(vm, c, c.throughput.value)}")
                if isinstance(c.bandwidth, Cap):
                    lines.append(f"{c.node}: {c.bandwidth_key} = {c.bandwidth.raw!r} exists only as a configuration "
                                 "parameter (the API has no bandwidth limit)")
            out.findings.append(finding(
                META, vc, vm.name, object_id(vc, vm.moid),
                f"'{vm.name}' mixes API disk limits with KB1038241 configuration parameters: " + "; ".join(lines) + ".",
                evidence={"disks": [disk_evidence(c) for c in caps if c.capped or c.throughput or c.bandwidth],
                          "conflicts": [c.node for c in conflicts], "source": f"{SECTION}; KB1038241"},
                remediation="\n".join(
                    (["Make the API limit the single source of truth:"] + steps if steps else [])
                    + (["Keep bandwidth caps documented (they never show in the vSphere Client): "
                        "Get-AdvancedSetting -Entity (Get-VM -Name " + ps_quote(vm.name)
                        + ") -Name 'sched.*Cap' lists all caps."] if any(isinstance(c.bandwidth, Cap) for c in caps)
                       else [])),
                severity=Severity.medium if conflicts else Severity.low,
            ))
    return out


# Root cause and risk (see reporter.checks.grouping).
RISK = Risk.hygiene
group_of = per_check("Old configuration-parameter caps alongside API disk limits")
