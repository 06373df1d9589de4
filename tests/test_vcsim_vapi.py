"""The launcher's vAPI endpoint (/rest): tagging round trip, the SOAP side's credentials, -no-vapi."""

from __future__ import annotations

from typing import Any

import pytest
from pyVmomi import vim

from vcsim_network import find_by_name
from vcsim_vapi import VapiClient, VapiError


def _client(sim: Any) -> VapiClient:
    return VapiClient(sim.host, sim.port, sim.ssl_context())


def test_categories_and_tags_attached_to_vms_list_back(vcsim_factory: Any) -> None:
    sim = vcsim_factory(vms=4)
    si = sim.si()
    vm_a = find_by_name(si, vim.VirtualMachine, "DC0_C0_RP0_VM0")._moId
    vm_b = find_by_name(si, vim.VirtualMachine, "DC0_C0_RP0_VM1")._moId

    api = _client(sim)
    api.login(sim.user, sim.password)
    backup = api.create_category("Backup", cardinality="SINGLE", associable_types=["VirtualMachine"],
                                 description="backup policy")
    owner = api.create_category("Owner", cardinality="MULTIPLE")
    gold = api.create_tag("gold", backup)
    silver = api.create_tag("silver", backup)
    team = api.create_tag("team-db", owner)
    api.attach_tag(gold, "VirtualMachine", vm_a)
    api.attach_tag(team, "VirtualMachine", vm_a)
    api.attach_tag(silver, "VirtualMachine", vm_b)

    categories = {c["name"]: c for c in api.categories()}
    assert sorted(categories) == ["Backup", "Owner"]
    assert (categories["Backup"]["cardinality"], categories["Backup"]["associable_types"],
            categories["Backup"]["description"]) == ("SINGLE", ["VirtualMachine"], "backup policy")
    assert categories["Owner"]["cardinality"] == "MULTIPLE"
    tags = {t["id"]: (t["name"], t["category_id"]) for t in api.tags()}
    assert tags == {gold: ("gold", backup), silver: ("silver", backup), team: ("team-db", owner)}
    assert sorted(api.attached_tags("VirtualMachine", vm_a)) == sorted([gold, team])
    assert api.attached_tags("VirtualMachine", vm_b) == [silver]
    assert api.attached_objects(gold) == [("VirtualMachine", vm_a)]
    api.logout()
    with pytest.raises(VapiError) as exc:
        api.tags()
    assert exc.value.status == 401


def test_login_needs_the_soap_credentials(vcsim_factory: Any) -> None:
    sim = vcsim_factory(vms=0)
    with pytest.raises(VapiError) as exc:
        _client(sim).login(sim.user, sim.password + "x")
    assert exc.value.status == 401
    with pytest.raises(VapiError) as exc:
        _client(sim).login("someone@else", sim.password)
    assert exc.value.status == 401
    with pytest.raises(VapiError) as exc:  # no session at all
        _client(sim).categories()
    assert exc.value.status == 401


def test_no_vapi_serves_no_rest_endpoint(vcsim_factory: Any) -> None:
    sim = vcsim_factory(vms=0, vapi=False)
    with pytest.raises(VapiError) as exc:
        _client(sim).login(sim.user, sim.password)
    assert exc.value.status == 404
    assert sim.si().content.about.apiType == "VirtualCenter"  # the SOAP side is unaffected
