"""Snapshot model: round trip, atomic save, malformed and newer-version input."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reporter.core import snapshot_io
from reporter.core.model import SCHEMA_VERSION, VM, Disk, Snapshot, SnapshotNode, VCenter
from reporter.errors import SnapshotFormatError

SAMPLE = Path(__file__).resolve().parent.parent / "samples" / "sample-snapshot.json.gz"


def _tiny() -> Snapshot:
    vm = VM(moid="vm-1", name="<script>alert(1)</script> Ünïcødé-VM-日本", power_state="poweredOn", memory_mb=4096,
            disks=[Disk(key=2000, controller="scsi", bus_number=0, unit_number=1, capacity_bytes=10)],
            snapshots=[SnapshotNode(moid="s-1", name="a", children=[SnapshotNode(moid="s-2", name="b")])])
    vc = VCenter(name="vc", host="vc.example", instance_uuid="u-1", vms={"vm-1": vm})
    return Snapshot(vcenters={"u-1": vc})


@pytest.mark.parametrize("suffix", [".json", ".json.gz"])
def test_round_trip(tmp_path: Path, suffix: str) -> None:
    snap = _tiny()
    path = snapshot_io.save(snap, tmp_path / f"s{suffix}")
    loaded = snapshot_io.load(path)
    assert loaded == snap
    vm = loaded.vcenters["u-1"].vms["vm-1"]
    assert vm.name == "<script>alert(1)</script> Ünïcødé-VM-日本"
    assert vm.disks[0].device_node == "scsi0:1"
    assert [n.name for n in vm.iter_snapshots()] == ["a", "b"]
    assert not list(tmp_path.glob(".*tmp")), "no temp file left behind"


def test_sample_loads_and_round_trips(tmp_path: Path) -> None:
    snap = snapshot_io.load(SAMPLE)
    assert len(snap.vcenters) == 2
    assert snap.vm_count() > 300
    again = snapshot_io.load(snapshot_io.save(snap, tmp_path / "again.json"))
    assert again == snap


def test_newer_schema_is_refused_clearly(tmp_path: Path) -> None:
    p = tmp_path / "new.json"
    p.write_text(json.dumps({"schema_version": SCHEMA_VERSION + 1, "collected_at": "2026-01-01T00:00:00Z"}))
    with pytest.raises(SnapshotFormatError, match=r"newer than this tool supports"):
        snapshot_io.load(p)


@pytest.mark.parametrize("content,msg", [
    (b"", "invalid JSON"),
    (b"{not json", "invalid JSON"),
    (b"[1,2]", "no schema_version"),
    (b'{"schema_version": "1"}', "must be an integer"),
    (b'{"schema_version": 1, "collected_at": "yesterday"}', "collected_at"),
    (b'{"schema_version": 1, "collected_at": "2026-01-01T00:00:00"}', "collected_at"),  # naive time refused
    (b'{"schema_version": 1, "vcenters": {"u": {"name": "x"}}}', "vcenters.u"),
    (gzip.compress(b"{", mtime=0)[:-4], "corrupt gzip"),  # mtime=0: the same test id in every xdist worker
])
def test_malformed_input(tmp_path: Path, content: bytes, msg: str) -> None:
    p = tmp_path / "bad.json"
    p.write_bytes(content)
    with pytest.raises(SnapshotFormatError, match=msg):
        snapshot_io.load(p)


def test_missing_file() -> None:
    with pytest.raises(SnapshotFormatError, match="no such snapshot file"):
        snapshot_io.load("/nonexistent/snap.json")


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300) | st.text(max_size=200).map(str.encode))
def test_loader_never_crashes_on_garbage(data: bytes) -> None:
    try:
        snapshot_io.loads(data)
    except SnapshotFormatError:
        pass


@settings(max_examples=100, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=5),
                    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=5), c, max_size=3), max_leaves=10))
def test_loader_never_crashes_on_json_shapes(value: object) -> None:
    doc = {"schema_version": 1, "collected_at": "2026-01-01T00:00:00Z", "vcenters": value}
    try:
        snapshot_io.loads(json.dumps(doc).encode())
    except SnapshotFormatError:
        pass


def test_failed_save_keeps_previous_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "snap.json"
    snapshot_io.save(_tiny(), target)
    before = target.read_bytes()

    def boom(*a: object, **k: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("reporter.core.fsutil.os.fsync", boom)
    with pytest.raises(OSError):
        snapshot_io.save(Snapshot(), target)
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["snap.json"]
