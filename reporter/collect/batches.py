"""A reply's byte stream cut into batches of whole ``<objects>`` elements.

lxml's feed parser holds the GIL while it parses, so a reply fed to it chunk by
chunk is parsed on the converting thread. ``etree.fromstring`` releases the GIL: a
batch of complete ``<objects>`` elements, wrapped in an element that declares the
reply's namespaces, parses in a worker thread while the caller converts the previous
batch. Memory stays that of a few batches, whatever the page size.

``ReplySplitter`` cuts on bytes, without parsing, at the last ``</objects>`` of what
has arrived. That is right whenever the batch before it started between two objects
and the cut is too; it is wrong only where ``</objects>`` is not the end tag of a
result object: inside CDATA, a comment or a processing instruction, or the end of an
``objects`` element nested in a value (text and attribute values cannot hold it: a
raw ``<`` is not allowed there, ``</objects>`` in a value is ``&lt;/objects>``). A
wrong cut always leaves the batch malformed (an element, CDATA section or comment
left open), so a batch that parses is a correct one; one that does not is read again,
with everything after it, by the stream parser (``rollback``), which then reports a
reply that really is malformed. The first cut must be right: the first object follows
``<returnval>`` or ``</token>`` and the envelope before it has no DTD, comment, CDATA
or processing instruction and is UTF-8, or the whole reply goes to the stream parser.

Everything not cut into batches (the envelope, the token, the end of the reply, the
rest of a reply after a rollback) goes to the streaming ``pages.ReplyParser``, which
checks the reply's shape and hands out any objects itself, in reply order.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from lxml import etree

from reporter.collect.pages import T_OBJECTS, T_TOKEN, PageReader, ReplyParser

# Batches of at least this many bytes (a chunk read off the socket; vcsim: ~10 KB a VM, a real VM 20-40 KB): the
# parsed tree of one is ~6x that, and at most three are alive at a time.
BATCH_BYTES = 256 << 10

_CLOSE = b"</objects>"
_FIRST_OBJECT = re.compile(rb"<objects[\s>]")
# What may precede the first object: the result element opened, or its token closed.
_BEFORE_FIRST = re.compile(rb"(?:<returnval(?:\s[^<>]*)?>|</token>)\s*\Z")
_DECLARATION = re.compile(rb"\A(?:\xef\xbb\xbf)?<\?xml\s[^<>]*\?>")
_ENCODING = re.compile(rb"""encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_UTF8 = {b"utf-8", b"utf8"}
# A reply whose envelope grew this long without a first object is read by the stream parser.
_HEAD_LIMIT = 64 << 10

_HEAD, _BATCHING, _STREAM = "head", "batching", "stream"


@dataclass
class Batch:
    """Complete ``<objects>`` elements, wrapped: a document for ``parse_batch``."""

    document: bytes
    open_len: int  # the wrapper's start tag; the reply's own bytes follow it
    close_len: int

    def segment(self) -> bytes:
        """The reply's bytes in this batch (for ``ReplySplitter.rollback``)."""
        return self.document[self.open_len:len(self.document) - self.close_len]


def _parser() -> etree.XMLParser:
    # As the stream parser: no DTD, no entities, no network. One per batch: a parser is
    # not shared between threads.
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, remove_comments=True,
                           remove_pis=True, collect_ids=False, huge_tree=False)


def parse_batch(batch: Batch) -> Any:
    """The wrapper element of a batch; ``XMLSyntaxError`` when malformed (a wrong cut or
    a malformed reply). Any thread: libxml2 parses with the GIL released."""
    return etree.fromstring(batch.document, _parser())


def batch_children(wrapper: Any) -> tuple[list[Any], str | None]:
    """The ``<objects>`` elements of a parsed batch, and a token found among them (a
    server that writes it after objects); other elements are ignored, as the stream
    parser ignores them."""
    objects = []
    token = None
    for child in wrapper:
        tag = child.tag
        if tag == T_OBJECTS:
            objects.append(child)
        elif tag == T_TOKEN:
            token = child.text or None
    return objects, token


def _wrapper_tags(nsmap: dict[str | None, str]) -> tuple[bytes, bytes]:
    """An element declaring ``nsmap`` (the namespaces in scope at the result), open and close."""
    decls = []
    for prefix, uri in nsmap.items():
        value = uri.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")
        decls.append(f' xmlns="{value}"' if prefix is None else f' xmlns:{prefix}="{value}"')
    return f"<batch{''.join(decls)}>".encode(), b"</batch>"


