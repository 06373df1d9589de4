"""PAdES signing of the audit-evidence PDF with pyHanko.

Pure signing code: paths, bytes and dataclasses in, signed bytes out. It knows nothing of the
configuration file; ``reporter.api`` turns the ``[audit]`` section into a ``SigningSetup``.

The signature is an invisible approval signature added as an incremental update, so the
PDF/A-3b document written by WeasyPrint stays byte-for-byte intact below it: the widget has a
zero-size rectangle and the Print flag (PDF/A allows a zero-area widget without an appearance
stream), and no stamp text is drawn, so no unembedded font enters the file.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509 as pyca_x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import (
    load_der_private_key,
    load_der_public_key,
    pkcs12,
)
from pyhanko.keys import load_certs_from_pemder_data, load_private_key_from_pemder_data
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.timestamps import HTTPTimeStamper
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

from reporter.errors import ConfigError, RenderError

log = logging.getLogger(__name__)

SIGNATURE_FIELD = "AuditEvidenceSignature"


@dataclass(frozen=True)
class SignerFiles:
    """Where the signing key and certificate come from; the passphrase is already resolved."""

    key_file: Path | None = None
    cert_file: Path | None = None
    chain_files: tuple[Path, ...] = ()
    pkcs12_file: Path | None = None
    passphrase: bytes | None = field(default=None, repr=False)


@dataclass(frozen=True)
class SigningSetup:
    signer: SignerFiles
    tsa_url: str | None = None
    embed_validation_data: bool = True
    trust_files: tuple[Path, ...] = ()  # roots to build the chain when embedding validation data
    tsa_timeout_s: float = 30.0


@dataclass(frozen=True)
class SignerIdentity:
    """What the document's first page says about the signer, read from the certificate."""

    subject: str
    issuer: str
    serial_hex: str
    not_before: datetime
    not_after: datetime


@dataclass(frozen=True)
class SignaturePlan:
    """The signature as printed in the document before it is applied (same clock value)."""

    identity: SignerIdentity
    signed_at: datetime
    tsa_url: str | None


@dataclass(frozen=True)
class SignedPdf:
    data: bytes
    level: str  # "PAdES B-B", "PAdES B-T" or "PAdES B-LT"
    note: str  # why this level and not a higher one ("" at B-LT)


def identity_of(cert: asn1_x509.Certificate) -> SignerIdentity:
    parsed = pyca_x509.load_der_x509_certificate(cert.dump())
    return SignerIdentity(
        subject=parsed.subject.rfc4514_string(), issuer=parsed.issuer.rfc4514_string(),
        serial_hex=format(parsed.serial_number, "x"),
        not_before=parsed.not_valid_before_utc, not_after=parsed.not_valid_after_utc,
    )


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read {what}: {exc.strerror or exc}") from None


def _load_certs(path: Path, what: str) -> list[asn1_x509.Certificate]:
    try:
        certs = list(load_certs_from_pemder_data(_read(path, what)))
    except ValueError as exc:
        raise ConfigError(f"{path}: not a PEM or DER certificate file ({exc})") from None
    if not certs:
        raise ConfigError(f"{path}: no certificate in the file")
    return certs


def _load_pkcs12(files: SignerFiles) -> tuple[asn1_keys.PrivateKeyInfo, asn1_x509.Certificate, list[asn1_x509.Certificate]]:
    assert files.pkcs12_file is not None
    try:
        key, cert, extra = pkcs12.load_key_and_certificates(_read(files.pkcs12_file, "PKCS#12 file"), files.passphrase)
    except ValueError:
        raise ConfigError(f"{files.pkcs12_file}: cannot open the PKCS#12 file (wrong passphrase or not PKCS#12)") from None
    if key is None or cert is None:
        raise ConfigError(f"{files.pkcs12_file}: the PKCS#12 file holds no private key and certificate")
    der_key = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    as_asn1 = [asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER)) for c in extra]
    return (asn1_keys.PrivateKeyInfo.load(der_key),
            asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER)), as_asn1)


def _load_pem_pair(files: SignerFiles) -> tuple[asn1_keys.PrivateKeyInfo, asn1_x509.Certificate]:
    assert files.key_file is not None and files.cert_file is not None
    try:
        key = load_private_key_from_pemder_data(_read(files.key_file, "signing key"), passphrase=files.passphrase)
    except TypeError:  # cryptography: encrypted key without passphrase, or a passphrase for a plain key
        state = "is encrypted: set a passphrase" if files.passphrase is None else "is not encrypted: remove the passphrase"
        raise ConfigError(f"{files.key_file}: the signing key {state}") from None
    except ValueError:
        raise ConfigError(f"{files.key_file}: cannot load the signing key (wrong passphrase or not a PEM/DER key)") from None
    certs = _load_certs(files.cert_file, "signing certificate")
    return key, certs[0]


