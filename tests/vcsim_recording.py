"""The small shaped inventory recorded in ``tests/fixtures/recordings/small-network/``, and
the command that records it again:

    .venv/bin/python tests/vcsim_recording.py

It starts the launcher (1 cluster of 3 hosts with 6 pnics each, 1 standalone host), shapes
it through the API (``shape_small_network``) and writes it with ``tests/sioc_save`` (the
project's ``govc object.save``: Debian's govmomi package ships no govc sources), ready for
``vcsim-launcher -load DIR``.
"""

from __future__ import annotations

import re
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from pyVmomi import vim

from vcsim_harness import (
    Vcsim,
    VcsimLauncher,
    build_launcher,
    make_tls_files,
    save_inventory,
)
from vcsim_network import (
    DvPortgroup,
    add_dvportgroups,
    add_portgroup,
    add_vswitch,
    create_dvs,
    dv_teaming_policy,
    find_by_name,
    teaming_policy,
    update_vswitch,
)
from vcsim_vapp import build_vapps

RECORDING = Path(__file__).resolve().parent / "fixtures" / "recordings" / "small-network"
CLUSTER_HOSTS = ("DC0_C0_H0", "DC0_C0_H1", "DC0_C0_H2")
# What the launcher is started with before shaping (the recording keeps the result).
START = {"vms": 2, "hosts": 3, "host_pnics": 6, "pnic_down": ("DC0_C0_H1:vmnic3",),
         "host_model": {h: "HP:ProLiant BL460c Gen9" for h in CLUSTER_HOSTS}}
VAPPS = [("Shop", None, ["shop-web", "shop-app"]), ("Shop-DB", "Shop", ["shop-db"]), ("Billing", None, ["billing-1"])]


def shape_small_network(si: Any) -> None:
    """On every cluster host: vSwitch0 with vmnic0 active and vmnic1 standby; vSwitch1 on
    vmnic2+vmnic3 with beacon probing (2 uplinks only) and port groups ``Beacon-PG`` (inherits)
    and ``IPHash-PG`` (IP hash, no beacon). One distributed switch ``DSwitch0`` over the
    cluster (vmnic4+vmnic5 of each host) with ``dv-VM`` (default teaming), ``dv-IPHash`` and ``dv-Beacon``. vApps ``Shop``
    (2 VMs) holding ``Shop-DB`` (1 VM), and ``Billing`` (1 VM)."""
    hosts = [find_by_name(si, vim.HostSystem, name) for name in CLUSTER_HOSTS]
    for host in hosts:
        update_vswitch(host, "vSwitch0", nics=["vmnic0", "vmnic1"], teaming=teaming_policy(
            policy="loadbalance_srcid", notify_switches=True, rolling_order=False, check_beacon=False,
            active=["vmnic0"], standby=["vmnic1"]))
        add_vswitch(host, "vSwitch1", ["vmnic2", "vmnic3"], teaming=teaming_policy(
            policy="loadbalance_srcid", notify_switches=True, rolling_order=False, check_beacon=True,
            active=["vmnic2", "vmnic3"]))
        add_portgroup(host, "Beacon-PG", "vSwitch1", vlan=10)
        add_portgroup(host, "IPHash-PG", "vSwitch1", vlan=11,
                      teaming=teaming_policy(policy="loadbalance_ip", check_beacon=False))
    dc = find_by_name(si, vim.Datacenter, "DC0")
    switch = create_dvs(dc, "DSwitch0", hosts, uplinks=("uplink1", "uplink2"), pnics=["vmnic4", "vmnic5"],
                        teaming=dv_teaming_policy(active=("uplink1",), standby=("uplink2",)))
    add_dvportgroups(switch, [
        DvPortgroup("dv-VM", vlan=100),
        DvPortgroup("dv-IPHash", vlan=101, teaming=dv_teaming_policy(policy="loadbalance_ip")),
        DvPortgroup("dv-Beacon", vlan=102, teaming=dv_teaming_policy(check_beacon=True, notify_switches=False)),
    ])
    build_vapps(find_by_name(si, vim.ClusterComputeResource, "DC0_C0"), "LocalDS_0", VAPPS)


def start_shaped(launcher: VcsimLauncher) -> Vcsim:
    sim = launcher.start(**START)  # type: ignore[arg-type]
    shape_small_network(sim.si())
    return sim


# Managers whose saved state is large and the same in every simulator: saved with no
# properties, Model.Load recreates them with their defaults (as the saver does for the
# LicenseManager), which keeps the recording under 2 MB.
DEFAULTED_MANAGERS = ("PerformanceManager", "TaskManager")


def shrink(directory: Path) -> None:
    for kind in DEFAULTED_MANAGERS:
        for path in directory.glob(f"*-{kind}-*.xml"):
            moid = path.stem.split("-", 2)[2]
            path.write_text(f'<ObjectContent>\n  <obj type="{kind}">{moid}</obj>\n</ObjectContent>\n', encoding="utf-8")
    # A local datastore's URL is the recording simulator's temporary directory, gone after
    # recording; a ds:// URL makes Model.Load create a fresh directory, so VMs can still be
    # created on the loaded inventory.
    for path in directory.glob("*-Datastore-*.xml"):
        text = path.read_text(encoding="utf-8")
        name = re.search(r"<name>([^<]+)</name>\s*<url>", text)
        if name:
            text = re.sub(r"<url>/[^<]*</url>", f"<url>ds:///vmfs/volumes/{name.group(1)}/</url>", text)
            path.write_text(text, encoding="utf-8")


def record(target: Path = RECORDING) -> int:
    with tempfile.TemporaryDirectory(prefix="vcsim-rec-") as tmp:
        work = Path(tmp)
        launcher = VcsimLauncher(binary=build_launcher(), tls=make_tls_files(work / "tls"), workdir=work)
        try:
            sim = start_shaped(launcher)
            out = save_inventory(sim, work / "model")
        finally:
            launcher.stop_all()
        shrink(out)
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(out, target)
    print(f"recorded {sum(1 for _ in target.iterdir())} objects into {target}")
    return 0


if __name__ == "__main__":
    sys.exit(record())
