"""One small inventory with every situation the sioc checks must find (used by test_sioc_checks.py)."""

from __future__ import annotations

from sioc_builders import (
    LEGACY_55,
    MCLOCK_55,
    PER_FILE_80,
    datastore,
    disk,
    host,
    iorm,
    snapshot,
    vcenter,
    vm,
)

from reporter.core.model import Cluster, Snapshot


def build() -> Snapshot:
    hosts = [
        host("host-1", "5.5.0", LEGACY_55, cluster="c-1", name="esx-legacy"),
        host("host-2", "5.5.0", MCLOCK_55, cluster="c-1", name="esx-mclock"),
        host("host-3", "8.0.2", PER_FILE_80, cluster="c-2", name="esx-new"),
        host("host-4", "7.0.3", {}, {"Disk.SchedulerWithReservation": "host is not responding: option not readable",
                                     "VMkernel.Boot.isPerFileSchedModelActive": "host is not responding: option not readable"},
             cluster="c-2", name="esx-lost", state="notResponding"),
    ]
    clusters = [Cluster(moid="c-1", name="Old", hosts=["host-1", "host-2"]),
                Cluster(moid="c-2", name="New", hosts=["host-3", "host-4"])]
    vms = [
        # legacy host, one of two disks capped -> IOCAP-001 (+ IOCAP-003: c-1 also has an mClock host)
        vm("vm-1", [disk(0, "ds-shared", limit=300), disk(1, "ds-shared")], "host-1", cluster="c-1", name="partial"),
        # mClock host, IOPS + bandwidth mixed -> IOCAP-005, IOCAP-002, IOCAP-003, IOCAP-006 (low)
        vm("vm-2", [disk(0, "ds-shared", limit=500), disk(1, "ds-shared")], "host-2", cluster="c-1", name="mixed",
           extra={"sched.scsi0:1.bandwidthCap": "20MBps"}),
        vm("vm-3", [disk(0, "ds-shared")], "host-2", cluster="c-1", name="web-1"),
        vm("vm-4", [disk(0, "ds-shared")], "host-1", cluster="c-1", name="web-2"),
        vm("vm-5", [disk(0, "ds-shared")], "host-1", cluster="c-1", name="web-off", power="poweredOff"),
        # per-file host, a 16 IOPS cap -> IOCAP-004, IOCAP-002
        vm("vm-6", [disk(0, "ds-vsan", limit=16)], "host-3", cluster="c-2", name="starved"),
        # API limit and a different throughputCap on one disk, an invalid value on another
        vm("vm-7", [disk(0, "ds-vsan", limit=1000), disk(1, "ds-vsan")], "host-3", cluster="c-2", name="conflict",
           extra={"sched.scsi0:0.throughputCap": "2KIOps", "sched.scsi0:1.throughputCap": "10MBps"}),
        # host scheduler unknown, caps that differ between schedulers -> IOCAP-009
        vm("vm-8", [disk(0, "ds-vsan", limit=100), disk(1, "ds-vsan")], "host-4", cluster="c-2", name="lost"),
        # capped RDM next to an uncapped flat disk -> IOCAP-008, no IOCAP-001
        vm("vm-9", [disk(0, "ds-hdd"), disk(1, "ds-hdd", limit=200, rdm="physicalMode")], "host-1", cluster="c-1",
           name="rdm-vm"),
        # the lone SQL server on its SSD datastore with SIOC on -> SIOC-003
        vm("vm-10", [disk(0, "ds-ssd"), disk(1, "ds-ssd")], "host-2", cluster="c-1", name="sql"),
        vm("vm-11", [disk(0, "ds-vsan")], "host-3", cluster="c-2", name="app-1"),
        vm("vm-12", [disk(0, "ds-vsan")], "host-3", cluster="c-2", name="app-2"),
        # a template is skipped by default
        vm("vm-13", [disk(0, "ds-shared", limit=5), disk(1, "ds-shared")], "host-1", cluster="c-1", name="tpl",
           template=True, power="poweredOff"),
    ]
    dss = [
        datastore("ds-shared", "shared-off", vms=["vm-1", "vm-2", "vm-3", "vm-4", "vm-5", "vm-13"],
                  hosts=["host-1", "host-2"], io=iorm(enabled=False)),
        datastore("ds-ssd", "flash-01", vms=["vm-10"], hosts=["host-1", "host-2"], ssd=True, io=iorm(ms=30)),
        datastore("ds-hdd", "sata-01", vms=["vm-9"], hosts=["host-1", "host-2"], ssd=False, io=iorm(ms=10)),
        datastore("ds-auto", "auto-01", vms=[], hosts=["host-1", "host-2"], io=iorm(ms=30, mode="automatic", pct=90)),
        datastore("ds-vsan", "vsanDatastore", vms=["vm-6", "vm-7", "vm-8", "vm-11", "vm-12"],
                  hosts=["host-3", "host-4"], ssd=True, supported=False, io=None, type_="vsan"),
        datastore("ds-local", "local-01", vms=[], hosts=["host-1"], io=None, supported=False),
    ]
    return snapshot(vcenter(hosts, vms, dss, clusters))
