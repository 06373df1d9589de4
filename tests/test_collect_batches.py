"""Replies cut into batches of whole objects (``reporter.collect.batches``).

The reference is the stream parser (``pages.ReplyParser``), which reads a reply as
one document. Whatever the chunking of the reply and the batch size, the batched
reader must hand out the same ``<objects>`` elements (compared in canonical XML, so
namespaces in scope count too), in the same order, with the same token; and where a
cut cannot be trusted (CDATA, comments, a DTD, another encoding, prefixed tags, an
``objects`` element nested in a value) it must fall back to the stream parser and
still give the same result, or the same error for a malformed reply.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree
from pyVmomi import vim
from test_collect_fastxml import STUB, envelope, full_vm, obj

from reporter.collect import batches, convert, fastxml, pages
from reporter.collect.retrieve import ReadStats

NS = ' xmlns:soapenc="http://schemas.xmlsoap.org/soap/encoding/" xmlns:xsd="http://www.w3.org/2001/XMLSchema"'


class ChunkedRaw:
    """RawSoap's interface over canned replies (keyed by the token asking for them),
    each cut at the given sizes (cycled)."""

    def __init__(self, replies: dict[str | None, bytes], sizes: list[int]) -> None:
        self.replies = replies
        self.sizes = sizes
        self.log: list[tuple[str, str | None]] = []

    def request(self, mo: Any, name: str, args: list[Any]) -> tuple[str, str | None]:
        return name, (args[0] if name != "RetrievePropertiesEx" else None)

    def send(self, mo: Any, name: str, token: str | None) -> tuple[str, str | None]:
        self.log.append((name, token))
        return name, token

    def receive_stream(self, pending: tuple[str, str | None]) -> Iterator[bytes]:
        body = self.replies[pending[1]]
        i = k = 0
        while i < len(body):
            n = self.sizes[k % len(self.sizes)]
            yield body[i:i + n]
            i, k = i + n, k + 1

    def invoke(self, mo: Any, name: str, token: str | None) -> bytes:
        self.send(mo, name, token)
        return b""


def c14n(el: Any) -> bytes:
    return etree.tostring(el, method="c14n")


def streamed(body: bytes) -> tuple[list[bytes], str | None]:
    """The reference: the whole reply through the stream parser."""
    reply = pages.ReplyParser()
    found = reply.feed(body) + reply.close()
    return [c14n(oc) for oc in found], reply.token


def batched(replies: dict[str | None, bytes], sizes: list[int], batch_bytes: int) -> tuple[list[list[bytes]], Any]:
    """Every page's objects through ``BatchPageReader``, released as a caller does."""
    raw = ChunkedRaw(replies, sizes)
    reader = batches.BatchPageReader(raw, None, ("RetrievePropertiesEx", None), batch_bytes=batch_bytes)
    out: list[list[bytes]] = [[]]
    for oc in reader.objects():
        if oc is pages.PAGE_END:
            out.append([])
            continue
        out[-1].append(c14n(oc))
        reader.release(oc)
    reader.close()
    return out[:-1], raw


def vms(*numbers: int, token: str | None = None, annotation: str = "x") -> bytes:
    return envelope([obj(vim.VirtualMachine(f"vm-{n}"), {"name": f"v{n}", "config.annotation": annotation})
                     for n in numbers], token=token, extra_ns=NS)


def split_all(body: bytes, sizes: list[int], batch_bytes: int) -> tuple[list[Any], batches.ReplySplitter]:
    splitter = batches.ReplySplitter(batch_bytes)
    items: list[Any] = []
    i = k = 0
    while i < len(body):
        n = sizes[k % len(sizes)]
        items += splitter.feed(body[i:i + n])
        i, k = i + n, k + 1
    items += splitter.finish()
    return items, splitter


# --------------------------------------------------------------------------- any chunking, any batch size

REPLY = envelope([full_vm(f"vm-{n}") for n in range(1, 6)] + [obj(vim.VirtualMachine("vm-9"), {"name": "a&b <c>"})],
                 token="t&1", extra_ns=NS)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sizes=st.lists(st.integers(min_value=1, max_value=3000), min_size=1, max_size=8),
       batch_bytes=st.integers(min_value=1, max_value=len(REPLY) + 10))
def test_any_chunking_and_batch_size_give_the_same_objects_in_order(sizes, batch_bytes):
    want, token = streamed(REPLY)
    assert len(want) == 6 and token == "t&1"
    got, raw = batched({None: REPLY, "t&1": vms(7)}, sizes, batch_bytes)
    assert got[0] == want
    assert got[1] == streamed(vms(7))[0]
    assert raw.log == [("RetrievePropertiesEx", None), ("ContinueRetrievePropertiesEx", "t&1")]
    # And the splitter itself: the batches' bytes are exactly the reply's objects, in order.
    items, splitter = split_all(REPLY, sizes, batch_bytes)
    assert all(isinstance(i, batches.Batch) for i in items) and items
    start, end = REPLY.index(b"<objects>"), REPLY.rindex(b"</objects>") + len(b"</objects>")
    assert b"".join(i.segment() for i in items) == REPLY[start:end]
    assert splitter.token == "t&1"


