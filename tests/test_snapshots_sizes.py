"""Snapshot tree, chain depth, age and size on disk from layoutEx (docs/methodology.md (section 4 topics)),
against fixtures with known byte counts."""

from __future__ import annotations

from snapshots_fixtures import GB, MB, NOW, VmBuilder, datastore, snapshot_of

from reporter.core.model import VM, LayoutEx, LayoutFile, LayoutSnapshot, SnapshotNode
from reporter.domain.vm_snapshots import (
    SIZE_UNKNOWN_FILE,
    SIZE_UNKNOWN_NO_LAYOUT,
    SIZE_UNKNOWN_NOT_IN_LAYOUT,
    current_chain_depth,
    datastore_of_path,
    datastore_totals,
    flatten_tree,
    leftover_delta_bytes,
    object_store_caveat,
    oldest_snapshot,
    previous_sizes,
    snapshot_infos,
    snapshot_spaces,
    total_size,
)


def linear_two_disks() -> VmBuilder:
    """Two disks on two datastores; S1 (no memory) then S2 (memory), running on S2."""
    b = VmBuilder("vm-1", "app01", memory_mb=4096)
    d0 = b.disk(40, datastore="ds1")
    d1 = b.disk(80, datastore="ds2")
    b.snapshot("snap-1", "S1", age_days=5, deltas={d0: 3 * GB, d1: 1 * GB}, vmsn=1 * MB)
    b.snapshot("snap-2", "S2", age_days=2, deltas={d0: 2 * GB, d1: 512 * MB}, memory=True, vmsn=2 * MB)
    return b


def test_linear_chain_multi_disk_with_memory() -> None:
    vm = linear_two_disks().build()
    spaces = snapshot_spaces(vm)
    # S1 is the root: its chains hold only the base disks, which are never snapshot space.
    assert spaces["snap-1"].size_bytes == 1 * MB
    assert spaces["snap-1"].disk_bytes == 0
    # S2: the deltas frozen when it was taken (written after S1) + the running deltas
    # (it is current) + its .vmsn and .vmem.
    deltas_s2 = (300 + 3 * GB) + (300 + 1 * GB)
    running = (300 + 2 * GB) + (300 + 512 * MB)
    assert spaces["snap-2"].disk_bytes == deltas_s2 + running
    assert spaces["snap-2"].memory_bytes == 4096 * MB
    assert spaces["snap-2"].size_bytes == deltas_s2 + running + 2 * MB + 4096 * MB
    assert spaces["snap-2"].by_datastore == {
        "ds1": (300 + 3 * GB) + (300 + 2 * GB) + 2 * MB + 4096 * MB,
        "ds2": (300 + 1 * GB) + (300 + 512 * MB),
    }
    assert spaces["snap-2"].delta_by_datastore == {"ds1": 600 + 5 * GB, "ds2": 600 + 1536 * MB}
    infos = snapshot_infos(vm, NOW)
    assert [(i.name, i.depth, i.parent, i.is_current, i.memory, round(i.age_days or 0, 3)) for i in infos] == [
        ("S1", 1, None, False, False, 5.0), ("S2", 2, "snap-1", True, True, 2.0)]
    assert total_size(infos) == 1 * MB + spaces["snap-2"].size_bytes
    assert current_chain_depth(vm) == 2
    assert oldest_snapshot(vm).name == "S1"


def test_branches_after_revert() -> None:
    b = VmBuilder("vm-2", "branchy")
    d0 = b.disk(40)
    b.snapshot("s1", "S1", age_days=3, deltas=1 * GB)           # running d1 (S1 -> S2)
    b.snapshot("s2", "S2", age_days=2, deltas=5 * GB)           # running d2, discarded by the revert
    b.revert("s1", deltas=2 * GB)                                # new running d3 from S1
    b.snapshot("s3", "S3", age_days=1, deltas=7 * GB, parent="s1")  # running d4
    vm = b.build()
    spaces = snapshot_spaces(vm)
    assert spaces["s1"].size_bytes == 1 * MB
    assert spaces["s2"].size_bytes == (300 + 1 * GB) + 1 * MB  # its branch's delta only
    assert spaces["s3"].size_bytes == (300 + 2 * GB) + (300 + 7 * GB) + 1 * MB  # frozen + running
    assert [(f.node.name, f.depth, f.parent) for f in flatten_tree(vm)] == [
        ("S1", 1, None), ("S2", 2, "s1"), ("S3", 2, "s1")]
    assert current_chain_depth(vm) == 2
    assert d0 == 2000


