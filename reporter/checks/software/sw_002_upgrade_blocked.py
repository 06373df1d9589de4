"""SW-002: a host that cannot be upgraded to the target release (setting target_release):
vmklinux drivers, VIB dependencies the target image cannot satisfy, CPUs the target drops,
CNA drivers known to fail. Grouped per host: the fix is one upgrade plan."""

from __future__ import annotations

from reporter.checks.base import CheckContext, CheckMeta, Outcome, finding, object_id
from reporter.checks.grouping import Risk, per_vcenter
from reporter.checks.helpers import kb, sh_quote
from reporter.checks.software import FAMILY
from reporter.checks.software.common import METHOD, hosts, readiness
from reporter.checks.software.settings import SoftwareSettings
from reporter.core.findings import Severity

KB_ASYNC_DRIVERS = kb("78389", "Upgrading to ESXi 7.0 with async driver VIBs fails with a dependency error")

META = CheckMeta(
    id="SW-002",
    title="Host not ready for the target ESXi release",
    family=FAMILY.id,
    severity=Severity.high,
    object_type="host",
    description="A host below the target release ([thresholds.software] target_release, default 8.0) with a verified blocker: "
                "a vmklinux driver (removed in ESXi 7.0), a VIB dependency the target image cannot satisfy, a CPU "
                "the target does not run on, or a CNA driver version known to fail the upgrade.",
    rationale="The upgrade fails with a dependency error, or succeeds and the device (NIC, HBA, CNA) is gone: "
              "the host comes back without network or storage paths.",
    remediation=(
        "Replace each listed driver with its native replacement (hardware vendor, VMware Compatibility Guide) in "
        "a custom image or by vendor add-on, before the upgrade; replace hosts whose CPU the target drops.",
        f"See {METHOD}.",
    ),
    references=(KB_ASYNC_DRIVERS,),
)


def run(ctx: CheckContext) -> Outcome:
    target = ctx.settings.get(SoftwareSettings).target_release
    verdicts = readiness(ctx)
    out = Outcome()
    for vc, host in hosts(ctx):
        r = verdicts[(vc.instance_uuid, host.moid)]
        out.checked += 1
        if r.verdict != "blocked":
            continue
        lines = [f"{b.subject}: {b.detail}" for b in r.blockers]
        cautions = [f"{c.subject}: {c.detail} (verify)" for c in r.cautions]
        kbs = sorted({b.kb for b in r.blockers if b.kb})
        steps = [f"Before upgrading {host.name} to ESXi {target}: " + "; ".join(lines) + ".",
                 f"esxcli (or govc host.esxcli -host {sh_quote(host.name)} ...): esxcli software vib list; "
                 "esxcli system module list (vmklinux drivers show as loaded modules next to vmklinux_9).",
                 "vSphere Client: Lifecycle Manager > Updates > Hardware Compatibility / Image compliance shows the "
                 "same conflicts before remediation.",
                 f"See {METHOD}."]
        out.findings.append(finding(
            META, vc, host.name, object_id(vc, host.moid),
            f"Host {host.name} (ESXi {host.version}) is blocked from upgrading to ESXi {target}: " + "; ".join(lines)
            + (". Also check: " + "; ".join(cautions) if cautions else "") + ".",
            evidence={"target": target, "version": host.version,
                      "blockers": [{"code": b.code, "subject": b.subject, "detail": b.detail, "kb": b.kb}
                                   for b in r.blockers],
                      "cautions": [{"code": c.code, "subject": c.subject, "detail": c.detail} for c in r.cautions],
                      "kbs": kbs},
            remediation=steps,
        ))
    return out


# Root cause and risk (see reporter.checks.grouping).
RISK = Risk.hygiene
group_of = per_vcenter("Hosts not ready for the target ESXi release")
