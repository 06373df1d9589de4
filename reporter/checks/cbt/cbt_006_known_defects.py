"""CBT-006: VMs with CBT on, on hosts running builds with a known CBT defect (data file).

The builds and KBs live in reporter/data/cbt_defects.toml (docs/methodology.md#cbt-defects): a new KB
is a data change. KB2090639 only bites disks grown past a 128 GB boundary; the API does not
show whether a disk was grown, so a CBT disk larger than 128 GB is "possibly affected".
"""

from __future__ import annotations

from typing import Any

from reporter.checks.base import CheckContext, CheckMeta, Outcome, Reference, finding, object_id
from reporter.checks.cbt import FAMILY
from reporter.checks.cbt.common import KB_CBT, host_release, reset_steps, vms
from reporter.checks.grouping import GroupKey, Risk
from reporter.checks.helpers import counted
from reporter.core.findings import Finding, Severity
from reporter.domain.cbt import ACTIVE, PENDING, host_defects, load_defects, unknown_build_hosts
from reporter.domain.vm_snapshots import GB

META = CheckMeta(
    id="CBT-006",
    title="CBT on a host build with a known CBT defect",
    family=FAMILY.id,
    severity=Severity.high,
    object_type="vm",
    description=(
        "A VM with CBT on whose host runs an ESXi build in the affected range of a known CBT defect "
        "(KB2090639: ESX/ESXi 4.x and 5.x before the fix, disks grown past 128 GB; KB2136854: ESXi 6.0 "
        "before build 3247720)."
    ),
    rationale=(
        "These defects make QueryChangedDiskAreas return wrong changed areas: incremental backups silently "
        "miss changed blocks, and a restore from them loses data. Patching stops new damage but does not "
        "repair change maps or backups already taken."
    ),
    remediation=(
        "Upgrade the host to the fixed build named in the finding (or later).",
        "Reset CBT on the VM: switch it off, stun/unstun, delete leftover -ctk.vmdk files, switch it on, stun/unstun.",
        "Run a full backup; incrementals must not reference changeIds from before the reset.",
    ),
    references=(
        Reference("KB2090639", "QueryChangedDiskAreas API returns incorrect sectors after extending virtual machine "
                  "VMDK file with Changed Block Tracking (CBT) enabled",
                  "https://knowledge.broadcom.com/external/article?legacyId=2090639"),
        Reference("KB2136854", "Backing up a Changed Block Tracking enabled virtual machine in ESXi 6.0.x returns "
                  "incorrect changed sectors", "https://knowledge.broadcom.com/external/article?legacyId=2136854"),
        Reference("KB2137545", "VMware ESXi 6.0, Patch Release ESXi600-201511001",
                  "https://knowledge.broadcom.com/external/article?legacyId=2137545"),
        KB_CBT,
    ),
    applies_to="VMs with CBT on",
)


