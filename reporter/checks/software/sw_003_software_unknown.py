"""SW-003: a host whose software could not be read (no privilege, not implemented, host
disconnected): its acceptance level and upgrade readiness are unknown, not "fine"."""

from __future__ import annotations

import re

from reporter.checks.base import CheckContext, CheckMeta, Outcome, finding, object_id
from reporter.checks.grouping import GroupKey, Risk
from reporter.checks.helpers import counted
from reporter.checks.software import FAMILY
from reporter.checks.software.common import METHOD, hosts
from reporter.core.findings import Finding, Severity
from reporter.domain.software import VIBS_BEFORE_65

# What each privilege reveals (the vSphere API reference names it per method): the Read-only role
# has System.Read only, so it reads the acceptance level and image profile but not the VIBs or
# the kernel modules. The two Host.Config privileges also allow changing the host; the collector
# calls only read methods with them (docs/methodology.md#collection).
PRIVILEGES = {
    "System.Read": ("Read-only role", "for the acceptance level and the image profile"),
    "Host.Config.Image": ("Host > Configuration > Image configuration", "for the installed VIBs"),
    "Host.Config.Settings": ("Host > Configuration > Change settings", "for the kernel modules"),
}
NEEDS = re.compile(r"needs privilege ([\w.]+)")

META = CheckMeta(
    id="SW-003",
    title="Host software could not be read",
    family=FAMILY.id,
    severity=Severity.info,
    object_type="host",
    description="The host's image acceptance level, VIBs or kernel modules could not be read.",
    rationale="Without them the report cannot say whether the host runs unsupported VIBs or can be upgraded; "
              "the host is shown as 'unknown', never as ready.",
    remediation=(
        "Grant the collector's role, at the vCenter root with \"Propagate to children\", the privilege the reason "
        "names: " + "; ".join(f"{label} ({priv}) {what}" for priv, (label, what) in PRIVILEGES.items()) + ".",
        "Check that the host is connected.",
        f"See {METHOD}.",
    ),
)


def run(ctx: CheckContext) -> Outcome:
    out = Outcome()
    missing = 0
    for vc, host in hosts(ctx):
        sw = host.software
        if sw is None:
            missing += 1  # not collected at all (a snapshot of an older version): said once, below
            continue
        out.checked += 1
        if sw.software_unknown_reason is None:
            continue
        out.findings.append(finding(
            META, vc, host.name, object_id(vc, host.moid),
            f"Host {host.name}: software unknown ({sw.software_unknown_reason}).",
            evidence={"reason": sw.software_unknown_reason, "acceptance_level": sw.acceptance_level,
                      "vibs_read": sw.packages is not None, "modules_read": sw.kernel_modules is not None},
            remediation=[*_remedies(sw.software_unknown_reason), f"See {METHOD}."],
        ))
    if missing:
        out.notes.append(f"Host software of {counted(missing, 'host')} was not collected (a snapshot of an older version): "
                         "their acceptance level and upgrade readiness are unknown.")
    return out


def _cause(reason: str) -> tuple[str, str]:
    """(group key, title) of a reason: findings with one cause share a group and a fix."""
    if NEEDS.search(reason):
        return "privilege", "Host software not readable with the collector's role"
    if VIBS_BEFORE_65 in reason:
        return "before-6.5", "Installed VIBs not listed before ESXi 6.5"
    if reason.startswith("host is "):
        return "not-connected", "Host software not readable: host not connected"
    return "other", "Host software could not be read"


def _remedies(reason: str) -> list[str]:
    """What to do about this host's reason: the privileges it names, or the host's state."""
    cause, _title = _cause(reason)
    if cause == "privilege":
        grants = "; ".join(f"{PRIVILEGES[p][0]} ({p}) {PRIVILEGES[p][1]}" if p in PRIVILEGES else p
                           for p in dict.fromkeys(NEEDS.findall(reason)))
        return [f"Grant the collector's role, at the vCenter root with \"Propagate to children\": {grants}. "
                "The collector calls only read methods with them."]
    if cause == "before-6.5":
        return ["ESXi before 6.5 does not list its VIBs through the vSphere API: upgrade readiness is judged from "
                "the loaded kernel modules and the CPU. Before upgrading, list the VIBs on the host "
                "(esxcli software vib list) and check them against the target release."]
    if cause == "not-connected":
        return ["Reconnect the host to vCenter, then collect again."]
    return ["The host or vCenter did not answer these calls; the parts that were read are used and the rest is "
            "shown as unknown. Collect again after the host's next update, or check the host's management agents."]


def group_of(f: Finding) -> GroupKey:
    key, title = _cause(str(f.evidence.get("reason") or ""))
    return GroupKey(f"{f.vcenter}/{key}" if f.vcenter else key, f"{title} ({f.vcenter})" if f.vcenter else title)


# Root cause and risk (see reporter.checks.grouping).
RISK = Risk.hygiene
