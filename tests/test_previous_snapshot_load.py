"""`vcreport run` reads the previous run's snapshot with only its VMs that had VM snapshots
(``snapshot_io.load(only_vms_with_snapshots=True)``): every finding and table is the same as
with the whole file, growth included."""

from __future__ import annotations

from pathlib import Path

import pytest
from snapshots_fixtures import GB
from test_snapshots_checks import fleet, vm

from reporter.core import snapshot_io
from reporter.core.model import Snapshot
from reporter.errors import SnapshotFormatError
from reporter.pipeline.report import check

SAMPLE = Path(__file__).resolve().parent.parent / "samples" / "sample-snapshot.json.gz"


def previous_week() -> Snapshot:
    """Last week's snapshot of ``fleet()``: big01's snapshot was 20 GB smaller, pct01 had none yet
    (its snapshot is new), old01 did not exist, the rest as now."""
    now = fleet()
    vc = next(iter(now.vcenters.values()))
    vms = dict(vc.vms)
    vms["vm-5"] = vm("vm-5", "big01", "big", [("pre-upgrade", 0, 100 * GB)], disk_gb=200)
    vms["vm-6"] = vm("vm-6", "pct01", "ds1", [])
    del vms["vm-1"]
    return now.model_copy(update={"vcenters": {vc.instance_uuid: vc.model_copy(update={"vms": vms})}})


def comparable(snap: Snapshot, previous: Snapshot) -> tuple[list[dict[str, object]], list[tuple[object, ...]]]:
    results, tables = check(snap, previous=previous)
    return ([f.model_dump(mode="json") for f in results.findings],
            [(t.id, t.note, t.columns, [list(r) for r in t.rows]) for t in tables])


def test_only_the_vms_with_snapshots_are_kept(tmp_path: Path) -> None:
    prev = previous_week()
    path = snapshot_io.save(prev, tmp_path / "prev.json.gz")
    pruned = snapshot_io.load(path, only_vms_with_snapshots=True)
    [vc_full], [vc_pruned] = prev.vcenters.values(), pruned.vcenters.values()
    assert {m for m, v in vc_full.vms.items() if v.snapshots} == set(vc_pruned.vms) != set(vc_full.vms)
    assert "vm-13" not in vc_pruned.vms and "vm-6" not in vc_pruned.vms  # plain01, pct01: no snapshots then
    assert vc_pruned.vms["vm-5"] == vc_full.vms["vm-5"]
    assert vc_pruned.datastores == vc_full.datastores and vc_pruned.hosts == vc_full.hosts


def test_growth_and_every_finding_are_the_same_as_with_the_whole_file(tmp_path: Path) -> None:
    path = snapshot_io.save(previous_week(), tmp_path / "prev.json.gz")
    full, pruned = snapshot_io.load(path), snapshot_io.load(path, only_vms_with_snapshots=True)
    findings, tables = comparable(fleet(), pruned)
    assert (findings, tables) == comparable(fleet(), full)
    big = next(f for f in findings if f["object_name"] == "big01" and f["check_id"] == "SNAP-003")
    assert big["evidence"]["growth_since_last_run_gb"] == 20.0  # the comparison really happened
    pct = next(f for f in findings if f["object_name"] == "pct01" and f["check_id"] == "SNAP-003")
    assert pct["evidence"]["snapshots"][0]["new_since_last_run"] is True


def test_the_sample_against_itself(tmp_path: Path) -> None:
    snap = snapshot_io.load(SAMPLE)
    pruned = snapshot_io.load(SAMPLE, only_vms_with_snapshots=True)
    assert 0 < pruned.vm_count() < snap.vm_count()
    assert comparable(snap, pruned) == comparable(snap, snap)


def test_a_malformed_file_is_still_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema_version": 1, "collected_at": "2026-11-23T06:00:00Z", "tool_version": "x", '
                   '"vcenters": {"u": {"name": "vc", "vms": ["not", "a", "map"]}}}')
    with pytest.raises(SnapshotFormatError, match="invalid snapshot at vcenters"):
        snapshot_io.load(bad, only_vms_with_snapshots=True)
