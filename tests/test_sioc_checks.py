"""Every sioc check on one small inventory (tests/sioc_fixture.py): exact findings, settings, tables."""

from __future__ import annotations

import pytest
import sioc_fixture
from sioc_builders import VC_UUID, datastore, disk, host, iorm, snapshot, vcenter, vm

from reporter.checks import load_all
from reporter.checks.base import CheckContext
from reporter.checks.engine import run_checks
from reporter.checks.sioc.settings import SiocSettings
from reporter.checks.tables import build_tables
from reporter.config.settings import Settings, validate_thresholds
from reporter.errors import ConfigError

EXPECTED = [
    ('IOCAP-001', 'high', 'fail', 'vm-1/ds-shared',
     "'partial' on datastore 'shared-off': none of its caps is enforced. Host esx-legacy runs the legacy scheduler "
     "(ESXi 5.5.0 with Disk.SchedulerWithReservation = 0); legacy scheduler needs a cap of the same type on every disk "
     "of the VM on this datastore: IOPS cap on scsi0:0 but not on scsi0:1. Fix: set sched.scsi0:1.throughputCap = "
     "300IOps (Limit - IOPs 300) on Hard disk 2 (scsi0:1) - or move scsi0:0 to a datastore where the VM has no other disk."),
    ('IOCAP-002', 'low', 'fail', 'vm-7/ds-vsan',
     "'conflict' on datastore 'vsanDatastore': host esx-new runs the per-file (per disk) scheduler, which counts IOPS in "
     "32 KB units: scsi0:0 1000 IOPS = 500 I/Os/s at 64 KB, 125 at 256 KB, at most 31.25 MB/s for I/O of 32 KB and more."),
    ('IOCAP-002', 'low', 'fail', 'vm-2/ds-shared',
     "'mixed' on datastore 'shared-off': host esx-mclock runs the mClock (per disk) scheduler, which counts IOPS in 32 KB "
     "units: scsi0:0 500 IOPS = 250 I/Os/s at 64 KB, 62 at 256 KB, at most 15.625 MB/s for I/O of 32 KB and more."),
    ('IOCAP-002', 'low', 'fail', 'vm-6/ds-vsan',
     "'starved' on datastore 'vsanDatastore': host esx-new runs the per-file (per disk) scheduler, which counts IOPS in "
     "32 KB units: scsi0:0 16 IOPS = 8 I/Os/s at 64 KB, 2 at 256 KB, at most 0.5 MB/s for I/O of 32 KB and more."),
    ('IOCAP-003', 'medium', 'fail', 'vm-2/ds-shared',
     "'mixed' on datastore 'shared-off': now (mClock (per disk)) scsi0:0 \u2264 500 IOPS; scsi0:1 \u2264 20 MB/s; after "
     "vMotion to esx-legacy (legacy): nothing enforced."),
    ('IOCAP-003', 'medium', 'fail', 'vm-1/ds-shared',
     "'partial' on datastore 'shared-off': now (legacy (per VM per datastore)) nothing enforced; after vMotion to "
     "esx-mclock (per-disk (mClock/per-file)): scsi0:0 \u2264 300 IOPS."),
    ('IOCAP-004', 'medium', 'fail', 'vm-6/ds-vsan',
     "'starved' on datastore 'vsanDatastore': cap below the starvation floor (50 IOPS / 2 MB/s): scsi0:0 16 IOPS."),
    ('IOCAP-005', 'low', 'fail', 'vm-2/ds-shared',
     "'mixed' on datastore 'shared-off': IOPS limits on scsi0:0 and bandwidth caps on scsi0:1 (host esx-mclock, "
     "scheduler mClock (per disk)). Each cap is enforced on its disk here; on a legacy-scheduler host neither type would "
     "be. To use one type: set sched.scsi0:1.throughputCap = 320IOps (Limit - IOPs 320) on Hard disk 2 (scsi0:1); "
     "remove the bandwidth cap on scsi0:1."),
    ('IOCAP-006', 'medium', 'fail', 'vm-7',
     "'conflict' mixes API disk limits with KB1038241 configuration parameters: scsi0:0: vCenter reports a limit of "
     "1000 IOPS but sched.scsi0:0.throughputCap = '2KIOps' = 2000 IOPS; 1000 IOPS is used (API value wins)."),
    ('IOCAP-006', 'low', 'fail', 'vm-2',
     "'mixed' mixes API disk limits with KB1038241 configuration parameters: scsi0:1: sched.scsi0:1.bandwidthCap = "
     "'20MBps' exists only as a configuration parameter (the API has no bandwidth limit)."),
    ('IOCAP-007', 'medium', 'fail', 'vm-7',
     "'conflict' has 1 invalid I/O cap value: sched.scsi0:1.throughputCap = '10MBps': 'MBps' is a bandwidth unit; "
     "throughputCap takes IOps, KIOps, MIOps, GIOps. Treat the disk as uncapped."),
    ('IOCAP-008', 'info', 'warn', 'vm-9/rdm:scsi0:1',
     "'rdm-vm': Hard disk 2 (scsi0:1) is an RDM (physical compatibility) with cap 200 IOPS; it is evaluated as its own "
     "device, not as part of the mapping-file datastore, and SIOC does not cover it."),
    ('IOCAP-009', 'low', 'warn', 'vm-8/ds-vsan',
     "'lost' on datastore 'vsanDatastore': the disk scheduler of host esx-lost is unknown "
     "(VMkernel.Boot.isPerFileSchedModelActive could not be read on this host (host is not responding: option not "
     "readable)). Under the legacy scheduler: nothing enforced; under the per-disk scheduler: scsi0:0 \u2264 100 IOPS."),
    ('SIOC-001', 'medium', 'fail', 'ds-shared',
     "SIOC is off on 'shared-off', shared by 2 hosts and used by 4 running VMs (6 in total): one busy VM can raise "
     "latency for all of them."),
    ('SIOC-002', 'medium', 'fail', 'ds-ssd',
     "Congestion threshold 30 ms on 'flash-01' (SSD/flash) is above the 10-15 ms range for this media: SIOC starts to "
     "act only after latency has long been too high for this media."),
    ('SIOC-002', 'medium', 'fail', 'ds-hdd',
     "Congestion threshold 10 ms on 'sata-01' (spinning disk) is below the 20-50 ms range for this media: SIOC "
     "throttles before the device reaches its peak throughput."),
    ('SIOC-003', 'low', 'fail', 'ds-ssd',
     "SIOC is on for 'flash-01', but 'sql' is its only VM and has no enforced I/O cap there: SIOC cannot limit a VM "
     "that competes with nobody on its datastore."),
    ('SIOC-003', 'low', 'fail', 'ds-hdd',
     "SIOC is on for 'sata-01', but 'rdm-vm' is its only VM and has no enforced I/O cap there: SIOC cannot limit a VM "
     "that competes with nobody on its datastore."),
    ('SIOC-004', 'info', 'warn', 'ds-vsan',
     "'vsanDatastore' (vsan) does not support SIOC; 5 running VMs on 2 hosts share it with no cross-host I/O "
     "arbitration."),
]


