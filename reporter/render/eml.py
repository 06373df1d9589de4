"""report.eml: the email ``vcreport run`` would send, written to a file instead of sent.

The message is built by the same function that ``run`` sends (``deliver.email.build_message``),
with the same attachments, so what a reviewer opens in a mail client is what the recipients
get. It needs ``[email]`` for the sender and recipients.
"""

from __future__ import annotations

from pathlib import Path

from reporter.core.fsutil import atomic_write_bytes
from reporter.errors import UsageError
from reporter.render.base import Renderer, ReportContext, final_dir, register

EML_NAME = "report.eml"
NEEDS_EMAIL = "--format eml writes the email a run would send: it needs an [email] section (sender, recipients) in --config"


@register
class EmlRenderer(Renderer):
    format = "eml"

    def render(self, ctx: ReportContext, out_dir: Path) -> list[Path]:
        from reporter.deliver.email import WIRE_POLICY, build_message

        if ctx.email is None:
            raise UsageError(NEEDS_EMAIL)
        # Attachments are read from the files rendered just before (the pipeline renders eml last).
        msg = build_message(ctx, ctx.email, out_dir, report_dir=final_dir(out_dir))
        # CRLF line ends, as the message goes over SMTP.
        return [atomic_write_bytes(out_dir / EML_NAME, msg.as_bytes(policy=WIRE_POLICY))]