def test_running_delta_goes_to_current_not_newest() -> None:
    """Reverted to S2 after S3 was taken: the running delta hangs off S2."""
    b = VmBuilder("vm-3", "reverted")
    b.disk(40)
    b.snapshot("s1", "S1", age_days=3, deltas=1 * GB)
    b.snapshot("s2", "S2", age_days=2, deltas=2 * GB)
    b.snapshot("s3", "S3", age_days=1, deltas=4 * GB)
    b.revert("s2", deltas=3 * GB)
    vm = b.build()
    spaces = snapshot_spaces(vm)
    assert vm.current_snapshot == "s2"
    assert spaces["s2"].disk_bytes == (300 + 1 * GB) + (300 + 3 * GB)
    assert spaces["s3"].disk_bytes == 300 + 2 * GB
    assert current_chain_depth(vm) == 2


def test_disk_added_after_first_snapshot_is_not_snapshot_space() -> None:
    b = VmBuilder("vm-4", "grown")
    b.disk(40)
    b.snapshot("s1", "S1", age_days=2, deltas=1 * GB)
    new = b.disk(500, used=300 * GB)  # added while S1 exists: base only
    b.snapshot("s2", "S2", age_days=1, deltas={2000: 2 * GB, new: 4 * GB})
    vm = b.build()
    spaces = snapshot_spaces(vm)
    # S2's chains contain the new disk's base (300 GB), which S1's do not: still not snapshot space.
    assert spaces["s2"].disk_bytes == (300 + 1 * GB) + (300 + 2 * GB) + (300 + 4 * GB)
    assert spaces["s1"].disk_bytes == 0


def test_size_unknown_cases() -> None:
    vm = linear_two_disks().build(layout=False)
    assert {m: (s.size_bytes, s.reason) for m, s in snapshot_spaces(vm).items()} == {
        "snap-1": (None, SIZE_UNKNOWN_NO_LAYOUT), "snap-2": (None, SIZE_UNKNOWN_NO_LAYOUT)}
    assert total_size(snapshot_infos(vm, NOW)) is None

    b = VmBuilder("vm-5", "partial")
    b.disk(40)
    b.snapshot("s1", "S1", age_days=2, deltas=None)  # the running delta's size is not reported
    spaces = snapshot_spaces(b.build())
    assert (spaces["s1"].size_bytes, spaces["s1"].reason) == (None, SIZE_UNKNOWN_FILE)

    b = VmBuilder("vm-6", "missing")
    b.disk(40)
    b.snapshot("s1", "S1", age_days=2, deltas=1 * GB)
    b.snapshot("s2", "S2", age_days=1, deltas=1 * GB, in_layout=False)
    spaces = snapshot_spaces(b.build())
    assert (spaces["s2"].size_bytes, spaces["s2"].reason) == (None, SIZE_UNKNOWN_NOT_IN_LAYOUT)
    assert (spaces["s1"].size_bytes, spaces["s1"].reason) == (1 * MB, None)


def test_vcsim_style_layout_memory_key_minus_one() -> None:
    """vcsim: memoryKey -1, an empty .vmsn, no delta disks; the power state says poweredOn."""
    files = [LayoutFile(key=0, name="[LocalDS_0] vm/vm.vmdk", type="diskDescriptor", size=0),
             LayoutFile(key=5, name="[LocalDS_0] vm/vm-Snapshot1.vmsn", type="snapshotData", size=0)]
    disk = {"key": 204, "chain": [[0]]}
    vm = VM(moid="vm-9", name="vm", current_snapshot="snapshot-1",
            snapshots=[SnapshotNode(moid="snapshot-1", name="s", create_time=NOW, state="poweredOn")],
            layout_ex=LayoutEx(files=files, disks=[disk],
                               snapshots=[LayoutSnapshot(moid="snapshot-1", data_key=5, memory_key=-1, disks=[disk])]))
    [info] = snapshot_infos(vm, NOW)
    assert (info.space.size_bytes, info.space.disk_bytes, info.memory) == (0, 0, False)


