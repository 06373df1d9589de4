"""Loading a snapshot straight from JSON (pydantic-core) gives what ``json.loads`` + validation
gave: the same models, the same shared fields-sets, and for every file the fast path cannot
take, the same result or the same one-line error as before."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import BaseModel

from reporter.core import snapshot_io
from reporter.core.model import Snapshot, share_fields_sets
from reporter.errors import SnapshotFormatError

VM = {"moid": "vm-1", "name": "db01", "power_state": "poweredOn", "memory_mb": 4096,
      "disks": [{"key": 2000, "controller": "scsi", "bus_number": 0, "unit_number": 0, "capacity_bytes": 1024}],
      "snapshots": [{"moid": "snap-1", "name": "a", "create_time": "2026-11-01T00:00:00Z",
                     "children": [{"moid": "snap-2", "name": "b"}]}],
      "extra_config": {"scsi0:0.ctkEnabled": "TRUE"}, "datastores": ["ds-1"]}
VC = {"name": "vc01", "host": "vc01.example.com", "instance_uuid": "u1", "vms": {"vm-1": VM},
      "licenses": [{"key": "AAAAA-BBBBB-CCCCC-DDDDD-EEEEE", "properties": {"ProductName": "ESX", "n": 1.5}}]}


def doc(**top: Any) -> dict[str, Any]:
    return {"schema_version": 1, "collected_at": "2026-11-23T06:00:00Z", "vcenters": {"u1": VC}, **top}


def slow_load(data: bytes) -> Snapshot:
    """What snapshot_io.loads did before the fast path."""
    snap = Snapshot.model_validate(json.loads(data))
    share_fields_sets(snap)
    return snap


def models(root: Any) -> list[BaseModel]:
    out: list[BaseModel] = []
    stack = [root]
    while stack:
        item = stack.pop()
        if isinstance(item, BaseModel):
            out.append(item)
            stack.extend(item.__dict__.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
    return out


def test_fast_path_gives_the_same_models_and_fields_sets() -> None:
    data = json.dumps(doc()).encode()
    fast, slow = snapshot_io.loads(data, "s.json"), slow_load(data)
    assert snapshot_io._validate_json(data) is not None  # the fast path was taken
    assert fast == slow
    assert snapshot_io.dumps(fast) == snapshot_io.dumps(slow)
    fast_models, slow_models = models(fast), models(slow)
    assert len(fast_models) == len(slow_models) == 7  # snapshot, vCenter, VM, disk, 2 snapshot nodes, license
    for a, b in zip(fast_models, slow_models, strict=True):
        assert type(a) is type(b) and a.model_fields_set == b.model_fields_set
    # every fields-set is the one shared set for its names (the memory share_fields_sets saves)
    disk = fast.vcenters["u1"].vms["vm-1"].disks[0]
    other = snapshot_io.loads(data, "s.json").vcenters["u1"].vms["vm-1"].disks[0]
    assert disk.__pydantic_fields_set__ is other.__pydantic_fields_set__


@pytest.mark.parametrize("value", ["true", "1.0", '"1"'])
def test_a_full_snapshot_with_a_non_integer_version_is_still_refused(value: str) -> None:
    data = json.dumps(doc()).replace('"schema_version": 1', f'"schema_version": {value}').encode()
    assert snapshot_io._validate_json(data) is None
    with pytest.raises(SnapshotFormatError, match=r"^s.json: schema_version must be an integer, got "):
        snapshot_io.loads(data, "s.json")


def test_a_duplicate_version_key_is_read_as_json_reads_it() -> None:
    # json.loads keeps the last value: true, refused; pydantic-core must not accept the first.
    data = ('{"schema_version": 1, ' + json.dumps(doc())[1:-1].replace('"schema_version": 1, ', "")
            + ', "schema_version": true}').encode()
    with pytest.raises(SnapshotFormatError, match="schema_version must be an integer, got True"):
        snapshot_io.loads(data, "s.json")


def test_missing_and_newer_versions_keep_their_messages() -> None:
    missing = doc()
    del missing["schema_version"]
    with pytest.raises(SnapshotFormatError, match=r"^s.json: not a snapshot file \(no schema_version\)$"):
        snapshot_io.loads(json.dumps(missing).encode(), "s.json")
    with pytest.raises(SnapshotFormatError, match="snapshot schema version 2 is newer than this tool supports"):
        snapshot_io.loads(json.dumps(doc(schema_version=2)).encode(), "s.json")
    with pytest.raises(SnapshotFormatError, match="unknown snapshot schema version 0"):
        snapshot_io.loads(json.dumps(doc(schema_version=0)).encode(), "s.json")


@pytest.mark.parametrize(("text", "long_way"), [
    (json.dumps(doc()).replace('"n": 1.5', '"n": NaN'), False),  # both read NaN (in a raw property)
    (json.dumps(doc()).replace('"name": "db01"', '"name": "db\\ud800"'), True),  # a lone surrogate
    ("\ufeff" + json.dumps(doc()), True),  # a byte-order mark
])
def test_what_json_reads_loads_as_before(text: str, long_way: bool) -> None:
    data = text.encode("utf-8", "surrogatepass")
    assert (snapshot_io._validate_json(data) is None) is long_way
    loaded, before = snapshot_io.loads(data, "s.json"), slow_load(data)
    assert repr(loaded) == repr(before)  # repr: NaN is not equal to itself


def test_invalid_snapshots_keep_their_messages() -> None:
    bad = doc()
    bad["vcenters"]["u1"] = {**VC, "vms": {"vm-1": {**VM, "memory_mb": "lots"}}}
    with pytest.raises(SnapshotFormatError, match=r"^s.json: invalid snapshot at vcenters.u1.vms.vm-1.memory_mb: "):
        snapshot_io.loads(json.dumps(bad).encode(), "s.json")
    with pytest.raises(SnapshotFormatError, match=r"^s.json: not a snapshot file \(invalid JSON: "):
        snapshot_io.loads(json.dumps(doc()).encode()[:-1], "s.json")
