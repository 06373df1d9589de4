"""The enforcement rule per VM x datastore under each scheduler (KB1038241; docs/methodology.md (section 6 topics))."""

from __future__ import annotations

import pytest
from sioc_builders import LEGACY_55, MCLOCK_55, PER_FILE_80, disk, host, vcenter, vm

from reporter.domain.iocaps import Cap, CapKind, Enforced, Unlimited, disk_caps, evaluate_vm, orphan_cap_keys

MB = 1024 * 1024
UNKNOWN = "unknown-opts"


def evaluate(options, disks, extra=None, version="5.5.0"):
    errors = {}
    if options == UNKNOWN:
        options, errors = {}, {"Disk.SchedulerWithReservation": "NoPermission"}
    v = vm("vm-1", disks, extra=extra)
    vc = vcenter(hosts=[host("host-1", version, options, errors)], vms=[v])
    return [(g.group_id, g.enforced.value, g.effective(), g.why_not()) for g in evaluate_vm(v, vc)]


NEED = "legacy scheduler needs a cap of the same type on every disk of the VM on this datastore: "

CASES = {
    # --- one datastore ---------------------------------------------------------------------
    "legacy, single capped disk": (
        LEGACY_55, [disk(0, limit=500)], None,
        [("ds-1", "yes", "500 IOPS shared by scsi0:0", "")]),
    "legacy, all disks IOPS: sum": (
        LEGACY_55, [disk(0, limit=100), disk(1, limit=50)], None,
        [("ds-1", "yes", "150 IOPS shared by scsi0:0, scsi0:1", "")]),
    "legacy, one disk unlimited: nothing": (
        LEGACY_55, [disk(0, limit=100), disk(1)], None,
        [("ds-1", "no", "nothing enforced", NEED + "IOPS cap on scsi0:0 but not on scsi0:1")]),
    "legacy, storageIOAllocation absent counts as unlimited": (
        LEGACY_55, [disk(0, limit=100), disk(1, io=False)], None,
        [("ds-1", "no", "nothing enforced", NEED + "IOPS cap on scsi0:0 but not on scsi0:1")]),
    "legacy, mixed types: nothing": (
        LEGACY_55, [disk(0, limit=500), disk(1)], {"sched.scsi0:1.bandwidthCap": "20MBps"},
        [("ds-1", "no", "nothing enforced",
          NEED + "IOPS cap on scsi0:0 but not on scsi0:1; bandwidth cap on scsi0:1 but not on scsi0:0")]),
    "legacy, all bandwidth: sum": (
        LEGACY_55, [disk(0), disk(1)], {"sched.scsi0:0.bandwidthCap": "10MBps", "sched.scsi0:1.bandwidthCap": "5MBps"},
        [("ds-1", "yes", "15 MB/s shared by scsi0:0, scsi0:1", "")]),
    "legacy, IOPS everywhere plus one bandwidth: IOPS holds, bandwidth not": (
        LEGACY_55, [disk(0, limit=100), disk(1, limit=200)], {"sched.scsi0:1.bandwidthCap": "5MBps"},
        [("ds-1", "partly", "300 IOPS shared by scsi0:0, scsi0:1", NEED + "bandwidth cap on scsi0:1 but not on scsi0:0")]),
    "legacy, extraConfig throughputCap counts like the API limit": (
        LEGACY_55, [disk(0, limit=100), disk(1)], {"sched.scsi0:1.throughputCap": "2KIOps"},
        [("ds-1", "yes", "2100 IOPS shared by scsi0:0, scsi0:1", "")]),
    "legacy, invalid value = no cap on that disk": (
        LEGACY_55, [disk(0, limit=100), disk(1)], {"sched.scsi0:1.throughputCap": "lots"},
        [("ds-1", "no", "nothing enforced",
          NEED + "IOPS cap on scsi0:0 but not on scsi0:1 (its value 'lots' is invalid)")]),
    "legacy, 'off' = unlimited": (
        LEGACY_55, [disk(0, limit=100), disk(1)], {"sched.scsi0:1.throughputCap": "off"},
        [("ds-1", "no", "nothing enforced", NEED + "IOPS cap on scsi0:0 but not on scsi0:1")]),
    "no caps at all": (
        LEGACY_55, [disk(0), disk(1)], None, [("ds-1", "n/a", "no cap", "")]),
    # --- two datastores: each VM x datastore on its own ---------------------------------------
    "legacy, two datastores: the lone disk's cap holds": (
        LEGACY_55, [disk(0, "ds-1", limit=100), disk(1, "ds-1"), disk(2, "ds-2", limit=300)], None,
        [("ds-1", "no", "nothing enforced", NEED + "IOPS cap on scsi0:0 but not on scsi0:1"),
         ("ds-2", "yes", "300 IOPS shared by scsi0:2", "")]),
    # --- RDMs are devices of their own -----------------------------------------------------
    "legacy, RDM does not join the mapping datastore's group": (
        LEGACY_55, [disk(0, limit=100), disk(1, rdm="physicalMode")], None,
        [("ds-1", "yes", "100 IOPS shared by scsi0:0", ""), ("rdm:scsi0:1", "n/a", "no cap", "")]),
    "legacy, capped RDM alone": (
        LEGACY_55, [disk(0), disk(1, limit=400, rdm="virtualMode")], None,
        [("ds-1", "n/a", "no cap", ""), ("rdm:scsi0:1", "yes", "400 IOPS shared by scsi0:1", "")]),
    # --- per-disk schedulers ---------------------------------------------------------------
    "mClock, one disk unlimited: the other still capped": (
        MCLOCK_55, [disk(0, limit=100), disk(1)], None,
        [("ds-1", "yes", "scsi0:0 \u2264 100 IOPS", "")]),
    "per-file, mixed types: each on its disk": (
        PER_FILE_80, [disk(0, limit=500), disk(1)], {"sched.scsi0:1.bandwidthCap": "20MBps"},
        [("ds-1", "yes", "scsi0:0 \u2264 500 IOPS; scsi0:1 \u2264 20 MB/s", "")]),
    "per-file, both types on one disk": (
        PER_FILE_80, [disk(0, limit=500)], {"sched.scsi0:0.bandwidthCap": "1GBps"},
        [("ds-1", "yes", "scsi0:0 \u2264 500 IOPS + 1 GB/s", "")]),
    # --- unknown scheduler: answer only where both schedulers agree ------------------------
    "unknown, single capped disk: same under both": (
        UNKNOWN, [disk(0, limit=100)], None, [("ds-1", "yes", "100 IOPS shared by scsi0:0", "")]),
    "unknown, partial caps: depends": (
        UNKNOWN, [disk(0, limit=100), disk(1)], None,
        [("ds-1", "unknown", "legacy: nothing enforced | per-disk: scsi0:0 \u2264 100 IOPS",
          "scheduler unknown: Disk.SchedulerWithReservation could not be read on this host (NoPermission)")]),
    "unknown, two capped disks: sum vs each": (
        UNKNOWN, [disk(0, limit=100), disk(1, limit=200)], None,
        [("ds-1", "unknown",
          "legacy: 300 IOPS shared by scsi0:0, scsi0:1 | per-disk: scsi0:0 \u2264 100 IOPS; scsi0:1 \u2264 200 IOPS",
          "scheduler unknown: Disk.SchedulerWithReservation could not be read on this host (NoPermission)")]),
}


