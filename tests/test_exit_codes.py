"""Exit codes as the README states them: 2 = bad usage, with one line on stderr and no traceback;
4 only for a verification that ran and failed. Library log lines never reach stderr by default."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import report_fixtures as rf
from click.testing import CliRunner

from reporter.cli import main
from reporter.core import snapshot_io
from reporter.core.formats import DEMO_FORMATS, Format


@pytest.fixture(scope="module")
def snapshot_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("exit-snap") / "snap.json"
    snapshot_io.save(rf.snapshot(errors=False), path)
    return path


def _run(args: list[str]) -> tuple[int, list[str]]:
    res = CliRunner().invoke(main, args)
    return res.exit_code, res.stderr.splitlines()


@pytest.mark.parametrize(("fmt", "message"), [
    ("docx", "vcreport: error: --format: unknown format(s): docx (choose from html, pdf, pdfa, xlsx, csv, json, eml)"),
    ("", "vcreport: error: --format: no format given (choose from html, pdf, pdfa, xlsx, csv, json, eml)"),
    (" , ", "vcreport: error: --format: no format given (choose from html, pdf, pdfa, xlsx, csv, json, eml)"),
])
def test_unknown_or_empty_format_is_usage_exit_2(tmp_path: Path, snapshot_file: Path, fmt: str, message: str) -> None:
    code, err = _run(["report", str(snapshot_file), "--out", str(tmp_path / "r"), "--format", fmt])
    assert (code, err) == (2, [message])
    assert not (tmp_path / "r").exists()  # nothing written, not even findings.json
    code, err = _run(["demo", "--out", str(tmp_path / "d"), "--format", fmt])
    assert (code, err) == (2, [message])


def test_a_directory_as_snapshot_is_one_line_exit_2(tmp_path: Path) -> None:
    # report merges the snapshots of a directory; one without any is a usage error
    code, err = _run(["report", str(tmp_path), "--out", str(tmp_path / "r")])
    assert (code, err) == (2, [f"vcreport: error: {tmp_path}: no snapshot files (*.json, *.json.gz) in this directory"])
    code, err = _run(["plan", str(tmp_path)])
    assert (code, err) == (2, [f"vcreport: error: {tmp_path}: is a directory, not a snapshot file"])


def test_a_missing_snapshot_is_one_line_exit_2(tmp_path: Path) -> None:
    code, err = _run(["report", str(tmp_path / "nope.json"), "--out", str(tmp_path / "r")])
    assert (code, err) == (2, [f"vcreport: error: {tmp_path / 'nope.json'}: no such snapshot file"])


def test_verify_missing_or_not_a_pdf_is_exit_2_not_4(tmp_path: Path) -> None:
    code, err = _run(["verify", str(tmp_path / "missing.pdf")])
    assert (code, err) == (2, [f"vcreport: error: {tmp_path / 'missing.pdf'}: no such file"])
    text = tmp_path / "notes.pdf"
    text.write_text("not a pdf at all\n")
    code, err = _run(["verify", str(text)])
    assert code == 2 and len(err) == 1 and err[0].startswith(f"vcreport: error: {text}: ")


def test_verify_non_pdf_in_a_real_process_prints_no_library_warnings(tmp_path: Path) -> None:
    # A child process, so the logging setup is the CLI's own (CliRunner shares this process's).
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
    proc = subprocess.run([sys.executable, "-m", "reporter.cli", "verify", str(broken)], capture_output=True,
                          text=True, check=False)
    assert proc.returncode in (2, 4)
    assert len(proc.stderr.splitlines()) == 1, proc.stderr
    assert proc.stderr.startswith("vcreport: ")
    assert "WARNING" not in proc.stderr and "Traceback" not in proc.stderr


def test_report_with_pdf_in_a_real_process_prints_nothing_on_stderr(tmp_path: Path, snapshot_file: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "reporter.cli", "report", str(snapshot_file), "--out",
                           str(tmp_path / "r"), "--format", "pdf,xlsx"], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""  # no weasyprint / fontTools / pypdf log lines, no Python warnings


def test_demo_help_states_the_demo_defaults() -> None:
    res = CliRunner().invoke(main, ["demo", "--help"])
    flat = " ".join(res.output.split())
    assert f"(default {','.join(DEMO_FORMATS)})" in flat
    assert f"Comma-separated formats: {','.join(Format)}" in flat
    report_help = " ".join(CliRunner().invoke(main, ["report", "--help"]).output.split())
    assert "(default from config, else html,json)" in report_help


def test_a_warning_reads_like_the_commands_other_lines(tmp_path: Path) -> None:
    """At the default verbosity a warning is 'vcreport: warning: …', one line, like the error after it;
    with -v it carries the time and the logger (a log for the one who asked for more)."""
    cfg = tmp_path / "c.toml"
    cfg.write_text('[[vcenter]]\nname = "a"\nhost = "127.0.0.1"\nport = 1\nuser = "u"\npassword_env = "VCR_TEST_PW"\n')
    args = [sys.executable, "-m", "reporter.cli", "collect", "--config", str(cfg), "--out", str(tmp_path / "s.json"),
            "--insecure"]
    env = {**os.environ, "VCR_TEST_PW": "x"}
    proc = subprocess.run(args, capture_output=True, text=True, check=False, env=env)
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [
        "vcreport: warning: a: TLS certificate verification is OFF (--insecure): the connection can be intercepted",
        "vcreport: error: no vCenter could be collected: a (127.0.0.1:1): connection refused (is the port right and "
        "vCenter up?)"]
    verbose = subprocess.run([*args[:3], "-v", *args[3:]], capture_output=True, text=True, check=False, env=env)
    first = verbose.stderr.splitlines()[0]
    assert " WARNING reporter.collect.session: a: TLS certificate verification is OFF" in first
    assert not (tmp_path / "s.json").exists()
