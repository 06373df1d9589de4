"""SW-001: a host at acceptance level CommunitySupported, or VIBs below the minimum acceptance
level (default VMwareAccepted). One finding per host: "who supports this?" is one question."""

from __future__ import annotations

from reporter.checks.base import CheckContext, CheckMeta, Outcome, Reference, finding, object_id
from reporter.checks.grouping import Risk, per_vcenter
from reporter.checks.helpers import counted, ps_quote, sh_quote
from reporter.checks.software import FAMILY
from reporter.checks.software.common import METHOD, hosts
from reporter.checks.software.settings import SoftwareSettings
from reporter.core.findings import Severity
from reporter.domain.software import AcceptanceLevel, packages_below, parse_acceptance

META = CheckMeta(
    id="SW-001",
    title="Community-supported host or VIBs below the acceptance level",
    family=FAMILY.id,
    severity=Severity.medium,
    object_type="host",
    description="A host whose image acceptance level is CommunitySupported, or that has VIBs below the minimum "
                "acceptance level ([thresholds.software] minimum_vib_acceptance, default VMwareAccepted).",
    rationale="PartnerSupported VIBs are supported by the partner, not VMware; CommunitySupported ones by nobody, "
              "and VMware support may ask for them to be removed before working on a case. A CommunitySupported "
              "host accepts unsigned packages.",
    remediation=(
        "Replace community VIBs with vendor-supported (or inbox) drivers and raise the host's acceptance level.",
        f"See {METHOD}.",
    ),
    references=(Reference(None, "VMware vSphere Security guide: Manage the Acceptance Levels of Hosts and VIBs"),),
)


def _minimum(ctx: CheckContext) -> AcceptanceLevel:
    level = parse_acceptance(ctx.settings.get(SoftwareSettings).minimum_vib_acceptance)
    assert level is not None
    return level


def run(ctx: CheckContext) -> Outcome:
    minimum = _minimum(ctx)
    out = Outcome()
    for vc, host in hosts(ctx):
        sw = host.software
        if sw is None:
            continue
        out.checked += 1
        level = parse_acceptance(sw.acceptance_level)
        below = packages_below(sw.packages or [], minimum)
        community_host = level is AcceptanceLevel.COMMUNITY_SUPPORTED
        if not below and not community_host:
            continue
        vibs = [f"{p.package.name} {p.package.version or ''} ({p.level.label}, vendor {p.package.vendor or '?'})"
                for p in below]
        community = community_host or any(p.level is AcceptanceLevel.COMMUNITY_SUPPORTED for p in below)
        parts = []
        if community_host:
            parts.append("its acceptance level is CommunitySupported (it accepts unsigned VIBs)")
        if below:
            parts.append(f"{counted(len(below), 'VIB')} {'is' if len(below) == 1 else 'are'} below {minimum.label}: " + "; ".join(vibs))
        name = host.name
        # PartnerSupported admits partner VIBs that stay; raise further only if none is left.
        target = "PartnerSupported" if any(p.level is AcceptanceLevel.PARTNER_SUPPORTED for p in below) or \
            minimum <= AcceptanceLevel.PARTNER_SUPPORTED else "VMwareAccepted"
        steps = [
            "For each VIB listed: who supports it? Replace it with the hardware vendor's supported driver or the "
            "inbox driver (VMware Compatibility Guide), then remove it.",
            f"esxcli (or govc host.esxcli -host {sh_quote(name)} ...): esxcli software vib list; "
            "esxcli software vib remove -n <VIB name>",
            f"Then raise the host's level: esxcli software acceptance set --level={target}; PowerCLI: "
            f"(Get-EsxCli -VMHost {ps_quote(name)} -V2).software.acceptance.set.Invoke(@{{level='{target}'}})",
            f"vSphere Client: Hosts and Clusters > {name} > Configure > System > Security Profile > Host Image "
            "Profile Acceptance Level > Edit.",
            f"See {METHOD}.",
        ]
        out.findings.append(finding(
            META, vc, name, object_id(vc, host.moid), f"Host {name}: " + "; ".join(parts) + ".",
            evidence={"acceptance_level": sw.acceptance_level,
                      "vibs": [{"name": p.package.name, "vendor": p.package.vendor, "version": p.package.version,
                                "acceptance_level": p.level.label} for p in below]},
            remediation=steps, severity=Severity.high if community else Severity.medium,
        ))
    return out


# Root cause and risk (see reporter.checks.grouping).
RISK = Risk.hygiene
group_of = per_vcenter("Community-supported hosts or VIBs below the acceptance level")
