"""Which disk scheduler a host runs, from its version and advanced options (docs/methodology.md (section 6 topics))."""

from __future__ import annotations

import pytest
from sioc_builders import host

from reporter.domain.iocaps import Scheduler, determine_scheduler, parse_version

SWR = "Disk.SchedulerWithReservation"
PF = "VMkernel.Boot.isPerFileSchedModelActive"


@pytest.mark.parametrize(("version", "options", "errors", "kind", "reason"), [
    # Before 5.5 there is only the legacy scheduler, whatever the options say.
    ("4.1.0", {}, {}, Scheduler.legacy, "ESXi 4.1.0 predates the mClock scheduler (ESXi 5.5)"),
    ("5.0.0", {SWR: None}, {}, Scheduler.legacy, "ESXi 5.0.0 predates the mClock scheduler (ESXi 5.5)"),
    ("5.1.0", {}, {SWR: "HostNotConnected"}, Scheduler.legacy, "ESXi 5.1.0 predates the mClock scheduler (ESXi 5.5)"),
    # 5.5: Disk.SchedulerWithReservation decides; not set = default 1 = mClock.
    ("5.5.0", {SWR: 1}, {}, Scheduler.mclock, "ESXi 5.5.0 with Disk.SchedulerWithReservation = 1"),
    ("5.5.0", {SWR: 0}, {}, Scheduler.legacy, "ESXi 5.5.0 with Disk.SchedulerWithReservation = 0"),
    ("5.5.0", {SWR: "0"}, {}, Scheduler.legacy, "ESXi 5.5.0 with Disk.SchedulerWithReservation = 0"),
    ("5.5.0", {SWR: None}, {}, Scheduler.mclock, "ESXi 5.5.0 with Disk.SchedulerWithReservation not set (default 1)"),
    ("5.5.0", {}, {SWR: "NoPermission: needs Host.Config.AdvancedConfig"}, Scheduler.unknown,
     "Disk.SchedulerWithReservation could not be read on this host (NoPermission: needs Host.Config.AdvancedConfig)"),
    ("5.5.0", {}, {}, Scheduler.unknown, "Disk.SchedulerWithReservation was not collected from this host"),
    ("5.5.0", {SWR: "maybe"}, {}, Scheduler.unknown, "Disk.SchedulerWithReservation has an unrecognised value 'maybe'"),
    # 6.x: also per-file scheduling off -> legacy (vSphere 6.0 U1+ storage guide).
    ("6.5.0", {SWR: 1, PF: True}, {}, Scheduler.mclock, "ESXi 6.5.0 with Disk.SchedulerWithReservation = 1"),
    ("6.7.0", {SWR: 1, PF: False}, {}, Scheduler.legacy, "ESXi 6.7.0 with VMkernel.Boot.isPerFileSchedModelActive = false"),
    ("6.0.0", {SWR: None, PF: None}, {}, Scheduler.mclock,
     "ESXi 6.0.0 with Disk.SchedulerWithReservation not set (default 1)"),
    ("6.5.0", {SWR: 0, PF: True}, {}, Scheduler.legacy, "ESXi 6.5.0 with Disk.SchedulerWithReservation = 0"),
    ("6.5.0", {SWR: 1}, {PF: "timeout"}, Scheduler.unknown,
     "VMkernel.Boot.isPerFileSchedModelActive could not be read on this host (timeout)"),
    # 7.0+: VMkernel.Boot.isPerFileSchedModelActive decides (default true).
    ("7.0.3", {SWR: 1, PF: True}, {}, Scheduler.per_file, "ESXi 7.0.3 with VMkernel.Boot.isPerFileSchedModelActive = true"),
    ("8.0.2", {PF: "false"}, {}, Scheduler.legacy, "ESXi 8.0.2 with VMkernel.Boot.isPerFileSchedModelActive = false"),
    ("8.0.2", {PF: None}, {}, Scheduler.per_file,
     "ESXi 8.0.2 with VMkernel.Boot.isPerFileSchedModelActive not set (default true)"),
    ("7.0.0", {SWR: 0, PF: True}, {}, Scheduler.per_file, "ESXi 7.0.0 with VMkernel.Boot.isPerFileSchedModelActive = true"),
    ("7.0.3", {SWR: 1}, {PF: "host is notResponding: option not readable"}, Scheduler.unknown,
     "VMkernel.Boot.isPerFileSchedModelActive could not be read on this host (host is notResponding: option not readable)"),
    ("7.0.3", {SWR: 1}, {}, Scheduler.unknown, "VMkernel.Boot.isPerFileSchedModelActive was not collected from this host"),
    # Version unknown.
    (None, {SWR: 1}, {}, Scheduler.unknown, "host version None is unknown"),
    ("e.x.p", {SWR: 1}, {}, Scheduler.unknown, "host version 'e.x.p' is unknown"),
])
def test_scheduler_by_version_and_options(version, options, errors, kind, reason):
    info = determine_scheduler(host("h", version, options, errors))
    assert (info.kind, info.reason) == (kind, reason)


def test_evidence_names_the_values_used():
    info = determine_scheduler(host("h", "6.7.0", {SWR: 1}, {PF: "NoPermission"}))
    assert info.evidence() == {
        "scheduler": "unknown",
        "scheduler_reason": "VMkernel.Boot.isPerFileSchedModelActive could not be read on this host (NoPermission)",
        "scheduler_options": {SWR: 1, PF: "unknown: NoPermission"},
    }


def test_no_host_is_unknown():
    assert determine_scheduler(None).kind is Scheduler.unknown


@pytest.mark.parametrize(("text", "parsed"), [
    ("5.5.0", (5, 5)), ("7.0.3", (7, 0)), ("8.0", (8, 0)), ("10.1.2", (10, 1)), ("", None), (None, None), ("x", None),
])
def test_parse_version(text, parsed):
    assert parse_version(text) == parsed


def test_per_disk_flag():
    assert [s.per_disk for s in Scheduler] == [False, True, True, False]
