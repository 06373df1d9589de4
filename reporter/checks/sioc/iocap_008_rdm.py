"""IOCAP-008: I/O caps on raw device mappings."""

from __future__ import annotations

from reporter.checks.base import CheckContext, CheckMeta, Outcome, finding
from reporter.checks.grouping import Risk, by_evidence
from reporter.checks.sioc import FAMILY
from reporter.checks.sioc.common import KB1038241, REF_GUIDE, group_evidence, groups, vm_count
from reporter.core.findings import Severity, Status
from reporter.domain.vm_snapshots import COMPATIBILITY_MODES, compatibility_mode_words

META = CheckMeta(
    id="IOCAP-008",
    title="I/O cap on a raw device mapping (RDM)",
    family=FAMILY.id,
    severity=Severity.info,
    object_type="vm",
    description="An RDM disk with an IOPS limit or a KB1038241 cap.",
    rationale=(
        "An RDM's I/O goes to its own LUN, not to the datastore that holds its mapping file, so this report "
        "evaluates it as a device of its own (the legacy scheduler keeps one queue per VM and storage device) "
        "and it does not count towards the VM's limits on the mapping datastore. SIOC does not cover RDMs "
        "(vSphere Resource Management guide, SIOC requirements)."
    ),
    remediation=(
        "Verify the cap on the running VM with esxtop (disk VM view, 'v') before relying on it; for a "
        "physical-mode RDM, SCSI commands pass through to the LUN and the array's QoS is the dependable control.",
    ),
    references=(REF_GUIDE, KB1038241),
)


def run(ctx: CheckContext) -> Outcome:
    out = Outcome(checked=vm_count(ctx))
    for g in groups(ctx):
        ev = g.ev
        if not ev.rdm or not ev.configured_anything:
            continue
        d = ev.disks[0]
        mode = COMPATIBILITY_MODES.get(d.disk.compatibility_mode or "", "unknown").lower()
        out.findings.append(finding(
            META, g.vc, g.vm.name, g.object_id,
            f"'{g.vm.name}': {d.name} is an RDM ({mode} compatibility) with cap {d.effective()}; it is evaluated as its "
            "own device, not as part of the mapping-file datastore, and SIOC does not cover it.",
            evidence={**group_evidence(g), "compatibility_mode": compatibility_mode_words(d.disk.compatibility_mode)},
            status=Status.warn,
        ))
    return out


# Root cause and risk (see reporter.checks.grouping).
RISK = Risk.hygiene
group_of = by_evidence("datastore", lambda ds: f"I/O caps on raw device mappings on datastore {ds}")
