"""NET-007: the same standard port group name with a different VLAN or teaming on the hosts of
one cluster, or missing on some of them."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from reporter.checks.base import CheckContext, CheckMeta, Outcome, finding, object_id
from reporter.checks.helpers import ps_quote
from reporter.checks.network import FAMILY
from reporter.checks.network.common import METHOD, NETWORKING_GUIDE, HostNetwork, host_networks
from reporter.core.findings import Severity
from reporter.domain.network import portgroup_drift

META = CheckMeta(
    id="NET-007",
    title="Port group differs between the hosts of a cluster",
    family=FAMILY.id,
    severity=Severity.medium,
    object_type="cluster",
    description="A standard port group name that has a different VLAN or teaming policy on some hosts of a "
                "cluster, or that VMs use and that exists on some hosts only.",
    rationale="vMotion, DRS and HA place VMs by port group name: on another host the VM lands on another VLAN or "
              "another failover behaviour, or cannot move or restart there at all.",
    remediation=(
        "Make the port group identical on every host of the cluster (or move it to a distributed switch, which "
        "has one configuration for all hosts).",
        f"See {METHOD}.",
    ),
    references=(NETWORKING_GUIDE,),
)

_SETTING_NAMES = {"vlan_id": "VLAN", "load_balancing": "load balancing", "check_beacon": "beacon probing",
                  "notify_switches": "notify switches", "rolling_order": "failback off (rolling order)",
                  "active": "active uplinks", "standby": "standby uplinks"}


def _jsonable(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def run(ctx: CheckContext) -> Outcome:
    out = Outcome()
    clusters: dict[tuple[str, str], list[HostNetwork]] = defaultdict(list)
    for hn in host_networks(ctx):
        if hn.host.cluster:
            clusters[(hn.vc.instance_uuid, hn.host.cluster)].append(hn)
    for (_uuid, cluster_moid), members in sorted(clusters.items()):
        vc = members[0].vc
        cluster = vc.clusters.get(cluster_moid)
        cname = cluster.name if cluster else cluster_moid
        out.checked += 1
        views = [v for hn in members for v in hn.views]
        hosts = sorted(hn.host.name for hn in members)
        drift: dict[str, list[str]] = defaultdict(list)
        values: dict[str, dict[str, Any]] = defaultdict(dict)
        for d in portgroup_drift(views):
            drift[d.portgroup].append(_SETTING_NAMES.get(d.setting, d.setting))
            values[d.portgroup][d.setting] = {h: _jsonable(v) for h, v in d.values.items()}
        # Missing matters where VMs use the port group: they cannot be moved or restarted on a
        # host without it. A host-only port group nobody's VMs use (a vmk, a spare) is no drift.
        names_on: dict[str, set[str]] = defaultdict(set)
        with_vms: set[str] = set()
        for hn in members:
            for pg in hn.host.network.portgroups if hn.host.network else []:
                names_on[pg.name].add(hn.host.name)
                if pg.vm_moids:
                    with_vms.add(pg.name)
        missing = {n: sorted(set(hosts) - on) for n, on in names_on.items() if n in with_vms and set(hosts) - on}
        for name in sorted(set(drift) | set(missing)):
            parts = []
            if name in drift:
                parts.append("differs in " + ", ".join(drift[name]))
            if name in missing:
                parts.append("is missing on " + ", ".join(missing[name]))
            out.findings.append(finding(
                META, vc, f"{cname} / {name}", f"{object_id(vc, cluster_moid)}/portgroup/{name}",
                f"Standard port group {name} {' and '.join(parts)} across the hosts of cluster {cname}.",
                evidence={"cluster": cname, "portgroup": name, "differences": values.get(name, {}),
                          "missing_on": missing.get(name, [])},
                remediation=[
                    f"vSphere Client: Hosts and Clusters > each host of {cname} > Configure > Networking > Virtual "
                    f"switches > {name} > Edit: make VLAN and Teaming and failover the same on every host.",
                    f"PowerCLI: Get-Cluster -Name {ps_quote(cname)} | Get-VMHost | Get-VirtualPortGroup -Standard "
                    f"-Name {ps_quote(name)} | Get-NicTeamingPolicy  (compare; then Set-NicTeamingPolicy, or "
                    "Set-VirtualPortGroup -VLanId)",
                    "Host profiles (vSphere Client: Policies and Profiles > Host Profiles) keep them identical.",
                    f"See {METHOD}.",
                ],
            ))
    return out
