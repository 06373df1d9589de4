"""Hostile but valid names: bidi isolation in every format, bounded output for huge names."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import report_fixtures as rf
from pypdf import PdfReader

from reporter.core.findings import Finding, Severity, Status
from reporter.core.model import Snapshot
from reporter.pipeline.report import report
from reporter.render.templating import format_cell, format_message, format_name
from reporter.render.textsafe import FSI, PDI, balanced, isolate, names_isolated

RLO, PDF_ = "\u202e", "\u202c"
EVIL = f"evil{RLO}vm"  # an unclosed right-to-left override


def _finding(name: str, message: str, **evidence: Any) -> Finding:
    return Finding(check_id="CBT-001", severity=Severity.medium, status=Status.fail, vcenter="vc01",
                   object_type="vm", object_name=name, object_id=f"u/{name[:5]}", message=message, evidence=evidence)


def test_plain_text_isolation() -> None:
    assert isolate("web-01") == "web-01"  # nothing to isolate: unchanged
    assert isolate(EVIL) == f"{FSI}evil{RLO}vm{PDF_}{PDI}"  # the override is closed inside the isolate
    assert isolate("\u05e9\u05dc\u05d5\u05dd") == f"{FSI}\u05e9\u05dc\u05d5\u05dd{PDI}"  # RTL letters
    assert balanced(f"a{PDI}b") == "ab"  # a stray PDI would close an isolate outside the name
    assert balanced("a\u2067b") == f"a\u2067b{PDI}"  # an unclosed RLI is closed
    assert balanced(f"x{RLO}y") == f"x{RLO}y{PDF_}"
    msg = f"VM '{EVIL}' has CBT off; host 192.0.2.1"
    assert names_isolated(msg, [EVIL]) == f"VM '{FSI}{EVIL}{PDF_}{PDI}' has CBT off; host 192.0.2.1"


def test_html_isolates_names_in_cells_messages_and_evidence() -> None:
    f = _finding(EVIL, f"VM '{EVIL}' on 192.0.2.1: CBT off.", host="esx<1>")
    assert str(format_message(f)) == f"VM &#39;<bdi>{EVIL}{PDF_}</bdi>&#39; on 192.0.2.1: CBT off."
    assert str(format_name(EVIL)) == f"<bdi>{EVIL}{PDF_}</bdi>"
    assert str(format_cell("<b>x</b>")) == "<bdi>&lt;b&gt;x&lt;/b&gt;</bdi>"
    long = "n" * 10_000
    assert str(format_name(long)) == f'<bdi title="{long}">{"n" * 119}…</bdi>'
    assert str(format_message(_finding(long, f"VM '{long}' has CBT off."))) == f"VM &#39;<bdi>{'n' * 119}…</bdi>&#39; has CBT off."


def _snapshot(names: list[str]) -> Snapshot:
    snap = rf.snapshot(errors=False)
    vc = snap.vcenters[rf.UUID1]
    vms = {f"vm-{i}": rf.vm(f"vm-{i}", n).model_copy(update={"change_tracking_enabled": False, "host": "host-1"})
           for i, n in enumerate(names, 100)}
    return snap.model_copy(update={"vcenters": {**snap.vcenters, rf.UUID1: vc.model_copy(update={"vms": vms})}})


def test_a_10kb_vm_name_does_not_blow_up_the_pdf(tmp_path: Path) -> None:
    plain = report(_snapshot([f"app-{i:02d}" for i in range(20)]), tmp_path / "plain", formats="pdf,html")
    report(_snapshot([f"app-{i:02d}-" + "x" * 300 for i in range(20)]), tmp_path / "long", formats="pdf")
    huge_names = [f"app-{i:02d}-" + "x" * 10_000 for i in range(20)]
    huge = report(_snapshot(huge_names), tmp_path / "huge", formats="pdf,html,xlsx")
    pages = {k: len(PdfReader(tmp_path / k / "report.pdf").pages) for k in ("plain", "long", "huge")}
    # Names are cut at the same length: 300 characters or 10 kB, the same pages (bounded by the
    # object count, not the name length), and not many more than with short names.
    assert pages["huge"] == pages["long"], pages
    assert pages["huge"] <= pages["plain"] * 1.5, pages
    # The HTML keeps each full name only in tooltips and in the copy-paste commands (which must
    # name the VM exactly): a fixed number of copies per object, whatever the table sizes.
    html = (tmp_path / "huge" / "report.html").read_text(encoding="utf-8")
    assert max(html.count(n) for n in huge_names) <= 8
    from openpyxl import load_workbook
    wb = load_workbook(tmp_path / "huge" / "report.xlsx", read_only=True)
    cells = {c for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for c in row if isinstance(c, str)}
    assert set(huge_names) <= cells  # the full names stay in XLSX
    assert {f.object_name for f in huge.results.findings if f.check_id == "CBT-001"} == set(huge_names)
    assert plain.files


@pytest.mark.vcsim
def test_hostile_names_over_every_format(vcsim_factory: Any, tmp_path: Path) -> None:
    """A VM renamed through the API to a name with an unclosed RTL override and markup: every format."""
    from pyVim.task import WaitForTask
    from pyVmomi import vim

    name = f'<i>x</i> {EVIL} "q" & 日本'
    sim = vcsim_factory(vms=2)
    si = sim.si()
    view = si.content.viewManager.CreateContainerView(si.content.rootFolder, [vim.VirtualMachine], True)
    vm = sorted(view.view, key=lambda v: v._moId)[0]
    WaitForTask(vm.Rename_Task(name))
    WaitForTask(vm.ReconfigVM_Task(vim.vm.ConfigSpec(changeTrackingEnabled=False)))
    snap = tmp_path / "snap.json"
    run = [sys.executable, "-m", "reporter.cli"]
    res = subprocess.run([*run, "collect", "--config", str(sim.config_file(tmp_path)), "--out", str(snap)],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    out = tmp_path / "r"
    res = subprocess.run([*run, "report", str(snap), "--out", str(out), "--format", "html,pdf,pdfa,xlsx,csv,json"],
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr

    html = (out / "report.html").read_text(encoding="utf-8")
    escaped = f"&lt;i&gt;x&lt;/i&gt; {EVIL} &#34;q&#34; &amp; 日本"
    assert f"<bdi>{escaped}\u202c</bdi>" in html and "<i>x</i>" not in html
    # Every occurrence of the override sits inside an isolate (so "192.0" after it stays "192.0").
    outside = html
    for _ in range(html.count("<bdi")):
        a = outside.find("<bdi")
        b = outside.find("</bdi>", a)
        outside = outside[:a] + outside[b + 6:]
    assert RLO not in outside.replace(f'title="{escaped}"', "")  # every override sits inside an isolate
    findings = json.loads((out / "findings.json").read_text(encoding="utf-8"))
    assert any(f["object_name"] == name and f["check_id"] == "CBT-001" for f in findings)  # raw, unaltered
    from openpyxl import load_workbook
    wb = load_workbook(out / "report.xlsx", read_only=True)
    assert name in {c for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for c in row}
    rows = [r for p in out.rglob("*.csv") for r in csv.reader(p.open(newline="", encoding="utf-8-sig"))]
    assert name in {c for r in rows for c in r}
    for pdf in ("report.pdf", "audit-evidence.pdf"):
        text = rf.pdf_text(out / pdf)
        # Shown as text, not interpreted; the override reorders only the rest of the name itself
        # ("mv" for "vm"), and the words after the name keep their order.
        assert "<i>x</i> evil" in text and "mv" in text, pdf
        assert "CBT is off: every backup of this VM reads all of its disks in full." in text, pdf  # shown as text, not interpreted


def test_email_text_part_isolates_names(tmp_path: Path) -> None:
    from reporter.deliver.email import text_body
    from reporter.render.view import build_view

    res = report(_snapshot([EVIL, "web-01"]), tmp_path / "out", formats="json")
    text = text_body(build_view(res.context), [], None)
    line = next(ln for ln in text.splitlines() if "CBT-001" in ln and "evil" in ln)
    # The top action lists the group's objects: the hostile name is isolated, a plain one unchanged.
    assert line.endswith(f"): {FSI}{EVIL}{PDF_}{PDI}, web-01")