def test_batch_size_bounds_what_is_alive():
    """A 40-VM page in ~2 KB chunks and batches of about 3 VMs: the worker never holds
    more than a few batches, and the objects come out in page order."""
    body = envelope([full_vm(f"vm-{n}") for n in range(40)], extra_ns=NS)
    per_vm = len(body) // 40
    items, _ = split_all(body, [2048], 3 * per_vm)
    assert 10 <= len(items) <= 20
    assert max(len(i.document) for i in items) < 3 * per_vm + 2048 + 500
    got, _ = batched({None: body}, [2048], 3 * per_vm)
    assert got == [streamed(body)[0]]


def test_converted_values_are_those_of_the_whole_page():
    """The converter reads elements of a batch exactly as elements of the whole reply:
    the namespaces the wrapper declares resolve every ``xsi:type``."""
    body = envelope([full_vm(f"vm-{n}") for n in range(4)], extra_ns=NS)
    ref = list(fastxml.Converter(STUB, convert.VM_VALUES).objects(fastxml.parse_page(body), ReadStats()))
    converter = fastxml.Converter(STUB, convert.VM_VALUES)
    raw = ChunkedRaw({None: body}, [700])
    reader = batches.BatchPageReader(raw, None, ("RetrievePropertiesEx", None), batch_bytes=1000)
    got = []
    for oc in reader.objects():
        if oc is not pages.PAGE_END:
            got.append(converter.object(oc, ReadStats()))
            reader.release(oc)
    assert got == ref and len(got) == 4


# --------------------------------------------------------------------------- text, tokens, entities


def test_end_tag_in_text_is_escaped_and_never_cut():
    body = vms(1, 2, 3, annotation="</objects><objects>fake</objects> & ]]> \"q\"")
    assert b"&lt;/objects" in body and body.count(b"</objects>") == 3
    items, splitter = split_all(body, [50], 1)
    assert len(items) == 3 and not splitter.rolled_back
    got, _ = batched({None: body}, [50], 1)
    assert got == [streamed(body)[0]]


@pytest.mark.parametrize("token", ["a&b", "<t>", "x\"y'z", "ü-1"])
def test_tokens_with_entities_and_non_ascii(token):
    body = vms(1, 2, token=token)
    got, raw = batched({None: body, token: vms(3)}, [17], 64)
    assert [len(p) for p in got] == [2, 1]
    assert raw.log[-1] == ("ContinueRetrievePropertiesEx", token)


def test_token_after_the_objects_is_still_followed():
    body = vms(1, 2, token="t1")
    moved = body.replace(b"<token>t1</token>", b"").replace(b"</returnval>", b"<token>t1</token></returnval>")
    assert moved.index(b"<token>") > moved.rindex(b"</objects>")
    got, raw = batched({None: moved, "t1": vms(3)}, [40], 100)
    assert [len(p) for p in got] == [2, 1] and raw.log[-1] == ("ContinueRetrievePropertiesEx", "t1")


# --------------------------------------------------------------------------- cuts that cannot be trusted


def _cdata(body: bytes) -> bytes:
    """The first annotation as a CDATA section holding an end tag and a whole object."""
    return body.replace(b">x</val>", b"><![CDATA[x</objects><objects><obj>vm-0</obj></objects>]]></val>", 1)


def _comment(body: bytes) -> bytes:
    return body.replace(b"</objects><objects>", b"</objects><!-- </objects><objects> --><objects>", 1)


def _nested(body: bytes) -> bytes:
    """An element named ``objects`` inside a value (no vim25 type has one; a server could)."""
    return body.replace(b">x</val>", b"><objects>in</objects><objects>deep</objects>x</val>", 1)


@pytest.mark.parametrize("edit", [_cdata, _comment, _nested])
@pytest.mark.parametrize("batch_bytes", [1, 300, 1 << 20])
@pytest.mark.parametrize("chunk", [1, 33, 1 << 20])
def test_a_wrong_cut_is_read_again_by_the_stream_parser(edit, batch_bytes, chunk):
    body = edit(vms(1, 2, 3, 4))
    want, _ = streamed(body)
    assert len(want) == 4
    got, _ = batched({None: body}, [chunk], batch_bytes)
    assert got == [want]


