"""Listed reads (``reporter.collect.listed``): the view's objects read in requests of
listed objects, the next asked for while the current reply is read.

Canned replies check the order of requests and objects (chunks, a chunk a server pages
further, a token written after the objects, an early stop); the request bytes are
checked against pyVmomi's serializer; against vcsim, paged and answering in one page,
a listed read gives the view read's objects, values and order.
"""

from __future__ import annotations

from typing import Any

import pytest
from pyVmomi import SoapAdapter, vim, vmodl
from test_collect_fastxml import FakeRaw, envelope, obj, vm_page

from reporter.collect import convert, fastxml, listed, pages
from reporter.collect.rawsoap import RawSoap

PC = vmodl.query.PropertyCollector


def refs(*numbers: int) -> list[Any]:
    return [vim.VirtualMachine(f"vm-{n}") for n in numbers]


def moids(*numbers: int) -> list[str]:
    return [f"vm-{n}" for n in numbers]


def chunk_key(chunk: list[str]) -> str:
    return "chunk:" + ",".join(chunk)


def listed_reader(raw: FakeRaw, objects: list[Any], chunk: int) -> listed.ListedPageReader:
    return listed.ListedPageReader(raw, None, objects, chunk, lambda c: ("RetrievePropertiesEx", chunk_key(c)))


def drain(reader: pages.PageReader) -> list[list[str]]:
    out: list[list[str]] = [[]]
    for oc in reader.objects():
        if oc is pages.PAGE_END:
            out.append([])
            continue
        out[-1].append(oc[0].text)
        reader.release(oc)
    reader.close()
    return out[:-1]


def test_chunks_in_order_each_asked_for_while_the_one_before_is_read():
    raw = FakeRaw({"chunk:vm-1,vm-2": vm_page(None, 1, 2), "chunk:vm-3,vm-4": vm_page(None, 3, 4),
                   "chunk:vm-5": vm_page(None, 5)})
    reader = listed_reader(raw, moids(1, 2, 3, 4, 5), 2)
    objects = reader.objects()
    assert next(objects)[0].text == "vm-1"
    # The second chunk went out at the first object of the first (no token before it), not after it.
    assert raw.log == [("RetrievePropertiesEx", "chunk:vm-1,vm-2"), ("RetrievePropertiesEx", "chunk:vm-3,vm-4")]
    objects.close()
    raw = FakeRaw(raw.replies)
    assert drain(listed_reader(raw, moids(1, 2, 3, 4, 5), 2)) == [["vm-1", "vm-2"], ["vm-3", "vm-4"], ["vm-5"]]
    assert raw.log == [("RetrievePropertiesEx", "chunk:vm-1,vm-2"), ("RetrievePropertiesEx", "chunk:vm-3,vm-4"),
                       ("RetrievePropertiesEx", "chunk:vm-5")]
    assert raw.closed_early == 0


def test_a_chunk_the_server_pages_further_is_followed_before_the_next():
    raw = FakeRaw({"chunk:vm-1,vm-2": vm_page("t1", 1), "t1": vm_page(None, 2), "chunk:vm-3": vm_page(None, 3)})
    assert drain(listed_reader(raw, moids(1, 2, 3), 2)) == [["vm-1"], ["vm-2"], ["vm-3"]]
    # The token comes first: its continuation is asked for, the next chunk only in the continuation.
    assert raw.log == [("RetrievePropertiesEx", "chunk:vm-1,vm-2"), ("ContinueRetrievePropertiesEx", "t1"),
                       ("RetrievePropertiesEx", "chunk:vm-3")]


def test_a_token_after_the_objects_is_read_before_the_next_chunk():
    # A server writing its token after the objects: the next chunk was asked for at the first
    # object already; the continuation is still read before it.
    first = vm_page(None, 1).replace(b"</returnval>", b"<token>t1</token></returnval>")
    raw = FakeRaw({"chunk:vm-1,vm-2": first, "t1": vm_page(None, 2), "chunk:vm-3": vm_page(None, 3)})
    assert drain(listed_reader(raw, moids(1, 2, 3), 2)) == [["vm-1"], ["vm-2"], ["vm-3"]]
    assert raw.log == [("RetrievePropertiesEx", "chunk:vm-1,vm-2"), ("RetrievePropertiesEx", "chunk:vm-3"),
                       ("ContinueRetrievePropertiesEx", "t1")]


def test_a_reply_without_objects_still_leads_to_the_next_chunk():
    empty = (b'<?xml version="1.0"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'
             b'<soapenv:Body><RetrievePropertiesExResponse xmlns="urn:vim25"/></soapenv:Body></soapenv:Envelope>')
    raw = FakeRaw({"chunk:vm-1": empty, "chunk:vm-2": vm_page(None, 2)})  # vm-1 gone: nothing of it
    assert drain(listed_reader(raw, moids(1, 2), 1)) == [[], ["vm-2"]]
    assert raw.log == [("RetrievePropertiesEx", "chunk:vm-1"), ("RetrievePropertiesEx", "chunk:vm-2")]


