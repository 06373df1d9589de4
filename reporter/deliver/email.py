"""The report by email: HTML with inlined CSS, a plain-text part, the reports attached.

Sent with smtplib over STARTTLS, implicit TLS ("ssl") or plain SMTP, with optional
AUTH; the password comes from an environment variable or a file (``[email]``
``password_env`` / ``password_file``) and is never logged. A failed send is retried
``retries`` times, ``retry_delay_s`` apart; when it still fails the caller gets a
``DeliveryError`` — the report files are already on disk by then.
"""

from __future__ import annotations

import io
import logging
import mimetypes
import smtplib
import ssl
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

import css_inline

from reporter.config import EmailConfig
from reporter.errors import DeliveryError
from reporter.render.base import ReportContext
from reporter.render.cells import format_datetime
from reporter.render.licensing_view import licensing_lines, subject_part
from reporter.render.templating import render_template
from reporter.render.textsafe import isolate, shorten
from reporter.render.view import ReportView, build_view

log = logging.getLogger(__name__)

SUBJECT_SEVERITIES = ("critical", "high", "medium", "low")  # info is not news for a subject line

# Which files each [email] attach entry stands for (csv: the csv/ directory, zipped).
ATTACHMENT_FILES = {
    "pdf": "report.pdf",
    "pdfa": "audit-evidence.pdf",
    "xlsx": "report.xlsx",
    "html": "report.html",
    "json": "findings.json",
    "csv": "csv",
}


# Header lines are not folded below RFC 5322's limit: Python folds a subject that goes on in an
# encoded word ("— vc01", the dash is UTF-8) with its space doubled ("fixed)  — licensing").
HEADER_LINE = 998
WIRE_POLICY = policy.SMTP.clone(max_line_length=HEADER_LINE)


def subject(view: ReportView, prefix: str = "[vCenter report]") -> str:
    """``[vCenter report] 3 high, 5 medium (2 new, 1 fixed) — vc01, vc02``."""
    counts = dict(view.counts)
    parts = [f"{counts[s]} {s}" for s in SUBJECT_SEVERITIES if counts.get(s)]
    text = ", ".join(parts) if parts else "no open findings"
    delta = view.ctx.delta
    if delta is not None and (delta.new or delta.fixed):  # what changed since last week, at a glance
        text += f" ({len(delta.new):,} new, {len(delta.fixed):,} fixed)"
    licensing = subject_part(view.ctx)
    if licensing:
        text += f" — {licensing}"
    if view.collection_errors:
        text = "INCOMPLETE: " + text
    return f"{prefix} {text} — {view.vcenter_names}".strip()


def html_body(view: ReportView, subject_line: str, attachments: list[str], report_dir: str | None) -> str:
    html = render_template("email.html.j2", r=view, subject=subject_line,
                           attachments=attachments, report_dir=report_dir)
    # Outlook and Gmail drop <style>: move every rule into style="" attributes.
    return css_inline.CSSInliner(keep_style_tags=False, load_remote_stylesheets=False).inline(html)


