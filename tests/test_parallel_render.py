"""The PDF editions rendered in forked children (reporter.pipeline.parallel) while the parent
writes the other formats: the same files as serial rendering, the same one-line errors and exit
codes, nothing half-written, no child left running or unreaped after a failure or Ctrl-C."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pki_fixtures as pf
import pytest
import report_fixtures as rf
from click.testing import CliRunner, Result
from openpyxl import load_workbook
from pypdf import PdfReader

import reporter.pipeline.report as report_mod
from reporter import api
from reporter.cli import main
from reporter.core import forking
from reporter.core.formats import Format
from reporter.errors import RenderError
from reporter.pipeline import parallel
from reporter.pipeline.parallel import PARALLEL_ENV
from reporter.pipeline.progress import StageProgress
from reporter.render import html as html_renderer
from reporter.render import pdf, xlsx
from reporter.render.base import ReportContext

TESTS = Path(__file__).parent
ROOT = TESTS.parent


@pytest.fixture
def forks(monkeypatch: pytest.MonkeyPatch) -> list[parallel.BackgroundRender]:
    """Every child the report forks; parallel rendering on, whatever this machine's core count."""
    assert threading.active_count() == 1, threading.enumerate()  # else it would (rightly) render serially
    monkeypatch.delenv(PARALLEL_ENV, raising=False)
    monkeypatch.setattr(forking, "usable_cores", lambda: 2)
    started: list[parallel.BackgroundRender] = []
    real = parallel.start

    def spy(name: Format, ctx: ReportContext, staging: Path) -> parallel.BackgroundRender:
        job = real(name, ctx, staging)
        started.append(job)
        return job

    monkeypatch.setattr(parallel, "start", spy)
    return started


@pytest.fixture
def snapshot_file(tmp_path: Path) -> Path:
    return api.save_snapshot(rf.snapshot(), tmp_path / "snapshot.json.gz")


