"""Merge snapshots collected separately (one job per vCenter) into one snapshot to report on.

Pure: no files, no clock. The caller names each snapshot (its file name) so that an error
can say which two files clash.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from reporter.core.model import Snapshot, VCenter
from reporter.errors import SnapshotFormatError


class SnapshotMergeError(SnapshotFormatError):
    """The snapshots cannot be merged: the same vCenter twice, or different schema versions."""


@dataclass(frozen=True)
class NamedSnapshot:
    name: str  # shown in errors, e.g. the file name
    snapshot: Snapshot


def merge_snapshots(sources: Sequence[NamedSnapshot]) -> Snapshot:
    """One snapshot holding every vCenter of ``sources``.

    ``collected_at`` is the oldest source's (a report must not claim fresher data than it
    has); each vCenter keeps its own collection time in ``VCenter.collected_at``. Every
    source's collection errors are kept, in source order. Raises ``SnapshotMergeError`` when
    a vCenter (by instance UUID) appears in two sources or the schema versions differ.
    """
    if not sources:
        raise SnapshotMergeError("no snapshot to merge")
    first = sources[0]
    owner: dict[str, str] = {}  # instance UUID -> name of the source it came from
    vcenters: dict[str, VCenter] = {}
    for src in sources:
        snap = src.snapshot
        if snap.schema_version != first.snapshot.schema_version:
            raise SnapshotMergeError(
                f"{src.name}: snapshot schema version {snap.schema_version} differs from version "
                f"{first.snapshot.schema_version} of {first.name}; collect all of them with the same vcenter-reporter release")
        for uuid, vc in snap.vcenters.items():
            if uuid in owner:
                raise SnapshotMergeError(
                    f"{src.name}: vCenter {vc.name!r} (instance UUID {uuid}) is also in {owner[uuid]}; "
                    "give each vCenter's snapshot once")
            owner[uuid] = src.name
            vcenters[uuid] = vc if vc.collected_at is not None else vc.model_copy(update={"collected_at": snap.collected_at})
    versions = sorted({s.snapshot.tool_version for s in sources if s.snapshot.tool_version})
    return Snapshot(
        schema_version=first.snapshot.schema_version,
        collected_at=min(s.snapshot.collected_at for s in sources),
        tool_version=", ".join(versions) or None,
        vcenters=vcenters,
        collection_errors=[err for s in sources for err in s.snapshot.collection_errors],
    )
