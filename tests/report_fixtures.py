"""A small, hostile report context for the render/email/verify tests.

Built directly from model and engine classes (no check modules), so every expected
value in the tests follows from this file alone.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from reporter.checks import CheckMeta, Reference
from reporter.checks.engine import CheckResult, Results
from reporter.checks.tables import Table
from reporter.core.findings import Finding, Severity, Status
from reporter.core.model import (
    VM,
    CollectionError,
    Datastore,
    Disk,
    Host,
    License,
    LicenseAssignment,
    Snapshot,
    SnapshotNode,
    VCenter,
)
from reporter.render import Delta, ReportContext

COLLECTED = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
GENERATED = datetime(2026, 11, 23, 7, 15, tzinfo=UTC)
HOSTILE = "<script>alert(1)</script>"
UNICODE = "Ünïcødé-VM-日本"
FORMULA = '=HYPERLINK("http://evil.example","x")'
KEY = "ABCDE-FGHIJ-KLMNO-12345-VWXYZ"
MASKED = "XXXXX-XXXXX-XXXXX-12345-VWXYZ"
UUID1 = "4b1c7e8a-1f3d-4c6e-9a2b-0c5d8e7f6a01"
UUID2 = "9d2e4f6a-8b1c-4d3e-a5f7-1e2d3c4b5a02"
GB = 1024**3

SNAP_META = CheckMeta(
    id="TST-001", title="Snapshot older than the retention threshold", family="snapshots", severity=Severity.high,
    object_type="vm", description="A VM with an old snapshot.", rationale="Old deltas grow until the datastore fills.",
    remediation=("Delete the snapshot after confirming it is not needed.", "govc snapshot.remove -vm <vm> <name>"),
    references=(Reference("KB1025279", "Best practices for using snapshots",
                          "https://knowledge.broadcom.com/external/article?legacyId=1025279"),),
)
LIC_META = CheckMeta(
    id="TST-002", title="License key expiring", family="licensing", severity=Severity.low, object_type="license",
    description="A license that expires soon.", rationale="Hosts disconnect when a license expires.",
    remediation=("Renew the license.",),
)
CUSTOM_META = CheckMeta(
    id="LAB-001", title="Lab check with nothing to report", family="zz-lab", severity=Severity.medium,
    object_type="host", description="Only here to prove that an unknown family gets its own section.",
    rationale="Data-driven sections.", remediation=("Nothing.",),
)
BROKEN_META = CheckMeta(
    id="LAB-002", title="A check that crashed", family="zz-lab", severity=Severity.info, object_type="vm",
    description="Raises.", rationale="Errors are shown.", remediation=("Report the bug.",),
)


def vm(moid: str, name: str, *, power: str = "poweredOn", snaps: list[SnapshotNode] | None = None) -> VM:
    return VM(moid=moid, name=name, power_state=power, memory_mb=4096, num_cpu=2, guest_id="ubuntu64Guest",
              guest_full_name="Ubuntu Linux (64-bit)", hw_version="vmx-19", change_tracking_enabled=True,
              host="host-1", cluster="domain-c1", datastores=["datastore-1"],
              disks=[Disk(key=2000, label="Hard disk 1", controller="scsi", bus_number=0, unit_number=0,
                          capacity_bytes=40 * GB, datastore="datastore-1", backing_file=f"[ds1] {name}/{name}.vmdk",
                          backing_type="flat", disk_mode="persistent", thin=True)],
              snapshots=snaps or [], current_snapshot=(snaps[0].moid if snaps else None))


def snapshot(*, errors: bool = True, collected: datetime = COLLECTED) -> Snapshot:
    old = SnapshotNode(moid="vm-2-snapshot-1", name="before patch", create_time=collected - timedelta(days=45),
                       state="poweredOff", quiesced=False)
    vc1 = VCenter(
        name="vc01", host="vc01.example.com", instance_uuid=UUID1, version="8.0.2", build="22617221",
        full_name="VMware vCenter Server 8.0.2 build-22617221", user="svc-report@vsphere.local",
        vms={"vm-1": vm("vm-1", "web-01"), "vm-2": vm("vm-2", HOSTILE, snaps=[old]), "vm-3": vm("vm-3", UNICODE),
             "vm-4": vm("vm-4", FORMULA, power="poweredOff")},
        hosts={"host-1": Host(moid="host-1", name="esx01.example.com", version="8.0.2", build="22380479",
                              connection_state="connected", cpu_packages=2, cpu_cores=32, memory_bytes=512 * GB)},
        datastores={"datastore-1": Datastore(moid="datastore-1", name="ds-prod-01", type="VMFS",
                                             capacity_bytes=4096 * GB, free_bytes=1024 * GB)},
        licenses=[License(key=KEY, edition_key="esxEnterprisePlus", name="vSphere 8 Enterprise Plus", total=4, used=2,
                          cost_unit="cpuPackage", properties={"expirationDate": "2026-12-01"})],
        license_assignments=[LicenseAssignment(entity="host-1", entity_name="esx01.example.com", entity_type="host",
                                               license_key=KEY, edition_key="esxEnterprisePlus")],
    )
    vc2 = VCenter(name="vc02", host="vc02.example.com", instance_uuid=UUID2, version="7.0.3", build="21477706",
                  user="svc-report@vsphere.local")
    errs = [CollectionError(vcenter="vc02", stage="hosts", error_type="NoPermission",
                            message="Permission to perform this operation was denied.")] if errors else []
    return Snapshot(collected_at=collected, tool_version="0.1.0", vcenters={UUID1: vc1, UUID2: vc2},
                    collection_errors=errs)


def _f(meta: CheckMeta, name: str, moid: str, message: str, *, severity: Severity | None = None,
       status: Status = Status.fail, evidence: dict | None = None, remediation: str | None = None) -> Finding:
    return Finding(check_id=meta.id, severity=severity or meta.severity, status=status, vcenter="vc01",
                   object_type=meta.object_type, object_name=name, object_id=f"{UUID1}/{moid}", message=message,
                   evidence=evidence or {}, remediation=remediation if remediation is not None else "\n".join(meta.remediation))


def findings() -> dict[str, list[Finding]]:
    hostile = _f(SNAP_META, HOSTILE, "vm-2", f"Snapshot 'before patch' of {HOSTILE} is 45 days old.",
                 evidence={"age_days": 45, "snapshot": HOSTILE})
    uni = _f(SNAP_META, UNICODE, "vm-3", "Snapshot is 9 days old.", severity=Severity.medium, evidence={"age_days": 9},
             remediation=f"Delete the snapshot of {UNICODE} in the vSphere Client.")
    waived = _f(SNAP_META, "web-01", "vm-1", "Snapshot is 30 days old.", status=Status.waived,
                evidence={"age_days": 30, "waiver": {"reason": "Kept for the CAB-42 migration", "expires": "2027-01-31",
                                                     "pattern": "web-*"}})
    lic = _f(LIC_META, KEY, KEY, f"License {KEY} expires on 2026-12-01 (8 days).", status=Status.warn,
             evidence={"license_key": KEY, "days_left": 8})
    return {"TST-001": [hostile, uni, waived], "TST-002": [lic]}


def tables() -> list[Table]:
    return [
        Table(id="snapshot_space", family="snapshots", title="Snapshot space per datastore",
              columns=["vCenter", "Datastore", "Snapshot GB", "Free GB"],
              rows=[["vc01", "ds-prod-01", 120.5, 1024.0], ["vc01", HOSTILE, 30.0, 200.0]],
              chart={"type": "bar", "x": "Datastore", "y": ["Snapshot GB", "Free GB"]}),
        Table(id="snapshot_files", family="snapshots", title="Every snapshot file", columns=["VM", "File", "Bytes"],
              rows=[[HOSTILE, "[ds1] x/x-000001.vmdk", 123456]], in_summary=False),
        Table(id="license_inventory", family="licensing", title="License keys", columns=["Key", "Edition"],
              rows=[[KEY, "esxEnterprisePlus"]]),
    ]


def results() -> Results:
    f = findings()
    return Results([
        CheckResult(SNAP_META, 4, f["TST-001"]),
        CheckResult(LIC_META, 1, f["TST-002"]),
        CheckResult(CUSTOM_META, 1, []),
        CheckResult(BROKEN_META, 0, [], error="ZeroDivisionError: division by zero"),
    ])


def delta(res: Results) -> Delta:
    hostile, uni = res.checks[0].findings[0], res.checks[0].findings[1]
    fixed = _f(SNAP_META, "db-07", "vm-9", "Snapshot is 12 days old.")
    return Delta(new=[hostile], fixed=[fixed], still_open=[uni, res.checks[1].findings[0]])


def context(*, show_keys: bool = False, errors: bool = True, with_delta: bool = True,
            res: Results | None = None) -> ReportContext:
    res = res or results()
    ctx = ReportContext(snapshot=snapshot(errors=errors), results=res, tables=tables(), generated_at=GENERATED,
                        tool_version="0.1.0", snapshot_sha256="ab" * 32, delta=delta(res) if with_delta else None,
                        show_license_keys=show_keys)
    return ctx.masked()


def pdf_text(path: Path) -> str:
    """The whole text in reading order (no layout), all whitespace collapsed: a wrapped table
    cell comes out as one run of words."""
    exe = shutil.which("pdftotext")
    if exe is None:
        pytest.skip("pdftotext (poppler-utils) not installed")
    out = subprocess.run([exe, "-enc", "UTF-8", str(path), "-"], check=True, capture_output=True).stdout
    return re.sub(r"\s+", " ", out.decode("utf-8"))


def pdf_pages(path: Path) -> list[str]:
    """Text of each page, whitespace collapsed per line (poppler's pdftotext -layout).

    pypdf and pdfminer cannot decode the custom CMap WeasyPrint embeds when a glyph is
    missing from every installed font (日本 on a machine without a CJK font); poppler can.
    """
    exe = shutil.which("pdftotext")
    if exe is None:
        pytest.skip("pdftotext (poppler-utils) not installed")
    out = subprocess.run([exe, "-layout", "-enc", "UTF-8", str(path), "-"], check=True, capture_output=True).stdout
    pages = out.decode("utf-8").split("\f")
    if pages and not pages[-1].strip():
        pages.pop()
    return ["\n".join(re.sub(r"\s+", " ", ln).strip() for ln in p.splitlines() if ln.strip()) for p in pages]
