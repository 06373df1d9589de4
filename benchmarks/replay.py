"""A recording, replaying HTTPS front for simulators: vCenters whose CPU is not on this machine.

Used by ``fleet.py --remote`` (a benchmark aid, not a test). On its first sight of a
request (method, path and body) it forwards it to its simulator, records the reply and
answers with it; every later identical request is answered from the record, a SOAP
call after ``--delay-ms`` (a WAN round trip, exactly where the simulators' own delay
applies: SOAP calls, not the REST endpoint). So once one pass has
recorded a collection, the collector reads the same bytes, with the same framing and
the same latency, from a server that costs this machine almost nothing: what the
benchmark then measures is the collector's own time, as against vCenters across a WAN.

    python benchmarks/replay.py --cert C --key K --delay-ms 300 BACKEND_PORT...

prints ``LISTEN <port> -> <backend port>`` lines, then ``READY``. ``GET /__replay_stats``
on any port answers ``{"recorded": n, "replayed": n, "conflicts": n}``: a conflict is a
request recorded twice with different replies (the replay would then be wrong).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import http.client
import json
import ssl
import sys
from dataclasses import dataclass

# Hop-by-hop and framing headers: the record keeps the rest of the reply's headers.
_DROP = {"connection", "keep-alive", "transfer-encoding", "content-length", "date"}
_CHUNK = 4096  # a Go net/http reply's chunks are about this size


@dataclass
class Reply:
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes
    chunked: bool


class Front:
    def __init__(self, backend_port: int, delay_s: float, stats: dict[str, int]) -> None:
        self.backend_port = backend_port
        self.delay_s = delay_s
        self.stats = stats
        self.records: dict[bytes, Reply] = {}
        self.ctx = ssl.create_default_context()
        self.ctx.check_hostname = False
        self.ctx.verify_mode = ssl.CERT_NONE

    def forward(self, method: str, path: str, headers: list[tuple[str, str]], body: bytes) -> Reply:
        conn = http.client.HTTPSConnection("127.0.0.1", self.backend_port, context=self.ctx, timeout=600)
        try:
            conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
            for k, v in headers:
                if k.lower() not in ("connection", "content-length", "transfer-encoding"):
                    conn.putheader(k, v)
            conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body)
            resp = conn.getresponse()
            data = resp.read()
            kept = [(k, v) for k, v in resp.getheaders() if k.lower() not in _DROP]
            return Reply(resp.status, resp.reason, kept, data, bool(resp.chunked))
        finally:
            conn.close()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                line = await reader.readline()
                if not line:
                    return
                method, path, _ = line.decode("latin-1").split(" ", 2)
                headers: list[tuple[str, str]] = []
                length, chunked = 0, False
                while (h := await reader.readline()) not in (b"\r\n", b"\n", b""):
                    k, _, v = h.decode("latin-1").partition(":")
                    k, v = k.strip(), v.strip()
                    headers.append((k, v))
                    if k.lower() == "content-length":
                        length = int(v)
                    elif k.lower() == "transfer-encoding" and "chunked" in v.lower():
                        chunked = True
                body = await _read_chunked(reader) if chunked else await reader.readexactly(length)
                if path == "/__replay_stats":
                    await _send(writer, Reply(200, "OK", [("Content-Type", "application/json")],
                                              json.dumps(self.stats).encode(), False))
                    continue
                key = hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body).digest()
                reply = self.records.get(key)
                if reply is None:
                    reply = await asyncio.to_thread(self.forward, method, path, headers, body)
                    if key in self.records and self.records[key].body != reply.body:
                        self.stats["conflicts"] += 1
                    self.records[key] = reply
                    self.stats["recorded"] += 1
                else:
                    self.stats["replayed"] += 1
                if self.delay_s and path.startswith("/sdk") and method == "POST":
                    await asyncio.sleep(self.delay_s)
                await _send(writer, reply)
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
            return
        finally:
            writer.close()


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    parts = []
    while True:
        size = int((await reader.readline()).split(b";")[0].strip() or b"0", 16)
        if size == 0:
            await reader.readline()
            return b"".join(parts)
        parts.append(await reader.readexactly(size))
        await reader.readline()


async def _send(writer: asyncio.StreamWriter, reply: Reply) -> None:
    head = [f"HTTP/1.1 {reply.status} {reply.reason}"] + [f"{k}: {v}" for k, v in reply.headers]
    body = reply.body
    if reply.chunked:
        head.append("Transfer-Encoding: chunked")
        parts = ["\r\n".join(head).encode("latin-1") + b"\r\n\r\n"]
        for i in range(0, len(body), _CHUNK):
            piece = body[i:i + _CHUNK]
            parts += [b"%x\r\n" % len(piece), piece, b"\r\n"]
        parts.append(b"0\r\n\r\n")
        writer.write(b"".join(parts))
    else:
        head.append(f"Content-Length: {len(body)}")
        writer.write("\r\n".join(head).encode("latin-1") + b"\r\n\r\n" + body)
    await writer.drain()


async def serve(args: argparse.Namespace) -> None:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(args.cert, args.key)
    stats = {"recorded": 0, "replayed": 0, "conflicts": 0}
    servers = []
    for port in args.backends:
        front = Front(port, args.delay_ms / 1000, stats)
        server = await asyncio.start_server(front.handle, "127.0.0.1", 0, ssl=ctx, limit=1 << 20)
        servers.append(server)
        print(f"LISTEN {server.sockets[0].getsockname()[1]} -> {port}", flush=True)
    print("READY", flush=True)
    await asyncio.gather(*(s.serve_forever() for s in servers))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--delay-ms", type=int, default=0)
    ap.add_argument("backends", type=int, nargs="+")
    args = ap.parse_args()
    try:
        asyncio.run(serve(args))
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
