"""A throwaway PKI for the audit-signing tests, and a local RFC 3161 timestamp server.

Made with ``cryptography`` in the test run: a root CA, an intermediate CA, a signer certificate
(valid now), an expired and a not-yet-valid signer, a TSA certificate, and an unrelated
"forger" root + signer that chains to nothing the tests trust. The TSA is pyHanko's
``DummyTimeStamper`` behind a small ``http.server`` on 127.0.0.1, started and stopped by the
caller (a context manager).
"""

from __future__ import annotations

import asyncio
import http.server
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from asn1crypto import keys as asn1_keys
from asn1crypto import tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

NOW = datetime.now(UTC).replace(microsecond=0)
LONG_AGO = datetime(2019, 1, 1, tzinfo=UTC)
FAR_AHEAD = datetime(2045, 1, 1, tzinfo=UTC)
PASSPHRASE = b"correct horse battery staple"


@dataclass(frozen=True)
class Issued:
    name: str
    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
    cert: x509.Certificate

    @property
    def subject(self) -> str:
        return self.cert.subject.rfc4514_string()

    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def key_pem(self, passphrase: bytes | None = None) -> bytes:
        enc: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(passphrase) if passphrase else serialization.NoEncryption())
        return self.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, enc)

    def asn1_cert(self) -> asn1_x509.Certificate:
        return asn1_x509.Certificate.load(self.cert.public_bytes(serialization.Encoding.DER))

    def asn1_key(self) -> asn1_keys.PrivateKeyInfo:
        return asn1_keys.PrivateKeyInfo.load(self.key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Example Corp Test PKI"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def issue(cn: str, issuer: Issued | None, *, ca: bool = False, not_before: datetime = LONG_AGO,
          not_after: datetime = FAR_AHEAD, tsa: bool = False, crl_url: str | None = None,
          ec_key: bool = False) -> Issued:
    """A certificate for ``cn`` signed by ``issuer`` (self-signed when ``issuer`` is None)."""
    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
    # End entities (signers, the TSA) use RSA: the audit signer refuses EC keys (see signing.py)
    # and pyHanko's DummyTimeStamper signs with RSA only. CAs use fast P-256 keys.
    if ca or ec_key:
        key = ec.generate_private_key(ec.SECP256R1())
    else:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = _name(cn)
    signing_key = issuer.key if issuer else key
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.cert.subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if issuer is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), critical=False)
    if ca:
        builder = builder.add_extension(x509.KeyUsage(
            digital_signature=False, content_commitment=False, key_encipherment=False, data_encipherment=False,
            key_agreement=False, key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False),
            critical=True)
    else:
        builder = builder.add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=not tsa, key_encipherment=False, data_encipherment=False,
            key_agreement=False, key_cert_sign=False, crl_sign=False, encipher_only=False, decipher_only=False),
            critical=True)
    if crl_url is not None:
        builder = builder.add_extension(x509.CRLDistributionPoints([x509.DistributionPoint(
            full_name=[x509.UniformResourceIdentifier(crl_url)], relative_name=None, reasons=None, crl_issuer=None)]),
            critical=False)
    if tsa:
        builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
    cert = builder.sign(signing_key, hashes.SHA256())
    return Issued(cn, key, cert)


@dataclass(frozen=True)
class TestPki:
    root: Issued
    intermediate: Issued
    signer: Issued
    expired: Issued
    not_yet_valid: Issued
    tsa: Issued
    forger_root: Issued
    forger: Issued

    def write(self, directory: Path) -> dict[str, Path]:
        """PEM files named by role (``signer.crt``, ``signer.key`` ...), the signer key encrypted with PASSPHRASE, plus a PKCS#12 bundle."""
        directory.mkdir(parents=True, exist_ok=True)
        out: dict[str, Path] = {}
        for role in ("root", "intermediate", "signer", "expired", "not_yet_valid", "tsa", "forger_root", "forger"):
            item: Issued = getattr(self, role)
            cert_path, key_path = directory / f"{role}.crt", directory / f"{role}.key"
            cert_path.write_bytes(item.cert_pem())
            key_path.write_bytes(item.key_pem(PASSPHRASE if role == "signer" else None))
            out[f"{role}.crt"], out[f"{role}.key"] = cert_path, key_path
        p12 = directory / "signer.p12"
        p12.write_bytes(pkcs12.serialize_key_and_certificates(
            b"signer", self.signer.key, self.signer.cert, [self.intermediate.cert],  # type: ignore[arg-type]
            serialization.BestAvailableEncryption(PASSPHRASE)))
        out["signer.p12"] = p12
        return out


def make_pki() -> TestPki:
    root = issue("Test Root CA", None, ca=True)
    intermediate = issue("Test Issuing CA", root, ca=True)
    forger_root = issue("Forger Root CA", None, ca=True)
    return TestPki(
        root=root,
        intermediate=intermediate,
        signer=issue("vcreport audit signer", intermediate, not_before=NOW - timedelta(days=1),
                     not_after=NOW + timedelta(days=365)),
        expired=issue("expired signer", intermediate, not_before=datetime(2020, 1, 1, tzinfo=UTC),
                      not_after=datetime(2021, 1, 1, tzinfo=UTC)),
        not_yet_valid=issue("future signer", intermediate, not_before=NOW + timedelta(days=30),
                            not_after=NOW + timedelta(days=400)),
        tsa=issue("Test TSA", root, tsa=True),
        forger_root=forger_root,
        # The forger copies the real signer's name: only the chain to a trusted root tells them apart.
        forger=issue("vcreport audit signer", forger_root),
    )


def empty_crl(issuer: Issued) -> bytes:
    """A current CRL from ``issuer`` revoking nothing (DER)."""
    builder = (x509.CertificateRevocationListBuilder().issuer_name(issuer.cert.subject)
               .last_update(NOW - timedelta(hours=1)).next_update(NOW + timedelta(days=7)))
    return builder.sign(issuer.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


@contextmanager
def timestamp_server(pki: TestPki, fixed_time: datetime | None = None,
                     crls: dict[str, bytes] | None = None) -> Iterator[str]:
    """An RFC 3161 TSA on 127.0.0.1 (random port); yields its URL, stops on exit.

    ``GET /crl/NAME`` serves ``crls[NAME]`` (the dict may be filled after the server starts,
    once certificates naming the server's URL exist)."""
    published = crls if crls is not None else {}
    from pyhanko.sign.timestamps import DummyTimeStamper
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    stamper = DummyTimeStamper(tsa_cert=pki.tsa.asn1_cert(), tsa_key=pki.tsa.asn1_key(),
                               certs_to_embed=SimpleCertificateStore.from_certs([pki.tsa.asn1_cert()]),
                               fixed_dt=fixed_time)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            try:
                req = tsp.TimeStampReq.load(body)
                reply = asyncio.run(stamper.async_request_tsa_response(req)).dump()
            except Exception:
                self.send_error(400)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def do_GET(self) -> None:
            body = published.get(self.path.removeprefix("/crl/"))
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/pkix-crl")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # keep pytest output clean
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/tsa"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
