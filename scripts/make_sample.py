#!/usr/bin/env python3
"""Generate the bundled sample snapshot: two vCenters, a few hundred VMs, and the
situations every check family must find.

Deterministic (fixed seed, fixed collection time), so the sample only changes
when this script or the model changes. Run from the repo root:

    python scripts/make_sample.py            # writes samples/sample-snapshot.json.gz, its previous
                                             # week (sample-snapshot-previous.json.gz) and the vRAM history

Each area has its own function below; it receives the vCenter dicts and adds
its situations. Everything is built as plain dicts and validated through the
snapshot model at the end, so a model change that breaks the sample fails here.
"""

from __future__ import annotations

import argparse
import random
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reporter.core import snapshot_io  # noqa: E402
from reporter.core.model import Snapshot  # noqa: E402
from reporter.domain.software import VIBS_BEFORE_65  # noqa: E402

COLLECTED_AT = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
GB = 1024**3
MB = 1024**2

LINUX_GUESTS = [("rhel7_64Guest", "Red Hat Enterprise Linux 7 (64-bit)"),
                ("ubuntu64Guest", "Ubuntu Linux (64-bit)"),
                ("sles12_64Guest", "SUSE Linux Enterprise 12 (64-bit)")]
WINDOWS_GUESTS = [("windows9Server64Guest", "Microsoft Windows Server 2016 or later (64-bit)"),
                  ("windows8Server64Guest", "Microsoft Windows Server 2012 (64-bit)"),
                  ("windows7Server64Guest", "Microsoft Windows Server 2008 R2 (64-bit)")]
ROLES = ["web", "app", "db", "file", "dc", "sql", "exch", "build", "mon", "backup", "ci", "cache"]


class Builder:
    """Builds one vCenter's inventory as plain dicts."""

    def __init__(self, name: str, host: str, uuid: str, version: str, build: str, rng: random.Random):
        self.rng = rng
        self.vc: dict[str, Any] = {
            "name": name, "host": host, "instance_uuid": uuid, "version": version, "build": build,
            "api_version": version.rsplit(".", 1)[0] if version.count(".") > 1 else version,
            "full_name": f"VMware vCenter Server {version} build-{build}", "user": "svc-vcreport@vsphere.local",
            "vms": {}, "hosts": {}, "clusters": {}, "datastores": {}, "licenses": [], "license_assignments": [],
        }
        self._vm_seq = 1
        self._file_key = 1

    # -- inventory -------------------------------------------------------
    def cluster(self, moid: str, name: str) -> dict[str, Any]:
        c = {"moid": moid, "name": name, "hosts": []}
        self.vc["clusters"][moid] = c
        return c

    def host(self, moid: str, name: str, cluster: str | None, version: str, build: str, *, sockets: int = 2,
             cores_per_socket: int = 8, memory_gb: int = 256, state: str = "connected",
             hw_exec: bool | None = True, hw_mmu: bool | None = True, cpu_model: str = "Intel(R) Xeon(R) CPU E5-2680 v2 @ 2.80GHz",
             options: dict[str, Any] | None = None, option_errors: dict[str, str] | None = None) -> dict[str, Any]:
        major = int(version.split(".")[0]) * 10 + int(version.split(".")[1])
        h = {
            "moid": moid, "name": name, "version": version, "build": build,
            "full_name": f"VMware ESXi {version} build-{build}", "api_version": version.rsplit(".", 1)[0],
            "cpu_model": cpu_model, "cpu_packages": sockets, "cpu_cores": sockets * cores_per_socket,
            "cpu_threads": sockets * cores_per_socket * 2, "memory_bytes": memory_gb * GB,
            "connection_state": state, "maintenance_mode": False, "power_state": "poweredOn", "cluster": cluster,
            "hw_exec_supported": hw_exec, "hw_mmu_supported": hw_mmu,
            "exec_usage_ignored": major >= 67, "mmu_usage_ignored": major >= 67,
            "advanced_options": options or {}, "advanced_option_errors": option_errors or {},
        }
        self.vc["hosts"][moid] = h
        if cluster:
            self.vc["clusters"][cluster]["hosts"].append(moid)
        return h

    def datastore(self, moid: str, name: str, capacity_gb: int, free_gb: int, *, type_: str = "VMFS",
                  ssd: bool | None = False, hosts: list[str] | None = None, sioc: dict[str, Any] | None = None,
                  sioc_supported: bool | None = True) -> dict[str, Any]:
        d = {
            "moid": moid, "name": name, "type": type_, "url": f"ds:///vmfs/volumes/{moid}/",
            "capacity_bytes": capacity_gb * GB, "free_bytes": free_gb * GB, "accessible": True,
            "multiple_host_access": bool(hosts and len(hosts) > 1), "ssd": ssd,
            "sioc_supported": sioc_supported, "iorm": sioc, "hosts": hosts or [], "vms": [],
        }
        self.vc["datastores"][moid] = d
        return d

    def vm(self, name: str, host: str, datastore: str, *, memory_gb: float = 8, cpus: int = 2, power: str = "poweredOn",
           guest: tuple[str, str] | None = None, hw: int = 13, disks_gb: list[int] | None = None, cbt: bool | None = False,
           folder: str = "/DC/vm/prod", tools_guest: tuple[str, str] | bool | None = True) -> dict[str, Any]:
        moid = f"vm-{1000 + self._vm_seq}"
        self._vm_seq += 1
        guest = guest or self.rng.choice(LINUX_GUESTS + WINDOWS_GUESTS)
        tools = guest if tools_guest is True else (tools_guest or None)
        h = self.vc["hosts"][host]
        vm = {
            "moid": moid, "name": name,
            "instance_uuid": f"50{self.rng.randrange(16**6):06x}-{self.rng.randrange(16**4):04x}-4{self.rng.randrange(16**3):03x}-"
                             f"8{self.rng.randrange(16**3):03x}-{self.rng.randrange(16**12):012x}",
            "template": False, "power_state": power, "memory_mb": int(memory_gb * 1024), "num_cpu": cpus,
            "guest_id": guest[0], "guest_full_name": guest[1],
            "tools_guest_id": tools[0] if (tools and power == "poweredOn") else None,
            "tools_guest_full_name": tools[1] if (tools and power == "poweredOn") else None,
            "hw_version": f"vmx-{hw:02d}", "change_tracking_enabled": cbt,
            "virtual_exec_usage": None, "virtual_mmu_usage": None,
            "extra_config": {}, "disks": [], "snapshots": [], "current_snapshot": None,
            "layout_ex": {"files": [], "disks": [], "snapshots": []},
            "consolidation_needed": False, "host": host, "cluster": h["cluster"], "folder_path": folder,
            "datastores": [], "annotation": None,
        }
        self.vc["vms"][moid] = vm
        for i, size in enumerate(disks_gb or [40]):
            self.disk(vm, datastore, size, unit=i)
        if cbt:
            vm["extra_config"]["ctkEnabled"] = "TRUE"
            for d in vm["disks"]:
                vm["extra_config"][f"scsi{d['bus_number']}:{d['unit_number']}.ctkEnabled"] = "TRUE"
                d["change_id"] = f"52 {self.rng.randrange(16**8):08x} {self.rng.randrange(16**8):08x}-{self.rng.randrange(16**4):04x}/{self.rng.randrange(1, 9999)}"
        return vm

    def _file(self, vm: dict[str, Any], name: str, type_: str, size: int) -> int:
        key = self._file_key
        self._file_key += 1
        vm["layout_ex"]["files"].append({"key": key, "name": name, "type": type_, "size": size, "unique_size": size})
        return key

    def disk(self, vm: dict[str, Any], datastore: str, size_gb: int, *, bus: int = 0, unit: int = 0,
             mode: str = "persistent", rdm: str | None = None, io_limit: int | None = None) -> dict[str, Any]:
        ds = self.vc["datastores"][datastore]
        key = 2000 + len(vm["disks"])
        path = f"[{ds['name']}] {vm['name']}/{vm['name']}" + (f"_{len(vm['disks'])}" if vm["disks"] else "") + ".vmdk"
        d = {
            "key": key, "label": f"Hard disk {len(vm['disks']) + 1}", "controller": "scsi", "bus_number": bus,
            "unit_number": unit, "capacity_bytes": size_gb * GB, "datastore": datastore, "backing_file": path,
            "backing_type": "rdm" if rdm else "flat", "disk_mode": mode, "compatibility_mode": rdm,
            "thin": True, "change_id": None,
            "io": {"limit": io_limit if io_limit is not None else -1, "shares_level": "normal", "shares": 1000, "reservation": 0},
        }
        vm["disks"].append(d)
        if datastore not in vm["datastores"]:
            vm["datastores"].append(datastore)
        if vm["moid"] not in ds["vms"]:
            ds["vms"].append(vm["moid"])
        desc = self._file(vm, path, "diskDescriptor", 600)
        ext = self._file(vm, path.replace(".vmdk", "-flat.vmdk"), "diskExtent", int(size_gb * GB * self.rng.uniform(0.2, 0.7)))
        vm["layout_ex"]["disks"].append({"key": key, "chain": [[desc, ext]]})
        return d

    def snapshot_chain(self, vm: dict[str, Any], specs: list[tuple[str, float, float, bool]]) -> None:
        """specs: (name, age_days, delta_gb_per_disk, memory) from oldest to newest, as one linear chain."""
        parent_children = vm["snapshots"]
        base_chains = {d["key"]: list(d["chain"]) for d in vm["layout_ex"]["disks"]}
        seq = len(vm["layout_ex"]["snapshots"]) + 1
        for name, age_days, delta_gb, memory in specs:
            moid = f"{vm['moid']}-snapshot-{seq}"
            node = {"moid": moid, "id": seq, "name": name, "description": "",
                    "create_time": (COLLECTED_AT - timedelta(days=age_days)).isoformat(),
                    "state": "poweredOn" if memory else "poweredOff", "quiesced": not memory, "children": []}
            parent_children.append(node)
            parent_children = node["children"]
            home = f"[{self.vc['datastores'][vm['datastores'][0]]['name']}] {vm['name']}/{vm['name']}"  # the VM's folder
            vmsn = self._file(vm, f"{home}-Snapshot{seq}.vmsn", "snapshotData", 32 * 1024)
            mem = self._file(vm, f"{home}-Snapshot{seq}.vmem", "snapshotMemory", vm["memory_mb"] * MB) if memory else None
            snap_disks = [{"key": k, "chain": list(ch)} for k, ch in base_chains.items()]
            vm["layout_ex"]["snapshots"].append({"moid": moid, "data_key": vmsn, "memory_key": mem, "disks": snap_disks})
            # After the snapshot, each disk runs on a new delta: its chain grows by one link.
            for d in vm["disks"]:
                n = len(base_chains[d["key"]])
                dpath = d["backing_file"].replace(".vmdk", f"-{n:06d}.vmdk")
                dd = self._file(vm, dpath, "diskDescriptor", 400)
                de = self._file(vm, dpath.replace(".vmdk", "-delta.vmdk"), "diskExtent", int(delta_gb * GB))
                base_chains[d["key"]] = base_chains[d["key"]] + [[dd, de]]
            vm["current_snapshot"] = moid
            seq += 1
        vm["layout_ex"]["disks"] = [{"key": k, "chain": ch} for k, ch in base_chains.items()]
        for d in vm["disks"]:
            d["backing_file"] = d["backing_file"].replace(".vmdk", f"-{len(base_chains[d['key']]) - 1:06d}.vmdk")