def test_current_snapshot_missing_uses_newest_and_deepest() -> None:
    b = VmBuilder("vm-6", "nocurrent")
    b.disk(40)
    b.snapshot("s1", "S1", age_days=3, deltas=1 * GB)
    b.snapshot("s2", "S2", age_days=1, deltas=2 * GB)
    vm = b.build().model_copy(update={"current_snapshot": None})
    assert snapshot_spaces(vm)["s2"].disk_bytes == (300 + 1 * GB) + (300 + 2 * GB)
    assert current_chain_depth(vm) == 2


def test_leftover_deltas_without_snapshots() -> None:
    b = VmBuilder("vm-7", "leftover")
    d0 = b.disk(40, datastore="ds1")
    b.disk(40, datastore="ds2")
    b.delta(d0, 8 * GB)
    vm = b.build()
    assert leftover_delta_bytes(vm) == {"ds1": 300 + 8 * GB}
    assert leftover_delta_bytes(vm.model_copy(update={"layout_ex": None})) is None
    clean = VmBuilder("vm-8", "clean")
    clean.disk(40)
    assert leftover_delta_bytes(clean.build()) == {}


def test_datastore_path_and_object_store_caveat() -> None:
    assert datastore_of_path("[prod vmfs 01] a/b-000001.vmdk") == "prod vmfs 01"
    assert datastore_of_path("/vmfs/volumes/x/y.vmdk") is None
    b = VmBuilder("vm-1", "onvsan", datastore="vsanDatastore")
    b.disk(40)
    b.snapshot("s1", "S1", age_days=1, deltas=1 * GB)
    vm = b.build(layout=True).model_copy(update={"datastores": ["datastore-9"]})
    snap = snapshot_of([vm], [datastore("datastore-9", "vsanDatastore", free_gb=100, type_="vsan")])
    vc = next(iter(snap.vcenters.values()))
    assert (object_store_caveat(vm, vc) or "").startswith("On vSAN this size is not precise: a delta disk is an object")
    assert object_store_caveat(linear_two_disks().build(), vc) is None


def test_datastore_totals_and_growth() -> None:
    vm1 = linear_two_disks().build().model_copy(update={"datastores": ["datastore-1", "datastore-2"]})
    b = VmBuilder("vm-2", "other")
    b.disk(40)
    b.snapshot("x1", "X", age_days=1, deltas=1 * GB)
    vm2 = b.build().model_copy(update={"datastores": ["datastore-1"]})
    nolayout = linear_two_disks().build(layout=False).model_copy(
        update={"moid": "vm-3", "name": "blind", "datastores": ["datastore-1"]})
    snap = snapshot_of([vm1, vm2, nolayout], [datastore("datastore-1", "ds1", free_gb=100),
                                                datastore("datastore-2", "ds2", free_gb=50)])
    totals = {t.datastore: t for t in datastore_totals(snap)}
    s2 = snapshot_spaces(vm1)["snap-2"]
    ds1 = 1 * MB + s2.by_datastore["ds1"] + (300 + 1 * GB) + 1 * MB
    assert totals["ds1"].snapshot_bytes == ds1
    assert totals["ds1"].vms == {"app01", "other"}
    assert totals["ds1"].unknown_vms == {"blind"}
    assert totals["ds1"].pct_of_free == round(100 * ds1 / (100 * GB), 1)
    assert totals["ds2"].snapshot_bytes == s2.by_datastore["ds2"]

    # The previous run: S2 was 1 GB smaller (its running delta grew since).
    b_prev = VmBuilder("vm-1", "app01", memory_mb=4096)
    d0 = b_prev.disk(40, datastore="ds1")
    d1 = b_prev.disk(80, datastore="ds2")
    b_prev.snapshot("snap-1", "S1", age_days=4, deltas={d0: 3 * GB, d1: 1 * GB})
    b_prev.snapshot("snap-2", "S2", age_days=1, deltas={d0: 1 * GB, d1: 512 * MB}, memory=True, vmsn=2 * MB)
    prev = snapshot_of([b_prev.build()])
    before = previous_sizes(prev, "vc-uuid-1", "vm-1")
    assert before is not None
    assert s2.size_bytes - before["snap-2"] == 1 * GB  # type: ignore[operator]
    assert previous_sizes(prev, "vc-uuid-1", "vm-404") == {}  # a new VM: all its snapshots are new
    assert previous_sizes(prev, "other-vcenter", "vm-1") is None
    assert previous_sizes(None, "vc-uuid-1", "vm-1") is None