def run(snap, **thresholds):
    settings = Settings(thresholds={"sioc": SiocSettings(**thresholds)} if thresholds else {})
    return run_checks(CheckContext(snap, settings=settings), only=["sioc"])


def rows(results):
    return [(f.check_id, f.severity.value, f.status.value, f.object_id.split("/", 1)[1], f.message)
            for f in results.findings]


@pytest.fixture(scope="module")
def results():
    return run(sioc_fixture.build())


def test_all_sioc_checks_registered():
    ids = sorted(i for i, c in load_all().items() if c.meta.family == "sioc")
    assert ids == [f"IOCAP-00{n}" for n in range(1, 10)] + [f"SIOC-00{n}" for n in range(1, 5)]


def test_exact_findings(results):
    assert [r.error for r in results.checks] == [None] * 13
    assert rows(results) == EXPECTED
    assert {f.vcenter for f in results.findings} == {"vc1"}
    assert all(f.object_id.startswith(VC_UUID + "/") for f in results.findings)


def test_checked_counts(results):
    # 12 VMs (the template is skipped), 6 datastores, 3 with SIOC on.
    assert {r.meta.id: r.checked for r in results.checks} == {
        **{f"IOCAP-00{n}": 12 for n in range(1, 10)},
        "SIOC-001": 6, "SIOC-002": 3, "SIOC-003": 3, "SIOC-004": 6,
    }


def by_id(results, check_id, object_suffix):
    return next(f for f in results.findings if f.check_id == check_id and f.object_id.endswith(object_suffix))


