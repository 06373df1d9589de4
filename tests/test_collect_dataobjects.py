"""The fast engine's data objects built from the parsed tree, against pyVmomi's deserializer.

``fastxml.Values.structured`` builds a data object (a host's network configuration, a
datastore's summary ...) from the lxml tree the way pyVmomi's ``SoapDeserializer`` builds it
from the bytes; what it does not cover (faults, type and method names) goes to pyVmomi's
own deserializer, which is counted (``Values.fragments``): its parser leaves reference
cycles, and a read collects them only after it ran (``fastxml._CycleGarbage``).
"""

from __future__ import annotations

import gc
from datetime import UTC, datetime
from typing import Any

import pytest
from pyVmomi import vim, vmodl
from test_collect_fastxml import STUB, assert_same, envelope, obj

from reporter.collect import fastxml
from reporter.collect.retrieve import ReadStats

PC = vmodl.query.PropertyCollector


def network() -> Any:
    teaming = vim.host.NetworkPolicy.NicTeamingPolicy(
        policy="loadbalance_srcid", notifySwitches=True, rollingOrder=False,
        nicOrder=vim.host.NetworkPolicy.NicOrderPolicy(activeNic=["vmnic0"], standbyNic=["vmnic1", "vmnic2"]))
    policy = vim.host.NetworkPolicy(nicTeaming=teaming, security=vim.host.NetworkPolicy.SecurityPolicy(
        allowPromiscuous=False, macChanges=True, forgedTransmits=True))
    return vim.host.NetworkInfo(
        vswitch=[vim.host.VirtualSwitch(
            name="vSwitch0", key="key-vim.host.VirtualSwitch-vSwitch0", numPorts=128, numPortsAvailable=120, mtu=9000,
            portgroup=["key-vim.host.PortGroup-VM Network"], pnic=["key-vim.host.PhysicalNic-vmnic0"],
            spec=vim.host.VirtualSwitch.Specification(
                numPorts=128, policy=policy,
                bridge=vim.host.VirtualSwitch.BondBridge(nicDevice=["vmnic0", "vmnic1", "vmnic2"])))],
        portgroup=[vim.host.PortGroup(
            key="key-vim.host.PortGroup-VM Network", vswitch="key-vim.host.VirtualSwitch-vSwitch0",
            computedPolicy=policy,
            spec=vim.host.PortGroup.Specification(name="VM Network", vlanId=10, vswitchName="vSwitch0",
                                                  policy=vim.host.NetworkPolicy()))],
        pnic=[vim.host.PhysicalNic(key="key-vim.host.PhysicalNic-vmnic0", device="vmnic0", pci="0000:03:00.0",
                                   driver="ixgben", mac="00:50:56:00:00:01", wakeOnLanSupported=False,
                                   spec=vim.host.PhysicalNic.Specification(),
                                   linkSpeed=vim.host.PhysicalNic.LinkSpeedDuplex(speedMb=10000, duplex=True))],
    )


def host_config_page() -> bytes:
    host = obj(vim.HostSystem("host-10"), {
        "config.network": network(),
        "hardware.systemInfo": vim.host.SystemInfo(
            vendor="Dell Inc.", model="PowerEdge R750", uuid="4c4c4544", serialNumber="ABC123",
            otherIdentifyingInfo=[vim.host.SystemIdentificationInfo(
                identifierValue="ABC123", identifierType=vim.ElementDescription(label="Service tag", summary="s",
                                                                                key="ServiceTag"))]),
        "runtime.connectionState": vim.HostSystem.ConnectionState.connected,
        "configManager.imageConfigManager": vim.host.ImageConfigManager("imageConfigManager-10"),
    })
    empty = obj(vim.HostSystem("host-11"), {"config.network": vim.host.NetworkInfo()})
    datastore = obj(vim.Datastore("datastore-11"), {
        "summary": vim.Datastore.Summary(datastore=vim.Datastore("datastore-11"), name="vmfs01", type="VMFS",
                                         url="ds:///vmfs/volumes/5f/", capacity=100, freeSpace=40, accessible=True,
                                         multipleHostAccess=True, maintenanceMode="normal"),
        "host": vim.Datastore.HostMount.Array([vim.Datastore.HostMount(
            key=vim.HostSystem("host-10"), mountInfo=vim.host.MountInfo(accessMode="readWrite", mounted=True))]),
    })
    return envelope([host, empty, datastore])


