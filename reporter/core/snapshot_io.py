"""Save and load snapshot files (JSON, optionally gzip-compressed by extension)."""

from __future__ import annotations

import gzip
import io
import itertools
import json
import re
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pydantic_core
from pydantic import BaseModel, TypeAdapter, ValidationError

from reporter.core.fsutil import atomic_write_chunks
from reporter.core.gcpolicy import paused_gc
from reporter.core.model import SCHEMA_VERSION, Snapshot, VCenter, share_fields_sets
from reporter.errors import SnapshotFormatError

# A snapshot larger than this (decompressed) is refused: a gzip bomb must not fill the memory.
# 2 GiB holds ~100,000 VMs; ``[output] snapshot_max_bytes`` raises it.
DEFAULT_MAX_BYTES = 2 * 1024**3


def _size_text(n: int) -> str:
    return f"{n / 1024**3:g} GiB" if n >= 1024**3 else f"{n / 1024**2:g} MiB" if n >= 1024**2 else f"{n} bytes"


def dumps(snapshot: Snapshot) -> bytes:
    # Straight to UTF-8 bytes (the same JSON as model_dump_json): no 14 MB str and copy at 10k VMs.
    return snapshot.__pydantic_serializer__.to_json(snapshot, exclude_none=True)


# The dict fields written entry by entry (``iter_json``); every other field is one piece.
_STREAMED: dict[type[BaseModel], tuple[str, ...]] = {Snapshot: ("vcenters",), VCenter: ("vms",)}
_CHUNK = 256  # VMs serialized per call: ~0.4 MB of JSON
_adapters: dict[tuple[type[BaseModel], str], TypeAdapter[Any]] = {}


def iter_json(snapshot: Snapshot) -> Iterator[bytes]:
    """The bytes of ``dumps(snapshot)``, in pieces of at most a few hundred VMs.

    ``dumps`` builds the whole document in one buffer that grows by doubling: ~15 MB of JSON at
    10,000 VMs held up to ~30 MB at once, the collector's peak. Here each field is serialized by
    pydantic on its own (``include=``), and the VMs in chunks through their field's own type, so
    the bytes are the same."""
    return _model_pieces(snapshot)


def _model_pieces(model: BaseModel) -> Iterator[bytes]:
    cls = type(model)
    streamed = _STREAMED.get(cls, ())
    serializer = cls.__pydantic_serializer__
    sep = b"{"
    plain: set[str] = set()
    for name in [*cls.model_fields, None]:  # fields in their declared order, as pydantic writes them
        if name is not None and name not in streamed:
            plain.add(name)
            continue
        if plain:
            part = serializer.to_json(model, include=plain, exclude_none=True)[1:-1]
            if part:
                yield sep + part
                sep = b","
            plain = set()
        if name is None:
            break
        value = getattr(model, name)
        if value is None:
            continue  # exclude_none
        yield sep + pydantic_core.to_json(name) + b":"
        sep = b","
        yield from _dict_pieces(cls, name, value)
    yield b"}" if sep == b"," else b"{}"


def _dict_pieces(cls: type[BaseModel], name: str, value: dict[str, Any]) -> Iterator[bytes]:
    if not value:
        yield b"{}"
        return
    sep = b"{"
    items = iter(value.items())
    first_key, first = next(items)
    if type(first) in _STREAMED:  # e.g. the vCenters: each one streamed in turn
        for key, item in itertools.chain([(first_key, first)], items):
            yield sep + pydantic_core.to_json(key) + b":"
            sep = b","
            yield from _model_pieces(item)
        yield b"}"
        return
    adapter = _adapters.get((cls, name))
    if adapter is None:
        adapter = _adapters[(cls, name)] = TypeAdapter(cls.model_fields[name].annotation)
    items = itertools.chain([(first_key, first)], items)
    while chunk := dict(itertools.islice(items, _CHUNK)):
        yield sep + adapter.dump_json(chunk, exclude_none=True)[1:-1]
        sep = b","
    yield b"}"


def _gzip(pieces: Iterator[bytes]) -> Iterator[bytes]:
    # What gzip.compress(data, compresslevel=1, mtime=0) writes, compressed as the pieces come.
    # Level 1: 2.5x faster than 6 on snapshots, ~25 % larger (0.85 vs 0.67 MB at 10k VMs).
    z = zlib.compressobj(1, zlib.DEFLATED, 31)
    for piece in pieces:
        if out := z.compress(piece):
            yield out
    yield z.flush()


def save(snapshot: Snapshot, path: str | Path) -> Path:
    pieces = iter_json(snapshot)
    if str(path).endswith(".gz"):
        pieces = _gzip(pieces)
    return atomic_write_chunks(path, pieces)


def loads(data: bytes, source: str = "<bytes>", *, only_vms_with_snapshots: bool = False) -> Snapshot:
    with paused_gc():  # millions of acyclic objects: see reporter.core.gcpolicy
        return _loads(data, source, only_vms_with_snapshots)


