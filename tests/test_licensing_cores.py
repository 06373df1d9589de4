"""Per-CPU (32-core rule) and per-core (16-core minimum) counts (docs/methodology.md (section 3 topics))."""

from __future__ import annotations

import pytest
from licensing_helpers import KEY_EP, assign, host, lic, snapshot, vcenter, vm

from reporter.config import LicensingConfig
from reporter.config.settings import Settings
from reporter.core.model import Datastore
from reporter.domain.licensing import LicensingOptions, analyze
from reporter.domain.licensing.cores import per_core_licensed, per_cpu_licenses


@pytest.mark.parametrize("sockets,cps,per_cpu_32,per_core", [
    (2, 8, 2, 32),     # below the 16-core minimum: 2 x 16
    (2, 16, 2, 32),    # exactly the minimum
    (2, 24, 2, 48),    # above it: actual cores
    (2, 64, 4, 128),   # 64 cores per CPU: 2 licenses per CPU under the 32-core rule
    (1, 32, 1, 32),    # exactly 32 cores: still one license
    (1, 33, 2, 33),    # 33 cores: two
    (4, 8, 4, 64),
])
def test_core_rules(sockets, cps, per_cpu_32, per_core):
    cores = sockets * cps
    assert per_cpu_licenses(sockets, cores) == per_cpu_32
    assert per_core_licensed(sockets, cores) == per_core


def _site():
    hosts = [host("h8", 2, 8, "domain-c1"), host("h16", 2, 16, "domain-c1"), host("h24", 2, 24, "domain-c2"),
             host("h64", 2, 64, "domain-c2"), host("hx", 2, 8, None).model_copy(update={"cpu_cores": None})]
    v = vcenter("vc1", "u1", hosts, [vm("a", "h8", 4)], [lic(KEY_EP, "esx.vcf.cpuCoreMin", 300, 240, unit="cpuCore", version="8.0")],
                [assign(h.moid, KEY_EP, "esx.vcf.cpuCoreMin") for h in hosts], version="8.0.2")
    v = v.model_copy(update={"datastores": {"ds1": Datastore(moid="ds1", name="vsanDatastore", type="vsan",
                                                             capacity_bytes=40 * 1024**4, hosts=["h24", "h64"])}})
    return snapshot(v)


def test_host_cluster_vcenter_and_fleet_totals():
    a = analyze(_site(), options=LicensingOptions())
    by_host = {h.name: (h.per_socket, h.per_cpu_32, h.per_core) for h in a.hosts}
    assert by_host == {"h8.example": (2, 2, 32), "h16.example": (2, 2, 32), "h24.example": (2, 2, 48),
                       "h64.example": (2, 4, 128), "hx.example": (2, None, None)}
    sums = {(s.level, s.name): s for s in a.core_summaries}
    c1, c2 = sums[("cluster", "cl-domain-c1")], sums[("cluster", "cl-domain-c2")]
    assert (c1.cores, c1.per_cpu_32, c1.per_core) == (48, 4, 64)
    assert (c2.cores, c2.per_cpu_32, c2.per_core) == (176, 6, 176)
    assert c2.vsan_tib == {"vcf": 176.0, "vvf": 44.0}
    assert c2.vsan_capacity_tib == 40.0
    vc = sums[("vcenter", "vc1")]
    assert (vc.hosts, vc.hosts_unknown, vc.per_core, vc.owned_core_licenses) == (5, 1, 240, 300)
    fleet = sums[("fleet", "All vCenters")]
    assert (fleet.per_cpu_32, fleet.per_core, fleet.order_cores) == (10, 240, None)


def test_vsan_tib_setting_and_order_minimum():
    settings = Settings(licensing=LicensingConfig(vsan_tib_per_core={"vvf": 0.09765625}, order_minimum_cores=300))
    a = analyze(_site(), settings)
    fleet = a.core_summaries[-1]
    assert fleet.vsan_tib == {"vcf": 240.0, "vvf": 23.4375}
    assert fleet.order_cores == 300  # 240 licensed cores raised to the 300-core order minimum
