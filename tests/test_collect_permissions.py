"""A limited-privilege user: missingSet NoPermission entries (per object and property) become
"unknown: no permission (privilege X)" on that object in the snapshot, through both read
engines and the collector, never a crash or a silent default; the checks that rest on those
properties say for how many objects they could not be evaluated.

vcsim 0.24 enforces no privileges (its missingSet only ever says NotAuthenticated), so the
replies are synthetic: RetrievePropertiesEx pages serialized by pyVmomi, with the missingSet
entries vCenter writes for a user whose role lacks a privilege on some VMs."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from pyVmomi import SoapAdapter, vim
from test_collect_fastxml import DENIED, RESULT, STUB, envelope, full_vm, obj, with_missing

from reporter.checks import CheckContext, load_all
from reporter.checks.engine import run_checks
from reporter.collect import fastxml, retrieve, tags
from reporter.collect.progress import Progress
from reporter.collect.retrieve import ReadStats
from reporter.collect.vcenter import VCenterCollector
from reporter.config import VCenterConfig
from reporter.core.model import Snapshot

ADV = "VirtualMachine.Config.AdvancedConfig"


def _page() -> bytes:
    page = envelope([full_vm("vm-1"), full_vm("vm-2", **{"config.extraConfig": None}),
                     obj(vim.VirtualMachine("vm-3"), {"name": "locked"})])
    page = with_missing(page, "vm-2", ("config.extraConfig", f'NoPermission"><object type="VirtualMachine">vm-2'
                                       f"</object><privilegeId>{ADV}</privilegeId>", DENIED))
    # No privilegeId in the fault: reading a property needs System.Read on the object.
    return with_missing(page, "vm-3", *[(p, 'NoPermission"><object type="VirtualMachine">vm-3</object>', DENIED)
                                        for p in ("config", "snapshot", "layoutEx", "runtime")])


def _engine(name: str, page: bytes) -> Any:
    """A read engine with the collector's signature that answers VMs from ``page``, other types empty."""
    def read(content: Any, vimtype: type, paths: list[str], *, stats: ReadStats, values: Any = None,
             on_error: Any = None, **_: Any) -> Iterator[tuple[str, dict[str, Any]]]:
        if vimtype is not vim.VirtualMachine:
            return
        if name == "pyvmomi":
            result = SoapAdapter.SoapResponseDeserializer(STUB).Deserialize(page, RESULT)
            yield from retrieve.page_objects(result.objects, stats, values, on_error)
        else:
            yield from fastxml.Converter(STUB, values).objects(fastxml.parse_page(page), stats, on_error)
    return read


def _collect(engine: str, monkeypatch: pytest.MonkeyPatch) -> Snapshot:
    def no_tags(*_: Any) -> Any:
        raise tags.TagsUnavailable("no endpoint in this test")
    monkeypatch.setattr(tags, "read_tags", no_tags)
    vc = VCenterConfig(name="vc01", host="vc01.example.com", user="readonly@vsphere.local", password_env="X")
    about = SimpleNamespace(instanceUuid="uuid-1", version="8.0.3", build="1", apiVersion="8.0.3.0", fullName="x")
    content = SimpleNamespace(about=about, licenseManager=None)
    session = SimpleNamespace(vc=vc, content=content, si=None, call=lambda fn, *a: fn(session),
                              ensure_alive=lambda: None, tls_context=None, rest_password=lambda: "pw")
    collector = VCenterCollector(session, Progress(False), engine=engine)  # type: ignore[arg-type]
    collector._retrieve = _engine(engine, _page())
    vcenter = collector.run()
    return Snapshot(vcenters={vcenter.instance_uuid: vcenter}, collection_errors=collector.out.errors)


@pytest.mark.parametrize("engine", ["fast", "pyvmomi"])
def test_no_permission_is_unknown_on_the_object(engine: str, monkeypatch: pytest.MonkeyPatch) -> None:
    snap = _collect(engine, monkeypatch)
    vms = snap.vcenters["uuid-1"].vms
    assert sorted(vms) == ["vm-1", "vm-2", "vm-3"]  # nobody dropped, nothing crashed
    assert vms["vm-1"].unreadable == {}
    assert vms["vm-2"].unreadable == {"config.extraConfig": f"no permission (privilege {ADV})"}
    assert vms["vm-2"].extra_config == {} and vms["vm-2"].change_tracking_enabled is True  # the rest was read
    system_read = "no permission (privilege System.Read)"
    assert vms["vm-3"].unreadable == dict.fromkeys(["config", "layoutEx", "runtime", "snapshot"], system_read)
    assert (vms["vm-3"].name, vms["vm-3"].power_state, vms["vm-3"].change_tracking_enabled) == ("locked", None, None)
    # One collection error per (property, fault), as before.
    vm_errors = sorted(e.message for e in snap.collection_errors if e.stage == "vms")
    assert vm_errors == [
        "property config could not be read (NoPermission) on vm-3",
        "property config.extraConfig could not be read (NoPermission) on vm-2",
        "property layoutEx could not be read (NoPermission) on vm-3",
        "property runtime could not be read (NoPermission) on vm-3",
        "property snapshot could not be read (NoPermission) on vm-3",
    ]


@pytest.mark.parametrize("engine", ["fast", "pyvmomi"])
def test_checks_say_for_how_many_objects_they_could_not_be_evaluated(engine: str,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    snap = _collect(engine, monkeypatch)
    load_all()
    notes = {r.meta.id: r.notes for r in run_checks(CheckContext(snapshot=snap)).checks}
    grant = "Grant the collector's role the privilege named (README, minimal vCenter role)."
    assert notes["CBT-001"][-1] == (
        f"Could not be evaluated for 2 VMs: unknown, config.extraConfig: no permission (privilege {ADV}); "
        "config: no permission (privilege System.Read); runtime: no permission (privilege System.Read). "
        + grant)
    assert notes["SNAP-001"] == [
        "Could not be evaluated for 1 VM: unknown, snapshot: no permission (privilege System.Read). " + grant]
    assert notes["SNAP-003"][-1] == (
        "Could not be evaluated for 1 VM: unknown, layoutEx: no permission (privilege System.Read); "
        "snapshot: no permission (privilege System.Read). " + grant)
    assert not any("Could not be evaluated" in n for n in notes["SIOC-001"] + notes["GEN-001"])


def test_the_snapshot_file_keeps_unreadable(monkeypatch: pytest.MonkeyPatch) -> None:
    from reporter.core import snapshot_io
    snap = _collect("fast", monkeypatch)
    again = snapshot_io.loads(snapshot_io.dumps(snap))
    assert again.vcenters["uuid-1"].vms["vm-2"].unreadable == {"config.extraConfig": f"no permission (privilege {ADV})"}
