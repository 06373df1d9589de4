"""Models built without validation (``collect.prebuilt``) are the validated models, exactly.

The builder against pydantic on the same values (equality, field order, types, the shared
fields set, JSON, hash, frozen), its refusal of models pydantic must build, and the fast
engine's readers on the rich page of ``test_collect_fastxml``: every model they build
without validation equals the model pydantic validates from its fields, value types and
field order included (an ``int`` subclass such as pyVmomi's ``long`` would compare equal
but is not what validation gives).
"""

from __future__ import annotations

from typing import Any

import pytest
from lxml import etree
from pydantic import BaseModel, ConfigDict, field_validator
from pyVmomi import vim
from test_collect_fastxml import STUB, envelope, full_vm, obj, remove

from reporter.collect import convert, fastxml, pages, prebuilt
from reporter.collect.retrieve import ReadStats
from reporter.core.model import (
    Disk,
    IoAllocation,
    LayoutDisk,
    LayoutEx,
    LayoutFile,
    LayoutSnapshot,
    share_fields_set,
)

IO = {"limit": -1, "shares_level": "custom", "shares": 1500, "reservation": None}
FILE = {"key": 3, "name": "[ds1] vm/vm.vmdk", "type": "diskDescriptor", "size": 512, "unique_size": None}
CASES: list[tuple[type[BaseModel], dict[str, Any]]] = [
    (IoAllocation, IO),
    (LayoutFile, FILE),
    (LayoutDisk, {"key": 2000, "chain": [[1, 2], [3]]}),
    (LayoutSnapshot, {"moid": "snapshot-1", "data_key": 5, "memory_key": -1,
                      "disks": [LayoutDisk(key=2000, chain=[[1, 2]])]}),
    (LayoutEx, {"files": [LayoutFile(**FILE)], "disks": [], "snapshots": []}),
    (Disk, {"key": 2001, "label": "Hard disk 2", "controller": "scsi", "bus_number": 1, "unit_number": 3,
            "capacity_bytes": 2 << 20, "datastore": "datastore-11", "backing_file": "[ds2] old/old.vmdk",
            "backing_type": "sparse", "disk_mode": "persistent", "compatibility_mode": None, "thin": False,
            "change_id": None, "io": IoAllocation(**IO)}),
]


def _shape(model: BaseModel) -> list[tuple[str, type]]:
    return [(name, type(value)) for name, value in model.__dict__.items()]


@pytest.mark.parametrize(("cls", "values"), CASES, ids=[c.__name__ for c, _ in CASES])
def test_a_prebuilt_model_is_the_validated_model(cls: type[BaseModel], values: dict[str, Any]) -> None:
    validated = share_fields_set(cls(**values))
    built = prebuilt.builder(cls)(**values)
    assert type(built) is cls
    assert built == validated
    assert _shape(built) == _shape(validated)  # same field order, same value types
    assert list(built.__dict__) == list(cls.model_fields)
    assert built.__pydantic_fields_set__ is validated.__pydantic_fields_set__  # shared, as share_fields_set shares
    assert built.__pydantic_extra__ is None and built.__pydantic_private__ is None
    assert built.model_dump_json() == validated.model_dump_json()
    if all(not isinstance(v, list) for v in values.values()):  # (lists are not hashable)
        assert hash(built) == hash(validated)
    with pytest.raises(Exception, match="frozen"):
        setattr(built, next(iter(values)), None)  # frozen: no assignment


def test_every_field_is_a_parameter() -> None:
    build = prebuilt.builder(LayoutFile)
    with pytest.raises(TypeError):
        build(key=1, name="a", type="b", size=0)  # unique_size missing
    with pytest.raises(TypeError):
        build(key=1, name="a", type="b", size=0, unique_size=None, accessible=True)  # not a field
    positional = build(1, "a", "b", 0, None)
    assert positional == LayoutFile(key=1, name="a", type="b", size=0)


class _Mutable(BaseModel):
    key: int


