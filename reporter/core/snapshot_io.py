"""Save and load snapshot files (JSON, optionally gzip-compressed by extension)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from pydantic import ValidationError

from reporter.core.fsutil import atomic_write_bytes
from reporter.core.model import SCHEMA_VERSION, Snapshot
from reporter.errors import SnapshotFormatError


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
    try:
        raw = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SnapshotFormatError(f"{source}: not a snapshot file (invalid JSON: {exc})") from None
    if not isinstance(raw, dict) or "schema_version" not in raw:
        raise SnapshotFormatError(f"{source}: not a snapshot file (no schema_version)")
    version = raw["schema_version"]
    if not isinstance(version, int):
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
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise SnapshotFormatError(
            f"{source}: invalid snapshot at {where}: {first['msg']} ({exc.error_count()} error(s))"
        ) from None


def load(path: str | Path) -> Snapshot:
    p = Path(path)
    if p.is_dir():
        raise SnapshotFormatError(f"{p}: is a directory, not a snapshot file")
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise SnapshotFormatError(f"{p}: no such snapshot file") from None
    except OSError as exc:
        raise SnapshotFormatError(f"{p}: cannot read snapshot: {exc.strerror}") from None
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise SnapshotFormatError(f"{p}: corrupt gzip snapshot: {exc}") from None
    return loads(data, str(p))