def test_a_cut_inside_cdata_is_rolled_back():
    body = _cdata(vms(1, 2, 3))
    rolled: list[int] = []
    original = batches.ReplySplitter.rollback

    def rollback(self: batches.ReplySplitter, cut: list[batches.Batch]) -> list[Any]:
        rolled.append(len(cut))
        return original(self, cut)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(batches.ReplySplitter, "rollback", rollback)
        # The first chunk ends just after the end tag inside the CDATA section: cut there.
        first = body.index(b"[CDATA[x</objects>") + len(b"[CDATA[x</objects>")
        got, _ = batched({None: body}, [first, len(body)], 1)
    assert got == [streamed(body)[0]] and len(got[0]) == 3
    # Once, with the batch cut in the CDATA (and the one cut after it, if cut by then).
    assert len(rolled) == 1 and rolled[0] in (1, 2)


@pytest.mark.parametrize("head", [
    b'<?xml version="1.0" encoding="ISO-8859-1"?>',  # another encoding
    b'<?xml version="1.0"?><!DOCTYPE e [<!ENTITY z "zz">]>',  # a DTD
    b'<?xml version="1.0"?><!-- a comment -->',
    b'<?xml version="1.0"?><?pi data?>',
])
def test_envelopes_that_are_not_plain_go_to_the_stream_parser(head):
    body = vms(1, 2)
    body = head + body[body.index(b"?>") + 2:]
    if b"ISO-8859-1" in head:
        body = body.replace(b">x</val>", b">\xe9t\xe9</val>")  # latin-1 bytes, not UTF-8
    items, splitter = split_all(body, [64], 1)
    assert not any(isinstance(i, batches.Batch) for i in items) and splitter.batches == 0
    want, _ = streamed(body)
    got, _ = batched({None: body}, [64], 1)
    assert got == [want] and len(want) == 2
    if b"ISO-8859-1" in head:
        assert "été".encode() in want[0]


def test_prefixed_objects_go_to_the_stream_parser():
    body = vms(1, 2).replace(b"<objects>", b'<v:objects xmlns:v="urn:vim25">').replace(b"</objects>", b"</v:objects>")
    items, splitter = split_all(body, [64], 1)
    assert splitter.batches == 0 and not any(isinstance(i, batches.Batch) for i in items)
    got, _ = batched({None: body}, [64], 1)
    assert got == [streamed(body)[0]] and len(got[0]) == 2


def test_end_tag_in_an_attribute_value_is_not_xml():
    """A raw ``<`` cannot be in an attribute value: such a reply fails, on either path."""
    body = vms(1, 2).replace(b'<obj type="VirtualMachine">vm-1', b'<obj type="</objects>">vm-1', 1)
    with pytest.raises(etree.XMLSyntaxError):
        streamed(body)
    with pytest.raises(etree.XMLSyntaxError):
        batched({None: body}, [40], 1)


@pytest.mark.parametrize("batch_bytes", [1, 1 << 20])
def test_a_reply_that_breaks_off_fails_and_frees_the_rest(batch_bytes):
    whole = vms(2, 3, token="t2")
    broken = whole[:whole.rindex(b"<objects>") + 30]
    raw = ChunkedRaw({None: vms(1, token="t1"), "t1": broken, "t2": vms(4)}, [40])
    reader = batches.BatchPageReader(raw, None, ("RetrievePropertiesEx", None), batch_bytes=batch_bytes)
    seen = []
    with pytest.raises(etree.XMLSyntaxError):
        for oc in reader.objects():
            if oc is not pages.PAGE_END:
                seen.append(oc[0].text)
                reader.release(oc)
    reader.close()
    assert seen[0] == "vm-1"
    assert raw.log[-2:] == [("ContinueRetrievePropertiesEx", "t2"), ("CancelRetrievePropertiesEx", None)] or \
        raw.log[-1] == ("ContinueRetrievePropertiesEx", "t2")


def test_empty_result_and_not_a_result():
    empty = (b'<?xml version="1.0"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'
             b'<soapenv:Body><RetrievePropertiesExResponse xmlns="urn:vim25"/></soapenv:Body></soapenv:Envelope>')
    assert batched({None: empty}, [7], 1)[0] == [[]]
    fault = empty.replace(b"RetrievePropertiesExResponse", b"LoginResponse")
    with pytest.raises(pages.ParseError, match="unexpected reply element {urn:vim25}LoginResponse"):
        batched({None: fault}, [7], 1)


def test_early_stop_cancels_and_stops_the_worker():
    replies = {None: vms(0, 1, token="t0")}
    replies.update({f"t{i}": vms(i + 2, token=f"t{i + 1}") for i in range(5)})
    raw = ChunkedRaw(replies, [30])
    reader = batches.BatchPageReader(raw, None, ("RetrievePropertiesEx", None), batch_bytes=1)
    objects = reader.objects()
    assert next(objects)[0].text == "vm-0"
    objects.close()
    reader.close()
    assert reader._pool is None
    assert raw.log == [("RetrievePropertiesEx", None), ("ContinueRetrievePropertiesEx", "t0"),
                       ("CancelRetrievePropertiesEx", "t1")]