def _plain_head(head: bytes) -> bool:
    """UTF-8, no DTD, comment, CDATA or PI, and what it ends with opens the result's children."""
    rest = head
    declaration = _DECLARATION.match(head)
    if declaration is not None:
        encoding = _ENCODING.search(declaration.group())
        if encoding is not None and encoding.group(1).lower() not in _UTF8:
            return False  # the batches would be parsed as UTF-8
        rest = head[declaration.end():]
    return b"<!" not in rest and b"<?" not in rest and _BEFORE_FIRST.search(rest) is not None


class ReplySplitter:
    """One reply, fed in chunks: ``feed``, ``finish`` and ``close`` return, in reply order,
    ``Batch``es to parse and ``<objects>`` elements the stream parser completed itself.
    Nothing reaches the stream parser after a batch until that batch has parsed
    (``close`` or ``rollback``), so a rollback can put the reply back in order.

    ``token`` is the continuation token once read (before the first batch is cut).
    """

    def __init__(self, batch_bytes: int = BATCH_BYTES) -> None:
        self.stream = ReplyParser()  # the envelope, token and end; whatever is not batched
        self.batch_bytes = batch_bytes
        self.batches = 0
        self.rolled_back = False
        self._mode = _HEAD
        self._open = self._close = b""
        self._batch_token: str | None = None
        # What arrived and is not cut yet, as received: copied once, into its batch.
        self._chunks: list[bytes | memoryview] = []
        self._size = 0
        self._last_end: int | None = None  # in those bytes, where the last </objects> ends
        self._recent = b""  # their last few bytes: a </objects> may span chunks

    @property
    def token(self) -> str | None:
        return self.stream.token or self._batch_token

    def note_token(self, token: str | None) -> None:
        """A token found inside a parsed batch."""
        if token is not None:
            self._batch_token = token

    @property
    def objects_started(self) -> bool:
        return self._mode == _BATCHING or self.stream.objects_started

    def feed(self, data: bytes) -> list[Any]:
        if self._mode == _STREAM:
            return self.stream.feed(data)
        if self._mode == _HEAD:
            self._chunks.append(data)
            self._size += len(data)
            return self._head(final=False)
        self._add(data)
        return self._cut() if self._size >= self.batch_bytes else []

    def finish(self) -> list[Any]:
        """At the end of the reply: the last batch (or the stream parser's objects). The
        rest stays buffered for ``close``, called once every batch has parsed."""
        out: list[Any] = []
        if self._mode == _HEAD:
            out += self._head(final=True)
        if self._mode == _BATCHING:
            out += self._cut()
        return out

    def close(self) -> list[Any]:
        """The end of the reply, read by the stream parser, and its objects if any;
        ``ParseError`` / ``XMLSyntaxError`` as ``ReplyParser.close``."""
        out = self._to_stream()
        return out + self.stream.close()

    def rollback(self, batches: list[Batch]) -> list[Any]:
        """``batches`` (the first one did not parse, and all cut after it, in order) and
        the rest of the reply go to the stream parser; the objects it completed."""
        self.rolled_back = True
        self._mode = _STREAM
        out: list[Any] = []
        for batch in batches:
            out += self.stream.feed(batch.segment())
        return out + self._to_stream()

    def _take(self) -> bytes:
        data = b"".join(self._chunks)
        self._chunks, self._size, self._last_end, self._recent = [], 0, None, b""
        return data

    # -- the envelope, up to the first object

    def _head(self, final: bool) -> list[Any]:
        buf = self._take()  # the envelope is small: kept whole until its first object
        found = _FIRST_OBJECT.search(buf)
        if found is None:
            if final or len(buf) > _HEAD_LIMIT:
                return self.stream.feed(buf) + self._to_stream()
            self._chunks, self._size = [buf], len(buf)
            return []
        head, rest = buf[:found.start()], buf[found.start():]
        done = self.stream.feed(head)
        result = self.stream.result
        if done or result is None or not _plain_head(head):
            self._mode = _STREAM
            return done + self.stream.feed(rest)
        self._open, self._close = _wrapper_tags(result.nsmap)
        self._mode = _BATCHING
        self._add(rest)
        if not final and self._size >= self.batch_bytes:
            return self._cut()
        return []  # close() cuts the rest

    # -- batches

    def _add(self, data: bytes) -> None:
        """Keep ``data``, noting where the last ``</objects>`` so far ends."""
        n = len(_CLOSE)
        at = data.rfind(_CLOSE)
        if at >= 0:
            self._last_end = self._size + at + n
        else:  # one that began in what came before: it ends within data's first n - 1 bytes
            joint = self._recent + data[:n - 1]
            at = joint.rfind(_CLOSE)
            if at >= 0:
                self._last_end = self._size - len(self._recent) + at + n
        self._recent = (self._recent + data[-(n - 1):])[-(n - 1):]
        self._chunks.append(data)
        self._size += len(data)

    def _cut(self) -> list[Any]:
        """A batch of everything up to the last ``</objects>``."""
        end = self._last_end
        if end is None:
            return []
        parts: list[bytes | memoryview] = [self._open]
        chunks = self._chunks
        taken = 0
        i = 0
        while taken < end:
            chunk = chunks[i]
            if taken + len(chunk) <= end:
                parts.append(chunk)
                taken += len(chunk)
                i += 1
                continue
            view = chunk if isinstance(chunk, memoryview) else memoryview(chunk)
            parts.append(view[:end - taken])
            chunks[i] = view[end - taken:]
            taken = end
        parts.append(self._close)
        del chunks[:i]
        self._size -= end
        self._last_end = None
        self.batches += 1
        return [Batch(b"".join(parts), len(self._open), len(self._close))]

    def _to_stream(self) -> list[Any]:
        """Read the rest of this reply with the stream parser."""
        self._mode = _STREAM
        data = self._take()
        return self.stream.feed(data) if data else []