class AuditSigner:
    """A loaded key and certificate chain, ready to sign PDFs."""

    def __init__(self, setup: SigningSetup) -> None:
        files = setup.signer
        chain: list[asn1_x509.Certificate] = []
        if files.pkcs12_file is not None:
            key, cert, chain = _load_pkcs12(files)
        else:
            key, cert = _load_pem_pair(files)
        for path in files.chain_files:
            chain.extend(_load_certs(path, "certificate chain file"))
        private = load_der_private_key(key.dump(), password=None)
        if not isinstance(private, rsa.RSAPrivateKey):
            # pyHanko declares ECDSA/EdDSA signatures through the ISO 32002 extension, which raises
            # the document to PDF 2.0; PDF/A-3b is PDF 1.7, so only RSA keeps the file PDF/A-3b.
            raise ConfigError(f"{files.key_file or files.pkcs12_file}: the signing key is not RSA; the audit-evidence "
                              "PDF/A-3b file needs an RSA key (e.g. 3072 bits): EC and EdDSA signatures make it PDF 2.0")
        # A key and a certificate that do not belong together would sign "successfully" and fail
        # every verification later; say so now.
        if private.public_key() != load_der_public_key(cert.public_key.dump()):
            raise ConfigError(f"{files.key_file or files.pkcs12_file}: the signing key does not belong to the signing "
                              "certificate")
        self.setup = setup
        self.key = key
        self.cert = cert
        self.chain = chain
        self.identity = identity_of(cert)
        self.trust_roots: list[asn1_x509.Certificate] = []
        for path in setup.trust_files:
            self.trust_roots.extend(_load_certs(path, "trust file"))

    def plan(self, signed_at: datetime) -> SignaturePlan:
        return SignaturePlan(identity=self.identity, signed_at=signed_at, tsa_url=self.setup.tsa_url)

    def sign(self, pdf: bytes, signed_at: datetime) -> SignedPdf:
        """Sign ``pdf``; ``signed_at`` is the signing time written into the signature."""
        lt_reason = self._why_not_long_term()
        if lt_reason is None:
            try:
                return SignedPdf(self._sign(pdf, signed_at, long_term=True), "PAdES B-LT", "")
            except Exception as exc:
                lt_reason = f"revocation information could not be fetched ({type(exc).__name__}: {exc})"
        level = "PAdES B-T" if self.setup.tsa_url else "PAdES B-B"
        return SignedPdf(self._sign(pdf, signed_at, long_term=False), level, lt_reason)

    def _why_not_long_term(self) -> str | None:
        if not self.setup.embed_validation_data:
            return "embedding validation data is switched off"
        if not self.setup.tsa_url:
            return "B-LT needs a signature timestamp and no timestamp authority is configured"
        if not _names_revocation_source(self.cert):
            return "the signer certificate names no CRL or OCSP responder, so there is no revocation information to embed"
        if not (self.trust_roots or any(_self_signed(c) for c in self.chain)):
            return "no root certificate (trust files or chain) to build the chain for the validation data"
        return None

    def _sign(self, pdf: bytes, signed_at: datetime, *, long_term: bool) -> bytes:
        signer = signers.SimpleSigner(signing_cert=self.cert, signing_key=self.key,
                                      cert_registry=SimpleCertificateStore.from_certs(self.chain))  # type: ignore[no-untyped-call]
        validation_context = None
        if long_term:
            roots = self.trust_roots or [c for c in self.chain if _self_signed(c)]
            validation_context = ValidationContext(trust_roots=roots, other_certs=self.chain, allow_fetching=True,
                                                   revocation_mode="hard-fail")
        meta = signers.PdfSignatureMetadata(
            field_name=SIGNATURE_FIELD, subfilter=fields.SigSeedSubFilter.PADES, md_algorithm="sha256",
            reason="Audit evidence produced by vcenter-reporter",
            embed_validation_info=long_term, validation_context=validation_context,
        )
        timestamper = HTTPTimeStamper(self.setup.tsa_url, timeout=int(self.setup.tsa_timeout_s)) if self.setup.tsa_url else None
        pdf_signer = ClockedPdfSigner(meta, signer, timestamper=timestamper, signed_at=signed_at,
                                       new_field_spec=fields.SigFieldSpec(sig_field_name=SIGNATURE_FIELD))
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
        try:
            out = pdf_signer.sign_pdf(writer)
        except Exception as exc:
            if long_term:
                raise
            where = f" (timestamp authority {self.setup.tsa_url})" if timestamper else ""
            raise RenderError(f"signing the audit-evidence PDF failed{where}: {type(exc).__name__}: {exc}") from None
        data: bytes = out.getvalue()
        return data


def _self_signed(cert: asn1_x509.Certificate) -> bool:
    return bool(cert.self_issued)


def _names_revocation_source(cert: asn1_x509.Certificate) -> bool:
    return bool(cert.crl_distribution_points or cert.ocsp_urls)


class ClockedPdfSigner(signers.PdfSigner):
    """A PdfSigner whose signing time is the one the document already prints."""

    def __init__(self, *args: Any, signed_at: datetime, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._signed_at = signed_at

    def init_signing_session(self, pdf_out: Any, existing_fields_only: bool = False) -> Any:
        session = super().init_signing_session(pdf_out, existing_fields_only=existing_fields_only)
        session.system_time = self._signed_at
        return session


def load_signer(setup: SigningSetup) -> AuditSigner:
    """Load key and certificates; a ``ConfigError`` names the file that is wrong."""
    return AuditSigner(setup)