def _license(key: str, edition: str, name: str, total: int, used: int, unit: str, version: str,
             expires: str | None = None, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    props: dict[str, Any] = {"ProductName": "VMware ESX Server", "ProductVersion": version}
    if expires:
        props["expirationDate"] = expires
    props.update(extra or {})
    return {"key": key, "edition_key": edition, "name": name, "total": total, "used": used, "cost_unit": unit, "properties": props}


# -- base inventory ------------------------------------------------------------

def _base_vc01(rng: random.Random) -> Builder:
    """vc01: a vSphere 5.0-era site (vRAM licensing applies), ESXi 5.0/5.5."""
    b = Builder("vc01", "vc01.corp.example", "4b1c7e8a-1f3d-4c6e-9a2b-0c5d8e7f6a01", "5.0.0", "804277", rng)
    b.cluster("domain-c7", "Prod-Cluster")
    b.cluster("domain-c8", "Legacy-Cluster")
    for i in range(1, 7):
        b.host(f"host-{10 + i}", f"esx{i:02d}.corp.example", "domain-c7", "5.0.0", "623860", sockets=2, cores_per_socket=8,
               memory_gb=256, options={"Disk.SchedulerWithReservation": None})
    for i in range(7, 10):
        b.host(f"host-{10 + i}", f"esx{i:02d}.corp.example", "domain-c8", "5.5.0", "1331820", sockets=2, cores_per_socket=6,
               memory_gb=192, cpu_model="Intel(R) Xeon(R) CPU X5670 @ 2.93GHz", hw_mmu=i != 9,
               options={"Disk.SchedulerWithReservation": 1 if i != 8 else 0})
    hosts = list(b.vc["hosts"])
    b.datastore("datastore-101", "prod-vmfs-01", 4096, 1400, hosts=hosts[:6],
                sioc={"enabled": True, "congestion_threshold_ms": 30, "congestion_threshold_mode": "manual",
                      "stats_collection_enabled": True, "stats_aggregation_disabled": False, "reservation_enabled": True})
    b.datastore("datastore-102", "prod-vmfs-02", 4096, 350, hosts=hosts[:6],
                sioc={"enabled": False, "congestion_threshold_ms": 30, "congestion_threshold_mode": "manual",
                      "stats_collection_enabled": False, "stats_aggregation_disabled": False, "reservation_enabled": False})
    b.datastore("datastore-103", "legacy-vmfs-01", 2048, 900, hosts=hosts[6:],
                sioc={"enabled": True, "congestion_threshold_ms": 80, "congestion_threshold_mode": "manual",
                      "stats_collection_enabled": True, "stats_aggregation_disabled": False, "reservation_enabled": True})
    b.datastore("datastore-104", "sql-ssd-01", 1024, 300, ssd=True, hosts=hosts[:6],
                sioc={"enabled": True, "congestion_threshold_ms": 30, "congestion_threshold_mode": "manual",
                      "stats_collection_enabled": True, "stats_aggregation_disabled": False, "reservation_enabled": True})
    b.datastore("datastore-105", "esx01-local", 500, 420, hosts=[hosts[0]], sioc=None, sioc_supported=False)
    for i in range(170):
        role = ROLES[i % len(ROLES)]
        host = rng.choice(hosts[:6])
        ds = "datastore-101" if i % 2 else "datastore-102"
        power = "poweredOff" if i % 11 == 0 else ("suspended" if i % 37 == 0 else "poweredOn")
        mem = rng.choice([2, 4, 4, 6, 8, 8, 12, 12, 16, 16])
        b.vm(f"{role}-{i:03d}", host, ds, memory_gb=mem, cpus=rng.choice([1, 2, 4, 8]), power=power,
             cbt=(i % 3 != 0), disks_gb=[rng.choice([40, 60, 100])] + ([rng.choice([100, 200, 500])] if i % 4 == 0 else []),
             folder=f"/DC-Prod/vm/{role}")
    # The monster VM: 192 GB configured, counts 96 GB under the cap.
    b.vm("sap-hana-01", hosts[1], "datastore-101", memory_gb=192, cpus=16, disks_gb=[100, 500], cbt=True,
         guest=("sles12_64Guest", "SUSE Linux Enterprise 12 (64-bit)"), folder="/DC-Prod/vm/sap")
    b.vm("oracle-dw-01", hosts[2], "datastore-101", memory_gb=128, cpus=12, disks_gb=[100, 800], cbt=True,
         guest=("oracleLinux64Guest", "Oracle Linux 4/5/6/7 (64-bit)"), folder="/DC-Prod/vm/db")
    for i in range(40):
        host = rng.choice(hosts[6:])
        b.vm(f"legacy-{i:03d}", host, "datastore-103", memory_gb=rng.choice([2, 4, 4, 8]), hw=rng.choice([4, 7, 8]),
             cbt=False, folder="/DC-Prod/vm/legacy", power="poweredOff" if i % 7 == 0 else "poweredOn")
    return b


def _base_vc02(rng: random.Random) -> Builder:
    """vc02: a current site (vSphere 6.0–8.0 hosts, per-core licensing)."""
    b = Builder("vc02", "vc02.corp.example", "9d2e4f6a-8b1c-4d3e-a5f7-1e2d3c4b5a02", "8.0.2", "22617221", rng)
    b.cluster("domain-c20", "Compute-A")
    b.cluster("domain-c21", "VDI")
    b.cluster("domain-c22", "Old-60")
    for i in range(1, 5):
        b.host(f"host-{200 + i}", f"esxa{i:02d}.dc2.example", "domain-c20", "8.0.2", "22380479", sockets=2,
               cores_per_socket=24 if i <= 2 else 64, memory_gb=1024, cpu_model="AMD EPYC 9554 64-Core Processor" if i > 2 else
               "Intel(R) Xeon(R) Gold 6342 CPU @ 2.80GHz",
               options={"Disk.SchedulerWithReservation": 1, "VMkernel.Boot.isPerFileSchedModelActive": True})
    for i in range(1, 4):
        b.host(f"host-{210 + i}", f"esxv{i:02d}.dc2.example", "domain-c21", "7.0.3", "21930508", sockets=2,
               cores_per_socket=16 if i < 3 else 8, memory_gb=768,
               options={"Disk.SchedulerWithReservation": 1, "VMkernel.Boot.isPerFileSchedModelActive": True})
    for i in range(1, 3):
        b.host(f"host-{220 + i}", f"esxo{i:02d}.dc2.example", "domain-c22", "6.0.0", "2494585", sockets=2,
               cores_per_socket=10, memory_gb=384, options={"Disk.SchedulerWithReservation": 1})
    b.host("host-230", "esx-spare.dc2.example", None, "7.0.3", "21930508", sockets=1, cores_per_socket=8, memory_gb=128,
           state="notResponding", options={}, option_errors={"Disk.SchedulerWithReservation": "HostNotConnected"})
    hosts = list(b.vc["hosts"])
    b.datastore("datastore-301", "vsanDatastore", 60000, 21000, type_="vsan", ssd=True, hosts=hosts[:4],
                sioc=None, sioc_supported=False)
    b.datastore("datastore-302", "vdi-nfs-01", 8192, 2500, type_="NFS", ssd=None, hosts=hosts[4:7],
                sioc={"enabled": False, "congestion_threshold_ms": 30, "congestion_threshold_mode": "automatic",
                      "percent_of_peak_throughput": 90, "stats_collection_enabled": False,
                      "stats_aggregation_disabled": False, "reservation_enabled": False})
    b.datastore("datastore-303", "old60-vmfs-01", 4096, 1200, hosts=hosts[7:9],
                sioc={"enabled": True, "congestion_threshold_ms": 30, "congestion_threshold_mode": "automatic",
                      "percent_of_peak_throughput": 90, "stats_collection_enabled": True,
                      "stats_aggregation_disabled": False, "reservation_enabled": True})
    for i in range(90):
        role = ROLES[(i * 5) % len(ROLES)]
        b.vm(f"a-{role}-{i:03d}", rng.choice(hosts[:4]), "datastore-301", memory_gb=rng.choice([8, 16, 32, 64]),
             cpus=rng.choice([2, 4, 8]), cbt=True, hw=rng.choice([17, 19, 20]), disks_gb=[rng.choice([60, 100, 250])],
             folder=f"/DC2/vm/{role}", power="poweredOff" if i % 13 == 0 else "poweredOn")
    for i in range(60):
        b.vm(f"vdi-{i:03d}", rng.choice(hosts[4:7]), "datastore-302", memory_gb=4, cpus=2, cbt=False, hw=17,
             guest=("windows9Guest", "Microsoft Windows 10 (64-bit)"), folder="/DC2/vm/vdi",
             power="poweredOn" if i % 4 else "poweredOff")
    for i in range(24):
        b.vm(f"old-{ROLES[i % len(ROLES)]}-{i:03d}", rng.choice(hosts[7:9]), "datastore-303", memory_gb=rng.choice([8, 16]),
             cbt=True, hw=11, disks_gb=[rng.choice([60, 150, 300])], folder="/DC2/vm/old")
    return b


# -- area situations (each area owns its function) ----------------------------------

def _general(vc01: Builder, vc02: Builder) -> None:
    """Collection/inventory health: a notResponding host is already in vc02."""


def _licensing(vc01: Builder, vc02: Builder) -> None:
    """vc01: vSphere 5.0 Enterprise Plus + Standard CPU licenses whose vRAM is exceeded;
    an unassigned key; an expiring evaluation. vc02: per-core era licenses."""
    vc01.vc["licenses"] = [
        _license("4J2L7-8KD4N-08Z41-0A8K2-3LC4M", "esxEnterprisePlus", "VMware vSphere 5 Enterprise Plus", 12, 12, "cpuPackage", "5.0"),
        _license("1H0Q3-4AL92-48M81-0U9H4-2KK1N", "esxStandard", "VMware vSphere 5 Standard", 6, 6, "cpuPackage", "5.0"),
        _license("5M22K-0AJ1N-M8Z49-0R2HK-0GC5P", "esxEnterprisePlus", "VMware vSphere 5 Enterprise Plus", 4, 0, "cpuPackage", "5.0"),
        _license("HN0H7-40J8K-J8V48-0T9A2-1DU4Q", "vc.standard", "VMware vCenter Server 5 Standard", 1, 1, "server", "5.0"),
        _license("00000-00000-00000-00000-00000", "eval", "Evaluation Mode", 0, 0, "", "5.0",
                 extra={"expirationHours": 310, "expirationMinutes": 18600}),
    ]
    assign = []
    for moid, h in vc01.vc["hosts"].items():
        key = "4J2L7-8KD4N-08Z41-0A8K2-3LC4M" if h["cluster"] == "domain-c7" else "1H0Q3-4AL92-48M81-0U9H4-2KK1N"
        ed = "esxEnterprisePlus" if h["cluster"] == "domain-c7" else "esxStandard"
        assign.append({"entity": moid, "entity_name": h["name"], "entity_type": "host", "license_key": key, "edition_key": ed})
    assign.append({"entity": vc01.vc["instance_uuid"], "entity_name": vc01.vc["name"], "entity_type": "vcenter",
                   "license_key": "HN0H7-40J8K-J8V48-0T9A2-1DU4Q", "edition_key": "vc.standard"})
    vc01.vc["license_assignments"] = assign

    vc02.vc["licenses"] = [
        _license("0A0AA-FFB1K-48L81-0C3K4-1RK2N", "esx.vcf.cpuCore", "VMware Cloud Foundation (per core)", 448, 448, "cpuCore", "8.0",
                 expires="2027-03-31T00:00:00Z"),
        _license("4F4E2-ZZ1N4-M8J48-0M1U2-2KE7P", "esx.vsphereStandard.cpuCore", "VMware vSphere 7 Standard (per core)", 96, 80,
                 "cpuCore", "7.0", expires="2026-12-15T00:00:00Z"),
        _license("NN49H-4AK12-08L41-0T3R6-0PL1R", "esxEnterprisePlus", "VMware vSphere 6 Enterprise Plus", 6, 4, "cpuPackage", "6.0"),
        _license("MJ0D0-8A20L-H8G49-0C8A2-3MN1K", "vc.standard", "VMware vCenter Server 8 Standard", 1, 1, "server", "8.0"),
    ]
    assign = []
    for moid, h in vc02.vc["hosts"].items():
        if h["cluster"] == "domain-c20":
            key, ed = "0A0AA-FFB1K-48L81-0C3K4-1RK2N", "esx.vcf.cpuCore"
        elif h["cluster"] == "domain-c21":
            key, ed = "4F4E2-ZZ1N4-M8J48-0M1U2-2KE7P", "esx.vsphereStandard.cpuCore"
        else:
            key, ed = "NN49H-4AK12-08L41-0T3R6-0PL1R", "esxEnterprisePlus"
        assign.append({"entity": moid, "entity_name": h["name"], "entity_type": "host", "license_key": key, "edition_key": ed})
    assign.append({"entity": vc02.vc["instance_uuid"], "entity_name": vc02.vc["name"], "entity_type": "vcenter",
                   "license_key": "MJ0D0-8A20L-H8G49-0C8A2-3MN1K", "edition_key": "vc.standard"})
    vc02.vc["license_assignments"] = assign


def _snapshots_and_cbt(vc01: Builder, vc02: Builder) -> None:
    """Old and large snapshots, deep chains, left-behind backup snapshots, consolidation
    needed, independent disks; CBT off/on/pending/partial; ESXi 6.0 hosts before the
    KB2136854 fix (vc02 Old-60) and 5.x hosts in the KB2090639 range (vc01)."""
    vms1 = list(vc01.vc["vms"].values())
    vms2 = list(vc02.vc["vms"].values())
    vc01.snapshot_chain(vms1[1], [("Before patching", 45, 6, False)])
    vc01.snapshot_chain(vms1[5], [("pre-upgrade", 12, 3, False), ("after-upgrade", 10, 2, True),
                                  ("test 1", 9, 1, False), ("test 2", 8, 1.5, False)])
    vc01.snapshot_chain(vms1[8], [("VEEAM BACKUP TEMPORARY SNAPSHOT", 6, 14, False)])
    vc01.snapshot_chain(vms1[12], [("Consolidate Helper- 0", 20, 2, False)])
    vc01.snapshot_chain(vms1[20], [("daily", 1, 0.5, False)])
    vc01.snapshot_chain(vc01.vc["vms"][next(k for k, v in vc01.vc["vms"].items() if v["name"] == "oracle-dw-01")],
                        [("before ETL change", 120, 180, False)])
    # Young but big: 190 GB of deltas on prod-vmfs-02 (350 GB free) = over half its free space.
    vc01.snapshot_chain(vms1[16], [("pre-migration", 2, 95, False)])
    # Consolidation needed: no snapshot left, but the disks still run on a leftover delta.
    vms1[30]["consolidation_needed"] = True
    for disk, layout in zip(vms1[30]["disks"], vms1[30]["layout_ex"]["disks"], strict=False):
        leftover = disk["backing_file"].replace(".vmdk", "-000001.vmdk")
        layout["chain"].append([vc01._file(vms1[30], leftover, "diskDescriptor", 400),
                                vc01._file(vms1[30], leftover.replace(".vmdk", "-delta.vmdk"), "diskExtent", 8 * GB)])
        disk["backing_file"] = leftover
    vms1[44]["disks"][0]["disk_mode"] = "independent_persistent"
    vc01.snapshot_chain(vms1[44], [("snap", 4, 2, False)])
    vc02.snapshot_chain(vms2[3], [("_VCB-BACKUP_", 30, 9, False)])
    vc02.snapshot_chain(vms2[7], [("NBU_SNAPSHOT vmbk01 1700000000", 2, 4, False)])
    vc02.snapshot_chain(vms2[150], [("pre-patch", 2, 1, True)])
    # CBT: enabled on the VM but pending activation (no changeId yet).
    for vm in vms1[60:63]:
        vm["change_tracking_enabled"] = True
        vm["extra_config"]["ctkEnabled"] = "TRUE"
        for d in vm["disks"]:
            vm["extra_config"][f"scsi{d['bus_number']}:{d['unit_number']}.ctkEnabled"] = "TRUE"
            d["change_id"] = None
    # CBT on the VM but off on one disk.
    vm = vms1[4]
    if len(vm["disks"]) < 2:
        vc01.disk(vm, "datastore-101", 200, unit=1)
    vm["change_tracking_enabled"] = True
    vm["extra_config"]["ctkEnabled"] = "TRUE"
    vm["extra_config"]["scsi0:0.ctkEnabled"] = "TRUE"
    vm["extra_config"]["scsi0:1.ctkEnabled"] = "FALSE"
    vm["disks"][0]["change_id"] = "52 1a 2b 3c 4d 5e 6f 70-81 92 a3 b4 c5 d6 e7 f8/42"
    vm["disks"][1]["change_id"] = None
    # Physical-mode RDM on a CBT VM.
    rdm_vm = vms2[10]
    d = vc02.disk(rdm_vm, "datastore-301", 2048, unit=1, rdm="physicalMode")
    d["backing_file"] = "[vsanDatastore] " + rdm_vm["name"] + "/" + rdm_vm["name"] + "_rdmp.vmdk"
    rdm_vm["extra_config"]["scsi0:1.ctkEnabled"] = "TRUE"


def _cpu_mmu(vc01: Builder, vc02: Builder) -> None:
    """Windows Server 2003 guests, 32- and 64-bit, in every CPU/MMU mode, on hosts with
    and without hardware MMU support, powered on and off; a Tools/config mismatch; a
    forced mode on a non-2003 VM; a 2003 VM on an ESXi 8 host where the setting is ignored; an SP1
    guest (Tools full name); Small Business Server 2003 with a flag pair the UI does not offer."""
    hosts = list(vc01.vc["hosts"])
    w32 = ("winNetStandardGuest", "Microsoft Windows Server 2003 Standard (32-bit)")
    w32e = ("winNetEnterpriseGuest", "Microsoft Windows Server 2003 Enterprise (32-bit)")
    w64 = ("winNetStandard64Guest", "Microsoft Windows Server 2003 Standard (64-bit)")
    modes = [(None, None), ("hvAuto", "automatic"), ("hvOff", "off"), ("hvOn", "off"), ("hvOn", "on")]
    for i, (ex, mmu) in enumerate(modes):
        vm = vc01.vm(f"w2k3-app-{i:02d}", hosts[i % 6], "datastore-101", memory_gb=4, cpus=2,
                     guest=w32 if i % 2 == 0 else w32e, hw=7, cbt=False, folder="/DC-Prod/vm/legacy-win")
        vm["virtual_exec_usage"], vm["virtual_mmu_usage"] = ex, mmu
        vm["tools_guest_full_name"] = (w32 if i % 2 == 0 else w32e)[1].replace("(32-bit)", "Service Pack 2 (32-bit)") if i != 1 else vm["tools_guest_full_name"]
    off = vc01.vm("w2k3-print-01", hosts[0], "datastore-101", memory_gb=2, guest=w32, hw=7, power="poweredOff",
                  folder="/DC-Prod/vm/legacy-win")
    off["virtual_exec_usage"], off["virtual_mmu_usage"] = "hvAuto", "automatic"
    nommu = vc01.vm("w2k3-fax-01", hosts[8], "datastore-103", memory_gb=2, guest=w32, hw=7, folder="/DC-Prod/vm/legacy-win")
    nommu["virtual_exec_usage"], nommu["virtual_mmu_usage"] = "hvAuto", "automatic"
    sw64 = vc01.vm("w2k3-x64-db", hosts[2], "datastore-101", memory_gb=8, guest=w64, hw=7, folder="/DC-Prod/vm/legacy-win")
    sw64["virtual_exec_usage"], sw64["virtual_mmu_usage"] = "hvOff", "off"
    mism = vc01.vm("w2k3-mislabeled", hosts[3], "datastore-101", memory_gb=4,
                   guest=("windows7Server64Guest", "Microsoft Windows Server 2008 R2 (64-bit)"),
                   tools_guest=("winNetEnterpriseGuest", "Microsoft Windows Server 2003 Enterprise (32-bit)"), hw=7,
                   folder="/DC-Prod/vm/legacy-win")
    mism["virtual_exec_usage"], mism["virtual_mmu_usage"] = None, None
    forced = vc01.vm("linux-forced-bt", hosts[4], "datastore-101", memory_gb=4,
                     guest=("rhel6Guest", "Red Hat Enterprise Linux 6 (32-bit)"), hw=8, folder="/DC-Prod/vm/legacy")
    forced["virtual_exec_usage"], forced["virtual_mmu_usage"] = "hvOff", "off"
    new_host = next(iter(vc02.vc["hosts"]))
    ign = vc02.vm("w2k3-migrated", new_host, "datastore-301", memory_gb=4, guest=w32, hw=13, folder="/DC2/vm/legacy")
    ign["virtual_exec_usage"], ign["virtual_mmu_usage"] = "hvOn", "on"
    # Tools reports SP1 (the KB prefers BT before SP2), and an SBS 2003 VM with a flag pair the UI
    # does not offer. The rng state is restored so the areas after this one draw the same values.
    rng_state = vc01.rng.getstate()
    sp1 = vc01.vm("w2k3-sp1-legacy", hosts[4], "datastore-101", memory_gb=2, guest=w32, hw=7,
                  tools_guest=("winNetStandardGuest", "Microsoft Windows Server 2003, Standard Edition Service Pack 1 (32-bit)"),
                  folder="/DC-Prod/vm/legacy-win")
    sp1["virtual_exec_usage"], sp1["virtual_mmu_usage"] = None, None
    sbs = vc01.vm("sbs2003-01", hosts[5], "datastore-101", memory_gb=4,
                  guest=("winNetBusinessGuest", "Microsoft Windows Small Business Server 2003"), hw=7,
                  folder="/DC-Prod/vm/legacy-win")
    sbs["virtual_exec_usage"], sbs["virtual_mmu_usage"] = "hvOn", "automatic"
    vc01.rng.setstate(rng_state)


def _sioc(vc01: Builder, vc02: Builder) -> None:
    """Disk caps: mixed types on one datastore (legacy scheduler host), some disks
    unlimited, legacy extraConfig caps alongside API limits, an invalid cap string,
    a starving cap, a lone VM on an SIOC datastore, SIOC off on a busy shared datastore,
    mixed cap types on a per-file host, a capped RDM, a VM whose host scheduler is unknown."""
    hosts1 = list(vc01.vc["hosts"])
    legacy_host = hosts1[7]  # 5.5 with Disk.SchedulerWithReservation = 0 -> legacy scheduler
    # Mixed: one disk with IOPS limit, one with bandwidth cap, same datastore -> not enforced.
    mixed = vc01.vm("sql-mixed-caps", legacy_host, "datastore-103", memory_gb=16, disks_gb=[60, 200], cbt=True,
                    guest=("windows7Server64Guest", "Microsoft Windows Server 2008 R2 (64-bit)"), folder="/DC-Prod/vm/sql")
    mixed["disks"][0]["io"]["limit"] = 500
    mixed["extra_config"]["sched.scsi0:1.bandwidthCap"] = "20MBps"
    # Some disks unlimited -> nothing enforced under the legacy scheduler.
    partial = vc01.vm("app-partial-caps", legacy_host, "datastore-103", memory_gb=8, disks_gb=[40, 100, 100])
    partial["disks"][1]["io"]["limit"] = 300
    # Properly capped: all disks IOPS -> enforced sum 800.
    good = vc01.vm("app-capped-ok", legacy_host, "datastore-103", memory_gb=8, disks_gb=[40, 100])
    good["disks"][0]["io"]["limit"] = 300
    good["disks"][1]["io"]["limit"] = 500
    # Legacy extraConfig cap alongside an API limit, plus an invalid value.
    both = vc01.vm("file-legacy-cap", hosts1[6], "datastore-103", memory_gb=8, disks_gb=[40, 500])
    both["disks"][1]["io"]["limit"] = 1000
    both["extra_config"]["sched.scsi0:1.throughputCap"] = "2KIOps"
    both["extra_config"]["sched.scsi0:0.throughputCap"] = "fast please"
    starving = vc01.vm("report-starved", hosts1[6], "datastore-103", memory_gb=8, disks_gb=[80])
    starving["disks"][0]["io"]["limit"] = 16
    # The seed's 50,000-IOPS SQL server alone on its SSD datastore with SIOC on: SIOC cannot help it.
    for vmid in list(vc01.vc["datastores"]["datastore-104"]["vms"]):
        vc01.vc["datastores"]["datastore-104"]["vms"].remove(vmid)
    lone = vc01.vm("sql-monster-01", hosts1[0], "datastore-104", memory_gb=64, cpus=16, disks_gb=[100, 800], cbt=True,
                   guest=("windows8Server64Guest", "Microsoft Windows Server 2012 (64-bit)"), folder="/DC-Prod/vm/sql")
    # Per-file scheduler host (vc02, ESXi 8): per-disk limits enforced alone, 32 KB units.
    hosts2 = list(vc02.vc["hosts"])
    mclock = vc02.vm("a-analytics-etl", hosts2[0], "datastore-301", memory_gb=32, disks_gb=[100, 1000], cbt=True, hw=19)
    mclock["disks"][1]["io"]["limit"] = 2000
    # Per-file host, IOPS and bandwidth caps mixed: enforced per disk here, not on a legacy host.
    mixed2 = vc02.vm("a-backup-proxy", hosts2[1], "datastore-301", memory_gb=16, disks_gb=[60, 500], hw=19)
    mixed2["disks"][0]["io"]["limit"] = 800
    mixed2["extra_config"]["sched.scsi0:1.bandwidthCap"] = "100MBps"
    # A capped physical-mode RDM next to a flat disk (its own device, not part of the mapping datastore).
    rdm_vm = vc01.vm("oracle-rac-01", hosts1[3], "datastore-101", memory_gb=8, cpus=4, disks_gb=[80],
                     guest=("oracleLinux64Guest", "Oracle Linux 4/5/6/7 (64-bit)"), folder="/DC-Prod/vm/db")
    vc01.disk(rdm_vm, "datastore-101", 2048, unit=1, rdm="physicalMode", io_limit=5000)
    # A VM on the host that does not respond: its scheduler (and so its enforcement) is unknown.
    spare = "host-230"
    vc02.vc["hosts"][spare]["advanced_option_errors"] = {
        "Disk.SchedulerWithReservation": "host is not responding: option not readable",
        "VMkernel.Boot.isPerFileSchedModelActive": "host is not responding: option not readable"}
    stranded = vc02.vm("old-reporting-02", spare, "datastore-303", memory_gb=8, disks_gb=[60, 200], hw=11)
    stranded["disks"][0]["io"]["limit"] = 400
    del lone


# -- host networking and software ---------------------------------------------------

def _team(lb: str = "loadbalance_srcid", active: list[str] | None = None, standby: list[str] | None = None, *,
          notify: bool | None = True, beacon: bool | None = False) -> dict[str, Any]:
    return {"load_balancing": lb, "notify_switches": notify, "rolling_order": False, "check_beacon": beacon,
            "nic_order": {"active": active or [], "standby": standby or []}}


def _pnics(count: int, driver: str, speed: int, down: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    return [{"device": f"vmnic{i}", "driver": driver, "link_speed_mbps": None if f"vmnic{i}" in down else speed,
             "full_duplex": None if f"vmnic{i}" in down else True, "pci": f"0000:0{3 + i // 2}:00.{i % 2}"}
            for i in range(count)]


def _vms_on(b: Builder, host: str) -> list[str]:
    return sorted(m for m, vm in b.vc["vms"].items() if vm["host"] == host)


def _standard(b: Builder, host: str, switches: list[dict[str, Any]], portgroups: list[dict[str, Any]],
              pnics: list[dict[str, Any]], vmks: list[tuple[str, str, list[str]]], vm_portgroups: list[str],
              system: tuple[str, str]) -> None:
    """A host on standard switches; its VMs are spread over ``vm_portgroups`` in turn."""
    vms = _vms_on(b, host)
    for pg in portgroups:
        pg.setdefault("teaming_override", {})
        pg["vm_moids"] = [m for i, m in enumerate(vms) if vm_portgroups[i % len(vm_portgroups)] == pg["name"]] \
            if pg["name"] in vm_portgroups else []
    b.vc["hosts"][host]["network"] = {
        "vswitches": switches, "portgroups": portgroups, "pnics": pnics,
        "vmkernel_adapters": [{"device": d, "portgroup": pg, "services": svc} for d, pg, svc in vmks]}
    b.vc["hosts"][host]["system"] = {"vendor": system[0], "model": system[1]}


def _network(vc01: Builder, vc02: Builder) -> None:
    """NIC teaming: blades behind HP Virtual Connect with link-status-only detection, a cable
    down, a port group with one uplink, a VLAN that differs on one host, IP hash with a standby
    uplink, beacon probing on two uplinks, notify switches off; a distributed switch with an
    uplink that has no physical NIC on one host; clean VDI and 6.0 hosts."""
    # vc01 Prod-Cluster: HP BladeSystem c7000 blades (Virtual Connect FlexFabric), ESXi 5.0.
    for n, host in enumerate(f"host-{i}" for i in range(11, 17)):
        pgs = [{"name": "Management Network", "vswitch": "vSwitch0", "vlan_id": 100,
                "teaming_override": {"nic_order": {"active": ["vmnic0"], "standby": ["vmnic1"]}}},
               {"name": "vMotion", "vswitch": "vSwitch0", "vlan_id": 101,
                "teaming_override": {"nic_order": {"active": ["vmnic1"], "standby": ["vmnic0"]}}},
               {"name": "VM-Prod-10", "vswitch": "vSwitch0", "vlan_id": 10},
               {"name": "VM-Prod-20", "vswitch": "vSwitch0", "vlan_id": 21 if host == "host-15" else 20}]
        vmks = [("vmk0", "Management Network", ["management"]), ("vmk1", "vMotion", ["vmotion"])]
        if host == "host-16":  # NFS for backups pinned to one uplink "for a test", never undone
            pgs.append({"name": "Backup-NFS", "vswitch": "vSwitch0", "vlan_id": 150,
                        "teaming_override": {"nic_order": {"active": ["vmnic1"], "standby": []}}})
            vmks.append(("vmk2", "Backup-NFS", []))
        _standard(vc01, host, [{"name": "vSwitch0", "uplinks": ["vmnic0", "vmnic1"], "mtu": 1500,
                                "teaming": _team(active=["vmnic0", "vmnic1"])}],
                  pgs, _pnics(2, "be2net", 10000, down=("vmnic1",) if host == "host-14" else ()), vmks,
                  ["VM-Prod-10", "VM-Prod-20"], ("HP", "ProLiant BL460c Gen8"))
        del n
    # vc01 Legacy-Cluster: Dell rack servers, ESXi 5.5, IP hash to a static EtherChannel.
    for host in ("host-17", "host-18", "host-19"):
        vm_team: dict[str, Any] = {"nic_order": {"active": ["vmnic0"], "standby": ["vmnic1"]}} if host == "host-19" else {}
        _standard(vc01, host,
                  [{"name": "vSwitch0", "uplinks": ["vmnic0", "vmnic1"], "mtu": 1500,
                    "teaming": _team("loadbalance_ip", active=["vmnic0", "vmnic1"])},
                   {"name": "vSwitch1", "uplinks": ["vmnic2", "vmnic3"], "mtu": 1500,
                    "teaming": _team(active=["vmnic2", "vmnic3"], notify=False, beacon=True)}],
                  [{"name": "Management Network", "vswitch": "vSwitch0", "vlan_id": 0},
                   {"name": "VM Network", "vswitch": "vSwitch0", "vlan_id": 0, "teaming_override": vm_team},
                   {"name": "Legacy-DMZ", "vswitch": "vSwitch1", "vlan_id": 30}],
                  _pnics(4, "bnx2", 1000), [("vmk0", "Management Network", ["management", "vmotion"])],
                  ["VM Network", "Legacy-DMZ"], ("Dell Inc.", "PowerEdge R710"))
    # vc02 Compute-A: a distributed switch; host-204's second uplink has no physical NIC.
    compute = [f"host-{i}" for i in range(201, 205)]
    dvs_team = _team("loadbalance_loadbased", active=["Uplink 1", "Uplink 2"])
    vc02.vc["distributed_switches"] = {"dvs-21": {
        "moid": "dvs-21", "name": "DSwitch-Compute", "uuid": "50 2a 7c 1e 9b 3d 4f 60-a1 b2 c3 d4 e5 f6 07 18",
        "version": "8.0.0", "uplink_port_names": ["Uplink 1", "Uplink 2"], "host_moids": compute,
        "default_teaming": dvs_team}}
    app = [m for h in compute for m in _vms_on(vc02, h)]
    vc02.vc["distributed_portgroups"] = {
        "dvportgroup-30": {"moid": "dvportgroup-30", "name": "DSwitch-Compute-DVUplinks", "dvs_moid": "dvs-21",
                           "key": "dvportgroup-30", "vlan_id": None, "vlan_trunk_ranges": [(0, 4094)],
                           "uplink_portgroup": True, "vm_moids": []},
        "dvportgroup-31": {"moid": "dvportgroup-31", "name": "dvPG-Mgmt-200", "dvs_moid": "dvs-21",
                           "key": "dvportgroup-31", "vlan_id": 200, "vm_moids": []},
        "dvportgroup-32": {"moid": "dvportgroup-32", "name": "dvPG-vMotion-201", "dvs_moid": "dvs-21",
                           "key": "dvportgroup-32", "vlan_id": 201, "vm_moids": [],
                           "teaming": {"nic_order": {"active": ["Uplink 2"], "standby": ["Uplink 1"]}}},
        "dvportgroup-33": {"moid": "dvportgroup-33", "name": "dvPG-App-210", "dvs_moid": "dvs-21",
                           "key": "dvportgroup-33", "vlan_id": 210, "vm_moids": app[1::2]},
        "dvportgroup-34": {"moid": "dvportgroup-34", "name": "dvPG-DB-211", "dvs_moid": "dvs-21",
                           "key": "dvportgroup-34", "vlan_id": 211, "vm_moids": app[0::2]},
    }
    for host in compute:
        vc02.vc["hosts"][host]["network"] = {
            "pnics": _pnics(2, "ixgben" if host in ("host-201", "host-202") else "bnxtnet", 25000),
            "proxy_switches": [{"dvs_uuid": "50 2a 7c 1e 9b 3d 4f 60-a1 b2 c3 d4 e5 f6 07 18", "dvs_name": "DSwitch-Compute",
                                "uplinks": [{"uplink": "Uplink 1", "pnic": "vmnic0"},
                                            {"uplink": "Uplink 2", "pnic": None if host == "host-204" else "vmnic1"}]}],
            "vmkernel_adapters": [{"device": "vmk0", "distributed_portgroup_key": "dvportgroup-31", "services": ["management"]},
                                  {"device": "vmk1", "distributed_portgroup_key": "dvportgroup-32", "services": ["vmotion"]}]}
        vc02.vc["hosts"][host]["system"] = {"vendor": "HPE", "model": "ProLiant DL385 Gen11" if host in ("host-203", "host-204")
                                            else "ProLiant DL380 Gen11"}
    # vc02 VDI: Cisco UCS blades on standard switches, clean.
    for host in ("host-211", "host-212", "host-213"):
        _standard(vc02, host, [{"name": "vSwitch0", "uplinks": ["vmnic0", "vmnic1"], "mtu": 9000,
                                "teaming": _team(active=["vmnic0"], standby=["vmnic1"])}],
                  [{"name": "Management Network", "vswitch": "vSwitch0", "vlan_id": 300},
                   {"name": "VDI-Desktops", "vswitch": "vSwitch0", "vlan_id": 310}],
                  _pnics(2, "nenic", 40000), [("vmk0", "Management Network", ["management", "vmotion"])],
                  ["VDI-Desktops"], ("Cisco Systems Inc", "UCSB-B200-M5"))
    # vc02 Old-60: the reporting network exists on one host only.
    for host in ("host-221", "host-222"):
        pgs = [{"name": "Management Network", "vswitch": "vSwitch0", "vlan_id": 0},
               {"name": "VM Network", "vswitch": "vSwitch0", "vlan_id": 0}]
        if host == "host-221":
            pgs.append({"name": "Reporting-400", "vswitch": "vSwitch0", "vlan_id": 400})
        _standard(vc02, host, [{"name": "vSwitch0", "uplinks": ["vmnic0", "vmnic1"], "mtu": 1500,
                                "teaming": _team(active=["vmnic0", "vmnic1"])}],
                  pgs, _pnics(2, "bnx2x", 10000), [("vmk0", "Management Network", ["management", "vmotion"])],
                  ["VM Network", "Reporting-400"] if host == "host-221" else ["VM Network"],
                  ("HP", "ProLiant DL360 Gen9"))
    # host-230 does not respond: its configuration could not be read (network stays unknown).


def _vib(name: str, version: str, vendor: str, level: str = "vmware_certified", depends: list[str] | None = None,
         installed: str = "2024-03-12T09:14:00+00:00") -> dict[str, Any]:
    return {"name": name, "vendor": vendor, "version": version, "acceptance_level": level, "type": "bootbank",
            "depends": depends or [], "install_date": installed}


def _mod(name: str, loaded: bool = True) -> dict[str, Any]:
    return {"name": name, "loaded": loaded, "enabled": True, "filename": f"/usr/lib/vmware/vmkmod/{name}"}


def _software(vc01: Builder, vc02: Builder) -> None:
    """Upgrade readiness: the 5.x and 6.0 hosts cannot list their VIBs (before 6.5) but their
    loaded vmklinux modules block 7.0/8.0; the HPE 8.0 hosts carry PartnerSupported agent VIBs;
    one VDI host runs a community driver; the host that does not respond is unknown."""
    from_65 = VIBS_BEFORE_65  # what the collector records for these hosts
    for i in range(11, 17):
        vc01.vc["hosts"][f"host-{i}"]["software"] = {
            "acceptance_level": "partner", "image_profile_name": "HP-ESXi-5.0.0-Update1-iso-5.0.12",
            "image_profile_vendor": "Hewlett-Packard", "packages": None, "software_unknown_reason": from_65,
            "kernel_modules": [_mod(m) for m in ("vmkernel", "vmklinux_9", "be2net", "hpsa", "lpfc820", "vmkapi_v2_0_0_0_vmkernel_shim")]}
    for i in range(17, 20):
        vc01.vc["hosts"][f"host-{i}"]["software"] = {
            "acceptance_level": "partner", "image_profile_name": "Dell-ESXi-5.5U1-1746018-A00",
            "image_profile_vendor": "Dell", "packages": None, "software_unknown_reason": from_65,
            "kernel_modules": [_mod(m) for m in ("vmkernel", "vmklinux_9", "bnx2", "megaraid_sas", "lsi_mr3")]}
    base80 = [_vib("esx-base", "8.0.2-0.0.22380479", "VMware"), _vib("ixgben", "1.15.1.0-1vmw.802.0.0.22380479", "VMW"),
              _vib("bnxtnet", "226.0.145.0-1vmw.802.0.0.22380479", "VMW"),
              _vib("amsdv", "802.12.1.0.8-1OEM.802.0.0.21495797", "HPE", "partner"),
              _vib("ilo", "801.10.2.0.3-1OEM.801.0.0.20924719", "HPE", "partner")]
    for i in range(201, 205):
        vc02.vc["hosts"][f"host-{i}"]["software"] = {
            "acceptance_level": "partner", "image_profile_name": "HPE-Custom-AddOn_802.0.0.11.5.0-6 (ESXi 8.0 U2)",
            "image_profile_vendor": "Hewlett Packard Enterprise", "packages": base80,
            "kernel_modules": [_mod(m) for m in ("vmkernel", "ixgben", "bnxtnet", "smartpqi", "nvme_pcie")]}
    for i in range(211, 214):
        vibs = [_vib("esx-base", "7.0.3-0.105.21930508", "VMware"), _vib("nenic", "2.0.10.0-1OEM.700.1.0.15843807", "CIS",
                                                                         "vmware_accepted"),
                _vib("nfnic", "5.0.0.37-1OEM.700.1.0.15843807", "CIS", "vmware_accepted")]
        if i == 213:  # a USB NIC driver from a lab image, left in after troubleshooting
            vibs.append(_vib("usbnic", "1.6.3-2vmw.community", "VFrontDe", "community", installed="2023-06-02T16:40:00+00:00"))
        vc02.vc["hosts"][f"host-{i}"]["software"] = {
            "acceptance_level": "community" if i == 213 else "vmware_accepted",
            "image_profile_name": "Cisco-UCS-Addon-ESXi-70U3m (ESXi 7.0 U3)", "image_profile_vendor": "Cisco",
            "packages": vibs, "kernel_modules": [_mod(m) for m in ("vmkernel", "nenic", "nfnic", "nvme_pcie")]}
    for i in (221, 222):
        vc02.vc["hosts"][f"host-{i}"]["software"] = {
            "acceptance_level": "partner", "image_profile_name": "HP-ESXi-6.0.0-Update3-iso-600.9.7.0.17",
            "image_profile_vendor": "Hewlett Packard Enterprise", "packages": None, "software_unknown_reason": from_65,
            "kernel_modules": [_mod(m) for m in ("vmkernel", "vmklinux_9", "bnx2x", "hpsa", "qlnativefc")]}
    vc02.vc["hosts"]["host-230"]["software"] = {"software_unknown_reason": "host is not responding: software not readable"}


def build(seed: int = 42) -> Snapshot:
    rng = random.Random(seed)
    vc01, vc02 = _base_vc01(rng), _base_vc02(rng)
    for area in (_general, _licensing, _snapshots_and_cbt, _cpu_mmu, _sioc, _network, _software):
        area(vc01, vc02)
    doc = {
        "schema_version": 1, "collected_at": COLLECTED_AT.isoformat(), "tool_version": "sample",
        "vcenters": {b.vc["instance_uuid"]: b.vc for b in (vc01, vc02)},
        "collection_errors": [],
    }
    return Snapshot.model_validate(doc)


# The sample's previous weekly collection, for the demo's "Changes since the last run": the same
# site a week earlier. Snapshots taken during the week did not exist yet, and one VM still had an
# old snapshot that was deleted during the week.
PREVIOUS_AT = COLLECTED_AT - timedelta(days=7)
DELETED_DURING_THE_WEEK = ("app-013", "before upgrade", datetime(2026, 10, 28, 6, 0, tzinfo=UTC))


def _without_snapshots(vm: dict[str, Any]) -> None:
    """``vm`` as it was before its snapshots were taken: each disk back on its base file."""
    layout = vm["layout_ex"]
    names = {f["key"]: f["name"] for f in layout["files"]}
    later = {k for d in layout["disks"] for link in d["chain"][1:] for k in link}
    later |= {s["data_key"] for s in layout["snapshots"]}
    for disk in vm["disks"]:
        chain = next(d["chain"] for d in layout["disks"] if d["key"] == disk["key"])
        disk["backing_file"] = names[chain[0][0]]
    for d in layout["disks"]:
        d["chain"] = d["chain"][:1]
    layout["files"] = [f for f in layout["files"] if f["key"] not in later]
    layout["snapshots"] = []
    vm["snapshots"], vm["current_snapshot"] = [], None


def _with_snapshot(vm: dict[str, Any], name: str, created: datetime, delta_bytes: int) -> None:
    """``vm`` (without snapshots) with one snapshot of every disk: a delta file on top of each."""
    layout = vm["layout_ex"]
    snap_moid = f"{vm['moid']}-snapshot-1"
    base = {d["key"]: [list(link) for link in d["chain"]] for d in layout["disks"]}
    key = max(f["key"] for f in layout["files"]) + 1
    folder = vm["disks"][0]["backing_file"].rsplit("/", 1)[0]
    layout["files"].append({"key": key, "name": f"{folder}/{vm['name']}-Snapshot1.vmsn", "type": "snapshotData",
                            "size": 32768, "unique_size": 32768})
    data_key = key
    for n, disk in enumerate(vm["disks"]):
        stem = disk["backing_file"].rsplit(".vmdk", 1)[0]
        descriptor, extent = key + 1 + 2 * n, key + 2 + 2 * n
        layout["files"] += [
            {"key": descriptor, "name": f"{stem}-000001.vmdk", "type": "diskDescriptor", "size": 400, "unique_size": 400},
            {"key": extent, "name": f"{stem}-000001-delta.vmdk", "type": "diskExtent", "size": delta_bytes,
             "unique_size": delta_bytes}]
        next(d for d in layout["disks"] if d["key"] == disk["key"])["chain"].append([descriptor, extent])
        disk["backing_file"] = f"{stem}-000001.vmdk"
    layout["snapshots"] = [{"moid": snap_moid, "data_key": data_key,
                            "disks": [{"key": k, "chain": chain} for k, chain in base.items()]}]
    vm["snapshots"] = [{"moid": snap_moid, "id": 1, "name": name, "description": "", "create_time": created.isoformat(),
                        "state": vm["power_state"], "quiesced": False, "children": []}]
    vm["current_snapshot"] = snap_moid


def _created(nodes: list[dict[str, Any]]) -> list[datetime]:
    return [datetime.fromisoformat(n["create_time"]) for n in nodes] + [t for n in nodes for t in _created(n["children"])]


def previous_week(snap: Snapshot) -> Snapshot:
    """The sample a week before its collection (see PREVIOUS_AT)."""
    doc = snap.model_dump(mode="json")
    doc["collected_at"] = PREVIOUS_AT.isoformat()
    for vc in doc["vcenters"].values():
        if vc.get("collected_at"):
            vc["collected_at"] = PREVIOUS_AT.isoformat()
        for vm in vc["vms"].values():
            taken = _created(vm["snapshots"])
            if taken and min(taken) > PREVIOUS_AT:
                _without_snapshots(vm)
            elif taken and max(taken) > PREVIOUS_AT:
                raise ValueError(f"{vm['name']}: snapshots from before and after {PREVIOUS_AT}: not modelled")
            if vm["name"] == DELETED_DURING_THE_WEEK[0]:
                _with_snapshot(vm, DELETED_DURING_THE_WEEK[1], DELETED_DURING_THE_WEEK[2], 24 * 2**30)
    return Snapshot.model_validate(doc)


def vram_history_csv(snap: Snapshot, seed: int = 7, days: int = 365) -> str:
    """A year of daily vRAM high-water readings for the sample's vSphere 5.0 pools, ending the
    day before collection: a slow rise towards today's use, weekday/weekend swing, noise, and a
    10-day gap in March when the (imaginary) collector was down. Import format of
    ``vcreport history import``: date,pool,used_gb,entitled_gb."""
    from reporter.history import samples_for_snapshot

    rng = random.Random(seed)
    today = {r["pool_id"]: r for r in samples_for_snapshot(snap) if r["vram_applies"]}
    lines = ["date,pool,used_gb,entitled_gb"]
    end = COLLECTED_AT.date()
    for pool, row in sorted(today.items()):
        for n in range(days, 0, -1):
            day = end - timedelta(days=n)
            if day.month == 3 and 10 <= day.day < 20:
                continue
            progress = 1 - n / days
            level = row["used_gb_capped"] * (0.78 + 0.2 * progress)
            if day.weekday() >= 5:
                level *= 0.93
            level *= rng.uniform(0.98, 1.02)
            lines.append(f"{day.isoformat()},{pool},{level:.1f},{row['entitled_gb']:.1f}")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / "samples" / "sample-snapshot.json.gz"))
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args()
    snap = build(args.seed)
    snapshot_io.save(snap, args.out)
    print(f"wrote {args.out}: {len(snap.vcenters)} vCenters, {snap.vm_count()} VMs")
    previous = Path(args.out).with_name("sample-snapshot-previous.json.gz")
    snapshot_io.save(previous_week(snap), previous)
    print(f"wrote {previous}: the same site a week earlier")
    hist = Path(args.out).with_name("sample-vram-history.csv")
    hist.write_text(vram_history_csv(snap))
    print(f"wrote {hist}")


if __name__ == "__main__":
    main()
