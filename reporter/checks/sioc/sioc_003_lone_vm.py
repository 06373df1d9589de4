"""SIOC-003: SIOC on a datastore where one VM lives alone - SIOC cannot throttle it."""

from __future__ import annotations

from reporter.checks.base import CheckContext, CheckMeta, Outcome, finding, object_id
from reporter.checks.grouping import Risk, per_check
from reporter.checks.helpers import counted
from reporter.checks.sioc import FAMILY
from reporter.checks.sioc.common import CLIENT_LIMIT_PATH, KB1038241, REF_GUIDE, SECTION, ps_set_iops, settings
from reporter.core.findings import Severity
from reporter.core.model import VM, Datastore, VCenter
from reporter.domain.iocaps import Enforced, evaluate_vm

META = CheckMeta(
    id="SIOC-003",
    title="SIOC enabled on a datastore with a single VM (SIOC cannot limit it)",
    family=FAMILY.id,
    severity=Severity.low,
    object_type="datastore",
    description=("Storage I/O Control is on for a datastore where exactly one VM runs (the others, if any, are "
                 "powered off), and that VM has no enforced I/O cap there."),
    rationale=(
        "SIOC only redistributes I/O among VMs that compete on the same datastore: a VM alone on its "
        "datastore is never throttled by SIOC, however much it loads the shared array (e.g. a "
        "50,000-IOPS database server; docs/methodology.md#sioc). If the goal is to protect other LUNs on the same "
        "array from this VM, only an absolute cap (KB1038241) does that."
    ),
    remediation=(
        "Set an absolute IOPS limit on the VM's disks on this datastore (value = what the array can spare).",
        CLIENT_LIMIT_PATH,
        "Leaving SIOC on is harmless; it starts to matter once a second VM is placed on the datastore.",
    ),
    references=(KB1038241, REF_GUIDE),
    applies_to="datastores with Storage I/O Control on",
)


def run(ctx: CheckContext) -> Outcome:
    s = settings(ctx)
    out = Outcome()
    for vc in ctx.snapshot.vcenters.values():
        for ds in sorted(vc.datastores.values(), key=lambda d: d.name):
            if ds.iorm is None or ds.iorm.enabled is not True:
                continue
            out.checked += 1
            vm = _lone_vm(vc, ds)
            if vm is None:
                continue
            others_off = len(ds.vms) - 1
            mine = [g for g in evaluate_vm(vm, vc, iops_base=s.iops_unit_base, bandwidth_base=s.bandwidth_unit_base)
                    if g.datastore == ds.moid and not g.rdm]
            if any(g.enforced in (Enforced.yes, Enforced.partly) for g in mine):
                continue  # already capped absolutely; SIOC has nothing to do here and that is fine
            disks = [d for g in mine for d in g.disks]
            sched = mine[0].scheduler if mine else None
            steps = [
                f"'{vm.name}' is the only VM on '{ds.name}': SIOC will never throttle it. To stop it from "
                "saturating the array, give it an absolute IOPS limit (KB1038241) - <IOPS> = what the array "
                "can spare for this VM:",
            ]
            if sched is not None and sched.kind.per_disk:
                steps.append(f"Host scheduler {sched.kind.label}: each disk's limit applies to that disk alone "
                             "(counted in 32 KB units).")
            elif len(disks) > 1:
                steps.append(f"Host scheduler {sched.kind.label if sched else 'unknown'}: on the legacy scheduler "
                             f"all {len(disks)} disks need a limit or none is enforced; the VM then gets the sum.")
            for d in disks:
                steps.append(f"{d.name}: {ps_set_iops(vm, d, '<IOPS>')}")
            steps.append(CLIENT_LIMIT_PATH)
            only = ("its only VM" if not others_off else
                    f"its only running VM (the other {counted(others_off, 'VM')} on it {'is' if others_off == 1 else 'are'} "
                    "powered off)")
            out.findings.append(finding(
                META, vc, ds.name, object_id(vc, ds.moid),
                f"SIOC is on for '{ds.name}', but '{vm.name}' is {only} and has no enforced I/O cap there: "
                "SIOC cannot limit a VM that competes with nobody on its datastore.",
                evidence={
                    "vm": vm.name, "vm_power_state": vm.power_state, "ssd": ds.ssd,
                    "other_vms_powered_off": others_off,
                    "disks_on_datastore": [d.name for d in disks],
                    "scheduler": sched.kind.value if sched else None, "source": f"{SECTION}; KB1038241",
                },
                remediation="\n".join(steps),
            ))
    return out


def _lone_vm(vc: VCenter, ds: Datastore) -> VM | None:
    """The VM that has the datastore to itself, or None.

    SIOC divides the datastore among the VMs that compete for it, and only running VMs issue
    I/O: one powered-on VM among powered-off ones is as alone as a single VM. A datastore with a
    single VM, powered off, is reported too (it is alone when it runs). Any VM whose power state
    is unknown, or that is not in the inventory, may compete: then nothing is said."""
    vms = [vc.vms.get(m) for m in ds.vms]
    if not vms or any(v is None or v.power_state is None for v in vms):
        return None
    running = [v for v in vms if v is not None and v.powered_on]
    if len(running) == 1:
        return running[0]
    if not running and len(vms) == 1:
        return vms[0]
    return None


# Root cause and risk (see reporter.checks.grouping).
RISK = Risk.performance
group_of = per_check("SIOC on datastores with a single VM")
