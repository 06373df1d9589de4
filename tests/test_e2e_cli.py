"""End to end through the real CLI: vcsim -> `vcreport collect` -> `vcreport report`.

These run the installed console entry point in a subprocess, as an admin would, and
assert exit codes, the one-line error contract and what lands in the files.
"""

from __future__ import annotations

import csv
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

HOSTILE = '<script>alert(1)</script> Ünïcødé-VM-日本 & "q"'


def vcreport(*args: str, env: dict[str, str] | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "reporter.cli", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=timeout)


def closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_demo_writes_every_format(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    # Every format of the 409-VM sample, the audit edition too: minutes of CPU on a loaded 2-core machine
    # with the other test worker beside it. The timeout only stops a hang.
    res = vcreport("demo", "--out", str(out), "--format", "html,pdf,pdfa,xlsx,csv,json", timeout=900)
    assert res.returncode == 0, res.stderr
    assert "since the last run: 6 new, 1 fixed, 325 still open" in res.stdout.splitlines()  # the sample's week
    names = {p.name for p in out.iterdir()}
    assert {"report.html", "report.pdf", "findings.json"} <= names
    assert any(n.endswith(".xlsx") for n in names)
    assert any(n.endswith(".pdf") and n != "report.pdf" for n in names), names  # the audit edition
    findings = json.loads((out / "findings.json").read_text())
    families = {f["check_id"].split("-")[0] for f in findings}
    assert {"GEN", "LIC", "SNAP", "CBT", "CPU", "SIOC", "IOCAP"} <= families
    # license keys are masked in every output unless asked
    blob = "\n".join(p.read_text(errors="ignore") for p in out.rglob("*") if p.suffix in {".html", ".json", ".csv"})
    assert "4J2L7-8KD4N-08Z41" not in blob
    assert "XXXXX-XXXXX-XXXXX-0A8K2-3LC4M" in blob


def test_collect_partial_exits_3_and_keeps_the_good_vcenter(vcsim, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    good = vcsim.config_file(tmp_path)
    text = good.read_text() + (
        f'\n[[vcenter]]\nname = "vc-down"\nhost = "127.0.0.1"\nport = {closed_port()}\nuser = "u"\n'
        f'password_env = "{vcsim.password_env}"\ntimeout_s = 5\n'
    )
    cfg = tmp_path / "two.toml"
    cfg.write_text(text)
    snap_path = tmp_path / "snap.json.gz"
    res = vcreport("collect", "--config", str(cfg), "--out", str(snap_path))
    assert res.returncode == 3, res.stderr
    assert "Traceback" not in res.stderr
    assert vcsim.password not in res.stderr + res.stdout
    assert "vc-down" in res.stderr and "collection incomplete" in res.stderr
    from reporter.core import snapshot_io

    snap = snapshot_io.load(snap_path)
    assert [e.vcenter for e in snap.collection_errors] == ["vc-down"]
    assert [vc.name for vc in snap.vcenters.values()] == ["vcsim"]
    assert len(next(iter(snap.vcenters.values())).vms) == 8


def test_wrong_password_is_one_line(vcsim, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cfg = vcsim.config_file(tmp_path, password="not-the-password")
    out = tmp_path / "snap.json"
    res = vcreport("collect", "--config", str(cfg), "--out", str(out))
    assert res.returncode == 1
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("vcreport: error: "), res.stderr
    assert "not-the-password" not in res.stderr
    assert not out.exists(), "nothing half-written when every vCenter failed"


def test_report_does_not_overwrite_snapshot_on_failure(vcsim, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "snap.json"
    out.write_text("previous snapshot")
    cfg = vcsim.config_file(tmp_path, password="wrong")
    res = vcreport("collect", "--config", str(cfg), "--out", str(out))
    assert res.returncode == 1
    assert out.read_text() == "previous snapshot"


def test_hostile_vm_name_end_to_end(vcsim_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from pyVmomi import vim  # tests may shape vcsim through the API

    sim = vcsim_factory()
    si = sim.si()
    view = si.content.viewManager.CreateContainerView(si.content.rootFolder, [vim.VirtualMachine], True)
    vm = sorted(view.view, key=lambda v: v._moId)[0]
    view.DestroyView()
    from pyVim.task import WaitForTask

    WaitForTask(vm.Rename_Task(HOSTILE))
    WaitForTask(vm.ReconfigVM_Task(vim.vm.ConfigSpec(changeTrackingEnabled=False)))

    snap = tmp_path / "snap.json"
    res = vcreport("collect", "--config", str(sim.config_file(tmp_path)), "--out", str(snap))
    assert res.returncode == 0, res.stderr
    out = tmp_path / "report"
    res = vcreport("report", str(snap), "--out", str(out), "--format", "html,xlsx,csv,json,pdf")
    assert res.returncode == 0, res.stderr

    html = (out / "report.html").read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Ünïcødé-VM-日本 &amp; " in html

    findings = json.loads((out / "findings.json").read_text(encoding="utf-8"))
    assert any(f["object_name"] == HOSTILE and f["check_id"] == "CBT-001" for f in findings)

    from openpyxl import load_workbook

    [xlsx] = list(out.glob("*.xlsx"))
    wb = load_workbook(xlsx, read_only=True)
    cells = {c for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for c in row if isinstance(c, str)}
    assert HOSTILE in cells

    csv_names = set()
    for p in out.rglob("*.csv"):
        with p.open(newline="", encoding="utf-8-sig") as fh:
            for row in csv.reader(fh):
                csv_names.update(row)
    assert HOSTILE in csv_names

    text = subprocess.run(["pdftotext", "-layout", str(out / "report.pdf"), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "<script>alert(1)</script>" in text  # shown as text, not interpreted
    assert "Ünïcødé-VM-日本" in text


def test_failed_render_keeps_the_previous_report_set(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from reporter import api
    from reporter.errors import RenderError
    from reporter.render import pdf

    sample = api.find_sample("sample-snapshot.json.gz")
    out = tmp_path / "reports"
    api.report(sample, out, formats="html,json")
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}

    def boom(self, ctx, out_dir):
        raise RenderError("PDF engine failed")

    monkeypatch.setattr(pdf.PdfRenderer, "render", boom)
    with pytest.raises(RenderError):
        api.report(sample, out, formats="html,json,pdf")
    after = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    assert after == before  # html and findings.json were not replaced by a half-finished run
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == []
