"""vApps built through the API on the launcher: parentVApp of their VMs, nested vApps."""

from __future__ import annotations

from typing import Any

from pyVmomi import vim

from vcsim_network import find_by_name, retrieve
from vcsim_vapp import build_vapps


def test_vms_in_vapps_have_their_parent_vapp(vcsim_factory: Any) -> None:
    sim = vcsim_factory(vms=2)
    si = sim.si()
    cluster = find_by_name(si, vim.ClusterComputeResource, "DC0_C0")
    layout = build_vapps(cluster, "LocalDS_0", [
        ("Shop", None, ["shop-web", "shop-app"]),
        ("Shop-DB", "Shop", ["shop-db"]),
        ("Billing", None, ["billing-1"]),
    ])
    assert layout.vms == {"Shop": ["shop-web", "shop-app"], "Shop-DB": ["shop-db"], "Billing": ["billing-1"]}
    assert layout.parent == {"Shop-DB": "Shop"}

    vms = retrieve(si, vim.VirtualMachine, ["parentVApp", "resourcePool"])
    parents = {name: (p["parentVApp"].name if p.get("parentVApp") else None) for name, p in vms.items()}
    assert parents == {"shop-web": "Shop", "shop-app": "Shop", "shop-db": "Shop-DB", "billing-1": "Billing",
                       "DC0_C0_RP0_VM0": None, "DC0_H0_VM0": None}
    assert vms["shop-db"]["resourcePool"].name == "Shop-DB"

    # A vApp's own "resourcePool" property cannot be read from govmomi 0.24 (the collector
    # resolves the name to the embedded ResourcePool struct and pyVmomi rejects the reply), so
    # the nesting is read through "parent", the way vCenter's inventory is walked upwards.
    vapps = retrieve(si, vim.VirtualApp, ["parent", "vm"])
    assert sorted(vapps) == ["Billing", "Shop", "Shop-DB"]  # the container view reaches the nested vApp
    assert vapps["Shop-DB"]["parent"].name == "Shop"
    assert sorted(v.name for v in vapps["Shop"]["vm"]) == ["shop-app", "shop-web"]
    assert vapps["Billing"]["parent"].name == "Resources"
