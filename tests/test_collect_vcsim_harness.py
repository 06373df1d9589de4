"""The vcsim launcher behaves like vCenter where govmomi 0.24's simulator does not:
PropertyCollector pages, lazy reads of unset properties, one instance UUID per
server, a checked password, and a verifiable RSA-2048 certificate."""

from __future__ import annotations

import socket
import ssl

import pytest
from pyVim.connect import SmartConnect
from pyVmomi import vim, vmodl

pytestmark = pytest.mark.vcsim

PC = vmodl.query.PropertyCollector


def test_retrieve_properties_ex_pages_with_tokens(vcsim):
    si = vcsim.si()
    content = si.content
    view = content.viewManager.CreateContainerView(content.rootFolder, [vim.VirtualMachine], True)
    spec = PC.FilterSpec(
        objectSet=[PC.ObjectSpec(obj=view, skip=True, selectSet=[
            PC.TraversalSpec(name="v", path="view", skip=False, type=vim.view.ContainerView)])],
        propSet=[PC.PropertySpec(type=vim.VirtualMachine, pathSet=["name"])])
    pc = content.propertyCollector
    result = pc.RetrievePropertiesEx([spec], PC.RetrieveOptions(maxObjects=3))
    pages = [len(result.objects)]
    names = [o.propSet[0].val for o in result.objects]
    while result.token:
        result = pc.ContinueRetrievePropertiesEx(result.token)
        pages.append(len(result.objects))
        names += [o.propSet[0].val for o in result.objects]
    view.DestroyView()
    assert pages == [3, 3, 2]
    assert len(set(names)) == 8
    with pytest.raises(vmodl.fault.InvalidArgument):
        pc.ContinueRetrievePropertiesEx("no-such-token")


def test_lazy_read_of_unset_property_is_none(vcsim):
    si = vcsim.si()
    vm = si.content.rootFolder.childEntity[0].vmFolder.childEntity[0]
    assert vm.snapshot is None  # vcsim 0.24 itself panics on this Fetch
    assert vm.name.startswith("DC0_")


def test_each_simulator_has_its_own_instance_uuid(vcsim, vcsim_factory):
    other = vcsim_factory(vms=1, hosts=1, standalone=0)
    assert vcsim.si().content.about.instanceUuid != other.si().content.about.instanceUuid


def test_password_is_checked_and_certificate_verifies(vcsim):
    with pytest.raises(vim.fault.InvalidLogin):
        SmartConnect(host=vcsim.host, port=vcsim.port, user=vcsim.user, pwd=vcsim.password + "x",
                     sslContext=ssl.create_default_context(cafile=str(vcsim.ca_bundle)))
    ctx = ssl.create_default_context(cafile=str(vcsim.ca_bundle))
    with ctx.wrap_socket(socket.create_connection((vcsim.host, vcsim.port)), server_hostname=vcsim.host) as tls:
        assert tls.getpeercert()["subjectAltName"] == (("DNS", "localhost"), ("IP Address", "127.0.0.1"))
        assert tls.version() in ("TLSv1.2", "TLSv1.3")


def test_delay_slows_every_call(vcsim_factory):
    import time

    sim = vcsim_factory(vms=1, hosts=1, standalone=0, delay_ms=200)
    si = sim.si()
    started = time.monotonic()
    si.CurrentTime()
    assert time.monotonic() - started >= 0.2