def test_not_enforced_remediation_names_disks_values_and_commands(results):
    f = by_id(results, "IOCAP-001", "vm-1/ds-shared")
    assert f.remediation.splitlines() == [
        "Option A - give every disk of 'partial' on datastore 'shared-off' an IOPS limit (the legacy scheduler then "
        "enforces their sum, 600 IOPS, shared by the disks):",
        "  Hard disk 2 (scsi0:1): 300 IOPS - $vm = Get-VM -Name 'partial'; $disk = Get-HardDisk -VM $vm -Name "
        "'Hard disk 2'; Get-VMResourceConfiguration -VM $vm | Set-VMResourceConfiguration -Disk $disk "
        "-DiskLimitIOPerSecond 300",
        "  vSphere Client: VM > Edit Settings > Virtual Hardware > Hard disk N > Limit - IOPs (can be changed while the "
        "VM runs)",
        "Option B - separate the disks with Storage vMotion, so that on each datastore all of the VM's disks carry a "
        "cap of the same type (or none does):",
        "  Hard disk 1 (scsi0:0): $vm = Get-VM -Name 'partial'; Move-HardDisk -HardDisk (Get-HardDisk -VM $vm -Name "
        "'Hard disk 1') -Datastore '<datastore without other disks of this VM>' -Confirm:$false",
        "Option C - run the VM on hosts with the per-disk scheduler (ESXi 5.5-6.x: Disk.SchedulerWithReservation = 1; "
        "6.0 U1+/7.0+: VMkernel.Boot.isPerFileSchedModelActive = true, host reboot), where each disk's limit applies "
        "alone - in 32 KB units.",
    ]
    assert f.evidence["scheduler"] == "legacy"
    assert f.evidence["scheduler_options"] == {"Disk.SchedulerWithReservation": 0}
    assert f.evidence["enforced"] == "no"
    assert [d["storageIOAllocation.limit"] for d in f.evidence["disks"]] == [300, -1]


def test_mixed_types_on_legacy_host_fix_converts_bandwidth_at_io_size():
    hosts = [host("host-1", "5.5.0", {"Disk.SchedulerWithReservation": 0})]
    v = vm("vm-1", [disk(0, limit=500), disk(1)], extra={"sched.scsi0:1.bandwidthCap": "20MBps"}, name="sql-mixed")
    snap = snapshot(vcenter(hosts, [v], [datastore("ds-1", vms=["vm-1"], io=iorm())]))
    f = next(f for f in run(snap).findings if f.check_id == "IOCAP-001")
    assert f.evidence["fix"] == ("set sched.scsi0:1.throughputCap = 320IOps (Limit - IOPs 320) on Hard disk 2 "
                                 "(scsi0:1); remove the bandwidth cap on scsi0:1 - or move scsi0:1 to a datastore where "
                                 "the VM has no other disk")
    # 20 MB/s at 32 KB per I/O is 640 IOPS
    f32 = next(f for f in run(snap, typical_io_size_kb=32).findings if f.check_id == "IOCAP-001")
    assert f32.evidence["fix"].startswith("set sched.scsi0:1.throughputCap = 640IOps (Limit - IOPs 640)")


def test_bandwidth_majority_fix_sets_bandwidth_caps():
    hosts = [host("host-1", "8.0.2", {"VMkernel.Boot.isPerFileSchedModelActive": False})]
    v = vm("vm-1", [disk(0), disk(1), disk(2, limit=100)], name="bw",
           extra={"sched.scsi0:0.bandwidthCap": "10MBps", "sched.scsi0:1.bandwidthCap": "4MBps"})
    snap = snapshot(vcenter(hosts, [v], [datastore("ds-1", vms=["vm-1"])]))
    f = next(f for f in run(snap).findings if f.check_id == "IOCAP-001")
    assert f.evidence["fix"] == ("set sched.scsi0:2.bandwidthCap = 6400KBps on Hard disk 3 (scsi0:2); remove the IOPS "
                                 "limit on scsi0:2 - or move scsi0:2 to a datastore without other disks of this VM")
    assert "Get-AdvancedSetting -Entity $vm -Name 'sched.scsi0:2.bandwidthCap'" not in f.remediation
    assert "New-AdvancedSetting -Entity $vm -Name 'sched.scsi0:2.bandwidthCap' -Value '6400KBps'" in f.remediation
    assert "Set-VMResourceConfiguration -Disk $disk -DiskLimitIOPerSecond -1" in f.remediation