def text_body(view: ReportView, attachments: list[str], report_dir: str | None) -> str:
    """The plain-text alternative: the same summary, for text-only mail clients and filters."""
    lines = [view.title, f"vCenter: {view.vcenter_names}", f"Collected: {format_datetime(view.snapshot.collected_at)}", ""]
    if view.collection_errors:
        lines.append(f"COLLECTION INCOMPLETE: {len(view.collection_errors)} error(s); findings cover only what could be read.")
        lines += [f"  - {e.vcenter} {e.stage}: {e.error_type}: {e.message}" for e in view.collection_errors]
        lines.append("")
    if view.ctx.history_error:
        lines += [f"HISTORY NOT AVAILABLE: {view.ctx.history_error}; the 12-month vRAM figures could not be read.", ""]
    for c in view.checks_failed:
        lines.append(f"CHECK NOT RUN: {c.meta.id} {c.meta.title}: {c.error}")
    lic = licensing_lines(view.ctx)
    if lic:
        lines.append("Licensing (12-month average against entitlement):")
        lines += [f"  [{x.label.upper()}] " + " · ".join(p for p in (f"{x.pool} — {x.use}" if x.use else x.pool, x.when, x.buy) if p)
                  for x in lic]
        lines.append("")
    lines.append(view.headline)
    lines.append("Open findings: " + ", ".join(f"{n} {s}" for s, n in view.counts) + f"; waived: {view.waived_total}")
    if view.ctx.delta is None:
        lines.append("No previous run to compare with.")
    else:
        lines.append(f"Since the last run: {view.ctx.delta.counts_text}")
        for row in view.changed_rows:
            parts = [f"{n} {what} ({_named(*pair)})" for what, n, pair in
                     (("new", row.new, row.new_named), ("fixed", row.fixed, row.fixed_named)) if n]
            lines.append(f"  {row.check_id} {row.title}: " + "; ".join(parts))
        lines += [f"  Not re-checked ({n}): {why}" for why, n in view.not_rechecked_reasons]
    if view.top_actions:
        lines += ["", "Top actions:"]
        for i, g in enumerate(view.top_actions, 1):
            new = f", {g.new} new" if g.new else ""
            names = ", ".join(isolate(shorten(f.object_name)) for f in g.group.open[:3]) + (", …" if g.objects > 3 else "")
            lines.append(f"  {i:>2}. [{g.severity.value.upper()}] {g.title} ({g.objects} object{'s' if g.objects != 1 else ''}"
                         f"{new}; {g.group.meta.id}): {names}")
    lines += ["", "Checks:"]
    for c in view.check_views:
        status = {"pass": "passed", "not_evaluated": "NOT EVALUATED", "error": "ERROR"}.get(
            c.status.value, f"{len(c.open)} open, worst {c.worst.value if c.worst else '-'}")
        lines.append(f"  {c.meta.id:<10} {status:<24} {c.meta.title}")
        if c.status.value == "not_evaluated":
            lines.append(f"             {c.why}")
    if attachments:
        lines += ["", "Attached: " + ", ".join(attachments)]
    if report_dir:
        lines.append(f"All formats are in {report_dir} on the reporting host.")
    return "\n".join(lines) + "\n"


def _named(shown: tuple[str, ...], more: int) -> str:
    """``app-001, sql-005, web-01 and 3 more`` (``DeltaRow.new_named``)."""
    text = ", ".join(isolate(shorten(x)) for x in shown)
    return f"{text} and {more:,} more" if more else text


def _attachment(out_dir: Path, fmt: str) -> tuple[str, bytes]:
    name = ATTACHMENT_FILES.get(fmt)
    if name is None:
        raise DeliveryError(f"[email] attach: unknown format {fmt!r} (known: {', '.join(ATTACHMENT_FILES)})")
    path = out_dir / name
    if fmt == "csv":
        if not path.is_dir():
            raise DeliveryError(f"[email] attach: {path} does not exist (add 'csv' to [output] formats)")
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for f in sorted(path.glob("*.csv")):
                zf.write(f, f"csv/{f.name}")
        return "report-csv.zip", buf.getvalue()
    if not path.is_file():
        raise DeliveryError(f"[email] attach: {path} does not exist (add {str(fmt)!r} to [output] formats)")
    return name, path.read_bytes()


def build_message(ctx: ReportContext, cfg: EmailConfig, out_dir: str | Path,
                  report_dir: str | Path | None = None) -> EmailMessage:
    """multipart/mixed: [multipart/alternative: text, HTML] + the attached reports, read from
    ``out_dir``; the body names ``report_dir`` (default ``out_dir``) as where the reports are."""
    out = Path(out_dir)
    shown_dir = str(Path(report_dir or out_dir).resolve())
    view = build_view(ctx)
    files = [_attachment(out, fmt) for fmt in dict.fromkeys(cfg.attach)]
    names = [n for n, _ in files]
    subj = subject(view, cfg.subject_prefix)
    msg = EmailMessage()
    msg["Subject"] = subj
    msg["From"] = cfg.sender
    msg["To"] = ", ".join(cfg.recipients)
    msg["Date"] = formatdate(usegmt=True)  # "... 06:39:28 GMT": UTC said, not "-0000" (zone unknown)
    msg["Message-ID"] = make_msgid(domain=cfg.sender.rpartition("@")[2] or None)
    msg.set_content(text_body(view, names, shown_dir))
    msg.add_alternative(html_body(view, subj, names, shown_dir), subtype="html")
    for name, data in files:
        ctype = mimetypes.guess_type(name)[0] or "application/octet-stream"
        maintype, subtype = ctype.split("/", 1)
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    # The bodies are encoded by now (lines of 76); from here the policy only folds the headers.
    msg.policy = msg.policy.clone(max_line_length=HEADER_LINE)
    return msg


