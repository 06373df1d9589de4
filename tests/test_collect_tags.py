"""vSphere tags from the vAPI REST endpoint of the launcher: collected per VM as
"Category/Tag", used by the CBT tag scope, shown in the VM sheet; without the endpoint a
collection note (exit 0), not an error; the reply parser on malformed answers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyVim.task import WaitForTask
from pyVmomi import vim
from vcsim_network import find_by_name
from vcsim_vapi import VapiClient

from reporter.api import load_config
from reporter.checks import CheckContext, load_all
from reporter.checks.cbt.settings import CbtSettings
from reporter.checks.engine import run_checks
from reporter.collect import collect
from reporter.collect.tags import TagsFailed, parse_attachments
from reporter.config.settings import Settings
from reporter.core.model import Snapshot


def _tag_vms(sim: Any) -> None:
    si = sim.si()
    api = VapiClient(sim.host, sim.port, sim.ssl_context())
    api.login(sim.user, sim.password)
    backup = api.create_category("Backup", associable_types=["VirtualMachine"])
    owner = api.create_category("Owner", cardinality="MULTIPLE")
    gold = api.create_tag("gold", backup)
    team = api.create_tag("team-db", owner)
    api.create_tag("unused", owner)
    vm0 = find_by_name(si, vim.VirtualMachine, "DC0_C0_RP0_VM0")
    vm1 = find_by_name(si, vim.VirtualMachine, "DC0_C0_RP0_VM1")
    api.attach_tag(gold, "VirtualMachine", vm0._moId)
    api.attach_tag(team, "VirtualMachine", vm0._moId)
    api.attach_tag(team, "VirtualMachine", vm1._moId)
    api.logout()
    view = si.content.viewManager.CreateContainerView(si.content.rootFolder, [vim.VirtualMachine], True)
    for vm in view.view:  # vcsim leaves changeTrackingEnabled unset; a real vCenter reports false.
        WaitForTask(vm.ReconfigVM_Task(vim.vm.ConfigSpec(changeTrackingEnabled=False)))


def _tags(snap: Snapshot) -> dict[str, list[str] | None]:
    (vc,) = snap.vcenters.values()
    return {vm.name: vm.tags for vm in vc.vms.values()}


def _cbt_001(snap: Snapshot, scope: CbtSettings) -> tuple[list[str], list[str]]:
    load_all()
    (result,) = run_checks(CheckContext(snapshot=snap, settings=Settings(thresholds={"cbt": scope})),
                           only=["CBT-001"]).checks
    return sorted(f.object_name for f in result.findings), result.notes


@pytest.mark.vcsim
@pytest.mark.parametrize("engine", ["fast", "pyvmomi"])
def test_tags_are_collected_per_vm_and_drive_the_tag_scope(vcsim_factory: Any, tmp_path: Path, engine: str) -> None:
    sim = vcsim_factory(vms=3)
    _tag_vms(sim)
    snap = collect(load_config(sim.config_file(tmp_path)), progress=False, engine=engine)
    assert snap.collection_errors == []
    (vc,) = snap.vcenters.values()
    assert vc.collection_notes == []
    tags = _tags(snap)
    assert tags["DC0_C0_RP0_VM0"] == ["Backup/gold", "Owner/team-db"]
    assert tags["DC0_C0_RP0_VM1"] == ["Owner/team-db"]
    assert tags["DC0_H0_VM0"] == tags["DC0_H0_VM1"] == []  # collected, none attached (not None)
    assert len(tags) == 4

    assert _cbt_001(snap, CbtSettings(scope_tags=["Backup/gold"])) == (["DC0_C0_RP0_VM0"], [])
    assert _cbt_001(snap, CbtSettings(scope_tags=["team-db"])) == (["DC0_C0_RP0_VM0", "DC0_C0_RP0_VM1"], [])


@pytest.mark.vcsim
def test_no_vapi_endpoint_is_a_note_not_a_failure(vcsim_factory: Any, tmp_path: Path) -> None:
    sim = vcsim_factory(vms=2, vapi=False)
    cfg_path = sim.config_file(tmp_path)
    out = tmp_path / "snap.json"
    proc = subprocess.run([sys.executable, "-m", "reporter.cli", "collect", "--config", str(cfg_path),
                           "--out", str(out)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip().splitlines() == [
        "vcreport: note: vcsim: tags not collected: this vCenter has no vAPI REST endpoint (/rest answers HTTP 404)"]

    from reporter.core import snapshot_io
    snap = snapshot_io.load(out)
    assert snap.collection_errors == []
    assert set(_tags(snap).values()) == {None}  # not collected, not "no tags"
    load_all()
    (cbt,) = run_checks(CheckContext(snapshot=snap, settings=Settings(thresholds={"cbt": CbtSettings(
        scope_tags=["Backup/gold"])})), only=["CBT-001"]).checks
    assert cbt.findings == [] and cbt.checked == 0
    # Nothing could be placed in scope: the check is not evaluated, and says why (not a pass).
    assert cbt.not_evaluated == ("Nothing could be evaluated. 2 VMs could not be placed in or out of the backup "
                                 "scope: scope_tags is set but vSphere tags were not collected. They are not "
                                 "reported as in scope.")
    load_all()
    (gen,) = run_checks(CheckContext(snapshot=snap), only=["GEN-002"]).checks
    assert gen.notes == ["vcsim: tags not collected: this vCenter has no vAPI REST endpoint (/rest answers HTTP 404)"]


def test_attachment_reply_parsing() -> None:
    tags = {"t1": "Backup/gold", "t2": "Owner/db"}
    value = [{"tag_id": "t1", "object_ids": [{"type": "VirtualMachine", "id": "vm-1"}]},
             {"tag_id": "t2", "object_ids": [{"type": "VirtualMachine", "id": "vm-1"},
                                             {"type": "HostSystem", "id": "host-9"}]},
             {"tag_id": "gone", "object_ids": [{"type": "VirtualMachine", "id": "vm-2"}]}]
    assert parse_attachments(value, tags) == {("VirtualMachine", "vm-1"): ["Backup/gold", "Owner/db"],
                                              ("HostSystem", "host-9"): ["Owner/db"]}
    for bad in ({"tag_id": 1}, [{"object_ids": []}], [{"tag_id": "t1", "object_ids": {"x": 1}}],
                [{"tag_id": "t1", "object_ids": [{"type": "VirtualMachine"}]}]):
        with pytest.raises(TagsFailed):
            parse_attachments(bad, tags)


_scalar = st.none() | st.booleans() | st.integers() | st.sampled_from(["t1", "gone", "VirtualMachine", "vm-1"])
_json = st.recursive(_scalar, lambda inner: st.lists(inner, max_size=3)
                     | st.dictionaries(st.sampled_from(["tag_id", "object_ids", "type", "id"]), inner, max_size=4),
                     max_leaves=12)


@settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(_json)
def test_attachment_parser_never_crashes(value: Any) -> None:
    """Any JSON the endpoint sends either parses or is a TagsFailed, never another exception."""
    try:
        out = parse_attachments(value, {"t1": "A/b"})
    except TagsFailed:
        return
    assert all(isinstance(k, tuple) and all(isinstance(x, str) for x in v) for k, v in out.items())
