"""The words a reader sees, on small fixtures: references without a KB, vSphere states in the
vSphere Client's words (one mapping for every format), API names kept out of prose, sentences
never cut in a cell, yes/no flags in every sheet and CSV file. The bundled sample's rendered
outputs are scanned for the same faults in test_customer_text.py."""

from __future__ import annotations

import csv
import io
import re
from types import SimpleNamespace

import openpyxl
import pytest
from markupsafe import Markup
from sioc_builders import PER_FILE_80, datastore, host, snapshot, vcenter, vm

from reporter.checks.base import CheckContext, Reference
from reporter.checks.general import gen_001_host_connection as gen_001
from reporter.checks.registry import load_all
from reporter.checks.sioc.tables import scheduler_table
from reporter.core import states
from reporter.domain.vm_snapshots import object_store_caveat
from reporter.render import evidence, sheet_text, xlsx_native
from reporter.render.sheets import Sheet, csv_value, sheet_csv
from reporter.render.templating import environment, format_cell, format_message
from reporter.render.textsafe import NAME_LIMIT, is_sentence, text_limit
from reporter.render.xlsx import WRITERS, workbook_bytes

GUIDE = Reference(None, "VMware vSphere Networking guide: Teaming and Failover Policy")
MATRIX = Reference(None, "Broadcom Product Lifecycle Matrix", "https://support.broadcom.com/web/ecx/productlifecycle")
KB = Reference("KB1025279", "Best practices for using snapshots", "https://knowledge.broadcom.com/x")


# -- references ---------------------------------------------------------------------------------

def test_reference_label_is_the_kb_else_the_title() -> None:
    assert (KB.label, GUIDE.label, MATRIX.label) == ("KB1025279", GUIDE.title, "Broadcom Product Lifecycle Matrix")


def _about(template: str, macro: str, refs: tuple[Reference, ...]) -> str:
    meta = SimpleNamespace(description="D.", rationale="R.", references=refs)
    module = environment().get_template(template).module
    arg = meta if macro == "refs" else SimpleNamespace(meta=meta, methodology=None)
    return " ".join(re.sub(r"<[^>]+>", "", str(getattr(module, macro)(arg))).split())


def test_references_print_the_title_of_a_guide_without_kb_or_link() -> None:
    assert _about("_pdf.html.j2", "about", (GUIDE,)) == (
        "D. &#8203;Why it matters: R. References: VMware vSphere Networking guide: Teaming and Failover Policy.")
    assert _about("_macros.html.j2", "refs", (KB, GUIDE, MATRIX)) == (
        "References: KB1025279 Best practices for using snapshots; VMware vSphere Networking guide: Teaming and "
        "Failover Policy; Broadcom Product Lifecycle Matrix")


def test_every_registered_check_reference_has_words() -> None:
    refs = [(cid, r) for cid, c in load_all().items() for r in c.meta.references]
    assert len({cid for cid, _r in refs}) > 30
    assert [(cid, r) for cid, r in refs if not r.label.strip() or not r.title.strip()] == []
    assert [(cid, r) for cid, r in refs if r.kb is not None and not re.fullmatch(r"KB\d{4,}", r.kb)] == []


# -- states -------------------------------------------------------------------------------------

def test_states_in_the_vsphere_clients_words() -> None:
    assert [states.power_state(c) for c in ("poweredOn", "poweredOff", "suspended", "standBy", None)] == [
        "Powered on", "Powered off", "Suspended", "Standby", None]
    assert [states.connection_state(c) for c in ("connected", "disconnected", "notResponding", None)] == [
        "Connected", "Disconnected", "Not responding", None]
    assert states.host_not_readable("notResponding", "option") == "host is not responding: option not readable"
    assert states.host_not_readable(None, "software") == "host is in an unknown state: software not readable"
    assert states.power_state("someNewState") == "someNewState"  # a code not listed: as it is spelled
    assert (states.in_sentence("Powered off"), states.in_sentence(None)) == ("powered off", "in an unknown state")


def test_evidence_prints_state_words_and_keeps_other_values() -> None:
    ev = {"power_state": "poweredOff", "connection_state": "notResponding", "vm_power_state": "suspended",
          "state": "poweredOn"}  # "state" is a snapshot's own field elsewhere: not a host or VM state key
    assert evidence.as_text(ev) == ("Power state: Powered off; Connection state: Not responding; "
                                    "Power state: Suspended; State: poweredOn")