class _Checked(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    key: int

    @field_validator("key")
    @classmethod
    def _positive(cls, value: int) -> int:
        return abs(value)


class _Open(BaseModel):
    model_config = ConfigDict(frozen=True)
    key: int


@pytest.mark.parametrize("cls", [_Mutable, _Checked, _Open])
def test_models_pydantic_must_build_are_refused(cls: type[BaseModel]) -> None:
    with pytest.raises(TypeError, match="not a plain frozen model"):
        prebuilt.builder(cls)


def _prebuilt_models(value: Any) -> list[BaseModel]:
    """The models of the kinds the fast readers build without validation, anywhere in ``value``."""
    found: list[BaseModel] = []
    stack = [value]
    kinds = (Disk, IoAllocation, LayoutDisk, LayoutEx, LayoutFile, LayoutSnapshot)
    while stack:
        item = stack.pop()
        if isinstance(item, kinds):
            found.append(item)
        if isinstance(item, BaseModel):
            stack.extend(item.__dict__.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
    return found


def test_the_fast_readers_models_are_what_validation_gives() -> None:
    # The rich page of test_collect_fastxml, with defaults to fill (fields cut from the XML).
    dev = "//v:propSet[v:name='config.hardware.device']/v:val/v:VirtualDevice"
    page = remove(envelope([full_vm("vm-1"), obj(full_vm("vm-2").obj, {"name": "bare"})]),
                  f"{dev}[v:key='1002']/v:busNumber", f"{dev}[v:key='2009']/v:capacityInKB",
                  "//v:file[v:key='6']/v:size", "//v:file[v:key='6']/v:name", "//v:snapshot/v:memoryKey")
    parsed = pages.parse_page(page)
    assert parsed is not None
    (moid, props), _ = list(fastxml.Converter(STUB, convert.VM_VALUES).objects(parsed, ReadStats()))
    assert moid == "vm-1"
    models = _prebuilt_models([props["config.hardware.device"], props["layoutEx"]])
    kinds = {type(m) for m in models}
    assert kinds == {Disk, IoAllocation, LayoutDisk, LayoutEx, LayoutFile, LayoutSnapshot}
    assert len(models) == 26  # 10 disks, 3 I/O allocations, 7 files, 4 layout disks (1 of the snapshot), 1 snapshot, 1 layout
    for model in models:
        cls = type(model)
        validated = cls.model_validate(dict(model.__dict__))
        assert model == validated
        assert _shape(model) == _shape(validated), cls.__name__
        assert model.__pydantic_fields_set__ == set(cls.model_fields)
    files = props["layoutEx"].files
    assert (files[6].size, type(files[6].size)) == (0, int)  # pyVmomi's default is its long(0)
    disks = props["config.hardware.device"]
    assert [type(d.capacity_bytes) for d in disks] == [int] * len(disks)


# --------------------------------------------------------------------------- data objects


@pytest.mark.parametrize("cls", [vim.host.NetworkInfo, vim.host.VirtualSwitch, vim.host.NetworkPolicy.NicOrderPolicy,
                                 vim.vm.device.VirtualDisk, vim.host.SystemInfo])
def test_a_blank_data_object_is_what_its_constructor_makes(cls: Any) -> None:
    blank = fastxml._blank_maker(cls)
    made, expected = blank(), cls()
    assert type(made) is cls
    assert repr(made) == repr(expected)
    assert list(made.__dict__) == list(expected.__dict__)  # property order, as DataObject.__init__ sets them
    again = blank()
    arrays = [name for name, value in made.__dict__.items() if isinstance(value, list)]
    for name in arrays:  # a new empty array each time, of the property's array type
        assert getattr(made, name) is not getattr(again, name)
        assert type(getattr(made, name)) is type(getattr(expected, name))
    if arrays:
        getattr(made, arrays[0]).append("x")
        assert getattr(again, arrays[0]) == [] and getattr(cls(), arrays[0]) == []


def test_values_are_set_as_pyvmomi_sets_them() -> None:
    """A value of its property's type is set directly; any other goes through pyVmomi's
    CheckField, which refuses a wrong type as pyVmomi's deserializer does."""
    values = fastxml.Values(STUB)
    switch_type: Any = vim.host.VirtualSwitch
    xml = ('<x xmlns="urn:vim25" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
           ' xmlns:xsd="http://www.w3.org/2001/XMLSchema"><name>vSwitch0</name>{mtu}'
           '<portgroup>pg-1</portgroup><portgroup>pg-2</portgroup></x>')
    switch = values._build(etree.fromstring(xml.format(mtu="<mtu>9000</mtu>")), switch_type)
    assert (switch.name, switch.mtu, list(switch.portgroup)) == ("vSwitch0", 9000, ["pg-1", "pg-2"])
    assert type(switch.portgroup) is type(switch_type().portgroup)
    assert repr(switch) == repr(switch_type(name="vSwitch0", mtu=9000, portgroup=["pg-1", "pg-2"]))
    wrong = etree.fromstring(xml.format(mtu='<mtu xsi:type="xsd:string">jumbo</mtu>'))
    with pytest.raises(TypeError, match="mtu"):
        values._build(wrong, switch_type)