def test_per_disk_scheduler_never_raises_not_enforced():
    # The same partial caps on an mClock host: no IOCAP-001 (that would be a false alarm), but 32 KB units.
    hosts = [host("host-1", "6.5.0", {"Disk.SchedulerWithReservation": 1, "VMkernel.Boot.isPerFileSchedModelActive": True})]
    v = vm("vm-1", [disk(0, limit=300), disk(1)], name="partial")
    snap = snapshot(vcenter(hosts, [v], [datastore("ds-1", vms=["vm-1"])]))
    assert [f.check_id for f in run(snap).findings] == ["IOCAP-002"]


def test_thresholds_change_findings():
    snap = sioc_fixture.build()
    ids = [f.check_id + ":" + f.object_name for f in run(snap, busy_vm_count=5, starvation_min_iops=10,
                                                        ssd_threshold_range_ms=(10, 30), include_templates=True).findings]
    assert "SIOC-001:shared-off" not in ids  # 4 running VMs < 5
    assert "SIOC-004:vsanDatastore" in ids  # 5 running VMs
    assert "IOCAP-004:starved" not in ids  # 16 IOPS >= 10
    assert "SIOC-002:flash-01" not in ids
    assert "IOCAP-001:tpl" in ids  # template evaluated when asked


def test_lone_vm_with_enforced_cap_is_fine():
    hosts = [host("host-1", "5.5.0", {"Disk.SchedulerWithReservation": 0})]
    v = vm("vm-1", [disk(0, limit=5000), disk(1, limit=5000)], name="sql")
    snap = snapshot(vcenter(hosts, [v], [datastore("ds-1", vms=["vm-1"], ssd=True, io=iorm(ms=10))]))
    assert [f.check_id for f in run(snap).findings] == []


def test_unknown_media_uses_union_range():
    ds = [datastore("ds-1", "nfs", type_="NFS", ssd=None, io=iorm(ms=60)),
          datastore("ds-2", "nfs2", type_="NFS", ssd=None, io=iorm(ms=12))]
    findings = run(snapshot(vcenter(datastores=ds))).findings
    assert [(f.check_id, f.message) for f in findings] == [(
        "SIOC-002", "Congestion threshold 60 ms on 'nfs' (unknown media) is above the 10-50 ms range for this media: "
        "SIOC starts to act only after latency has long been too high for this media.")]


def test_settings_validation():
    assert validate_thresholds({"sioc": {"busy_vm_count": 3}}, "x.toml")["sioc"] == SiocSettings(busy_vm_count=3)
    with pytest.raises(ConfigError, match=r"x.toml: thresholds.sioc.busy_vm_cont: unknown key"):
        validate_thresholds({"sioc": {"busy_vm_cont": 3}}, "x.toml")
    with pytest.raises(ConfigError, match=r"x.toml: thresholds.sioc.ssd_threshold_range_ms: Value error, must be "
                                          r"\[low, high\] with 5 <= low <= high <= 100"):
        validate_thresholds({"sioc": {"ssd_threshold_range_ms": [20, 10]}}, "x.toml")
    with pytest.raises(ConfigError, match=r"thresholds.sioc.iops_unit_base"):
        validate_thresholds({"sioc": {"iops_unit_base": 1500}}, "x.toml")


