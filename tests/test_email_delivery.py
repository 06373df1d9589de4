"""The report email, received by a real SMTP server (aiosmtpd) on 127.0.0.1."""

from __future__ import annotations

import datetime as dt
import email
import ipaddress
import logging
import re
import socket
import ssl
from email import policy
from pathlib import Path

import pytest
import report_fixtures as rf
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from reporter.config import EmailConfig
from reporter.deliver.email import build_message, deliver, send, subject
from reporter.errors import DeliveryError
from reporter.render import get_renderer
from reporter.render.view import build_view

PASSWORD = "s3cret-Pa55w0rd!"
SUBJECT = "[vCenter report] INCOMPLETE: 1 high, 1 medium, 1 low (1 new, 1 fixed) — vc01, vc02"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Recorder:
    """Stores every message; fails the first ``fail_first`` DATA commands with ``fail_reply``."""

    def __init__(self, fail_first: int = 0, fail_reply: str = "451 4.3.0 Try again later"):
        self.messages: list = []
        self.attempts = 0
        self.fail_first = fail_first
        self.fail_reply = fail_reply

    async def handle_DATA(self, server, session, envelope):
        self.attempts += 1
        if self.attempts <= self.fail_first:
            return self.fail_reply
        tls = bool(session.ssl) or server.transport.get_extra_info("ssl_object") is not None
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content, tls))
        return "250 Message accepted"


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("mail")
    ctx = rf.context()
    for fmt in ("pdf", "xlsx"):
        get_renderer(fmt).render(ctx, out)
    return out


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1/localhost (cryptography comes with pdfminer)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    d = tmp_path_factory.mktemp("tls")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    (d / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (d / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                  serialization.NoEncryption()))
    return d / "cert.pem", d / "key.pem"


def server_context(tls_files) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(*tls_files)
    return ctx


def cfg(port: int, **kw) -> EmailConfig:
    base = dict(smtp_host="127.0.0.1", smtp_port=port, security="none", sender="vcreport@example.com",
                recipients=["ops@example.com", "vmware-admins@example.com"], retries=0, retry_delay_s=0, timeout_s=10)
    base.update(kw)
    return EmailConfig(**base)


@pytest.fixture
def server():
    started: list[Controller] = []

    def start(handler, **kw) -> int:
        port = free_port()
        c = Controller(handler, hostname="127.0.0.1", port=port, **kw)
        c.start()
        started.append(c)
        return port

    yield start
    for c in started:
        c.stop()