def read(xml: bytes) -> tuple[list[tuple[str, dict[str, Any]]], fastxml.Converter]:
    page = fastxml.parse_page(xml)
    assert page is not None
    converter = fastxml.Converter(STUB, None)
    return list(converter.objects(page, ReadStats())), converter


def test_data_objects_equal_pyvmomis_and_skip_its_parser():
    xml = host_config_page()
    assert_same(xml, None)  # every value equal to the pyVmomi engine's, by full repr
    objects, converter = read(xml)
    assert converter.values.fragments == 0  # none of them went through pyVmomi's deserializer
    got = dict(objects)
    net = got["host-10"]["config.network"]
    assert isinstance(net.vswitch[0].spec.bridge, vim.host.VirtualSwitch.BondBridge)
    assert net.vswitch[0].spec.bridge.nicDevice == ["vmnic0", "vmnic1", "vmnic2"]
    assert net.vswitch[0].spec.policy.nicTeaming.nicOrder.standbyNic == ["vmnic1", "vmnic2"]
    assert net.vswitch[0].mtu == 9000 and net.pnic[0].linkSpeed.speedMb == 10000
    assert net.portgroup[0].spec.vlanId == 10
    assert got["host-11"]["config.network"].vswitch == []
    mount = got["datastore-11"]["host"][0]
    assert mount.key._moId == "host-10" and mount.mountInfo.accessMode == "readWrite"
    assert got["datastore-11"]["summary"].datastore._moId == "datastore-11"


def test_faults_and_type_names_are_left_to_pyvmomi():
    """A fault inside a value (pyVmomi reads it as a LocalizedMethodFault) and a type name are
    not built from the tree: pyVmomi's deserializer reads that whole value, and it is counted."""
    task = obj(vim.Task("task-1"), {
        "info": vim.TaskInfo(key="task-1", task=vim.Task("task-1"), descriptionId="d", state="error",
                             cancelled=False, cancelable=False, queueTime=datetime(2026, 12, 1, tzinfo=UTC), reason=vim.TaskReasonUser(userName="u"),
                             error=vmodl.fault.SystemError(reason="disk full", msg="disk full")),
    })
    spec = obj(vim.PropertyCollector.Filter("filter-1"), {
        "spec": PC.FilterSpec(propSet=[PC.PropertySpec(type=vim.VirtualMachine, pathSet=["name"])],
                              objectSet=[PC.ObjectSpec(obj=vim.Folder("group-d1"))]),
    })
    xml = envelope([task, spec])
    assert_same(xml, None)
    objects, converter = read(xml)
    assert converter.values.fragments == 2
    got = dict(objects)
    assert isinstance(got["task-1"]["info"].error, vmodl.fault.SystemError)
    assert got["filter-1"]["spec"].propSet[0].type is vim.VirtualMachine


class CountingGc:
    def __init__(self) -> None:
        self.calls: list[int] = []

    def collect(self, generation: int = 2) -> int:
        self.calls.append(generation)
        return 0


@pytest.fixture
def gc_off() -> Any:
    was = gc.isenabled()
    gc.disable()
    yield
    if was:
        gc.enable()


def test_young_collection_only_after_pyvmomis_deserializer(gc_off: Any, monkeypatch: pytest.MonkeyPatch):
    counting = CountingGc()
    monkeypatch.setattr(fastxml.gc, "collect", counting.collect)
    values = fastxml.Values(STUB)
    garbage = fastxml._CycleGarbage(values)
    garbage.collect()
    assert counting.calls == []  # nothing read by pyVmomi yet: no cycles to free
    read_task = envelope([obj(vim.Task("task-1"), {"info.error": vmodl.fault.SystemError(reason="r", msg="m")})])
    page = fastxml.parse_page(read_task)
    assert page is not None
    values.any(page.objects[0][1][1])  # the propSet's <val>: a fault, read by pyVmomi
    assert values.fragments == 1
    garbage.collect()
    garbage.collect()
    assert counting.calls == [1]  # once after it, not again until pyVmomi runs again


def test_no_collection_while_automatic_gc_is_on(monkeypatch: pytest.MonkeyPatch):
    counting = CountingGc()
    monkeypatch.setattr(fastxml.gc, "collect", counting.collect)
    monkeypatch.setattr(fastxml.gc, "isenabled", lambda: True)
    values = fastxml.Values(STUB)
    values.fragments = 3
    fastxml._CycleGarbage(values).collect()
    assert counting.calls == []
