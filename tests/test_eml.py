"""``--format eml`` and ``vcreport run --no-send``: the email a run would send, as a file."""

from __future__ import annotations

import email
import socket
from email import policy
from email.message import EmailMessage
from pathlib import Path

import pytest
import report_fixtures as rf
from click.testing import CliRunner

from reporter import api
from reporter.cli import main
from reporter.config import parse_config
from reporter.core import snapshot_io
from reporter.deliver.email import build_message, subject
from reporter.errors import UsageError
from reporter.pipeline.run import run_once
from reporter.render.view import build_view


def _closed_port() -> int:
    # A port nothing listens on: a send attempt would fail, so a passing test proves none was made.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _config(tmp_path: Path, *, email_section: bool = True) -> dict[str, object]:
    data: dict[str, object] = {"output": {"dir": str(tmp_path / "out"), "formats": ["html", "json"]}}
    if email_section:
        data["email"] = {"smtp_host": "127.0.0.1", "smtp_port": _closed_port(), "security": "none",
                         "sender": "vcreport@example.com", "recipients": ["ops@example.com", "lic@example.com"],
                         "attach": ["xlsx", "json"], "retries": 0}
    return data


def _parse(path: Path) -> EmailMessage:
    msg = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def _attachments(msg: EmailMessage) -> dict[str, bytes]:
    out = {}
    for part in msg.iter_attachments():
        payload = part.get_payload(decode=True)
        assert isinstance(payload, bytes)
        out[str(part.get_filename())] = payload
    return out


@pytest.fixture(scope="module")
def snapshot_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("eml-snap") / "snap.json"
    snapshot_io.save(rf.snapshot(errors=False), path)
    return path


def test_format_eml_writes_the_message_run_would_send(tmp_path: Path, snapshot_file: Path) -> None:
    cfg = parse_config(_config(tmp_path))
    out = tmp_path / "reports"
    res = api.report(snapshot_file, out, formats="eml", cfg=cfg)
    # The attached formats are rendered too; the message is written last and is on disk.
    assert sorted(p.name for p in res.files) == ["findings.json", "report.eml", "report.xlsx", "summary.json"]
    msg = _parse(out / "report.eml")
    assert cfg.email is not None
    assert msg["Subject"] == subject(build_view(res.context), cfg.email.subject_prefix)
    assert msg["From"] == "vcreport@example.com"
    assert msg["To"] == "ops@example.com, lic@example.com"
    assert str(msg["Date"]).endswith(" +0000")  # UTC said as such, not "-0000" (zone unknown)
    attached = _attachments(msg)
    assert list(attached) == ["report.xlsx", "findings.json"]
    assert attached["report.xlsx"] == (out / "report.xlsx").read_bytes()
    assert attached["findings.json"] == (out / "findings.json").read_bytes()
    # Same text as the message `run` builds for this output directory (only Date/Message-ID differ).
    sent = build_message(res.context, cfg.email, out)
    body = msg.get_body(("plain",))
    sent_body = sent.get_body(("plain",))
    assert body is not None and sent_body is not None
    # (The file has SMTP's CRLF line ends, as on the wire.)
    assert body.get_content().replace("\r\n", "\n") == sent_body.get_content()
    assert f"All formats are in {out.resolve()} on the reporting host." in body.get_content()
    assert ".render-" not in body.get_content()  # the final directory, not the staging one
    html = msg.get_body(("html",))
    assert html is not None and "<style" not in html.get_content()  # CSS inlined, as sent


def test_format_eml_without_email_section_is_a_usage_error(tmp_path: Path, snapshot_file: Path) -> None:
    with pytest.raises(UsageError, match=r"needs an \[email\] section"):
        api.report(snapshot_file, tmp_path / "r", formats="html,eml", cfg=parse_config(_config(tmp_path, email_section=False)))
    assert not (tmp_path / "r").exists()  # refused before anything was written


def test_cli_format_eml_without_config_exits_2_with_one_line(tmp_path: Path, snapshot_file: Path) -> None:
    res = CliRunner().invoke(main, ["report", str(snapshot_file), "--out", str(tmp_path / "r"), "--format", "eml"])
    assert res.exit_code == 2
    assert res.stderr.splitlines() == ["vcreport: error: --format eml writes the email a run would send: it needs "
                                       "an [email] section (sender, recipients) in --config"]


def test_run_no_send_writes_report_eml_and_sends_nothing(tmp_path: Path) -> None:
    cfg = parse_config(_config(tmp_path))
    outcome = run_once(cfg, collect=lambda c, insecure=False: rf.snapshot(errors=False), send=False)
    out = Path(cfg.output.dir)
    assert not outcome.emailed
    assert out / "report.eml" in outcome.files
    msg = _parse(out / "report.eml")
    assert list(_attachments(msg)) == ["report.xlsx", "findings.json"]
    assert msg["To"] == "ops@example.com, lic@example.com"


def test_run_no_send_without_email_section_is_a_usage_error(tmp_path: Path) -> None:
    cfg = parse_config(_config(tmp_path, email_section=False))
    with pytest.raises(UsageError, match="--no-send writes the email"):
        run_once(cfg, collect=lambda c, insecure=False: rf.snapshot(errors=False), send=False)
    assert not Path(cfg.output.dir).exists()


def test_run_with_send_still_tries_the_server(tmp_path: Path) -> None:
    # The counter-check for the test above: without --no-send the same config does reach for SMTP.
    from reporter.errors import DeliveryError

    cfg = parse_config(_config(tmp_path))
    with pytest.raises(DeliveryError):
        run_once(cfg, collect=lambda c, insecure=False: rf.snapshot(errors=False))
    assert not (Path(cfg.output.dir) / "report.eml").exists()


def test_demo_writes_the_weekly_email_of_the_sample(tmp_path: Path) -> None:
    # The sample config has no [email]: the demo addresses it as the config's commented example.
    res = CliRunner().invoke(main, ["demo", "--out", str(tmp_path / "d"), "--format", "html,eml"])
    assert res.exit_code == 0, res.output
    msg = _parse(tmp_path / "d" / "report.eml")
    assert (msg["From"], msg["To"]) == ("vcreport@corp.example", "vmware-admins@corp.example")
    assert str(msg["Subject"]).startswith("[vCenter report] 92 high, 204 medium")
    assert list(_attachments(msg)) == ["report.pdf", "report.xlsx"]
    body = msg.get_body(("plain",))
    assert body is not None and "Top actions:" in body.get_content()