@dataclass
class SendResult:
    attempts: int
    refused: dict[str, tuple[int, bytes]] = field(default_factory=dict)  # recipients the server refused


def _tls_context(cfg: EmailConfig) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(cfg.ca_bundle) if cfg.ca_bundle else None)


def _connect(cfg: EmailConfig) -> smtplib.SMTP:
    if cfg.security == "ssl":
        return smtplib.SMTP_SSL(cfg.smtp_host, cfg.smtp_port, timeout=cfg.timeout_s, context=_tls_context(cfg))
    smtp = smtplib.SMTP(cfg.smtp_host, cfg.smtp_port, timeout=cfg.timeout_s)
    if cfg.security == "starttls":
        try:
            smtp.starttls(context=_tls_context(cfg))
        except BaseException:
            smtp.close()
            raise
    return smtp


def _permanent(exc: Exception) -> bool:
    """5xx replies and failed logins do not get better by retrying."""
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return True
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code >= 500
    return bool(isinstance(exc, smtplib.SMTPNotSupportedError))


def send(msg: EmailMessage, cfg: EmailConfig, *, sleep: Callable[[float], None] = time.sleep) -> SendResult:
    """Send to every recipient; retry transient failures; raise DeliveryError when out of attempts."""
    password = cfg.resolve_password("[email]") if cfg.user else None
    attempts = cfg.retries + 1
    where = f"{cfg.smtp_host}:{cfg.smtp_port} ({cfg.security})"
    last: Exception | None = None
    for attempt in range(1, attempts + 1):
        try:
            with _connect(cfg) as smtp:
                if cfg.user:
                    assert password is not None
                    smtp.login(cfg.user, password)
                refused = smtp.send_message(msg, from_addr=cfg.sender, to_addrs=list(cfg.recipients))
            if refused:
                log.warning("email: server refused %d recipient(s): %s", len(refused), ", ".join(refused))
            log.info("email: sent %r to %d recipient(s) via %s (attempt %d)", msg["Subject"], len(cfg.recipients) - len(refused), where, attempt)
            return SendResult(attempt, dict(refused))
        except (smtplib.SMTPException, OSError) as exc:  # OSError: refused, DNS, timeout, TLS
            last = exc
            reason = _describe(exc)
            if _permanent(exc) or attempt == attempts:
                # The DeliveryError below is the one line that says it (no second "error:" line).
                log.info("email: attempt %d/%d via %s failed: %s", attempt, attempts, where, reason)
                break
            log.warning("email: attempt %d/%d via %s failed: %s; retrying in %g s", attempt, attempts, where, reason, cfg.retry_delay_s)
            sleep(cfg.retry_delay_s)
    assert last is not None
    raise DeliveryError(f"email to {', '.join(cfg.recipients)} via {where} failed after {attempt} attempt(s): {_describe(last)}")


def _describe(exc: Exception) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        text = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        return f"{exc.smtp_code} {text}"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "all recipients refused: " + ", ".join(f"{r} ({c})" for r, (c, _) in exc.recipients.items())
    return f"{type(exc).__name__}: {exc}"


def deliver(ctx: ReportContext, cfg: EmailConfig, out_dir: str | Path, *,
            sleep: Callable[[float], None] = time.sleep) -> SendResult | None:
    """Build and send the report email (None when ``[email] enabled = false``)."""
    if not cfg.enabled:
        log.info("email: disabled in the config, not sent")
        return None
    return send(build_message(ctx, cfg, out_dir), cfg, sleep=sleep)
