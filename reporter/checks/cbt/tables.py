"""Detail tables of the cbt family: state per VM and disk, hosts with known CBT defects, totals."""

from __future__ import annotations

from reporter.checks.base import CheckContext
from reporter.checks.cbt import FAMILY
from reporter.checks.cbt.common import VmCbt, vms
from reporter.checks.tables import Scalar, Table, register_tables
from reporter.domain.cbt import MIN_HW_VERSION, host_defects, load_defects, state_words, vm_state
from reporter.domain.lifecycle import release_label
from reporter.domain.vm_snapshots import GB, compatibility_mode_words, disk_mode_words, gb

SUMMARY_ROW_LIMIT = 200  # longer per-disk lists go to XLSX/CSV only


@register_tables(FAMILY.id)
def cbt_tables(ctx: CheckContext) -> list[Table]:
    return [cbt_summary(ctx), defect_hosts(ctx), disk_state_table(ctx)]


def cbt_summary(ctx: CheckContext) -> Table:
    counts: dict[str, dict[str, int]] = {}
    for view in vms(ctx):
        c = counts.setdefault(view.vc.name, {k: 0 for k in ("vms", "scope", "on", "partial", "pending", "off", "unknown", "old_hw")})
        c["vms"] += 1
        if view.in_scope:
            c["scope"] += 1
        state = vm_state(view.vm, view.disks)
        c[state if state in c else "unknown"] += 1
        hw = view.vm.hw_version_number
        if hw is not None and hw < MIN_HW_VERSION:
            c["old_hw"] += 1
    rows: list[list[Scalar]] = [[vc, c["vms"], c["scope"], c["on"], c["partial"], c["pending"], c["off"], c["unknown"], c["old_hw"]]
                                for vc, c in sorted(counts.items())]
    return Table(
        id="cbt_summary", family=FAMILY.id, title="CBT state per vCenter",
        columns=["vCenter", "VMs", "In backup scope", "CBT on", "On, a disk off", "Pending activation", "CBT off",
                 "Unknown", f"Hardware < vmx-{MIN_HW_VERSION:02d}"],
        rows=rows,
        note=("'CBT on' = every disk that can be tracked has a changeId; 'pending' = switched on, waiting for a "
              "stun/unstun (KB1031873). Templates are not counted."),
    )


def defect_hosts(ctx: CheckContext) -> Table:
    defects = load_defects()
    rows: list[list[Scalar]] = []
    cbt_vms: dict[tuple[str, str], list[VmCbt]] = {}  # (vcenter uuid, host moid) -> VMs with CBT on
    for view in vms(ctx):
        if view.vm.change_tracking_enabled and view.vm.host:
            cbt_vms.setdefault((view.vc.instance_uuid, view.vm.host), []).append(view)
    for vc in ctx.snapshot.vcenters.values():
        for host in sorted(vc.hosts.values(), key=lambda h: h.name):
            for hit in host_defects(host, defects):
                views = cbt_vms.get((vc.instance_uuid, host.moid), [])
                boundary = hit.defect.grown_disk_boundary_gb
                large = None if boundary is None else sum(
                    1 for v in views if any((d.disk.capacity_bytes or 0) > boundary * GB for d in v.disks if d.supported))
                rows.append([vc.name, host.name, host.version, host.build,
                             release_label("esxi", host.build, host.version).text, hit.defect.kb, hit.release.fix,
                             hit.release.verified, len(views), large])
    return Table(
        id="cbt_defect_hosts", family=FAMILY.id, title="Hosts on builds with a known CBT defect",
        columns=["vCenter", "Host", "Version", "Build", "Release", "KB", "Fixed in", "Fix verified", "VMs with CBT on",
                 "Of those with a CBT disk > 128 GB"],
        rows=rows,
        note=("From the tool's table of known CBT defects (docs/methodology.md#cbt-defects). After upgrading: reset CBT on "
              "the VMs and take full backups. Fix verified \"no\": fixed build not confirmed by the KB; verify before "
              "relying on it."),
    )


def disk_state_table(ctx: CheckContext) -> Table:
    rows: list[list[Scalar]] = []
    for view in vms(ctx):
        for d in view.disks:
            rows.append([view.vc.name, view.vm.name, view.vm.vapp, view.host_name(), view.vm.hw_version, view.vm.change_tracking_enabled,
                         view.in_scope, d.disk.label, d.disk.device_node, gb(d.disk.capacity_bytes), disk_mode_words(d.disk.disk_mode),
                         compatibility_mode_words(d.disk.compatibility_mode), None if d.ctk_flag is None else ("TRUE" if d.ctk_flag else "FALSE"),
                         bool(d.disk.change_id), state_words(d.state)])
    rows.sort(key=lambda r: (str(r[0]), str(r[1]), str(r[8])))
    return Table(
        id="cbt_disks", family=FAMILY.id, title="CBT per VM and disk",
        columns=["vCenter", "VM", "vApp", "Host", "HW version", "VM CBT option", "In backup scope", "Disk", "Node",
                 "Capacity GB", "Mode", "RDM", "ctkEnabled", "Has changeId", "State"],
        rows=rows,
        note=("State: Active (a changeId is present), Pending (ctkEnabled TRUE, no changeId until a stun/unstun), "
              "Off for this disk, Off for the VM (VM CBT option off), Not available (physical-mode RDM), "
              "Independent (skipped by snapshot-based backups)."),
        in_summary=len(rows) <= SUMMARY_ROW_LIMIT,
    )
