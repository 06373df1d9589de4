"""A read of many objects as several requests of listed objects, each asked for ahead.

A read through a ContainerView is one ``RetrievePropertiesEx``: the server works out
the whole result before its first byte. vcsim (and a server that ignores
``maxObjects``) then answers all 10,000 VMs in one reply that it builds in memory
first: the client waits for seconds with nothing to convert (measured: 2.1 s to the
first byte of a paged reply, 8.6 s of the single-page one, on the same 10,000-VM
inventory of a loaded machine; see ``benchmarks/RESULTS.md``). Listed reads avoid it:

1. the view's ``view`` property, the list of its objects in the view's order (one small
   call: ~0.8 MB for 10,000 VMs);
2. one request per ``chunk`` of them, with an explicit ``ObjectSpec`` each, no traversal
   and the same ``PropertySpec``, in that order. The next request is sent as soon as the
   current reply's token is known to be absent (its first object), so the server builds
   it while this one is converted; a reply that still has a token (a server paging below
   the chunk) is followed with ``ContinueRetrievePropertiesEx`` first.

Objects come out in the view's order, as the view read gives them. An object deleted
between the list and its request comes back as a ``missingSet`` entry
(``reportMissingObjectsInResults``), or not at all (vcsim), and is left out either way,
as the view read leaves it out.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from pyVmomi import vim, vmodl

from reporter.collect.batches import BatchPageReader
from reporter.collect.pages import parse_page
from reporter.collect.rawsoap import RawSoap

_PC = vmodl.query.PropertyCollector


_V = "{urn:vim25}"
T_PROPSET, T_NAME, T_VAL, T_MISSINGSET = _V + "propSet", _V + "name", _V + "val", _V + "missingSet"


def view_members(raw: RawSoap, pc: Any, view: Any, vimtype: type) -> list[str] | None:
    """The moids of the objects of ``view`` in its order, read raw; None when the reply has
    no ``view`` value, reports it missing, or names an object of another type or with a
    ``serverGuid`` (the caller reads through the view instead, which then reports what it
    reports). The references are read as text: no pyVmomi object per VM (~5 µs each, on
    the converting thread, while the other stages want the GIL)."""
    # reportMissingObjectsInResults as the view read: a view gone with its session (vcsim) makes an
    # empty reply, which the view read then meets the same way (the session is checked), not a fault.
    spec = _PC.FilterSpec(objectSet=[_PC.ObjectSpec(obj=view, skip=False)],
                          propSet=[_PC.PropertySpec(type=vim.view.ContainerView, pathSet=["view"], all=False)],
                          reportMissingObjectsInResults=True)
    info, req = raw.request(pc, "RetrievePropertiesEx", [[spec], _PC.RetrieveOptions()])
    page = parse_page(raw.invoke(pc, info, req))
    if page is None or len(page.objects) != 1:
        return None
    values = None
    for child in page.objects[0]:
        if child.tag == T_MISSINGSET:
            return None
        if child.tag == T_PROPSET and child.findtext(T_NAME) == "view":
            values = child.find(T_VAL)
    if values is None:
        return None
    wsdl_name = vimtype._wsdlName  # type: ignore[attr-defined]
    moids = []
    for ref in values:
        if ref.get("type") != wsdl_name or ref.get("serverGuid") is not None:
            return None
        moids.append(ref.text or "")
    return moids


def chunk_request(raw: RawSoap, pc: Any, moids: Sequence[str], vimtype: type, paths: list[str],
                  page_size: int) -> tuple[Any, bytes]:
    """``RetrievePropertiesEx`` of the ``vimtype`` objects ``moids`` (explicit object specs, in
    order) and ``paths``, serialized by pyVmomi."""
    spec = _PC.FilterSpec(objectSet=[_PC.ObjectSpec(obj=vimtype(moid), skip=False) for moid in moids],
                          propSet=[_PC.PropertySpec(type=vimtype, pathSet=paths, all=False)],
                          reportMissingObjectsInResults=True)
    return raw.request(pc, "RetrievePropertiesEx", [[spec], _PC.RetrieveOptions(maxObjects=page_size)])


_MARKER = "vcreport-listed-object"
_SPECIAL = re.compile("[<&>]")


class ChunkRequests:
    """``chunk_request``'s bytes without pyVmomi serializing each object spec (~50 ms of the
    converting thread per 1,000): the request of one marker object is serialized once by
    pyVmomi and its ``<objectSet>`` repeated per moid, so the bytes are pyVmomi's. A chunk
    with a moid holding ``<``, ``&`` or ``>`` (which pyVmomi writes unescaped) is serialized
    by pyVmomi itself."""

    def __init__(self, raw: RawSoap, pc: Any, vimtype: type, paths: list[str], page_size: int) -> None:
        self._raw, self._pc, self._vimtype, self._paths, self._page_size = raw, pc, vimtype, paths, page_size
        info, req = chunk_request(raw, pc, [_MARKER], vimtype, paths, page_size)
        marker = _MARKER.encode()
        at = req.index(marker)
        start = req.rindex(b"<objectSet>", 0, at)
        end = req.index(b"</objectSet>", at) + len(b"</objectSet>")
        self.info = info
        self._head, self._tail = req[:start], req[end:]
        before, after = req[start:end].split(marker)
        self._before, self._after = before.decode(), after.decode()

    def __call__(self, moids: Sequence[str]) -> tuple[Any, bytes]:
        if _SPECIAL.search("".join(moids)):
            return chunk_request(self._raw, self._pc, moids, self._vimtype, self._paths, self._page_size)
        before, after = self._before, self._after
        specs = "".join([before + moid + after for moid in moids])
        return self.info, self._head + specs.encode() + self._tail


class ListedPageReader(BatchPageReader):
    """``BatchPageReader`` over several first requests, made by ``make_request`` for
    each chunk of ``refs`` (moids) when it is sent: objects of each (and of its continuation
    pages), ``PAGE_END`` after each reply; the next chunk is asked for while this one
    is read."""

    def __init__(self, raw: Any, pc: Any, refs: Sequence[Any], chunk: int,
                 make_request: Any, batch_bytes: int | None = None) -> None:
        if not refs:
            raise ValueError("a listed read needs objects to read")
        super().__init__(raw, pc, make_request(refs[:chunk]), batch_bytes)
        self._refs = refs
        self._starts = list(range(chunk, len(refs), chunk))
        self._chunk = chunk
        self._make_request = make_request
        self._next: Any = None  # the next chunk's request, sent and not read yet
        self._next_sent = False  # for the chunk being read

    def _next_reply(self) -> Any:
        if self._ahead is not None:  # this chunk goes on: its continuation first
            return super()._next_reply()
        self._send_next()  # a reply without objects has not sent it yet
        pending, self._next = self._next, None
        self._next_sent = False
        return pending

    def _send_next(self) -> None:
        if self._next_sent:
            return
        self._next_sent = True
        if self._starts:
            start = self._starts.pop(0)
            info, req = self._make_request(self._refs[start:start + self._chunk])
            self._next = self.raw.send(self.pc, info, req)

    def _ask_ahead(self, reply: Any) -> None:
        super()._ask_ahead(reply)  # the continuation, when the reply has a token
        if reply.objects_started and not reply.token:
            self._send_next()  # the token precedes the objects: this chunk is one reply

    def close(self) -> None:
        pending, self._next = self._next, None
        super().close()
        if pending is not None:  # asked for and not read: free its result set too
            self._ahead = pending
            self._reply = None
            super().close()
