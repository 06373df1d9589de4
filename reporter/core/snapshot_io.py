"""Save and load snapshot files (JSON, optionally gzip-compressed by extension)."""

from __future__ import annotations

import gzip
import io
import json
import zlib
from pathlib import Path

from pydantic import ValidationError

from reporter.core.fsutil import atomic_write_bytes
from reporter.core.gcpolicy import paused_gc
from reporter.core.model import SCHEMA_VERSION, Snapshot
from reporter.errors import SnapshotFormatError

# A snapshot larger than this (decompressed) is refused: a gzip bomb must not fill the memory.
# 2 GiB holds ~100,000 VMs; ``[output] snapshot_max_bytes`` raises it.
DEFAULT_MAX_BYTES = 2 * 1024**3


def _size_text(n: int) -> str:
    return f"{n / 1024**3:g} GiB" if n >= 1024**3 else f"{n / 1024**2:g} MiB" if n >= 1024**2 else f"{n} bytes"


def dumps(snapshot: Snapshot) -> bytes:
    # Straight to UTF-8 bytes (the same JSON as model_dump_json): no 14 MB str and copy at 10k VMs.
    return snapshot.__pydantic_serializer__.to_json(snapshot, exclude_none=True)


def save(snapshot: Snapshot, path: str | Path) -> Path:
    data = dumps(snapshot)
    if str(path).endswith(".gz"):
        # Level 1: 2.5x faster than 6 on snapshots, ~25 % larger (0.85 vs 0.67 MB at 10k VMs).
        data = gzip.compress(data, compresslevel=1, mtime=0)
    return atomic_write_bytes(path, data)


def loads(data: bytes, source: str = "<bytes>") -> Snapshot:
    with paused_gc():  # millions of acyclic objects: see reporter.core.gcpolicy
        return _loads(data, source)


def _loads(data: bytes, source: str) -> Snapshot:
    try:
        raw = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SnapshotFormatError(f"{source}: not a snapshot file (invalid JSON: {exc})") from None
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
    try:
        return Snapshot.model_validate(raw)
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


def load(path: str | Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Snapshot:
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
    return loads(data, str(p))