def test_an_early_stop_frees_the_result_set_of_the_chunk_asked_for_ahead():
    raw = FakeRaw({"chunk:vm-1,vm-2": vm_page(None, 1, 2), "chunk:vm-3": vm_page("t9", 3), "t9": vm_page(None, 4)})
    reader = listed_reader(raw, moids(1, 2, 3), 2)
    objects = reader.objects()
    assert next(objects)[0].text == "vm-1"
    objects.close()
    reader.close()
    # The second chunk was sent; its token is read from its reply and its rest cancelled.
    assert raw.log == [("RetrievePropertiesEx", "chunk:vm-1,vm-2"), ("RetrievePropertiesEx", "chunk:vm-3"),
                       ("CancelRetrievePropertiesEx", "t9")]
    with pytest.raises(ValueError):
        listed_reader(raw, [], 2)


def test_view_members_in_their_order_or_none():
    view = vim.view.ContainerView("session[1]view-1")
    reply = envelope([obj(view, {"view": vim.ManagedObject.Array(refs(3, 1, 2))})])
    raw = FakeRaw({None: reply})

    def members(body: bytes) -> list[str] | None:
        raw.invoke = lambda mo, name, token: body  # type: ignore[method-assign]
        return listed.view_members(raw, None, view, vim.VirtualMachine)  # type: ignore[arg-type]

    assert members(reply) == ["vm-3", "vm-1", "vm-2"]
    assert members(envelope([obj(view, {"view": vim.ManagedObject.Array([])})])) == []
    # No value; a missingSet entry, even beside a value; an object of another type or with a
    # serverGuid: the read goes through the view (which reports what it reports).
    assert members(envelope([obj(view, {})])) is None
    assert members(reply.replace(b"</objects>", b'<missingSet><path>view</path><fault><fault xsi:type="NoPermission">'
                                 b'<object type="ContainerView">session[1]view-1</object><privilegeId>System.Read'
                                 b'</privilegeId></fault></fault></missingSet></objects>')) is None
    assert members(envelope([obj(view, {"view": vim.ManagedObject.Array([*refs(1), vim.HostSystem("host-1")])})])) is None
    assert members(envelope([obj(view, {"view": vim.ManagedObject.Array([vim.VirtualMachine("vm-1", None, "g")])})])) \
        is None


SERIALIZING = SoapAdapter.SoapStubAdapter(host="127.0.0.1", port=1, version="vim.version.v8_0_3_0")


@pytest.mark.parametrize("moids", [
    ["vm-1"],
    ["vm-10", "vm-2", "vm-3000", "session[52]vm"],
    ["vm-1", "vm-1&<>"],  # pyVmomi writes a moid unescaped: its own bytes, whatever they are
])
def test_chunk_requests_are_pyvmomis_bytes(moids):
    raw = RawSoap(SERIALIZING)
    pc = PC("propertyCollector", SERIALIZING)
    made = listed.ChunkRequests(raw, pc, vim.VirtualMachine, convert.VM_PATHS, 1000)
    info, req = made(moids)
    ref_info, ref_req = listed.chunk_request(raw, pc, moids, vim.VirtualMachine, convert.VM_PATHS, 1000)
    assert info is ref_info and req == ref_req
    assert req.count(b"<objectSet>") == len(moids) and b"vcreport-listed-object" not in req
    assert b"<maxObjects>1000</maxObjects>" in req and b"<reportMissingObjectsInResults>true<" in req
    assert all(f'<obj type="VirtualMachine">{m}</obj>'.encode() in req for m in moids)


# --------------------------------------------------------------------------- against vcsim


def read_vms(sim: Any, listed_read: bool, page_size: int) -> list[tuple[str, dict[str, Any]]]:
    si = sim.si()
    content = si.RetrieveContent()
    return [(m, {k: fastxml.etree.tostring(v) if hasattr(v, "tag") else repr(v) for k, v in p.items()})
            for m, p in fastxml.retrieve(content, vim.VirtualMachine, convert.VM_PATHS, page_size=page_size,
                                         values=convert.VM_VALUES, listed=listed_read)]


@pytest.mark.parametrize("single_page", [False, True])
def test_listed_read_gives_the_view_reads_objects_in_its_order(vcsim_factory, single_page, monkeypatch):
    sim = vcsim_factory(vms=11, hosts=2, clusters=1, standalone=1, single_page=single_page)
    sent: list[int] = []
    original_send = listed.ListedPageReader._send_next

    def send_next(self: listed.ListedPageReader) -> None:
        if not self._next_sent and self._starts:
            sent.append(self._starts[0])
        original_send(self)

    monkeypatch.setattr(listed.ListedPageReader, "_send_next", send_next)
    by_view = read_vms(sim, False, 4)
    by_list = read_vms(sim, True, 4)
    assert len(by_view) == 12  # every VM of the inventory
    assert by_list == by_view
    assert sent == [4, 8]  # three chunks of 4: the two after the first, asked for ahead