def run(ctx: CheckContext) -> Outcome:
    """One finding per VM that is affected or possibly affected (each needs its own CBT reset
    and full backup); VMs only *at risk* (KB2090639, no CBT disk past the boundary yet) are
    summed up in one finding per host, whose fix is the upgrade alone."""
    defects = load_defects()
    out = Outcome()
    at_risk: dict[tuple[str, str], list[str]] = {}  # (vcenter uuid, host moid) -> VM names
    at_risk_lines: dict[tuple[str, str], tuple[Any, Any, list[str], list[dict[str, Any]]]] = {}
    for vc in ctx.snapshot.vcenters.values():
        for h in unknown_build_hosts(vc.hosts.values(), defects):
            out.notes.append(f"{vc.name}/{h.name}: ESXi {h.version} build not reported; cannot tell whether it "
                             "has a known CBT defect.")
    for view in vms(ctx):
        if not view.vm.change_tracking_enabled:
            continue
        out.checked += 1
        host = view.vc.hosts.get(view.vm.host or "")
        if host is None:
            continue
        hits = host_defects(host, defects)
        if not hits:
            continue
        tracked = [d for d in view.disks if d.state in (ACTIVE, PENDING)]
        severity = Severity.medium
        lines: list[str] = []
        items: list[dict[str, Any]] = []
        fixes: list[str] = []
        for hit in hits:
            d, rel = hit.defect, hit.release
            item: dict[str, Any] = {
                "kb": d.kb, "url": d.url, "release": rel.product, "host_build": host.build,
                "fixed_build": rel.fixed_build, "fix": rel.fix, "fix_verified": rel.verified, "source": rel.source,
            }
            if d.grown_disk_boundary_gb is not None:
                large = [x for x in tracked if (x.disk.capacity_bytes or 0) > d.grown_disk_boundary_gb * GB]
                item["disks_over_boundary"] = [x.disk.label or x.disk.device_node for x in large]
                if large:
                    severity = Severity.high
                    lines.append(f"{d.kb}: possibly affected — CBT disk(s) larger than {d.grown_disk_boundary_gb:g} GB "
                                 f"({', '.join(item['disks_over_boundary'])}); if any was grown past a "
                                 f"{d.grown_disk_boundary_gb:g} GB boundary with CBT on, its incrementals miss data")
                else:
                    lines.append(f"{d.kb}: at risk — growing a CBT disk past {d.grown_disk_boundary_gb:g} GB on this "
                                 "build would corrupt its change tracking")
            else:
                severity = Severity.high
                lines.append(f"{d.kb}: affected — {d.defect.rstrip('.')}")
            fixes.append(f"Upgrade {host.name} ({host_release(host)}) to {rel.fix}"
                         + ("" if rel.verified else " — fixed build not verified against the KB, check it")
                         + f" ({d.kb}). {d.after_fix}")
            items.append(item)
        if severity is Severity.medium:  # only "at risk": report once per host, below
            key = (view.vc.instance_uuid, host.moid)
            at_risk.setdefault(key, []).append(view.vm.name)
            at_risk_lines[key] = (view.vc, host, fixes, items)
            continue
        ev = view.evidence()
        ev["defects"] = items
        steps = fixes + reset_steps(view.vm.name, [x.disk.device_node for x in tracked])
        out.findings.append(finding(
            META, view.vc, view.vm.name, object_id(view.vc, view.vm.moid),
            f"Host {host.name} runs {host_release(host)}, affected by a known CBT defect. "
            + "; ".join(lines) + ".",
            evidence=ev, remediation=steps, severity=severity,
        ))
    for key, names in at_risk.items():
        vc, host, fixes, items = at_risk_lines[key]
        kbs = ", ".join(sorted({i["kb"] for i in items}))
        out.findings.append(finding(
            META, vc, host.name, object_id(vc, host.moid),
            f"Host {host.name} runs {host_release(host)}, in the affected range of {kbs}: "
            f"{counted(len(names), 'VM')} with CBT on {'is' if len(names) == 1 else 'are'} at risk if a CBT disk is grown past the boundary (none is "
            "larger than it yet).",
            evidence={"host_version": host.version, "host_build": host.build, "defects": items,
                      "vms_at_risk": sorted(names)},
            remediation=fixes + ["Until the host is upgraded, do not grow CBT-enabled disks on it; if one must be "
                                 "grown, reset CBT on that disk afterwards and run a full backup."],
            severity=Severity.medium, object_type="host",
        ))
    return out


# Root cause and risk (see reporter.checks.grouping).
def group_of(f: Finding) -> GroupKey:
    """One group per host build and defect: the upgrade is one job for all its hosts, the reset
    and full backup one for all its VMs (VMs affected and hosts only at risk are separate groups)."""
    version, build = f.evidence.get("host_version") or "?", f.evidence.get("host_build") or "?"
    kbs = ", ".join(sorted({str(d.get("kb")) for d in f.evidence.get("defects", []) if isinstance(d, dict)}))
    at_risk = f.object_type == "host"
    what = "hosts at risk (no affected disk yet)" if at_risk else "VMs possibly affected"
    return GroupKey(f"{version}-{build}/{kbs.replace(', ', '+')}/{'hosts' if at_risk else 'vms'}",
                    f"ESXi {version} build {build}, {kbs}: {what}")


def risk_of(f: Finding) -> Risk:
    """Affected disks mean incrementals that may already miss data; hosts only at risk need the upgrade."""
    return Risk.hygiene if f.object_type == "host" else Risk.data_loss
