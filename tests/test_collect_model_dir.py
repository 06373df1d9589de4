"""A simulator loaded from a model directory (``vcsim_factory(model_dir=...)``): the way to
test inventories the vSphere API cannot shape, e.g. an ESXi 5.0 host."""

from __future__ import annotations

from pathlib import Path

import pytest

from reporter.api import load_config
from reporter.collect import collect
from reporter.core.model import Host
from reporter.core.model_hostconfig import HostSoftware, HostSystemIdentity

pytestmark = pytest.mark.vcsim

MODEL = Path(__file__).parent / "data" / "vcsim-model-esx50"


def test_loaded_model_is_collected_exactly(vcsim_factory, tmp_path):
    sim = vcsim_factory(model_dir=MODEL)
    snap = collect(load_config(sim.config_file(tmp_path)), progress=False)
    assert snap.collection_errors == []
    (vc,) = snap.vcenters.values()
    no_manager = "host has no advanced option manager (configManager.advancedOption unset)"
    assert vc.hosts == {"host-10": Host(
        moid="host-10", name="esx50.example.com", version="5.0.0", build="469512",
        full_name="VMware ESXi 5.0.0 build-469512", api_version="5.0",
        cpu_model="Intel(R) Xeon(R) CPU X5670 @ 2.93GHz", cpu_packages=2, cpu_cores=12, cpu_threads=24,
        memory_bytes=103079215104, connection_state="connected", maintenance_mode=False, power_state="poweredOn",
        cluster=None, hw_exec_supported=True, hw_mmu_supported=True,
        advanced_option_errors={"Disk.SchedulerWithReservation": no_manager,
                                "VMkernel.Boot.isPerFileSchedModelActive": no_manager},
        # The model has no config.network and no software managers (an ESXi 5.0 host as saved).
        network=None, system=HostSystemIdentity(vendor="HP", model="ProLiant DL380 G7"),
        software=HostSoftware(software_unknown_reason=(
            "the host has no image configuration manager (configManager.imageConfigManager unset); "
            "the host has no kernel module system (configManager.kernelModuleSystem unset)")),
    )}
    assert (vc.vms, vc.clusters, vc.datastores) == ({}, {}, {})
