"""audit-evidence.pdf: PDF/A-3b with the evidence embedded, and ``verify`` to check it later.

The findings JSON and the inventory CSVs are embedded as PDF/A-3 associated files
(relationship ``Data``). The SHA-256 of each attachment and of the source snapshot is
printed in the document (``SHA256 (name) = hex``, the ``sha256sum --tag`` format) and
repeated in each attachment's description, so an auditor can re-check the evidence
years later with ``vcreport verify`` or with any PDF reader and ``sha256sum``.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from reporter.core.fsutil import atomic_write_bytes
from reporter.errors import RenderError, VerificationFailed
from reporter.render.base import Renderer, ReportContext, register
from reporter.render.html import render_html
from reporter.render.pdf import html_to_pdf, prepare_pdf
from reporter.render.sheets import findings_json, inventory_sheets, sheet_csv

FILENAME = "audit-evidence.pdf"
AUDIT_FINDINGS_LIMIT = 100
HASH_LINE = re.compile(r"SHA256 \(([^()\n]+)\) = ([0-9a-f]{64})")
DESC_HASH = re.compile(r"SHA-256 ([0-9a-f]{64})")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EvidenceFile:
    name: str
    data: bytes
    mime: str
    description: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def evidence_files(ctx: ReportContext) -> list[EvidenceFile]:
    files = [EvidenceFile("findings.json", findings_json(ctx.results.findings), "application/json",
                          "All findings of this report (the findings.json contract)")]
    for sheet in inventory_sheets(ctx):
        files.append(EvidenceFile(f"inventory-{sheet.id}.csv", sheet_csv(sheet), "text/csv",
                                  f"Inventory: {sheet.title} (as collected)"))
    return files


@register
class PdfaRenderer(Renderer):
    format = "pdfa"

    @classmethod
    def prepare(cls) -> None:
        prepare_pdf()

    def render(self, ctx: ReportContext, out_dir: Path) -> list[Path]:
        try:
            from weasyprint import Attachment
        except OSError as exc:  # Pango/HarfBuzz missing on this machine
            raise RenderError(f"PDF output needs WeasyPrint's system libraries (Pango): {exc}") from None

        signer = None
        if ctx.audit_signing is not None:
            from reporter.render.signing import load_signer

            signer = load_signer(ctx.audit_signing)  # before rendering: a bad key fails fast
        # One clock value: printed on the first page and written into the signature.
        signed_at = datetime.now(UTC).replace(microsecond=0)
        files = evidence_files(ctx)
        html = render_html(ctx, "audit.html.j2", limit=AUDIT_FINDINGS_LIMIT, paged=True,
                           attachments=files, filename=FILENAME,
                           signature=signer.plan(signed_at) if signer else None)
        when = ctx.generated_at
        attachments = [
            Attachment(file_obj=io.BytesIO(f.data), name=f.name, description=f"{f.description}; SHA-256 {f.sha256}",
                       created=when, modified=when, relationship="Data")
            for f in files
        ]
        pdf = html_to_pdf(html, pdf_variant="pdf/a-3b", attachments=attachments, finisher=dedupe_associated_files)
        if signer is not None:
            signed = signer.sign(pdf, signed_at)
            if signed.note and ctx.audit_signing is not None and ctx.audit_signing.embed_validation_data:
                log.warning("%s signed as %s, not PAdES B-LT: %s", FILENAME, signed.level, signed.note)
            else:
                log.info("%s signed as %s", FILENAME, signed.level)
            pdf = signed.data
        return [atomic_write_bytes(out_dir / FILENAME, pdf)]


def dedupe_associated_files(document: object, pdf: Any) -> None:
    """WeasyPrint finisher: list each attachment once in the catalog's /AF array.

    WeasyPrint adds every file specification to /AF twice (once from the EmbeddedFiles name
    tree, once from scanning all objects); PDF/A-3 wants each associated file listed once.
    """
    entries = pdf.catalog.get("AF")
    if entries is None:
        return
    unique = list(dict.fromkeys(entries))
    entries.clear()
    entries.extend(unique)


# -- verification ---------------------------------------------------------------------------------

@dataclass
class VerifyResult:
    path: Path
    attachments: dict[str, str] = field(default_factory=dict)  # name -> recomputed SHA-256
    snapshot_sha256: str | None = None  # as printed in the document (a report from one snapshot file)
    source_sha256: list[str] = field(default_factory=list)  # every source snapshot hash printed
    snapshot_checked: bool = False

    def summary(self) -> str:
        extra = ", source snapshot matches" if self.snapshot_checked else ""
        return f"{self.path}: OK — {len(self.attachments)} attachment(s) match the SHA-256 printed in the document{extra}"


def _printed_hashes(text: str) -> dict[str, str]:
    # Text extraction may break lines differently from the layout; collapse whitespace first.
    flat = re.sub(r"\s+", " ", text)
    return {m.group(1): m.group(2) for m in HASH_LINE.finditer(flat)}


def verify_pdf(path: str | Path, snapshot: str | Path | None = None) -> VerifyResult:
    """Recompute every attachment's SHA-256 and compare with the document; raise on any mismatch."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    from reporter.render.base import sha256_file

    p = Path(path)
    try:
        reader = PdfReader(str(p))
        text = "\n".join(page.extract_text() or "" for page in reader.pages)
        embedded = list(reader.attachment_list)
    except FileNotFoundError:
        raise VerificationFailed(f"{p}: no such file") from None
    except (PdfReadError, OSError, ValueError) as exc:
        raise VerificationFailed(f"{p}: not a readable PDF: {exc}") from None
    printed = _printed_hashes(text)
    # One "source snapshot" line, or one "source snapshot NAME" line per merged snapshot file.
    sources = {name: printed.pop(name) for name in list(printed) if name.split(" ", 2)[:2] == ["source", "snapshot"]}
    snapshot_hash = sources.get("source snapshot")
    if not printed:
        raise VerificationFailed(f"{p}: no attachment hashes printed in the document (not an audit-evidence PDF?)")
    result = VerifyResult(p, snapshot_sha256=snapshot_hash, source_sha256=sorted(set(sources.values())))
    seen: set[str] = set()
    for att in embedded:
        name = att.name
        if name in seen:
            raise VerificationFailed(f"{p}: attachment {name} is embedded more than once")
        seen.add(name)
        try:
            data = att.content
        except Exception as exc:  # a damaged stream (flipped bytes in compressed data) fails to decode
            raise VerificationFailed(f"{p}: attachment {name} cannot be read ({type(exc).__name__}: {exc})") from None
        actual = hashlib.sha256(data).hexdigest()
        expected = printed.get(name)
        if expected is None:
            raise VerificationFailed(f"{p}: attachment {name} is not listed in the document")
        if actual != expected:
            raise VerificationFailed(f"{p}: {name}: SHA-256 {actual} does not match {expected} printed in the document")
        desc = DESC_HASH.search(att.description or "")
        if desc is None or desc.group(1) != actual:
            raise VerificationFailed(f"{p}: {name}: SHA-256 in the attachment description does not match its content")
        result.attachments[name] = actual
    missing = sorted(set(printed) - seen)
    if missing:
        raise VerificationFailed(f"{p}: attachment(s) listed in the document but not embedded: {', '.join(missing)}")
    if snapshot is not None:
        if not result.source_sha256:
            raise VerificationFailed(f"{p}: the document prints no source snapshot SHA-256 to compare with")
        actual = sha256_file(Path(snapshot))
        if actual not in result.source_sha256:
            expected = snapshot_hash or f"any of the {len(result.source_sha256)} source snapshots"
            raise VerificationFailed(f"{snapshot}: SHA-256 {actual} does not match the source snapshot {expected} printed in {p}")
        result.snapshot_checked = True
    return result
