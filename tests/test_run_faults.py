"""`vcreport run` under faults: a history database that cannot be opened does not stop the run
(snapshot saved, reports and email still go out and say so, exit 3)."""

from __future__ import annotations

import email
from email import policy
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from click.testing import CliRunner
from test_email_delivery import Recorder, free_port
from test_scheduler_service import WEEK2, _week

import reporter.collect
from reporter.cli import main


@pytest.fixture
def smtp() -> Any:
    rec = Recorder()
    port = free_port()
    c = Controller(rec, hostname="127.0.0.1", port=port)
    c.start()
    yield port, rec
    c.stop()


def test_run_with_an_unopenable_history_still_reports_and_emails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                  smtp: Any) -> None:
    port, rec = smtp
    not_a_db = tmp_path / "history-is-a-directory"
    not_a_db.mkdir()
    cfg_file = tmp_path / "vcreport.toml"
    cfg_file.write_text(
        f'[output]\ndir = "{tmp_path / "out"}"\nformats = ["html", "json"]\n'
        f'[history]\nurl = "sqlite:///{not_a_db}"\n'
        f'[email]\nsmtp_host = "127.0.0.1"\nsmtp_port = {port}\nsecurity = "none"\nsender = "vcreport@example.com"\n'
        'recipients = ["ops@example.com"]\nattach = ["html"]\nretries = 0\n', encoding="utf-8")
    monkeypatch.setattr(reporter.collect, "collect", lambda cfg, insecure=False, progress=None: _week(WEEK2, {}))
    result = CliRunner().invoke(main, ["run", "--config", str(cfg_file)])

    assert result.exit_code == 3, result.output
    reason = f"history database sqlite:///{not_a_db}: unable to open database file"
    assert result.output.splitlines()[-1] == (
        f"vcreport: error: history not available ({reason}); reports written and emailed without the 12-month figures")
    out = tmp_path / "out"
    assert [p.name for p in (out / "snapshots").iterdir()] == ["snapshot-20261123T060000Z.json.gz"]
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "vRAM history could not be read" in html and "unable to open database file" in html

    (_, rcpt, raw, _) = rec.messages[0]
    assert len(rec.messages) == 1 and rcpt == ["ops@example.com"]
    msg = email.message_from_bytes(raw, policy=policy.default)
    text = msg.get_body(preferencelist=("plain",)).get_content()
    assert f"HISTORY NOT AVAILABLE: {reason}; the 12-month vRAM figures could not be read." in text
    html_mail = msg.get_body(preferencelist=("html",)).get_content()
    assert "History not available" in html_mail


def test_report_with_an_unopenable_history_says_so(tmp_path: Path) -> None:
    """`vcreport report --config` with the same history: the report is written, LIC-001 says why."""
    from reporter.api import parse_config
    from reporter.pipeline.report import report

    not_a_db = tmp_path / "d"
    not_a_db.mkdir()
    cfg = parse_config({"history": {"url": f"sqlite:///{not_a_db}"}})
    res = report(_week(WEEK2, {}), tmp_path / "out", formats="json", cfg=cfg)
    assert res.context.history_error == f"history database sqlite:///{not_a_db}: unable to open database file"
    (lic,) = [r for r in res.results.checks if r.meta.id == "LIC-001"]
    assert lic.not_evaluated is not None and lic.not_evaluated.startswith(
        f"vRAM history could not be read (history database sqlite:///{not_a_db}: unable")


def test_report_command_with_an_unreadable_history_says_what_failed(tmp_path: Path) -> None:
    """`vcreport report --config` whose history cannot be read: the reports are written, every vSphere 5
    pool says the history could not be read (not "no history: configure one"), and the command ends
    with one line and exit 3, as `run` does."""
    import json

    from licensing_helpers import snapshot, vsphere5_site

    from reporter.core import snapshot_io

    not_a_db = tmp_path / "d"
    not_a_db.mkdir()
    cfg_file = tmp_path / "c.toml"
    cfg_file.write_text(f'[history]\nurl = "sqlite:///{not_a_db}"\n', encoding="utf-8")
    snap_file = tmp_path / "s.json"
    snapshot_io.save(snapshot(vsphere5_site()), snap_file)
    result = CliRunner().invoke(main, ["report", str(snap_file), "--config", str(cfg_file), "--out",
                                       str(tmp_path / "out"), "--format", "json,html"])
    reason = f"history database sqlite:///{not_a_db}: unable to open database file"
    assert result.exit_code == 3, result.output
    assert result.output.splitlines()[-1] == (
        f"vcreport: error: history not available ({reason}); reports written without the 12-month figures")
    assert "WARNING" not in result.output and "Traceback" not in result.output
    pools = json.loads((tmp_path / "out" / "summary.json").read_text())["licensing"]["pools"]
    vram = [p for p in pools if p["edition"] in ("enterprise_plus", "standard")]
    assert vram and {p["why"] for p in vram} == {
        f"vRAM history could not be read ({reason}): the 12-month average is unknown, so no verdict."}
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "record samples with a [history] section" not in html
    # The same banner as the email's, at the top of the report.
    import lxml.html
    banner = lxml.html.fromstring(html).get_element_by_id("history-error")
    assert " ".join(banner.text_content().split()).startswith(f"History not available {reason}: the 12-month vRAM figures")
