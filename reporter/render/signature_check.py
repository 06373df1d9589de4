"""``vcreport verify``: is this audit-evidence PDF what its signer produced, unchanged?

Seven checks, each PASS, FAIL or SKIP with one line of explanation:

- ``signature``: the PAdES signature is cryptographically intact (the signed bytes are unchanged);
- ``coverage``: nothing was added after signing except validation data (pyHanko's coverage and
  modification level: an annotation, a changed attachment or a second signature fails);
- ``chain``: the signer certificate chains to a root the verifier trusts (``--trust``);
- ``timestamp``: the RFC 3161 timestamp, if there is one, is intact and from a trusted TSA;
- ``certificate-validity``: the signer certificate was valid when the document was signed. With
  a valid timestamp that moment is proven; without one only the verification time is certain,
  so an expired certificate fails;
- ``attachments``: every embedded file matches the SHA-256 printed in the document;
- ``snapshot``: optionally, a snapshot file matches the source-snapshot SHA-256 printed.

Bad input (no such file, not a PDF, an unreadable trust file) raises ``VerificationInputError``;
failed checks do not raise: the report says which failed.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from asn1crypto import x509 as asn1_x509
from cryptography import x509 as pyca_x509
from pyhanko.keys import load_certs_from_pemder_data
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.ades.report import AdESIndeterminate
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko.sign.validation.errors import NoDSSFoundError, SignatureValidationError
from pyhanko.sign.validation.status import PdfSignatureStatus, SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from reporter.errors import VerificationFailed, VerificationInputError
from reporter.render.base import sha256_file
from reporter.render.pdfa import verify_pdf

Status = Literal["PASS", "FAIL", "SKIP"]
SIGNATURE_CHECKS = ("signature", "coverage", "chain", "timestamp", "certificate-validity")

# Path-validation failures that are about *when*, not *whether*, the chain holds: the
# certificate-validity check reports those, so the chain check does not fail twice for them.
_TIME_PROBLEMS = {AdESIndeterminate.OUT_OF_BOUNDS_NO_POE, AdESIndeterminate.OUT_OF_BOUNDS_NOT_REVOKED,
                  AdESIndeterminate.NOT_YET_VALID, AdESIndeterminate.EXPIRED}


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str


@dataclass(frozen=True)
class VerificationReport:
    file: Path
    checks: tuple[Check, ...]

    @property
    def valid(self) -> bool:
        return not self.failures

    @property
    def failures(self) -> list[Check]:
        return [c for c in self.checks if c.status == "FAIL"]

    @property
    def signed(self) -> bool:
        """The signature check passed (False for a file let through by --allow-unsigned)."""
        return any(c.name == "signature" and c.status == "PASS" for c in self.checks)

    def lines(self) -> list[str]:
        width = max(len(c.name) for c in self.checks)
        return [f"{c.status}  {c.name:<{width}}  {c.detail}" for c in self.checks]

    def verdict(self) -> str:
        if self.valid:
            if not self.signed:  # --allow-unsigned
                return f"{self.file}: VALID, NOT SIGNED (the embedded evidence is intact; who produced the file is not proven)"
            return f"{self.file}: VALID"
        return f"{self.file}: INVALID (failed: {', '.join(c.name for c in self.failures)})"

    def failure_line(self) -> str:
        """One line naming the failed check(s), the first with its reason."""
        first, *rest = self.failures
        more = f" (also failed: {', '.join(c.name for c in rest)})" if rest else ""
        return f"{self.file}: {first.name} check failed: {first.detail}{more}"

    def to_json(self) -> dict[str, Any]:
        return {"file": str(self.file), "valid": self.valid, "signed": self.signed,
                "checks": [{"name": c.name, "status": c.status, "detail": c.detail} for c in self.checks]}


def load_trust_roots(paths: Iterable[Path]) -> list[asn1_x509.Certificate]:
    roots: list[asn1_x509.Certificate] = []
    for path in paths:
        try:
            certs = list(load_certs_from_pemder_data(Path(path).read_bytes()))
        except OSError as exc:
            raise VerificationInputError(f"{path}: cannot read trust file: {exc.strerror or exc}") from None
        except ValueError:
            certs = []
        if not certs:
            raise VerificationInputError(f"{path}: not a PEM or DER certificate file")
        roots.extend(certs)
    return roots


def verify_audit_pdf(path: str | Path, *, trust_files: Iterable[Path] = (), snapshot: str | Path | None = None,
                     allow_unsigned: bool = False, now: datetime | None = None) -> VerificationReport:
    p = Path(path)
    data = _read_pdf(p)
    roots = load_trust_roots(trust_files)
    if snapshot is not None and not Path(snapshot).is_file():
        raise VerificationInputError(f"{snapshot}: no such snapshot file")
    checks = signature_checks(p, data, roots, allow_unsigned=allow_unsigned, now=now or datetime.now(UTC))
    checks.extend(evidence_checks(p, snapshot))
    return VerificationReport(p, tuple(checks))


def _read_pdf(p: Path) -> bytes:
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise VerificationInputError(f"{p}: no such file") from None
    except OSError as exc:
        raise VerificationInputError(f"{p}: cannot read: {exc.strerror or exc}") from None
    if b"%PDF-" not in data[:1024]:
        raise VerificationInputError(f"{p}: not a PDF file")
    return data


# -- the signature ----------------------------------------------------------------------------------

def signature_checks(p: Path, data: bytes, roots: list[asn1_x509.Certificate], *, allow_unsigned: bool,
                     now: datetime) -> list[Check]:
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        signatures = reader.embedded_regular_signatures
    except (PdfError, ValueError, KeyError, TypeError) as exc:
        raise VerificationInputError(f"{p}: not a readable PDF: {exc}") from None
    if not signatures:
        if allow_unsigned:
            first = Check("signature", "SKIP", "not signed (--allow-unsigned: only the embedded evidence is checked)")
        else:
            first = Check("signature", "FAIL", "not signed: nothing proves who produced this file or that it is "
                                               "unchanged (--allow-unsigned checks only the embedded evidence)")
        return [first] + [Check(name, "SKIP", "not signed") for name in SIGNATURE_CHECKS[1:]]
    # The document's own signature is the first one; anything signed later is a change to it.
    sig = signatures[0]
    dss = _read_dss(reader)
    try:
        at_now = _validate(sig, roots, dss, moment=now)
    except (SignatureValidationError, PdfError, ValueError, KeyError, TypeError) as exc:
        return [Check("signature", "FAIL", f"the signature cannot be validated: {exc}")] + [
            Check(name, "SKIP", "signature invalid") for name in SIGNATURE_CHECKS[1:]]

    checks = [_signature_check(at_now, level=_level(reader, at_now, dss)), _coverage_check(at_now)]
    timestamp = _timestamp_check(at_now)
    tst = at_now.timestamp_validity
    proven_time = tst.timestamp if timestamp.status == "PASS" and tst is not None else None
    moment = proven_time or now
    at_signing = _validate(sig, roots, dss, moment=proven_time) if proven_time else at_now
    validity = _validity_check(at_signing, moment, proven=proven_time is not None)
    if validity.status == "FAIL":
        # The certificate-validity check reports the time problem; the chain check answers only
        # "does it chain to a trusted root", so judge the chain inside the certificate's validity.
        start, end = _validity_window(at_now.signing_cert)
        at_signing = _validate(sig, roots, dss, moment=start + (end - start) / 2)
    checks += [_chain_check(at_signing, roots), timestamp, validity]
    return checks


def _read_dss(reader: PdfFileReader) -> DocumentSecurityStore | None:
    try:
        return DocumentSecurityStore.read_dss(reader)
    except NoDSSFoundError:
        return None


def _validate(sig: Any, roots: list[asn1_x509.Certificate], dss: DocumentSecurityStore | None,
              moment: datetime) -> PdfSignatureStatus:
    # Offline: certificates, CRLs and OCSP responses come from the signature and the DSS only.
    kwargs: dict[str, Any] = {"trust_roots": roots, "allow_fetching": False, "revocation_mode": "soft-fail",
                              "moment": moment}
    context = dss.as_validation_context(kwargs) if dss is not None else ValidationContext(**kwargs)
    status: PdfSignatureStatus = validate_pdf_signature(sig, signer_validation_context=context)
    return status


def _subject(cert: asn1_x509.Certificate) -> str:
    return pyca_x509.load_der_x509_certificate(cert.dump()).subject.rfc4514_string()


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _level(reader: PdfFileReader, status: PdfSignatureStatus, dss: DocumentSecurityStore | None) -> str:
    if status.timestamp_validity is None:
        return "PAdES B-B"
    if dss is None or not (dss.crls or dss.ocsps):
        return "PAdES B-T"
    return "PAdES B-LTA" if reader.embedded_timestamp_signatures else "PAdES B-LT"


def _signature_check(status: PdfSignatureStatus, *, level: str) -> Check:
    if not status.intact:
        return Check("signature", "FAIL", "the signed bytes were changed: the file's content no longer matches its signature")
    if not status.valid:
        return Check("signature", "FAIL", "the signature value is not valid for the signer's key")
    claimed = f", signer's clock {_utc(status.signer_reported_dt)}" if status.signer_reported_dt else ""
    return Check("signature", "PASS", f"intact {level} signature by {_subject(status.signing_cert)}{claimed}")


def _coverage_check(status: PdfSignatureStatus) -> Check:
    if status.coverage == SignatureCoverageLevel.ENTIRE_FILE:
        return Check("coverage", "PASS", "the signature covers the whole file")
    level = status.modification_level
    if status.coverage == SignatureCoverageLevel.ENTIRE_REVISION and level == ModificationLevel.LTA_UPDATES:
        return Check("coverage", "PASS", "the signature covers the whole file except validation data added after "
                                         "signing (certificates, revocation data, document timestamps)")
    what = {ModificationLevel.FORM_FILLING: "form fields were filled in or signatures added",
            ModificationLevel.ANNOTATIONS: "annotations were added or changed"}.get(
        level, "objects other than validation data were changed")  # type: ignore[arg-type]
    return Check("coverage", "FAIL", f"the file was changed after signing: {what} in a later incremental update")


def _timestamp_check(status: PdfSignatureStatus) -> Check:
    tst = status.timestamp_validity
    if tst is None:
        return Check("timestamp", "SKIP", "no timestamp: the signing time is the signer's own claim")
    tsa = _subject(tst.signing_cert)
    if not (tst.intact and tst.valid):
        return Check("timestamp", "FAIL", f"the timestamp token by {tsa} does not match the signature")
    if not tst.trusted:
        return Check("timestamp", "FAIL", f"the timestamp authority {tsa} does not chain to a trusted root")
    return Check("timestamp", "PASS", f"RFC 3161 timestamp {_utc(tst.timestamp)} by {tsa}")


def _chain_check(status: PdfSignatureStatus, roots: list[asn1_x509.Certificate]) -> Check:
    if not roots:
        return Check("chain", "FAIL", "no trusted root given (--trust CA.pem, or trust_files in [audit])")
    path = status.validation_path
    time_only = status.trust_problem_indic in _TIME_PROBLEMS
    if path is not None and (status.trusted or time_only):
        anchor = _subject(path.trust_anchor.certificate) if hasattr(path.trust_anchor, "certificate") else "a trusted root"
        via = [_subject(c) for c in list(path.iter_certs(include_root=False))[:-1]]
        return Check("chain", "PASS", f"chains to trusted root {anchor}" + (f" via {'; '.join(via)}" if via else ""))
    if status.trust_problem_indic in (AdESIndeterminate.NO_CERTIFICATE_CHAIN_FOUND, None):
        return Check("chain", "FAIL", f"{_subject(status.signing_cert)} (issued by {_issuer(status.signing_cert)}) "
                                      "does not chain to a trusted root")
    indic = str(getattr(status.trust_problem_indic, "name", status.trust_problem_indic)).lower().replace("_", " ")
    return Check("chain", "FAIL", f"the certificate chain of {_subject(status.signing_cert)} fails validation: {indic}")


def _issuer(cert: asn1_x509.Certificate) -> str:
    return pyca_x509.load_der_x509_certificate(cert.dump()).issuer.rfc4514_string()


def _validity_window(cert: asn1_x509.Certificate) -> tuple[datetime, datetime]:
    parsed = pyca_x509.load_der_x509_certificate(cert.dump())
    return parsed.not_valid_before_utc, parsed.not_valid_after_utc


def _validity_check(status: PdfSignatureStatus, moment: datetime, *, proven: bool) -> Check:
    start, end = _validity_window(status.signing_cert)
    when = (f"signing time {_utc(moment)} (proven by the timestamp)" if proven
            else f"no trusted timestamp, so checked at the verification time {_utc(moment)}")
    if moment < start:
        return Check("certificate-validity", "FAIL", f"the signer certificate is not valid before {_utc(start)}; {when}")
    if moment > end:
        return Check("certificate-validity", "FAIL", f"the signer certificate expired {_utc(end)}; {when}")
    return Check("certificate-validity", "PASS", f"valid {_utc(start)} to {_utc(end)}; {when}")


# -- the embedded evidence ---------------------------------------------------------------------------

def evidence_checks(p: Path, snapshot: str | Path | None) -> list[Check]:
    prefix = f"{p}: "
    try:
        result = verify_pdf(p)
    except VerificationFailed as exc:
        message = str(exc).removeprefix(prefix)
        return [Check("attachments", "FAIL", message),
                Check("snapshot", "SKIP", "the embedded evidence failed") if snapshot else _no_snapshot()]
    checks = [Check("attachments", "PASS",
                    f"{len(result.attachments)} attachment(s) match the SHA-256 printed in the document")]
    if snapshot is None:
        checks.append(_no_snapshot())
    elif not result.source_sha256:
        checks.append(Check("snapshot", "FAIL", "the document prints no source snapshot SHA-256 to compare with"))
    else:
        actual = sha256_file(Path(snapshot))
        if actual in result.source_sha256:
            checks.append(Check("snapshot", "PASS", f"{snapshot} matches the source snapshot SHA-256 printed"))
        elif result.snapshot_sha256 is not None:
            checks.append(Check("snapshot", "FAIL", f"{snapshot}: SHA-256 {actual} does not match the source "
                                                    f"snapshot {result.snapshot_sha256} printed in the document"))
        else:
            checks.append(Check("snapshot", "FAIL", f"{snapshot}: SHA-256 {actual} matches none of the "
                                                    f"{len(result.source_sha256)} source snapshots printed in the document"))
    return checks


def _no_snapshot() -> Check:
    return Check("snapshot", "SKIP", "no --snapshot given")