def _dead(pid: int) -> bool:
    """Gone, or a zombie that is not ours to reap (a container's init may never reap it)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    return "\nState:\tZ" in status


def _wait_dead(pid: int, seconds: float = 20.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if _dead(pid):
            return True
        time.sleep(0.05)
    return False


def _report_set(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def _pdf_text(path: Path) -> list[str]:
    return [page.extract_text() for page in PdfReader(path).pages]


def _xlsx_cells(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    book = load_workbook(path, read_only=True)
    return {ws.title: list(ws.iter_rows(values_only=True)) for ws in book.worksheets}


def assert_same_reports(a: Path, b: Path) -> None:
    """Two report sets hold the same files with the same content: bytes, XLSX cells, PDF text."""
    names = sorted(str(p.relative_to(a)) for p in a.rglob("*") if p.is_file())
    assert names == sorted(str(p.relative_to(b)) for p in b.rglob("*") if p.is_file())
    for name in names:
        if name.endswith(".pdf"):
            assert _pdf_text(a / name) == _pdf_text(b / name), name
        elif name.endswith(".xlsx"):
            assert _xlsx_cells(a / name) == _xlsx_cells(b / name), name
        else:
            assert (a / name).read_bytes() == (b / name).read_bytes(), name


# -- the same files -----------------------------------------------------------------------------

def test_parallel_rendering_writes_what_serial_rendering_writes(tmp_path: Path, snapshot_file: Path,
                                                                 forks: list[parallel.BackgroundRender],
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[ReportContext, list[Format]]] = []
    real = report_mod._render_all

    def keep(ctx: ReportContext, formats: list[Format], out: Path, stages: StageProgress) -> list[Path]:
        seen.append((ctx, formats))
        return real(ctx, formats, out, stages)

    monkeypatch.setattr(report_mod, "_render_all", keep)
    res = api.report(snapshot_file, tmp_path / "parallel", formats="html,xlsx,pdf,csv,json")
    assert [job.name for job in forks] == ["pdf"]
    assert forks[0].process.exitcode == 0

    monkeypatch.setenv(PARALLEL_ENV, "0")
    (ctx, formats), = seen
    (tmp_path / "serial").mkdir()
    serial = real(ctx, formats, tmp_path / "serial", StageProgress(False))
    assert len(forks) == 1  # the serial render forked nothing
    # The same files, listed in the same (format) order, with the same content.
    assert [p.relative_to(tmp_path / "parallel") for p in res.files] == [p.relative_to(tmp_path / "serial") for p in serial]
    assert [p.name for p in res.files][:3] == ["report.html", "report.xlsx", "report.pdf"]
    assert_same_reports(tmp_path / "parallel", tmp_path / "serial")
    assert len(_pdf_text(tmp_path / "parallel" / "report.pdf")) >= 2


def test_progress_shows_the_pdf_when_it_is_waited_for(tmp_path: Path, snapshot_file: Path,
                                                      forks: list[parallel.BackgroundRender],
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    api.report(snapshot_file, tmp_path / "r", formats="pdf,csv", progress=True)
    err = capsys.readouterr().err
    assert [line.rsplit("\r", 1)[-1].split(":")[0] for line in err.split("\n") if line] == [
        "loading the snapshot", "checks (4 VMs)", "writing csv", "writing json", "writing pdf"]
    assert [job.name for job in forks] == ["pdf"]


def test_serial_when_asked_or_when_other_threads_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(forking, "usable_cores", lambda: 2)
    wanted = [Format.html, Format.pdf, Format.pdfa, Format.json]
    monkeypatch.delenv(PARALLEL_ENV, raising=False)
    assert parallel.background_formats(wanted) == [Format.pdf, Format.pdfa]
    monkeypatch.setenv(PARALLEL_ENV, "0")
    assert parallel.background_formats(wanted) == []
    monkeypatch.setenv(PARALLEL_ENV, "1")
    monkeypatch.setattr(forking, "usable_cores", lambda: 1)
    assert parallel.background_formats(wanted) == []
    monkeypatch.setattr(forking, "usable_cores", lambda: 2)
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:  # forking now could copy a lock that thread holds into the child, held forever
        assert parallel.background_formats(wanted) == []
    finally:
        stop.set()
        other.join()
    assert parallel.background_formats(wanted) == [Format.pdf, Format.pdfa]


def test_a_fork_that_fails_leaves_the_format_to_this_process(tmp_path: Path, snapshot_file: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(forking, "usable_cores", lambda: 2)

    def no_fork(name: Format, ctx: ReportContext, staging: Path) -> parallel.BackgroundRender:
        raise OSError(errno.EAGAIN, "Resource temporarily unavailable")

    monkeypatch.setattr(parallel, "start", no_fork)
    res = api.report(snapshot_file, tmp_path / "r", formats="pdf,html")
    assert [p.name for p in res.files] == ["report.pdf", "report.html", "findings.json", "summary.json"]
    assert len(_pdf_text(tmp_path / "r" / "report.pdf")) >= 2


# -- the same errors ----------------------------------------------------------------------------

class OddError(Exception):
    """An exception that cannot be rebuilt from its args (its __init__ wants two)."""

    def __init__(self, what: str, why: str) -> None:
        super().__init__(f"{what} failed: {why}")


@pytest.mark.parametrize("error", [
    RenderError("PDF output needs WeasyPrint's system libraries (Pango): no fonts"),
    OSError(errno.ENOSPC, "No space left on device"),
    ValueError("a page box without a size"),
    OddError("layout", "page 3"),
], ids=["RenderError", "OSError", "ValueError", "unpicklable"])
def test_a_failing_pdf_in_the_child_is_the_serial_line_and_exit_code(
        tmp_path: Path, snapshot_file: Path, forks: list[parallel.BackgroundRender], monkeypatch: pytest.MonkeyPatch,
        error: Exception) -> None:
    out = tmp_path / "reports"
    api.report(snapshot_file, out, formats="html,json")
    before = _report_set(out)

    def boom(self: object, ctx: ReportContext, out_dir: Path) -> list[Path]:
        (out_dir / "report.pdf").write_bytes(b"%PDF-1.7 half")  # a partial file in the staging directory
        raise error

    monkeypatch.setattr(pdf.PdfRenderer, "render", boom)

    def run() -> Result:
        return CliRunner().invoke(main, ["report", str(snapshot_file), "--out", str(out), "--format", "html,pdf,xlsx"])

    parallel_result = run()
    assert [job.name for job in forks] == ["pdf"]
    monkeypatch.setenv(PARALLEL_ENV, "0")
    serial_result = run()
    assert len(forks) == 1
    assert parallel_result.exit_code == serial_result.exit_code == 1
    assert parallel_result.output == serial_result.output
    assert parallel_result.output.count("\n") == 1 and parallel_result.output.startswith("vcreport: error: ")
    assert _report_set(out) == before  # neither the HTML nor findings.json was replaced
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == []
    assert not [p for p in forks if p.process.is_alive()]


def test_the_expected_lines(tmp_path: Path, snapshot_file: Path, forks: list[parallel.BackgroundRender],
                            monkeypatch: pytest.MonkeyPatch) -> None:
    """What the parametrized test compares, spelled out once for two of its cases."""
    def boom(self: object, ctx: ReportContext, out_dir: Path) -> list[Path]:
        raise OddError("layout", "page 3")

    monkeypatch.setattr(pdf.PdfRenderer, "render", boom)
    result = CliRunner().invoke(main, ["report", str(snapshot_file), "--out", str(tmp_path / "r"), "--format", "pdf"])
    assert result.exit_code == 1
    assert result.output == ("vcreport: error: internal error: OddError: layout failed: page 3 "
                             "(run with -vv for a traceback)\n")

    def full(self: object, ctx: ReportContext, out_dir: Path) -> list[Path]:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pdf.PdfRenderer, "render", full)
    result = CliRunner().invoke(main, ["report", str(snapshot_file), "--out", str(tmp_path / "r"), "--format", "pdf"])
    assert result.output == f"vcreport: error: {tmp_path / 'r'}: cannot write the reports there: No space left on device\n"
    assert [job.name for job in forks] == ["pdf", "pdf"]


def test_a_killed_child_is_reported_and_reaped(tmp_path: Path, snapshot_file: Path,
                                               forks: list[parallel.BackgroundRender],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "reports"
    api.report(snapshot_file, out, formats="html,json")
    before = _report_set(out)

    def killed(self: object, ctx: ReportContext, out_dir: Path) -> list[Path]:
        (out_dir / "report.pdf").write_bytes(b"%PDF-1.7 half")
        os.kill(os.getpid(), signal.SIGKILL)  # as the kernel's OOM killer would
        raise AssertionError("unreachable")

    monkeypatch.setattr(pdf.PdfRenderer, "render", killed)
    result = CliRunner().invoke(main, ["report", str(snapshot_file), "--out", str(out), "--format", "html,pdf"])
    assert result.exit_code == 1
    assert result.output == ("vcreport: error: writing pdf: the rendering process was killed by SIGKILL "
                             "(out of memory?); no report file was replaced\n")
    (job,) = forks
    assert job.process.exitcode == -signal.SIGKILL
    assert not Path(f"/proc/{job.process.pid}").exists()  # reaped: no zombie
    assert _report_set(out) == before
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == []


def _slow_pdf(pid_file: Path) -> Any:
    def slow(self: object, ctx: ReportContext, out_dir: Path) -> list[Path]:
        pid_file.write_text(str(os.getpid()))
        time.sleep(120)
        raise AssertionError("should have been killed")
    return slow


def test_a_failure_in_the_parent_kills_and_reaps_the_child(tmp_path: Path, snapshot_file: Path,
                                                           forks: list[parallel.BackgroundRender],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pdf.PdfRenderer, "render", _slow_pdf(tmp_path / "pid"))

    def broken(self: object, ctx: ReportContext, out_dir: Path) -> list[Path]:
        while not (tmp_path / "pid").exists():  # the child is rendering
            time.sleep(0.02)
        raise RenderError("workbook broken")

    monkeypatch.setattr(xlsx.XlsxRenderer, "render", broken)
    started = time.monotonic()
    with pytest.raises(RenderError, match="^workbook broken$"):
        api.report(snapshot_file, tmp_path / "r", formats="xlsx,pdf")  # the PDF comes later: not waited for
    assert time.monotonic() - started < 60
    (job,) = forks
    assert job.process.exitcode == -signal.SIGKILL and not Path(f"/proc/{job.process.pid}").exists()
    assert not (tmp_path / "r").exists()  # the directory the report made is gone with its staging


def test_the_first_failure_in_format_order_wins(tmp_path: Path, snapshot_file: Path,
                                                forks: list[parallel.BackgroundRender],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """pdf before xlsx, both fail: serial rendering stops at the PDF, so that is the error."""
    def pdf_fails(self: object, ctx: ReportContext, out_dir: Path) -> list[Path]:
        time.sleep(0.5)  # later than the XLSX's failure
        raise RenderError("pdf broken")

    def xlsx_fails(self: object, ctx: ReportContext, out_dir: Path) -> list[Path]:
        raise RenderError("workbook broken")

    monkeypatch.setattr(pdf.PdfRenderer, "render", pdf_fails)
    monkeypatch.setattr(xlsx.XlsxRenderer, "render", xlsx_fails)
    with pytest.raises(RenderError) as first:
        api.report(snapshot_file, tmp_path / "r", formats="pdf,xlsx")
    assert str(first.value) == "pdf broken"
    # Where in the child it failed travels along, shown only with a traceback (-vv).
    assert first.value.__notes__[0].startswith("(raised in the rendering process)\nTraceback")
    with pytest.raises(RenderError) as second:
        api.report(snapshot_file, tmp_path / "r", formats="xlsx,pdf")
    assert str(second.value) == "workbook broken"
    assert [job.name for job in forks] == ["pdf", "pdf"]


def test_ctrl_c_in_the_parent_kills_and_reaps_the_child(tmp_path: Path, snapshot_file: Path,
                                                        forks: list[parallel.BackgroundRender],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pdf.PdfRenderer, "render", _slow_pdf(tmp_path / "pid"))

    def interrupted(self: object, ctx: ReportContext, out_dir: Path) -> list[Path]:
        while not (tmp_path / "pid").exists():
            time.sleep(0.02)
        raise KeyboardInterrupt

    monkeypatch.setattr(html_renderer.HtmlRenderer, "render", interrupted)
    with pytest.raises(KeyboardInterrupt):
        api.report(snapshot_file, tmp_path / "r", formats="pdf,html")  # not waited for, though earlier
    (job,) = forks
    assert not Path(f"/proc/{job.process.pid}").exists()
    assert not (tmp_path / "r").exists()  # the directory the report made is gone with its staging


# -- real processes: Ctrl-C on a terminal, the parent killed ------------------------------------

SCRIPT = """
import os, sys, time
from pathlib import Path
from reporter.render import pdf
pid_file = Path(sys.argv[1])
def slow(self, ctx, out_dir):
    pid_file.write_text(str(os.getpid()))
    time.sleep(120)