def test_tables(results):
    tables = {t.id: t for t in build_tables(CheckContext(sioc_fixture.build())) if t.family == "sioc"}
    assert sorted(tables) == ["sioc_datastores", "sioc_disk_caps", "sioc_host_schedulers"]
    ds = tables["sioc_datastores"]
    assert ds.rows[0] == ["vc1", "auto-01", "VMFS", "no", "yes", "yes", "yes", "automatic", None, 90, "yes", 2, 0, 0]
    assert ds.rows[-1] == ["vc1", "vsanDatastore", "vsan", "yes", "yes", "no", None, None, None, None, None, 2, 5, 5]
    caps = tables["sioc_disk_caps"]
    assert caps.note.endswith("7 VM x datastore pairs without any cap are not listed.")
    assert caps.rows == [
        ["vc1", "conflict", "esx-new", "per-file", "vsanDatastore", "scsi0:0, scsi0:1",
         "scsi0:0: limit 1000 IOPS, throughputCap='2KIOps'; scsi0:1: throughputCap='10MBps' (invalid)",
         "scsi0:0 \u2264 1000 IOPS", "yes", None],
        ["vc1", "lost", "esx-lost", "unknown", "vsanDatastore", "scsi0:0, scsi0:1",
         "scsi0:0: limit 100 IOPS; scsi0:1: none", "legacy: nothing enforced | per-disk: scsi0:0 \u2264 100 IOPS",
         "unknown", "scheduler unknown: VMkernel.Boot.isPerFileSchedModelActive could not be read on this host (host is "
         "not responding: option not readable)"],
        ["vc1", "mixed", "esx-mclock", "mclock", "shared-off", "scsi0:0, scsi0:1",
         "scsi0:0: limit 500 IOPS; scsi0:1: bandwidthCap='20MBps'", "scsi0:0 \u2264 500 IOPS; scsi0:1 \u2264 20 MB/s",
         "yes", None],
        ["vc1", "partial", "esx-legacy", "legacy", "shared-off", "scsi0:0, scsi0:1", "scsi0:0: limit 300 IOPS; scsi0:1: none",
         "nothing enforced", "no",
         "legacy scheduler needs a cap of the same type on every disk of the VM on this datastore: IOPS cap on scsi0:0 "
         "but not on scsi0:1"],
        ["vc1", "rdm-vm", "esx-legacy", "legacy", "sata-01 (RDM scsi0:1)", "scsi0:1", "scsi0:1: limit 200 IOPS",
         "200 IOPS shared by scsi0:1", "yes", None],
        ["vc1", "starved", "esx-new", "per-file", "vsanDatastore", "scsi0:0", "scsi0:0: limit 16 IOPS",
         "scsi0:0 \u2264 16 IOPS", "yes", None],
    ]
    sched = tables["sioc_host_schedulers"]
    assert sched.rows == [
        ["vc1", "esx-legacy", "5.5.0", "Connected", "0", "not collected", "legacy",
         "ESXi 5.5.0 with Disk.SchedulerWithReservation = 0"],
        ["vc1", "esx-lost", "7.0.3", "Not responding", "unknown (host is not responding: option not readable)",
         "unknown (host is not responding: option not readable)", "unknown",
         "VMkernel.Boot.isPerFileSchedModelActive could not be read on this host (host is not responding: option not "
         "readable)"],
        ["vc1", "esx-mclock", "5.5.0", "Connected", "1", "not collected", "mclock",
         "ESXi 5.5.0 with Disk.SchedulerWithReservation = 1"],
        ["vc1", "esx-new", "8.0.2", "Connected", "1", "yes", "per-file",
         "ESXi 8.0.2 with VMkernel.Boot.isPerFileSchedModelActive = true"],
    ]


def test_sioc003_one_running_vm_among_powered_off_ones_is_alone():
    # SIOC divides a datastore among the VMs that issue I/O on it; powered-off VMs issue none. A datastore
    # with one running VM and two powered-off ones was skipped because it "holds 3 VMs".
    h = host("host-1", version="7.0.3", options={"VMkernel.Boot.isPerFileSchedModelActive": True})
    vms = [vm("vm-1", [disk(0, "ds-1")], name="db", power="poweredOn"),
           vm("vm-2", [disk(0, "ds-1")], name="old-1", power="poweredOff"),
           vm("vm-3", [disk(0, "ds-1")], name="old-2", power="suspended"),
           vm("vm-4", [disk(0, "ds-2")], name="a", power="poweredOn"),
           vm("vm-5", [disk(0, "ds-2")], name="b", power="poweredOn"),
           vm("vm-6", [disk(0, "ds-3")], name="c", power="poweredOn"),
           vm("vm-7", [disk(0, "ds-3")], name="unknown-power").model_copy(update={"power_state": None})]
    dss = [datastore("ds-1", "lone-running", vms=["vm-1", "vm-2", "vm-3"], io=iorm()),
           datastore("ds-2", "two-running", vms=["vm-4", "vm-5"], io=iorm()),
           datastore("ds-3", "power-unknown", vms=["vm-6", "vm-7"], io=iorm())]
    res = run_checks(CheckContext(snapshot(vcenter([h], vms, dss)), settings=Settings()), only=["sioc"])
    got = [(f.object_id.split("/", 1)[1], f.message, f.evidence["other_vms_powered_off"])
           for f in res.findings if f.check_id == "SIOC-003"]
    assert got == [(
        "ds-1",
        "SIOC is on for 'lone-running', but 'db' is its only running VM (the other 2 VMs on it are powered off) "
        "and has no enforced I/O cap there: SIOC cannot limit a VM that competes with nobody on its datastore.",
        2,
    )]