def test_vram_pool_codes_read_as_words() -> None:
    ev = {"vram_table": "jul2011", "high_water_from": "history", "pool": "vc01 · vSphere Standard",
          "vram_pool": "vc01 · vSphere Standard"}
    assert evidence.as_text(ev, "LIC-002") == (
        "vRAM table: Original entitlements of 12 July 2011 (jul2011); Today's high-water read from: an earlier vRAM "
        "sample of the same day (higher than at collection); vRAM pool: vc01 · vSphere Standard; "
        "Adds to vRAM pool: vc01 · vSphere Standard")
    assert [states.vram_table(c) for c in ("aug2011", "someday", None)] == [
        "Revised entitlements of 3 August 2011 (aug2011)", "someday", None]
    assert [evidence.column_title(k, "LIC-003") for k in ("crossing_date_trend", "horizon_days", "threshold_pct",
                                                          "avg_headroom_pct", "headroom_gb")] == [
        "Crossing date (at the recent trend)", "At-risk horizon (days)", "Headroom warning threshold (%)",
        "Headroom, share of the entitlement (%)", "Headroom on the 12-month average (GB)"]


def test_gen_001_message_says_not_responding() -> None:
    snap = snapshot(vcenter([host("host-1", state="notResponding", name="esx-lost"),
                             host("host-2", state="disconnected", name="esx-off"), host("host-3")]))
    out = gen_001.run(CheckContext(snap))
    assert [(f.object_name, f.message, f.evidence["connection_state"]) for f in out.findings] == [
        ("esx-lost", "Host is not responding: its VMs and settings cannot be verified.", "notResponding"),
        ("esx-off", "Host is disconnected: its VMs and settings cannot be verified.", "disconnected")]


def test_scheduler_table_prints_connection_words_and_flags_as_yes_no() -> None:
    snap = snapshot(vcenter([host("host-1", "8.0.2", PER_FILE_80, name="esx-new"),
                             host("host-2", "7.0.3", {}, {"Disk.SchedulerWithReservation":
                                                          states.host_not_readable("notResponding", "option")},
                                  name="esx-lost", state="notResponding")],
                            [vm("vm-1", [])], [datastore("ds-1", vms=["vm-1"])]))
    rows = {r[1]: r for r in scheduler_table(CheckContext(snap)).rows}
    assert rows["esx-new"][3:6] == ["Connected", "1", "yes"]
    assert rows["esx-lost"][3:5] == ["Not responding", "unknown (host is not responding: option not readable)"]


# -- API names ----------------------------------------------------------------------------------

def test_api_fields_read_as_the_vsphere_client_names_them() -> None:
    assert evidence.label("storageIOAllocation.limit") == "Limit - IOPs"
    assert sheet_text.column_label("storageIOAllocation.limit") == "Limit - IOPs"
    assert evidence.label("sched.scsi0:0.throughputCap") == "sched.scsi0:0.throughputCap"  # a VMX key: typed
    assert [evidence.scalar(v, "storageIOAllocation.limit") for v in (-1, 500, None)] == ["Unlimited", "500", "not set"]
    disk = {"disk": "Hard disk 2", "storageIOAllocation.limit": -1, "sched.scsi0:1.bandwidthCap": "100MBps"}
    assert sheet_text.flat_value(disk) == "Disk: Hard disk 2, Limit - IOPs: Unlimited, sched.scsi0:1.bandwidthCap: 100MBps"


def test_cpu_mmu_flags_read_as_settings_not_api_names() -> None:
    assert [evidence.column_title(k) for k in ("virtual_exec_usage", "virtual_mmu_usage", "host_exec_usage_ignored",
                                               "host_mmu_usage_ignored", "host_ignores_basis")] == [
        "CPU virtualization setting", "MMU virtualization setting", "Host ignores the per-VM CPU setting",
        "Host ignores the per-VM MMU setting", "Whether it ignores it, known from"]
    # The values in words with the value PowerCLI sets beside them, unset as the API's default;
    # how the report knows a host ignores the setting, in words.
    ev = {"virtual_exec_usage": "hvOn", "virtual_mmu_usage": None, "host_ignores_basis": "capability"}
    assert evidence.as_text(ev) == ("CPU virtualization setting: Hardware (hvOn); MMU virtualization setting: "
                                    "Automatic (not set); Whether it ignores it, known from: host's own report")
    assert [states.ignores_basis(c) for c in ("version", "unknown", None)] == ["ESXi version", "not known", None]
    checks = load_all()
    texts = [(cid, t) for cid, c in checks.items() if cid.startswith("CPU-")
             for t in (c.meta.title, c.meta.description, c.meta.rationale)]
    assert len(texts) == 18 and [(cid, t) for cid, t in texts if re.search(r"(?i)virtual(exec|mmu)usage", t)] == []


