"""Build vApps through the vSphere API (pyVmomi): ``CreateVApp`` in a cluster's root pool or
inside another vApp, VMs with ``CreateChildVM_Task``. The launcher's ``vapp.go`` makes
govmomi 0.24 set each such VM's ``parentVApp`` and list a nested vApp in its parent's
``resourcePool``, as vCenter does."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pyVim import task as _task
from pyVmomi import vim as _vim

# pyVmomi's type constructors and WaitForTask are untyped: use them as Any.
vim: Any = _vim
WaitForTask: Any = _task.WaitForTask


def _allocation() -> Any:
    # vcsim (like vCenter) insists on every allocation field being set.
    return vim.ResourceAllocationInfo(reservation=0, limit=-1, expandableReservation=True,
                                      shares=vim.SharesInfo(level="normal", shares=0))


def create_vapp(parent: Any, name: str, *, vm_folder: Any = None, annotation: str = "") -> Any:
    """A vApp in ``parent`` (a resource pool or a vApp); ``vm_folder`` defaults to the datacenter's."""
    res = vim.ResourceConfigSpec(cpuAllocation=_allocation(), memoryAllocation=_allocation())
    return parent.CreateVApp(name=name, resSpec=res, configSpec=vim.vApp.VAppConfigSpec(annotation=annotation),
                             vmFolder=vm_folder)


def create_vm_in_vapp(vapp: Any, name: str, datastore: str, *, memory_mb: int = 128, cpus: int = 1) -> Any:
    """A VM created inside ``vapp`` on datastore ``datastore``; returns the VM."""
    config = vim.vm.ConfigSpec(name=name, guestId="otherGuest64", numCPUs=cpus, memoryMB=memory_mb,
                               files=vim.vm.FileInfo(vmPathName=f"[{datastore}]"))
    task = vapp.CreateChildVM_Task(config=config)
    WaitForTask(task)
    return task.info.result


@dataclass
class VAppLayout:
    """What ``build_vapps`` made: vApp name -> VM names, and child vApp -> parent vApp."""

    vms: dict[str, list[str]] = field(default_factory=dict)
    parent: dict[str, str] = field(default_factory=dict)


def build_vapps(cluster: Any, datastore: str, layout: Sequence[tuple[str, str | None, Sequence[str]]]) -> VAppLayout:
    """Create vApps from ``(name, parent vApp name or None, VM names)`` rows, parents first;
    a None parent means the cluster's root resource pool."""
    made: dict[str, Any] = {}
    out = VAppLayout()
    for name, parent_name, vm_names in layout:
        parent = made[parent_name] if parent_name else cluster.resourcePool
        made[name] = create_vapp(parent, name)
        if parent_name:
            out.parent[name] = parent_name
        out.vms[name] = [create_vm_in_vapp(made[name], vm, datastore).name for vm in vm_names]
    return out