def _parse(raw: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(raw, policy=policy.default)


def test_subject_counts():
    view = build_view(rf.context())
    assert subject(view) == SUBJECT
    assert subject(build_view(rf.context(errors=False)), "[VC]") == "[VC] 1 high, 1 medium, 1 low (1 new, 1 fixed) — vc01, vc02"


def test_message_parts_inlined_css_and_attachments(report_dir):
    msg = _parse(bytes(build_message(rf.context(), cfg(25), report_dir)))
    assert msg["Subject"] == SUBJECT
    assert msg["To"] == "ops@example.com, vmware-admins@example.com"
    assert msg.get_content_type() == "multipart/mixed"
    parts = [p.get_content_type() for p in msg.walk()]
    assert parts == ["multipart/mixed", "multipart/alternative", "text/plain", "text/html",
                     "application/pdf", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"]
    text = msg.get_body(preferencelist=("plain",)).get_content()
    assert "4 VMs checked, 3 findings, 1 waived" in text
    assert "COLLECTION INCOMPLETE: 1 error(s)" in text
    # Top actions are finding groups (one root cause, one fix), with up to three object names.
    assert "   1. [HIGH] Snapshot older than the retention threshold (2 objects, 1 new; TST-001): " in text
    assert rf.HOSTILE in text
    assert "  LAB-002    ERROR " in text
    assert "Since the last run: 1 new, 1 fixed, 2 still open" in text
    # ... and what changed, by check, naming the objects
    assert f"\n  TST-001 Snapshot older than the retention threshold: 1 new ({rf.HOSTILE}); 1 fixed (db-07)\n" in text
    html = msg.get_body(preferencelist=("html",)).get_content()
    assert "<style" not in html  # Outlook/Gmail ignore it: everything is inlined
    assert 'style="' in html
    assert '<td class="tile t-high" style="' in html and "border-left-color: #c62828" in html
    assert rf.HOSTILE not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    # What changed is in the first screen, as in the text part: before the areas and the top actions.
    first_screen = html.split("By area</h2>")[0]
    assert re.search(r"<b[^>]*>Since the last run:</b> 1 new, 1 fixed, 2 still open\.", first_screen)
    changes = html.split("Since the last run</h2>")[1].split("<h2")[0]
    assert re.findall(r'>(new|fixed): <bdi>([^<]+)</bdi>', changes) == [
        ("new", "&lt;script&gt;alert(1)&lt;/script&gt;"), ("fixed", "db-07")]
    assert rf.UNICODE in html
    assert rf.KEY not in html and rf.KEY not in text and rf.MASKED in html
    atts = {p.get_filename(): p.get_content() for p in msg.iter_attachments()}
    assert atts == {"report.pdf": (report_dir / "report.pdf").read_bytes(),
                    "report.xlsx": (report_dir / "report.xlsx").read_bytes()}


def test_a_first_run_says_there_is_nothing_to_compare_with_in_both_parts(report_dir):
    """Without a previous run the text part said nothing about changes and the HTML part said so
    only at its end, after the top actions."""
    msg = _parse(bytes(build_message(rf.context(with_delta=False), cfg(25), report_dir)))
    text = msg.get_body(preferencelist=("plain",)).get_content()
    html = msg.get_body(preferencelist=("html",)).get_content()
    assert "No previous run to compare with." in text and "Since the last run" not in text
    assert "No previous run to compare with." in html.split("By area</h2>")[0]
    assert html.count("No previous run to compare with") == 1 and "Since the last run" not in html


def test_missing_attachment_is_a_delivery_error(tmp_path):
    with pytest.raises(DeliveryError, match=r"report\.pdf does not exist \(add 'pdf' to \[output\] formats\)"):
        build_message(rf.context(), cfg(25), tmp_path)


def test_plain_smtp_to_several_recipients(server, report_dir):
    rec = Recorder()
    port = server(rec)
    res = deliver(rf.context(), cfg(port), report_dir, sleep=lambda s: pytest.fail("no retry expected"))
    assert res is not None and res.attempts == 1 and res.refused == {}
    [(mail_from, rcpts, raw, tls)] = rec.messages
    assert mail_from == "vcreport@example.com"
    assert rcpts == ["ops@example.com", "vmware-admins@example.com"]
    assert not tls
    assert _parse(raw)["Subject"] == SUBJECT


def test_starttls_with_auth_and_password_never_logged(server, report_dir, tls_files, monkeypatch, caplog):
    seen: list[tuple[str, bytes, bytes]] = []

    def authenticator(server_, session, envelope, mechanism, auth_data):
        assert isinstance(auth_data, LoginPassword)
        seen.append((mechanism, auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == PASSWORD.encode(), handled=False)

    rec = Recorder()
    port = server(rec, tls_context=server_context(tls_files), require_starttls=True, authenticator=authenticator,
                  auth_require_tls=True)
    monkeypatch.setenv("VCREPORT_SMTP_PW", PASSWORD)
    c = cfg(port, security="starttls", user="mailer", password_env="VCREPORT_SMTP_PW", ca_bundle=tls_files[0])
    caplog.set_level(logging.DEBUG)
    res = deliver(rf.context(), c, report_dir)
    assert res.attempts == 1
    assert seen and seen[0][1:] == (b"mailer", PASSWORD.encode())
    [(_, _, raw, tls)] = rec.messages
    assert tls  # the message travelled inside TLS
    assert _parse(raw)["Subject"] == SUBJECT
    assert PASSWORD not in caplog.text

    # Wrong password: a permanent failure, not retried, and still not logged.
    monkeypatch.setenv("VCREPORT_SMTP_PW", "wrong-" + PASSWORD)
    with pytest.raises(DeliveryError, match=r"failed after 1 attempt\(s\): 535"):
        deliver(rf.context(), c.model_copy(update={"retries": 3}), report_dir, sleep=lambda s: pytest.fail("retried"))
    assert PASSWORD not in caplog.text


def test_starttls_refuses_an_untrusted_certificate(server, report_dir, tls_files):
    port = server(Recorder(), tls_context=server_context(tls_files), require_starttls=True)
    with pytest.raises(DeliveryError, match="CERTIFICATE_VERIFY_FAILED"):
        deliver(rf.context(), cfg(port, security="starttls"), report_dir)  # no ca_bundle: system CAs only


def test_implicit_tls(server, report_dir, tls_files):
    rec = Recorder()
    port = server(rec, ssl_context=server_context(tls_files))
    res = deliver(rf.context(), cfg(port, security="ssl", ca_bundle=tls_files[0]), report_dir)
    assert res.attempts == 1
    [(_, _, _, tls)] = rec.messages
    assert tls


def test_transient_failure_is_retried(server, report_dir, caplog):
    rec = Recorder(fail_first=1)
    port = server(rec)
    sleeps: list[float] = []
    caplog.set_level(logging.WARNING, logger="reporter.deliver.email")
    res = deliver(rf.context(), cfg(port, retries=2, retry_delay_s=7), report_dir, sleep=sleeps.append)
    assert res.attempts == 2
    assert sleeps == [7]
    assert rec.attempts == 2 and len(rec.messages) == 1
    assert "attempt 1/3" in caplog.text and "451 4.3.0 Try again later; retrying in 7 s" in caplog.text


def test_permanent_failure_is_not_retried(server, report_dir):
    rec = Recorder(fail_first=99, fail_reply="550 5.7.1 Relaying denied")
    port = server(rec)
    with pytest.raises(DeliveryError, match=r"failed after 1 attempt\(s\): 550 5\.7\.1 Relaying denied"):
        deliver(rf.context(), cfg(port, retries=3), report_dir, sleep=lambda s: pytest.fail("retried"))
    assert rec.attempts == 1


def test_unreachable_server_exhausts_retries(report_dir):
    sleeps: list[float] = []
    port = free_port()  # nothing listens here
    with pytest.raises(DeliveryError) as err:
        deliver(rf.context(), cfg(port, retries=2, retry_delay_s=5), report_dir, sleep=sleeps.append)
    assert sleeps == [5, 5]
    assert str(err.value).startswith(
        f"email to ops@example.com, vmware-admins@example.com via 127.0.0.1:{port} (none) failed after 3 attempt(s): "
        "ConnectionRefusedError")


def test_disabled_email_is_not_sent(report_dir):
    assert deliver(rf.context(), cfg(free_port(), enabled=False), report_dir) is None


def test_csv_attachment_is_zipped_and_prefix_is_used(server, report_dir):
    rec = Recorder()
    port = server(rec)
    get_renderer("csv").render(rf.context(errors=False), report_dir)
    c = cfg(port, attach=["xlsx", "csv"], subject_prefix="[weekly]")
    send(build_message(rf.context(errors=False), c, report_dir), c)
    [(_, _, raw, _)] = rec.messages
    parsed = _parse(raw)
    assert parsed["Subject"] == "[weekly] 1 high, 1 medium, 1 low (1 new, 1 fixed) — vc01, vc02"
    atts = {p.get_filename(): p.get_content() for p in parsed.iter_attachments()}
    assert sorted(atts) == ["report-csv.zip", "report.xlsx"]
    import io
    import zipfile

    with zipfile.ZipFile(io.BytesIO(atts["report-csv.zip"])) as zf:
        assert "csv/vms.csv" in zf.namelist() and "csv/findings.csv" in zf.namelist()


def test_unreachable_server_is_one_error_line_not_two(report_dir, caplog):
    """The last attempt's failure is the DeliveryError's line; it is not logged as an error too
    (the CLI printed "vcreport: error: email: attempt 4/4 …" and then "vcreport: error: email to …")."""
    caplog.set_level(logging.INFO, logger="reporter.deliver.email")
    with pytest.raises(DeliveryError, match=r"via 127\.0\.0\.1:\d+ \(none\) failed after 2 attempt\(s\)"):
        deliver(rf.context(), cfg(free_port(), retries=1, retry_delay_s=0), report_dir, sleep=lambda s: None)
    assert [r.levelname for r in caplog.records if "attempt" in r.getMessage()] == ["WARNING", "INFO"]
