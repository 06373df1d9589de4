"""VMs inside vApps (nested too) get the vApp in their folder path and in ``vm.vapp``, with
both read engines, on a vApp inventory built through the API and on the recorded one; a
CBT folder scope over the whole datacenter keeps them in backup scope."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pyVim.task import WaitForTask
from pyVmomi import vim
from vcsim_network import find_by_name
from vcsim_recording import RECORDING
from vcsim_vapp import build_vapps

from reporter.api import load_config
from reporter.checks import CheckContext, load_all
from reporter.checks.cbt.settings import CbtSettings
from reporter.checks.engine import run_checks
from reporter.collect import collect
from reporter.config.settings import Settings
from reporter.core.model import Snapshot
from reporter.domain.cbt import in_backup_scope

pytestmark = pytest.mark.vcsim

EXPECTED = {
    "shop-web": ("/DC0/vm/Shop", "Shop"),
    "shop-app": ("/DC0/vm/Shop", "Shop"),
    "shop-db": ("/DC0/vm/Shop/Shop-DB", "Shop/Shop-DB"),
    "billing-1": ("/DC0/vm/Billing", "Billing"),
    "DC0_C0_RP0_VM0": ("/DC0/vm", None),
    "DC0_H0_VM0": ("/DC0/vm", None),
}


def _paths(snap: Snapshot) -> dict[str, tuple[str | None, str | None]]:
    (vc,) = snap.vcenters.values()
    return {vm.name: (vm.folder_path, vm.vapp) for vm in vc.vms.values()}


@pytest.mark.parametrize("engine", ["fast", "pyvmomi"])
def test_vms_in_vapps_have_the_vapp_in_their_path(vcsim_factory: Any, tmp_path: Path, engine: str) -> None:
    sim = vcsim_factory(vms=2)
    cluster = find_by_name(sim.si(), vim.ClusterComputeResource, "DC0_C0")
    build_vapps(cluster, "LocalDS_0", [("Shop", None, ["shop-web", "shop-app"]), ("Shop-DB", "Shop", ["shop-db"]),
                                       ("Billing", None, ["billing-1"])])
    for vm in sim.si().content.viewManager.CreateContainerView(sim.si().content.rootFolder, [vim.VirtualMachine],
                                                                True).view:
        # vcsim leaves changeTrackingEnabled unset; a real vCenter reports false.
        WaitForTask(vm.ReconfigVM_Task(vim.vm.ConfigSpec(changeTrackingEnabled=False)))
    snap = collect(load_config(sim.config_file(tmp_path)), progress=False, engine=engine)
    assert snap.collection_errors == []
    assert _paths(snap) == EXPECTED
    # CBT-001 with the whole datacenter as folder scope: the VMs in vApps stay in scope.
    load_all()
    scope = CbtSettings(scope_folders=["/DC0"], scope_include_powered_off=True)
    results = run_checks(CheckContext(snapshot=snap, settings=Settings(thresholds={"cbt": scope})), only=["CBT-001"])
    (vc,) = snap.vcenters.values()
    assert {vm.name: vm.change_tracking_enabled for vm in vc.vms.values()} == dict.fromkeys(EXPECTED, False)
    assert sorted(f.object_name for f in results.findings) == sorted(EXPECTED)


@pytest.mark.parametrize("engine", ["fast", "pyvmomi"])
def test_recorded_vapps_and_folder_scope_of_the_whole_datacenter(vcsim_factory: Any, tmp_path: Path,
                                                                  engine: str) -> None:
    sim = vcsim_factory(model_dir=RECORDING)
    snap = collect(load_config(sim.config_file(tmp_path)), progress=False, engine=engine)
    (vc,) = snap.vcenters.values()
    by_name = {vm.name: vm for vm in vc.vms.values()}
    assert {n: (by_name[n].folder_path, by_name[n].vapp) for n in ("shop-web", "shop-db", "billing-1")} == {
        "shop-web": ("/DC0/vm/Shop", "Shop"), "shop-db": ("/DC0/vm/Shop/Shop-DB", "Shop/Shop-DB"),
        "billing-1": ("/DC0/vm/Billing", "Billing")}
    assert all(vm.folder_path for vm in vc.vms.values())  # no VM without a folder any more

    # The recorded vApp VMs are powered off: count powered-off VMs in scope too.
    scope = CbtSettings(scope_folders=["/DC0"], scope_include_powered_off=True)
    assert {vm.name for vm in vc.vms.values() if in_backup_scope(vm, scope)} == set(by_name) == {
        "shop-web", "shop-app", "shop-db", "billing-1", "DC0_C0_RP0_VM0", "DC0_H0_VM0"}