@pytest.mark.parametrize("name", list(CASES))
def test_enforcement_table(name):
    options, disks, extra, expected = CASES[name]
    assert evaluate(options, disks, extra) == expected


def test_sata_and_nvme_slots_are_matched():
    disks = [disk(0, limit=100, controller="sata"), disk(0, controller="nvme", bus=1)]
    extra = {"sched.nvme1:0.throughputCap": "100"}
    assert evaluate(LEGACY_55, disks, extra) == [("ds-1", "yes", "200 IOPS shared by sata0:0, nvme1:0", "")]


def test_api_value_wins_over_a_differing_throughput_cap():
    d = disk(1, limit=1000)
    v = vm("vm-1", [d], extra={"sched.scsi0:1.throughputCap": "2KIOps"})
    caps = disk_caps(v, d)
    assert (caps.iops, caps.iops_source, caps.conflict) == (1000, "api", True)
    assert caps.throughput == Cap(CapKind.iops, 2000, "2KIOps", 2, "KIOps", True)
    assert caps.configured() == "limit 1000 IOPS, throughputCap='2KIOps'"


def test_same_value_in_both_places_is_no_conflict():
    d = disk(1, limit=500)
    caps = disk_caps(vm("vm-1", [d], extra={"sched.scsi0:1.throughputCap": "500"}), d)
    assert (caps.iops, caps.conflict) == (500, False)


def test_api_limit_with_off_in_extra_config_is_a_conflict():
    d = disk(0, limit=300)
    caps = disk_caps(vm("vm-1", [d], extra={"sched.scsi0:0.throughputCap": "off"}), d)
    assert caps.throughput == Unlimited(CapKind.iops, "off")
    assert (caps.iops, caps.conflict) == (300, True)


def test_bandwidth_comes_only_from_extra_config():
    d = disk(0)
    caps = disk_caps(vm("vm-1", [d], extra={"sched.scsi0:0.bandwidthCap": "20MBps"}), d)
    assert (caps.iops, caps.bandwidth_bps, caps.effective()) == (None, 20 * MB, "20 MB/s")


def test_key_case_is_ignored():
    d = disk(0)
    caps = disk_caps(vm("vm-1", [d], extra={"SCHED.SCSI0:0.THROUGHPUTCAP": "700iops"}), d)
    assert (caps.iops, caps.iops_source, caps.throughput_key) == (700, "extraConfig", "SCHED.SCSI0:0.THROUGHPUTCAP")


def test_orphan_keys_for_removed_disks():
    v = vm("vm-1", [disk(0)], extra={"sched.scsi0:3.throughputCap": "100", "sched.scsi0:0.bandwidthCap": "1MBps"})
    assert orphan_cap_keys(v) == ["sched.scsi0:3.throughputCap"]


def test_vm_without_host_is_unknown_scheduler():
    v = vm("vm-1", [disk(0, limit=100), disk(1)], host_=None)
    (g,) = evaluate_vm(v, vcenter(vms=[v]))
    assert g.enforced is Enforced.unknown
    assert g.scheduler.reason == "the VM's host is not in the collected inventory"