def test_check_texts_use_the_vsphere_clients_words() -> None:
    checks = load_all()
    assert checks["SNAP-004"].meta.description == (
        "A VM that vCenter flags as needing consolidation (Virtual machine disks consolidation is needed): a "
        "snapshot delete left delta files behind.")
    assert checks["CBT-001"].meta.description.startswith(
        "A VM in backup scope (setting; default: every powered-on VM) on which Changed Block Tracking is off.")
    assert checks["SNAP-003"].meta.description.startswith(
        "A VM whose snapshots (delta and memory files, from the VM's file layout as vCenter reports it) hold")
    assert "the disk's Limit - IOPs (Edit Settings)" in checks["IOCAP-006"].meta.description
    api = re.compile(r"layoutEx|storageIOAllocation|changeTrackingEnabled|\b(runtime|config|guest)\.[a-z]")
    texts = [(cid, t) for cid, c in checks.items() for t in (c.meta.title, c.meta.description, c.meta.rationale)]
    assert [(cid, t) for cid, t in texts if api.search(t)] == []


def test_object_store_caveat_is_short_enough_to_print_whole() -> None:
    snap = snapshot(vcenter(vms=[vm("vm-1", [])], datastores=[datastore("vm-ds", type_="vsan")]))
    vc = next(iter(snap.vcenters.values()))
    note = object_store_caveat(vc.vms["vm-1"], vc, ["vm-ds"])
    assert note == ("On vSAN this size is not precise: a delta disk is an object there, and vCenter may report only "
                    "its descriptor or its provisioned size (docs/methodology.md#snapshot-space).")
    assert str(format_cell(note)) == f"<bdi>{note}</bdi>"  # whole: no "…"


# -- sentences are not cut ----------------------------------------------------------------------

def test_a_sentence_prints_whole_a_name_is_cut() -> None:
    reason = ("legacy scheduler needs a cap of the same type on every disk of the VM on this datastore: IOPS cap on "
              "scsi0:1 but not on scsi0:0")
    assert len(reason) > NAME_LIMIT and is_sentence(reason) and text_limit(reason) == 1000
    assert str(format_cell(reason)) == f"<bdi>{reason}</bdi>"
    name = "vm-" + "q" * 130
    assert str(format_cell(name)) == f'<bdi title="{name}">{name[:119]}…</bdi>'
    names = ", ".join(f"web-{i:03d}.corp.example" for i in range(8))  # a list of names is not prose
    assert len(names) > NAME_LIMIT and not is_sentence(names) and str(format_cell(names)).endswith("…</bdi>")
    assert not is_sentence("Finance App Server 01 (prod)")  # a name with a few words stays a name


def test_a_message_quotes_a_sentence_from_its_evidence_whole() -> None:
    fix = ("set sched.scsi0:1.throughputCap = 1600IOps (Limit - IOPs 1600) on Hard disk 2 (scsi0:1); remove the "
           "bandwidth cap on scsi0:0 and keep every disk of the VM on the datastore at one type")
    f = SimpleNamespace(object_name="a-backup-proxy", vcenter="vc02", message=f"To use one type: {fix}.",
                        evidence={"fix": fix, "vm": "a-backup-proxy"})
    assert str(format_message(f)) == f"To use one type: {Markup.escape(fix)}."


# -- flags: yes/no everywhere -------------------------------------------------------------------

@pytest.mark.parametrize("writer", WRITERS)
def test_flags_are_yes_no_in_xlsx_and_csv(writer: str) -> None:
    if writer == "libxlsxwriter" and xlsx_native.library() is None:
        pytest.skip("libxlsxwriter is not installed")
    sheet = Sheet("t", "T", ["Template", "Name"], [[True, "a"], [False, "b"], [None, "c"]])
    assert [csv_value(v) for v in (True, False, None)] == ["yes", "no", ""]
    rows = list(csv.reader(io.StringIO(sheet_csv(sheet).decode("utf-8-sig"))))
    assert rows == [["Template", "Name"], ["yes", "a"], ["no", "b"], ["", "c"]]
    ws = openpyxl.load_workbook(io.BytesIO(workbook_bytes([sheet], writer)), read_only=True).worksheets[0]
    assert [list(r) for r in ws.iter_rows(values_only=True)] == [
        ["Template", "Name"], ["yes", "a"], ["no", "b"], [None, "c"]]