def _drop_vms_without_snapshots(raw: dict[str, Any]) -> None:
    """Leave out, before validation, every VM whose snapshot list is empty (or absent). What
    is not the expected shape is left as it is, for validation to report."""
    vcenters = raw.get("vcenters")
    if not isinstance(vcenters, dict):
        return
    for vc in vcenters.values():
        vms = vc.get("vms") if isinstance(vc, dict) else None
        if isinstance(vms, dict):
            vc["vms"] = {m: vm for m, vm in vms.items() if not isinstance(vm, dict) or vm.get("snapshots")}


# A high surrogate escape not followed by a low one, or a low one not after a high one (a pair,
# an emoji written as "\\ud83d\\ude00", is fine). A match is confirmed on the decoded text.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})"
                               rb"|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}")


def _loads(data: bytes, source: str, only_vms_with_snapshots: bool = False) -> Snapshot:
    try:
        raw = json.loads(data)
        if _SURROGATE_ESCAPE.search(data) is not None:
            # "\ud800" alone decodes to a str that no output (UTF-8 file, email, PDF) can encode.
            json.dumps(raw, ensure_ascii=False).encode("utf-8")
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SnapshotFormatError(f"{source}: not a snapshot file (invalid JSON: {exc})") from None
    except UnicodeEncodeError:
        raise SnapshotFormatError(f"{source}: not a snapshot file (invalid JSON: a string holds a lone "
                                  "UTF-16 surrogate escape such as \\ud800)") from None
    except ValueError:  # int() refuses a number of more than 4300 digits
        raise SnapshotFormatError(f"{source}: not a snapshot file (invalid JSON: a number of more "
                                  "than 4300 digits)") from None
    except RecursionError:
        raise SnapshotFormatError(f"{source}: not a snapshot file (JSON nested too deeply)") from None
    if not isinstance(raw, dict) or "schema_version" not in raw:
        raise SnapshotFormatError(f"{source}: not a snapshot file (no schema_version)")
    version = raw["schema_version"]
    if type(version) is not int:  # JSON true is a Python bool, and bool is an int: refuse it too
        raise SnapshotFormatError(f"{source}: schema_version must be an integer, got {version!r}")
    if version > SCHEMA_VERSION:
        raise SnapshotFormatError(
            f"{source}: snapshot schema version {version} is newer than this tool supports "
            f"({SCHEMA_VERSION}); upgrade vcenter-reporter"
        )
    if version < 1:
        raise SnapshotFormatError(f"{source}: unknown snapshot schema version {version}")
    if only_vms_with_snapshots:
        _drop_vms_without_snapshots(raw)
    try:
        snapshot = Snapshot.model_validate(raw)
        share_fields_sets(snapshot)  # ~a quarter of a loaded snapshot's memory: reporter.core.model
        return snapshot
    except RecursionError:  # e.g. a snapshot tree thousands of levels deep
        raise SnapshotFormatError(f"{source}: not a snapshot file (nested too deeply)") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise SnapshotFormatError(
            f"{source}: invalid snapshot at {where}: {first['msg']} ({exc.error_count()} error(s))"
        ) from None


def _too_large(p: Path, limit: int) -> SnapshotFormatError:
    return SnapshotFormatError(f"{p}: snapshot larger than {_size_text(limit)} when decompressed; refused "
                               "(raise [output] snapshot_max_bytes if it is genuine)")


def _gunzip(data: bytes, p: Path, limit: int) -> bytes:
    """Decompress at most ``limit`` bytes (a gzip bomb stops there, memory stays bounded)."""
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as fh:
            out = fh.read(limit + 1)
    except (OSError, EOFError, zlib.error) as exc:
        raise SnapshotFormatError(f"{p}: corrupt gzip snapshot: {exc}") from None
    if len(out) > limit:
        raise _too_large(p, limit)
    return out


def load(path: str | Path, *, max_bytes: int = DEFAULT_MAX_BYTES, only_vms_with_snapshots: bool = False) -> Snapshot:
    """The snapshot in the file at ``path`` (SnapshotFormatError: why it cannot be read).

    ``only_vms_with_snapshots=True``: only the VMs that had VM snapshots are validated and kept
    (hosts, datastores and the rest whole). That is all the previous run's snapshot is read for
    (snapshot growth, ``domain.vm_snapshots.previous_sizes``, which answers the same for a VM
    without snapshots as for one that is absent), at a fraction of the cost: at 10,000 VMs the
    validation of every VM is most of a load's ~1.3 s.
    """
    p = Path(path)
    if p.is_dir():
        raise SnapshotFormatError(f"{p}: is a directory, not a snapshot file")
    try:
        if p.stat().st_size > max_bytes:
            raise _too_large(p, max_bytes)
        data = p.read_bytes()
    except FileNotFoundError:
        raise SnapshotFormatError(f"{p}: no such snapshot file") from None
    except IsADirectoryError:
        raise SnapshotFormatError(f"{p}: is a directory, not a snapshot file") from None
    except OSError as exc:
        raise SnapshotFormatError(f"{p}: cannot read snapshot: {exc.strerror}") from None
    if data[:2] == b"\x1f\x8b":
        data = _gunzip(data, p, max_bytes)
    return loads(data, str(p), only_vms_with_snapshots=only_vms_with_snapshots)
