"""SIOC-002: a manual congestion threshold far from what fits the datastore's media."""

from __future__ import annotations

from reporter.checks.base import CheckContext, CheckMeta, Outcome, finding, object_id
from reporter.checks.grouping import Risk, per_check
from reporter.checks.sioc import FAMILY
from reporter.checks.sioc.common import REF_GUIDE, SECTION, settings
from reporter.core.findings import Severity

META = CheckMeta(
    id="SIOC-002",
    title="SIOC congestion threshold does not fit the datastore's media",
    family=FAMILY.id,
    severity=Severity.medium,
    object_type="datastore",
    description=(
        "SIOC is on in manual mode and its congestion threshold lies outside the range that suits the "
        "datastore's media type ([thresholds.sioc] ssd_threshold_range_ms / hdd_threshold_range_ms)."
    ),
    rationale=(
        "SIOC only acts once latency passes the threshold. Too high (e.g. 30 ms on flash, 80 ms on disk) and "
        "it never acts while VMs already suffer; too low on spinning disk and it throttles before the array "
        "reaches its peak throughput (vSphere Resource Management guide: below 20 ms can lower peak "
        "throughput on Fibre Channel disks; above 50 ms gives high latency for no throughput gain)."
    ),
    remediation=(
        "vSphere Client: Datastore > Configure > General > Datastore Capabilities > Edit > Congestion "
        "Threshold: choose 'Percentage of peak throughput' (90 %, vSphere 5.1+) or a manual value in range.",
        "PowerCLI: Get-Datastore -Name '<datastore>' | Set-Datastore -CongestionThresholdMillisecond <ms>",
        "All datastores that share the same spindles on the array need the same threshold.",
    ),
    references=(REF_GUIDE,),
    applies_to="datastores with Storage I/O Control on",
)


def run(ctx: CheckContext) -> Outcome:
    s = settings(ctx)
    out = Outcome()
    for vc in ctx.snapshot.vcenters.values():
        for ds in sorted(vc.datastores.values(), key=lambda d: d.name):
            iorm = ds.iorm
            if iorm is None or iorm.enabled is not True:
                continue
            out.checked += 1
            # Before vSphere 5.1 there was only the manual mode, so an absent mode means manual.
            if iorm.congestion_threshold_mode not in (None, "manual") or iorm.congestion_threshold_ms is None:
                continue
            ms = iorm.congestion_threshold_ms
            if ds.ssd is True:
                media, (low, high) = "SSD/flash", s.ssd_threshold_range_ms
            elif ds.ssd is False:
                media, (low, high) = "spinning disk", s.hdd_threshold_range_ms
            else:
                media = "unknown media"
                low, high = s.ssd_threshold_range_ms[0], s.hdd_threshold_range_ms[1]
            if low <= ms <= high:
                continue
            target = high if ms > high else low
            side = "above" if ms > high else "below"
            effect = ("SIOC starts to act only after latency has long been too high for this media"
                      if ms > high else "SIOC throttles before the device reaches its peak throughput")
            out.findings.append(finding(
                META, vc, ds.name, object_id(vc, ds.moid),
                f"Congestion threshold {ms} ms on '{ds.name}' ({media}) is {side} the {low}-{high} ms range for "
                f"this media: {effect}.",
                evidence={
                    "congestion_threshold_ms": ms, "mode": iorm.congestion_threshold_mode or "manual",
                    "ssd": ds.ssd, "type": ds.type, "recommended_range_ms": [low, high],
                    "default_ms": s.default_congestion_threshold_ms, "source": f"{SECTION}; vSphere Resource Management guide",
                },
                remediation=(
                    f"Set the threshold of '{ds.name}' to {target} ms, or switch to 'Percentage of peak "
                    "throughput' (90 %) so SIOC derives it from the device (vSphere 5.1+).\n"
                    "vSphere Client: Datastore > Configure > General > Datastore Capabilities > Edit > Congestion Threshold.\n"
                    f"PowerCLI: Get-Datastore -Name '{ds.name}' | Set-Datastore -CongestionThresholdMillisecond {target}\n"
                    "Use the same threshold on every datastore that shares these spindles on the array."
                ),
            ))
    return out


# Root cause and risk (see reporter.checks.grouping).
RISK = Risk.performance
group_of = per_check("SIOC congestion thresholds that do not fit the media")
