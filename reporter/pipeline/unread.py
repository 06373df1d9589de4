"""What a partial collection did not read, so that the delta never calls an unread finding fixed.

A collection error names a vCenter and a stage (``connect``, ``vms``, ``hosts`` ...), and for a
single object left out its moid. A previous finding whose object lies in what was not read is
"not re-checked" with the reason, whatever this run found.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from reporter.core.findings import Finding
from reporter.core.model import Snapshot

# Which findings depend on a stage: VM checks read the VM's host (build, scheduler) and datastores,
# pool and datastore checks count VMs. An unknown stage covers every finding of its vCenter.
STAGE_OBJECTS: dict[str, frozenset[str]] = {
    "vms": frozenset({"vm", "disk", "snapshot", "pool", "datastore"}),
    "hosts": frozenset({"host", "vm", "pool", "datastore"}),
    "host-options": frozenset({"host", "vm"}),
    "datastores": frozenset({"datastore", "vm"}),
    "clusters": frozenset({"cluster", "host", "vm"}),
    "folders": frozenset({"vm"}),
    "licenses": frozenset({"license", "pool"}),
}
STAGE_LABEL = {"host-options": "host settings"}


@dataclass
class UnreadScope:
    whole: dict[str, str] = field(default_factory=dict)  # vCenter label -> reason
    types: dict[tuple[str, str], str] = field(default_factory=dict)  # (vCenter, object type) -> reason
    objects: dict[tuple[str, str], str] = field(default_factory=dict)  # (vCenter, moid) -> reason
    read_vcenters: set[str] = field(default_factory=set)

    def reason(self, f: Finding) -> str | None:
        """Why ``f`` could not be re-checked in this run, or None when its object was read."""
        vc = f.vcenter
        if not vc:
            return None
        if vc in self.whole:
            return self.whole[vc]
        if vc not in self.read_vcenters:
            return f"vCenter {vc} was not part of this collection"
        if (vc, f.object_type) in self.types:
            return self.types[(vc, f.object_type)]
        parts = f.object_id.split("/")
        for moid in parts[1:2]:
            if (vc, moid) in self.objects:
                return self.objects[(vc, moid)]
        return None


def unread_scope(snapshot: Snapshot) -> UnreadScope:
    scope = UnreadScope(read_vcenters={vc.name for vc in snapshot.vcenters.values()})
    for err in snapshot.collection_errors:
        stage = STAGE_LABEL.get(err.stage, err.stage)
        if err.object_id:
            scope.objects.setdefault((err.vcenter, err.object_id),
                                     f"{err.object_id} on vCenter {err.vcenter} could not be read ({stage})")
            continue
        types = STAGE_OBJECTS.get(err.stage)
        if err.stage == "connect" or types is None or err.vcenter not in scope.read_vcenters:
            scope.whole.setdefault(err.vcenter, f"vCenter {err.vcenter} could not be read")
            continue
        for t in types:
            scope.types.setdefault((err.vcenter, t), f"{stage} of vCenter {err.vcenter} could not be read")
    return scope