class _Queued:
    """A batch cut and sent to the worker (or parsed when taken: ``future`` None)."""

    __slots__ = ("batch", "future")

    def __init__(self, batch: Batch, future: Future[Any] | None) -> None:
        self.batch = batch
        self.future = future

    def ready(self) -> bool:
        return self.future is None or self.future.done()

    def parsed(self) -> Any:
        return parse_batch(self.batch) if self.future is None else self.future.result()


class BatchPageReader(PageReader):
    """A ``PageReader`` whose replies are cut into batches that a worker thread parses
    (GIL released) while the caller converts the batch before: parsing overlaps
    conversion, and at most about three batches are alive."""

    def __init__(self, raw: Any, pc: Any, first: tuple[Any, bytes], batch_bytes: int | None = None) -> None:
        super().__init__(raw, pc, first)
        self.batch_bytes = batch_bytes or BATCH_BYTES
        self._pool: ThreadPoolExecutor | None = None
        self._in_batch = False  # the element handed out last came from a parsed batch

    def objects(self) -> Iterator[Any]:
        try:
            yield from super().objects()
        finally:
            self._stop_pool()

    def close(self) -> None:
        self._stop_pool()
        super().close()

    def _stop_pool(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    def _read_reply(self, pending: Any) -> Iterator[Any]:
        splitter = self._reply = ReplySplitter(self.batch_bytes)
        queue: deque[Any] = deque()  # _Queued batches and stream-parsed elements, in reply order
        stream = self.raw.receive_stream(pending)
        try:
            for chunk in stream:
                self._enqueue(queue, splitter.feed(chunk))
                self._ask_ahead(splitter)
                # Convert what is parsed; keep the worker busy with the next batch meanwhile.
                while queue and (len(queue) > 1 or not isinstance(queue[0], _Queued) or queue[0].ready()):
                    yield from self._take(queue, splitter)
            self._enqueue(queue, splitter.finish(), last=not queue)
            self._ask_ahead(splitter)
            while queue:
                yield from self._take(queue, splitter)
            done = splitter.close()
            self._ask_ahead(splitter)
            yield from done
        finally:
            stream.close()
            for entry in queue:
                if isinstance(entry, _Queued) and entry.future is not None:
                    entry.future.cancel()

    def _enqueue(self, queue: deque[Any], items: list[Any], last: bool = False) -> None:
        for item in items:
            if not isinstance(item, Batch):
                queue.append(item)
            elif last and len(items) == 1:
                queue.append(_Queued(item, None))  # the only batch of a small reply: no hand-over
            else:
                if self._pool is None:
                    self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="collect-parse")
                queue.append(_Queued(item, self._pool.submit(parse_batch, item)))

    def _take(self, queue: deque[Any], splitter: ReplySplitter) -> Iterator[Any]:
        entry = queue.popleft()
        if not isinstance(entry, _Queued):
            yield entry
            return
        try:
            wrapper = entry.parsed()
        except etree.XMLSyntaxError:
            # A cut that was not between two objects, or a malformed reply: the stream
            # parser reads this batch and everything after it, and says which.
            batches = [entry.batch]
            while queue:
                rest = queue.popleft()
                if rest.future is not None:
                    rest.future.cancel()
                batches.append(rest.batch)
            queue.extend(splitter.rollback(batches))
            return
        objects, token = batch_children(wrapper)
        del wrapper
        splitter.note_token(token)
        self._ask_ahead(splitter)
        self._in_batch = True
        try:
            yield from objects
        finally:
            self._in_batch = False

    def release(self, oc: Any) -> None:
        """A converted element of a batch is left alone: its batch's document (a few hundred
        KB) is freed whole once its last element is dropped, which costs less than clearing
        and unlinking each element. One the stream parser read is freed as ``PageReader``'s."""
        if not self._in_batch:
            super().release(oc)
