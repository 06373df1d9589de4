"""SOAP calls whose reply we read as bytes, on pyVmomi's own session and connections.

The bulk property reads are the only calls worth the trouble: pyVmomi spends most of
a 10,000-VM collection deserializing their replies into Python objects (see
``benchmarks/RESULTS.md``). ``RawSoap`` sends the same request pyVmomi would (its
serializer, its session cookie, SOAPAction, TLS context, timeout and connection pool)
and hands the reply body back as bytes for ``fastxml`` to parse with lxml.

A SOAP fault is turned into the very exception pyVmomi raises (its deserializer reads
the fault body), so a dead session is ``vim.fault.NotAuthenticated`` on either path and
``Session.call`` renews it the same way. Only property reads may go this way
(``READ_METHODS``): anything else is refused before a byte is sent.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from http.client import HTTPException
from http.cookies import SimpleCookie
from typing import Any

from pyVmomi import SoapAdapter, vmodl

_PC = vmodl.query.PropertyCollector

# The reads this transport may send; every one only reads (or frees our own result set).
READ_METHODS = frozenset({"RetrievePropertiesEx", "ContinueRetrievePropertiesEx", "CancelRetrievePropertiesEx"})

# Small enough that a page is parsed while it arrives, large enough that feeding the
# parser costs nothing per chunk.
_READ_CHUNK = 256 << 10


def _user_agent() -> str:
    sa = SoapAdapter
    names = ("version_info_str", "kind", "PYTHON_VERSION", "OS_NAME", "OS_VERSION", "OS_ARCH")
    parts = [getattr(sa, n, "") for n in names]
    return "pyvmomi {} {} Python/{} ({}; {}; {})".format(*parts)


_USER_AGENT = _user_agent()


class RawSoap:
    """Send property-collector calls over ``stub`` (a pyVmomi ``SoapStubAdapter``)."""

    def __init__(self, stub: Any) -> None:
        # A SessionOrientedStub wraps the SOAP stub that owns the connections.
        self.stub = getattr(stub, "soapStub", stub)

    def method(self, name: str) -> Any:
        if name not in READ_METHODS:
            raise ValueError(f"{name} is not a read-only property collector method")
        return _PC._GetMethodInfo(name)

    def request(self, mo: Any, name: str, args: list[Any]) -> tuple[Any, bytes]:
        """The serialized request (pyVmomi's serializer: same envelope as its own calls)."""
        info = self.method(name)
        stub = self.stub
        req = stub.SerializeRequest(mo, info, args)
        for modifier in getattr(stub, "requestModifierList", ()):
            req = modifier(req)
        return info, req

    def send(self, mo: Any, info: Any, req: bytes) -> Pending:
        """POST ``req`` on a pooled connection; the reply is read by ``receive``.

        Sending the next page's request before the current reply is parsed lets the
        server build that page while we work.
        """
        stub = self.stub
        headers = {
            "Cookie": stub.cookie,
            "SOAPAction": stub.versionId,
            "Content-Type": "text/xml; charset=UTF-8",
            "User-Agent": _USER_AGENT,
        }
        custom = getattr(stub, "_customHeaders", None)
        if custom:
            headers.update(custom)
        if getattr(stub, "_acceptCompressedResponses", False):
            headers["Accept-Encoding"] = "gzip, deflate"
        conn = stub.GetConnection()
        try:
            conn.request("POST", stub.path, req, headers)
        except Exception:
            conn.close()
            stub.DropConnections()
            raise
        return Pending(conn, info)

    def receive(self, pending: Pending) -> bytes:
        """The whole reply body of a sent request (see ``receive_stream``)."""
        return b"".join(self.receive_stream(pending))

    def receive_stream(self, pending: Pending) -> Iterator[bytes]:
        """The reply body of a sent request, in chunks as they arrive; pyVmomi's exception
        for a fault.

        As ``SoapStubAdapter.InvokeMethod``: the connection goes back to the pool after
        a complete read, all pooled connections are dropped after a socket or HTTP
        error, the session cookie is updated when the server sends a new one. A reader
        that stops early (closes this generator) closes the connection: a half-read
        reply cannot be reused.
        """
        stub, conn = self.stub, pending.conn
        complete = False
        try:
            try:
                resp = conn.getresponse()
                status = resp.status
                if status not in (200, 500):
                    raise HTTPException(f"{status} {resp.reason}")
                _update_cookie(stub, resp)
                if status == 500:  # a fault: small, read whole for pyVmomi's deserializer
                    body = b"".join(_iter_body(resp))
                    complete = True
                    raise _fault(stub, pending.info, body)
                yield from _iter_body(resp)
                complete = True
            except Exception:
                if not complete:
                    stub.DropConnections()
                raise
        finally:
            if complete:
                stub.ReturnConnection(conn)
            else:
                conn.close()

    def invoke(self, mo: Any, info: Any, req: bytes) -> bytes:
        return self.receive(self.send(mo, info, req))


class Pending:
    """A request sent whose reply is not read yet."""

    def __init__(self, conn: Any, info: Any) -> None:
        self.conn = conn
        self.info = info


def _read_body(resp: Any) -> bytes:
    return b"".join(_iter_body(resp))


def _iter_body(resp: Any) -> Iterator[bytes]:
    """The body in chunks of about ``_READ_CHUNK`` bytes, decompressed when sent compressed
    (only when the stub asked for it: acceptCompressedResponses)."""
    encoding = (resp.getheader("Content-Encoding") or "identity").lower()
    compressed = encoding in ("gzip", "deflate")
    dec = None
    while chunk := resp.read(_READ_CHUNK):
        if not compressed:
            yield chunk
            continue
        if dec is None:
            dec = zlib.decompressobj(_wbits(encoding, chunk))
        if out := dec.decompress(chunk):
            yield out
    if dec is not None and (rest := dec.flush()):
        yield rest


def _wbits(encoding: str, first: bytes) -> int:
    """As pyVmomi's GzipReader: gzip; for "deflate" a zlib stream, raw deflate, or gzip after all."""
    if encoding == "gzip" or first[:2] == b"\x1f\x8b":
        return 16 + zlib.MAX_WBITS
    if len(first) >= 2 and (first[0] & 0x0F) == 8 and (first[0] * 256 + first[1]) % 31 == 0:
        return zlib.MAX_WBITS
    return -zlib.MAX_WBITS


def _update_cookie(stub: Any, resp: Any) -> None:
    cookie = resp.getheader("Set-Cookie") or resp.getheader("set-cookie")
    if not cookie:
        return
    stub.cookie = cookie
    session = SimpleCookie(cookie).get(SoapAdapter.COOKIE_NAME)
    if session:
        SoapAdapter.StubAdapterBase.SetSessionId(stub, session.value)


def _fault(stub: Any, info: Any, body: bytes) -> BaseException:
    """The exception pyVmomi raises for this fault reply (its own deserializer)."""
    obj = SoapAdapter.SoapResponseDeserializer(stub).Deserialize(body, info.result)
    if isinstance(obj, BaseException):
        return obj
    return HTTPException(f"500 with a non-fault body: {type(obj).__name__}")
