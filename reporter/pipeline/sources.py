"""The snapshot files a report is built from: paths, directories or glob patterns, merged.

``vcreport report SNAP1 SNAP2 …`` takes the snapshots that per-vCenter collection jobs wrote
and reports on them as one. A directory stands for the snapshot files in it; a pattern the
shell did not expand (quoted, or run without a shell, as in a Kubernetes CronJob) is
expanded here.
"""

from __future__ import annotations

import glob
from collections.abc import Sequence
from pathlib import Path

from reporter.core import snapshot_io
from reporter.core.model import Snapshot
from reporter.core.snapshot_merge import NamedSnapshot, merge_snapshots
from reporter.errors import SnapshotFormatError
from reporter.render.base import SourceFile, sha256_file

SNAPSHOT_SUFFIXES = (".json", ".json.gz")
_GLOB_CHARS = frozenset("*?[")


def expand_sources(paths: Sequence[str | Path]) -> list[Path]:
    """Every snapshot file named by ``paths``, in the order given (a directory's and a
    pattern's files sorted by name). Raises SnapshotFormatError for a path that names nothing."""
    if not paths:
        raise SnapshotFormatError("no snapshot file given")
    files: list[Path] = []
    for item in paths:
        p = Path(item)
        if p.is_dir():
            found = sorted(f for f in p.iterdir() if f.is_file() and f.name.endswith(SNAPSHOT_SUFFIXES))
            if not found:
                raise SnapshotFormatError(f"{p}: no snapshot files (*.json, *.json.gz) in this directory")
            files.extend(found)
        elif not p.exists() and _GLOB_CHARS & set(str(item)):
            matched = sorted(Path(m) for m in glob.glob(str(item)) if Path(m).is_file())
            if not matched:
                raise SnapshotFormatError(f"{item}: no snapshot file matches this pattern")
            files.extend(matched)
        else:
            files.append(p)  # a missing file fails in snapshot_io.load with its own message
    return files


def load_sources(paths: Sequence[str | Path], *, max_bytes: int = snapshot_io.DEFAULT_MAX_BYTES,
                 ) -> tuple[Snapshot, list[SourceFile]]:
    """The merged snapshot of every file in ``paths`` and each file's name and SHA-256 (for
    the audit edition). One file is loaded as it is, not merged."""
    files = expand_sources(paths)
    named = [NamedSnapshot(str(f), snapshot_io.load(f, max_bytes=max_bytes)) for f in files]
    sources = [SourceFile(name=f.name, sha256=sha256_file(f)) for f in files]
    snap = named[0].snapshot if len(named) == 1 else merge_snapshots(named)
    return snap, sources
