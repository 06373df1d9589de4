"""share_fields_sets walks only the fields whose type can hold a model: it must still reach every
model of a loaded snapshot and give each the one shared fields-set of its names."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel

from reporter.core import snapshot_io
from reporter.core.model import VM, Disk, Host, Snapshot, _model_fields

VM_DOC = {"moid": "vm-1", "name": "db01", "power_state": "poweredOn", "memory_mb": 4096,
          "disks": [{"key": 2000, "controller": "scsi", "bus_number": 0, "unit_number": 0, "capacity_bytes": 1024,
                     "io": {"limit": -1}}],
          "snapshots": [{"moid": "snap-1", "name": "a", "create_time": "2026-11-01T00:00:00Z",
                         "children": [{"moid": "snap-2", "name": "b"}]}],
          "layout_ex": {"files": [{"key": 1, "name": "[ds] a.vmdk", "type": "diskDescriptor"}],
                        "disks": [{"key": 2000, "chain": [[1]]}]},
          "extra_config": {"scsi0:0.ctkEnabled": "TRUE"}, "datastores": ["ds-1"]}
DOC = {"schema_version": 1, "collected_at": "2026-11-23T06:00:00Z", "vcenters": {"u1": {
    "name": "vc01", "host": "vc01.example.com", "instance_uuid": "u1",
    "vms": {"vm-1": VM_DOC, "vm-2": {**VM_DOC, "moid": "vm-2", "name": "db02"}},
    "licenses": [{"key": "AAAAA-BBBBB-CCCCC-DDDDD-EEEEE", "properties": {"ProductName": "ESX"}}]}}}


def models(root: Any) -> list[BaseModel]:
    """Every model inside ``root``, found by looking at every value (the walk before)."""
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


def test_the_walked_fields_are_those_that_can_hold_a_model() -> None:
    assert _model_fields(VM) == ("disks", "snapshots", "layout_ex")
    assert _model_fields(Disk) == ("io",)
    assert _model_fields(Host) == ("network", "system", "software")
    assert "vcenters" in _model_fields(Snapshot) and "tool_version" not in _model_fields(Snapshot)


def test_every_model_gets_the_shared_set_of_its_names() -> None:
    data = json.dumps(DOC).encode()
    first, second = snapshot_io.loads(data, "a.json"), snapshot_io.loads(data, "b.json")
    a, b = models(first), models(second)
    assert len(a) == len(b) == 19  # snapshot, vCenter, license + 2 x (VM, disk, io, 2 nodes, layout, file, disk)
    for x, y in zip(a, b, strict=True):
        assert type(x) is type(y)
        assert x.__pydantic_fields_set__ is y.__pydantic_fields_set__  # shared across loads too
        assert x.model_fields_set == set(x.model_fields_set)
    vm1, vm2 = first.vcenters["u1"].vms["vm-1"], first.vcenters["u1"].vms["vm-2"]
    assert vm1.model_fields_set == set(VM_DOC)
    assert vm1.disks[0].io is not None and vm2.disks[0].io is not None
    assert vm1.disks[0].io.__pydantic_fields_set__ is vm2.disks[0].io.__pydantic_fields_set__
    assert first == Snapshot.model_validate(DOC)
