"""What govmomi 0.24's simulator does with roles and permissions: it stores them but does
not enforce them. A principal given the NoAccess role still reads every property (no
missingSet with NoPermission) and HasPrivilegeOnEntity grants everything; the only
missingSet vcsim produces is NotAuthenticated, for a caller without a session. Tests of
"NoPermission in missingSet" therefore cannot run against this simulator. If a govmomi
upgrade starts enforcing, this test fails and the harness can grow a limited user."""

from __future__ import annotations

from typing import Any

from pyVmomi import vim as _vim
from pyVmomi import vmodl as _vmodl

vim: Any = _vim  # pyVmomi's type constructors are untyped
vmodl: Any = _vmodl

NO_ACCESS_ROLE = -5  # vSphere's built-in NoAccess role


def test_no_access_role_is_stored_but_not_enforced(vcsim_factory: Any) -> None:
    sim = vcsim_factory(vms=2)
    si = sim.si()
    content = si.RetrieveContent()
    auth = content.authorizationManager
    assert NO_ACCESS_ROLE in [r.roleId for r in auth.roleList]
    auth.SetEntityPermissions(content.rootFolder, [vim.AuthorizationManager.Permission(
        principal=sim.user, group=False, roleId=NO_ACCESS_ROLE, propagate=True)])
    stored = auth.RetrieveEntityPermissions(content.rootFolder, False)
    assert [(p.principal, p.roleId) for p in stored] == [(sim.user, NO_ACCESS_ROLE)]

    view = content.viewManager.CreateContainerView(content.rootFolder, [vim.VirtualMachine], True)
    pc = vmodl.query.PropertyCollector
    spec = pc.FilterSpec(
        objectSet=[pc.ObjectSpec(obj=view, skip=True, selectSet=[pc.TraversalSpec(type=vim.view.ContainerView, path="view")])],
        propSet=[pc.PropertySpec(type=vim.VirtualMachine, pathSet=["name", "config.hardware.numCPU"])])
    result = content.propertyCollector.RetrievePropertiesEx([spec], pc.RetrieveOptions())
    assert len(result.objects) == 2
    for obj in result.objects:
        assert not obj.missingSet
        assert sorted(p.name for p in obj.propSet) == ["config.hardware.numCPU", "name"]

    vm = result.objects[0].obj
    granted = auth.HasPrivilegeOnEntity(vm, content.sessionManager.currentSession.key, ["System.Read", "VirtualMachine.Interact.PowerOff"])
    assert granted == [True, True]
