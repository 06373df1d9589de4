"""PropertyCollector replies parsed as they arrive, one object at a time.

A ``RetrievePropertiesEx`` reply can hold any number of objects: ``maxObjects`` is
only a hint, and a server may answer 10,000 VMs in one page (about 100 MB of XML,
several times that as a parsed tree). So a reply is never read into one bytes
object nor parsed into one tree: its body is fed to lxml's pull parser in chunks as
it comes off the socket, each ``<objects>`` element is handed out as soon as it is
complete, and the caller releases it once converted. Memory stays that of one
chunk and one object, whatever the page size.

The continuation token comes before the objects (schema order), so the next page
is asked for as soon as the token is parsed: the server builds it while this one
is read and converted. ``PageReader.close`` frees the server's result set when the
reader stops early or fails (``CancelRetrievePropertiesEx``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from lxml import etree

log = logging.getLogger(__name__)

_SOAP_BODY = "{http://schemas.xmlsoap.org/soap/envelope/}Body"
_V = "{urn:vim25}"  # the vim25 namespace of every vSphere API version
T_RETURNVAL, T_TOKEN, T_OBJECTS = _V + "returnval", _V + "token", _V + "objects"
_RESPONSES = (_V + "RetrievePropertiesExResponse", _V + "ContinueRetrievePropertiesExResponse")
# Only these elements raise events (matched in C): the per-value elements never reach Python here.
_EVENT_TAGS = (_SOAP_BODY, *_RESPONSES, T_RETURNVAL, T_TOKEN, T_OBJECTS)


class ParseError(Exception):
    """The reply is not a RetrievePropertiesEx result."""


class ReplyParser:
    """One reply, fed in chunks: ``feed`` returns the ``<objects>`` elements it completed.

    ``token`` is set once parsed (before any object); ``result`` is the ``<returnval>``
    element (None for a reply without result: nothing of that type).
    """

    def __init__(self) -> None:
        # A SOAP reply has no DTD: no entities, no network, no comments or PIs to skip.
        self._parser = etree.XMLPullParser(
            events=("start", "end"), tag=_EVENT_TAGS, resolve_entities=False, no_network=True, load_dtd=False,
            remove_comments=True, remove_pis=True, collect_ids=False, huge_tree=False)
        self.token: str | None = None
        self.result: Any = None
        self.objects_started = False
        self.root: Any = None
        self._body: Any = None
        self._response: Any = None
        self._body_done = False

    def feed(self, data: bytes) -> list[Any]:
        self._parser.feed(data)
        return self._events()

    def close(self) -> list[Any]:
        """The objects completed by the end of the reply; ``ParseError`` if it was not a result."""
        self.root = self._parser.close()  # XMLSyntaxError when the reply broke off
        done = self._events()
        if not self._body_done:
            raise ParseError("no SOAP body in the reply")
        return done

    def release(self, oc: Any) -> None:
        """Free a converted ``<objects>`` element (its part of the document)."""
        oc.clear()
        self.result.remove(oc)

    def _events(self) -> list[Any]:
        done = []
        el: Any
        for event, el in self._parser.read_events():
            tag = el.tag
            if event == "end":
                if tag == T_OBJECTS:
                    if self.result is not None and el.getparent() is self.result:
                        done.append(el)
                elif tag == T_TOKEN:
                    if self.result is not None and el.getparent() is self.result:
                        self.token = el.text or None
                elif tag == _SOAP_BODY and el is self._body:
                    self._end_body(el)
            elif tag == T_OBJECTS:
                self.objects_started = self.objects_started or (
                    self.result is not None and el.getparent() is self.result)
            elif tag == T_RETURNVAL:
                if self.result is None and self._response is not None and el.getparent() is self._response:
                    self.result = el
            elif tag in _RESPONSES:
                if self._response is None and self._body is not None and el.getparent() is self._body \
                        and el.getprevious() is None:
                    self._response = el
            elif tag == _SOAP_BODY and self._body is None:
                parent = el.getparent()
                if parent is not None and parent.getparent() is None:  # Envelope/Body
                    self._body = el
        return done

    def _end_body(self, body: Any) -> None:
        self._body_done = True
        if self._response is None:
            if len(body) == 0:
                raise ParseError("no SOAP body in the reply")
            raise ParseError(f"unexpected reply element {body[0].tag}")


@dataclass
class Page:
    token: str | None
    objects: list[Any]
    root: Any  # keeps the parsed document alive while its objects are converted


def parse_page(body: bytes) -> Page | None:
    """A whole reply at once (tests, small replies); None when it has no result."""
    reply = ReplyParser()
    objects = reply.feed(body)
    objects += reply.close()
    if reply.result is None:
        return None
    return Page(token=reply.token, objects=objects, root=reply.root)


PAGE_END = None  # what ``PageReader.objects`` yields after the last object of a page


class PageReader:
    """The ``<objects>`` elements of one read, page after page, as they are parsed.

    ``raw`` is a ``RawSoap`` (send / receive_stream / request / invoke); ``first`` the
    serialized ``RetrievePropertiesEx`` request. The caller converts each element,
    then ``release``s it.
    """

    def __init__(self, raw: Any, pc: Any, first: tuple[Any, bytes]) -> None:
        self.raw = raw
        self.pc = pc
        self._first: tuple[Any, bytes] | None = first
        self._reply: Any = None  # the reply being read: its ``token``
        self._asked = False  # the current reply's token was sent as a continuation
        self._ahead: Any = None  # that continuation, sent and not read yet

    def objects(self) -> Iterator[Any]:
        """Each object element, and ``PAGE_END`` after each page."""
        assert self._first is not None, "objects() reads a result set once"
        pending = self.raw.send(self.pc, *self._first)
        self._first = None
        while pending is not None:
            self._asked = False
            yield from self._read_reply(pending)
            yield PAGE_END
            pending = self._next_reply()
        self._reply = None

    def _next_reply(self) -> Any:
        """The reply to read after the current one: its continuation, sent ahead (or None)."""
        pending, self._ahead = self._ahead, None
        return pending

    def _read_reply(self, pending: Any) -> Iterator[Any]:
        """The objects of one reply, fed to the stream parser as they arrive."""
        reply = self._reply = ReplyParser()
        stream = self.raw.receive_stream(pending)
        try:
            for chunk in stream:
                done = reply.feed(chunk)
                self._ask_ahead(reply)
                yield from done
            done = reply.close()
            self._ask_ahead(reply)
            yield from done
        finally:
            stream.close()

    def release(self, oc: Any) -> None:
        """Free a converted ``<objects>`` element (its part of the document)."""
        oc.clear()
        parent = oc.getparent()
        if parent is not None:
            parent.remove(oc)

    def _ask_ahead(self, reply: Any) -> None:
        if reply.token and not self._asked:
            self._asked = True
            info, req = self.raw.request(self.pc, "ContinueRetrievePropertiesEx", [reply.token])
            self._ahead = self.raw.send(self.pc, info, req)  # the server builds it while we read this one

    def close(self) -> None:
        """After an early stop or an error: free the rest of the server's result set."""
        reply, ahead = self._reply, self._ahead
        self._reply = self._ahead = None
        try:
            if ahead is not None:  # the next page was asked for: its token names the rest
                token = self._read_token(ahead)
            else:
                token = reply.token if reply is not None and not self._asked else None
            if token:
                info, req = self.raw.request(self.pc, "CancelRetrievePropertiesEx", [token])
                self.raw.invoke(self.pc, info, req)
        except Exception as exc:
            log.debug("freeing the rest of a read failed: %s", exc)

    def _read_token(self, pending: Any) -> str | None:
        """A sent reply's token, read no further than its first object."""
        reply = ReplyParser()
        stream = self.raw.receive_stream(pending)
        try:
            for chunk in stream:
                reply.feed(chunk)
                if reply.token or reply.objects_started:
                    return reply.token
            reply.close()
            return reply.token
        finally:
            stream.close()