pdf.PdfRenderer.render = slow
from reporter.cli import main
from reporter.core import forking
sys.argv = ["vcreport", "report", sys.argv[2], "--out", sys.argv[3], "--format", "html,pdf"]
main()
"""


def _start(tmp_path: Path, snapshot_file: Path) -> tuple[subprocess.Popen[str], int]:
    pid_file = tmp_path / "child.pid"
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "PYTHONPATH": str(ROOT)}
    env.pop(PARALLEL_ENV, None)
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, str(pid_file), str(snapshot_file), str(tmp_path / "r")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, start_new_session=True)
    deadline = time.monotonic() + 120
    while not pid_file.exists() or not pid_file.read_text():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the PDF child never started"
        time.sleep(0.05)
    return proc, int(pid_file.read_text())


@pytest.mark.skipif(os.cpu_count() == 1, reason="renders serially on one core")
def test_ctrl_c_on_a_terminal_stops_both_processes(tmp_path: Path, snapshot_file: Path) -> None:
    proc, child = _start(tmp_path, snapshot_file)
    assert child != proc.pid
    os.killpg(proc.pid, signal.SIGINT)  # what the terminal sends: to the whole process group
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert err == "vcreport: error: interrupted\n"  # one line; nothing from the child
    assert _wait_dead(child)
    assert not (tmp_path / "r").exists()  # the directory the report made is gone with its staging


@pytest.mark.skipif(not sys.platform.startswith("linux") or os.cpu_count() == 1, reason="PR_SET_PDEATHSIG is Linux")
def test_a_killed_parent_takes_its_child_along(tmp_path: Path, snapshot_file: Path) -> None:
    proc, child = _start(tmp_path, snapshot_file)
    proc.kill()
    proc.communicate(timeout=60)
    assert _wait_dead(child), "the PDF child outlived its parent"


# -- the audit edition --------------------------------------------------------------------------

def test_the_signed_audit_edition_renders_in_a_child_and_verifies(tmp_path: Path, snapshot_file: Path,
                                                                  forks: list[parallel.BackgroundRender]) -> None:
    files = pf.make_pki().write(tmp_path / "pki")
    (tmp_path / "passphrase").write_bytes(pf.PASSPHRASE + b"\n")
    (tmp_path / "vcreport.toml").write_text(f'''
[audit]
sign_key_file = "{files["signer.key"]}"
sign_cert_file = "{files["signer.crt"]}"
sign_chain_files = ["{files["intermediate.crt"]}"]
sign_key_passphrase_file = "passphrase"
''', encoding="utf-8")
    cfg = api.load_config(tmp_path / "vcreport.toml")
    res = api.report(snapshot_file, tmp_path / "r", formats="pdfa,html", cfg=cfg)
    assert [job.name for job in forks] == ["pdfa"]
    assert [p.name for p in res.files] == ["audit-evidence.pdf", "report.html", "findings.json", "summary.json"]
    result = CliRunner().invoke(main, ["verify", str(tmp_path / "r" / "audit-evidence.pdf"), "--trust",
                                       str(files["root.crt"]), "--snapshot", str(snapshot_file)])
    statuses = {line.split()[1]: line.split()[0] for line in result.stdout.splitlines()
                if line.split()[0] in ("PASS", "FAIL", "SKIP")}
    assert statuses["signature"] == statuses["coverage"] == statuses["chain"] == "PASS", result.output
    assert statuses["attachments"] == statuses["snapshot"] == "PASS", result.output
