"""Signed audit evidence: PAdES signature, RFC 3161 timestamp, `vcreport verify` checks and exit codes.

A throwaway PKI (tests/pki_fixtures.py) and a timestamp server on 127.0.0.1 are made per module.
The signed document is produced through `api.report` with an `[audit]` config section, so the
config -> signing wiring is what is tested. Variants (expired, not yet valid, forged) sign
rendered bytes with the same signing code.
"""

from __future__ import annotations

import dataclasses
import io
import json
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pki_fixtures as pf
import pytest
import report_fixtures as rf
from click.testing import CliRunner
from pdfa_structure import pdfa_problems
from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    FloatObject,
    NameObject,
    TextStringObject,
)

from reporter import api
from reporter.cli import main
from reporter.errors import ConfigError
from reporter.render import get_renderer
from reporter.render.signing import SignerFiles, SigningSetup, load_signer

CHECK_NAMES = ["signature", "coverage", "chain", "timestamp", "certificate-validity", "attachments", "snapshot"]


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    made = pf.make_pki()
    return made, made.write(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def tsa_url(pki):
    with pf.timestamp_server(pki[0]) as url:
        yield url


@pytest.fixture(scope="module")
def signed(pki, tsa_url, tmp_path_factory):
    """audit-evidence.pdf signed with the site key (encrypted PEM + chain) and timestamped."""
    _, files = pki
    out = tmp_path_factory.mktemp("signed")
    (out / "passphrase").write_bytes(pf.PASSPHRASE + b"\n")
    for name in ("signer.key", "signer.crt", "intermediate.crt", "root.crt"):
        shutil.copy(files[name], out / name)
    (out / "vcreport.toml").write_text(f'''
[audit]
sign_key_file = "signer.key"
sign_cert_file = "signer.crt"
sign_chain_files = ["intermediate.crt"]
sign_key_passphrase_file = "passphrase"
tsa_url = "{tsa_url}"
trust_files = ["root.crt"]
''', encoding="utf-8")
    cfg = api.load_config(out / "vcreport.toml")
    snap_file = out / "snapshot.json.gz"
    api.save_snapshot(rf.snapshot(), snap_file)
    before = datetime.now(UTC).replace(microsecond=0)
    api.report(snap_file, out / "reports", formats=["pdfa"], cfg=cfg)
    after = datetime.now(UTC)
    return out / "reports" / "audit-evidence.pdf", snap_file, before, after


def _verify(*args: str):
    return CliRunner().invoke(main, ["verify", *args])


def _statuses(result) -> dict[str, str]:
    return {line.split()[1]: line.split()[0] for line in result.stdout.splitlines() if line.split()[0] in ("PASS", "FAIL", "SKIP")}


def _sign_bytes(pdf: bytes, files: dict[str, Path], *, cert: str, key: str, tsa: str | None, chain=("intermediate.crt",),
                passphrase: bytes | None = None) -> bytes:
    setup = SigningSetup(SignerFiles(key_file=files[key], cert_file=files[cert], chain_files=tuple(files[c] for c in chain),
                                     passphrase=passphrase), tsa_url=tsa)
    return load_signer(setup).sign(pdf, datetime.now(UTC).replace(microsecond=0)).data


@pytest.fixture(scope="module")
def unsigned_pdf(tmp_path_factory) -> bytes:
    out = tmp_path_factory.mktemp("unsigned")
    get_renderer("pdfa").render(rf.context(), out)
    return (out / "audit-evidence.pdf").read_bytes()


# -- the valid, signed, timestamped file -----------------------------------------------------------

def test_signed_file_verifies_with_every_check(signed, pki):
    pdf, snap, _, _ = signed
    _, files = pki
    result = _verify(str(pdf), "--trust", str(files["root.crt"]), "--snapshot", str(snap))
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert [line.split()[:2] for line in lines[:-1]] == [["PASS", n] for n in CHECK_NAMES]
    assert "intact PAdES B-T signature by CN=vcreport audit signer,O=Example Corp Test PKI" in lines[0]
    assert lines[1].endswith("the signature covers the whole file")
    assert lines[2].endswith("chains to trusted root CN=Test Root CA,O=Example Corp Test PKI "
                             "via CN=Test Issuing CA,O=Example Corp Test PKI")
    assert "by CN=Test TSA,O=Example Corp Test PKI" in lines[3]
    assert "(proven by the timestamp)" in lines[4]
    assert lines[5].endswith("11 attachment(s) match the SHA-256 printed in the document")
    assert lines[-1] == f"{pdf}: VALID"


def test_json_output_and_trust_from_config(signed):
    pdf, _, _, _ = signed
    result = _verify(str(pdf), "--config", str(pdf.parent.parent / "vcreport.toml"), "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["file"] == str(pdf) and doc["valid"] is True and doc["signed"] is True
    assert [(c["name"], c["status"]) for c in doc["checks"]] == [(n, "PASS") for n in CHECK_NAMES[:-1]] + [("snapshot", "SKIP")]
    assert doc["checks"][-1]["detail"] == "no --snapshot given"


def test_first_page_states_signer_time_tsa_and_how_to_verify(signed, tsa_url):
    pdf, _, before, after = signed
    first = re.sub(r"\s+", " ", rf.pdf_pages(pdf)[0])
    assert "Signed by CN=vcreport audit signer,O=Example Corp Test PKI" in first
    assert f"Timestamp authority {tsa_url}" in first
    assert "vcreport verify audit-evidence.pdf --trust CA.pem" in first
    assert "Any PDF reader shows the signature" in first
    printed = datetime.strptime(re.search(r"Signed at (\S+ \S+) UTC", first).group(1), "%Y-%m-%d %H:%M:%S")
    printed = printed.replace(tzinfo=UTC)
    assert before <= printed <= after
    # The printed time is the one in the signature (the signer's clock, /M and signingTime).
    result = _verify(str(pdf), "--trust", str(pdf.parent.parent / "root.crt"))
    assert f"signer's clock {printed:%Y-%m-%d %H:%M:%S} UTC" in result.stdout.splitlines()[0]


def test_signed_file_keeps_pdfa_structure(signed, unsigned_pdf, tmp_path):
    pdf, _, _, _ = signed
    assert pdfa_problems(pdf) == []
    plain = tmp_path / "unsigned.pdf"
    plain.write_bytes(unsigned_pdf)
    assert pdfa_problems(plain) == []
    reader = PdfReader(str(pdf))
    assert len(reader.trailer["/Root"]["/AF"]) == 11
    widget = reader.trailer["/Root"]["/AcroForm"]["/Fields"][0].get_object()
    assert widget["/FT"] == "/Sig" and [float(x) for x in widget["/Rect"]] == [0, 0, 0, 0]
    assert int(widget["/F"]) & 4 and not int(widget["/F"]) & 2  # printed, not hidden (PDF/A)


# -- forgeries and changes: exit 4 naming the failed check ------------------------------------------

def _forged_context(setup: SigningSetup | None):
    ctx = rf.context()
    snap = ctx.snapshot
    vc = snap.vcenters[rf.UUID1]
    vms = dict(vc.vms)
    vms["vm-1"] = vms["vm-1"].model_copy(update={"name": "web-09"})  # one byte: web-01 -> web-09
    forged = snap.model_copy(update={"vcenters": {**snap.vcenters, rf.UUID1: vc.model_copy(update={"vms": vms})}})
    return dataclasses.replace(ctx, snapshot=forged, audit_signing=setup)


def test_rebuilt_with_fresh_hashes_and_signed_by_another_key_fails_chain(pki, tsa_url, unsigned_pdf, tmp_path):
    _, files = pki
    forger = SigningSetup(SignerFiles(key_file=files["forger.key"], cert_file=files["forger.crt"],
                                      chain_files=(files["forger_root.crt"],)), tsa_url=tsa_url)
    get_renderer("pdfa").render(_forged_context(forger), tmp_path)
    pdf = tmp_path / "audit-evidence.pdf"
    original = {a.name: a.content for a in PdfReader(io.BytesIO(unsigned_pdf)).attachment_list}
    forged = {a.name: a.content for a in PdfReader(str(pdf)).attachment_list}
    a, b = original["inventory-vms.csv"], forged["inventory-vms.csv"]
    assert len(a) == len(b) and sum(x != y for x, y in zip(a, b)) == 1
    result = _verify(str(pdf), "--trust", str(files["root.crt"]))
    assert result.exit_code == 4
    statuses = _statuses(result)
    # Everything a forger controls passes; only the chain to the auditor's root tells.
    assert statuses == {"signature": "PASS", "coverage": "PASS", "chain": "FAIL", "timestamp": "PASS",
                        "certificate-validity": "PASS", "attachments": "PASS", "snapshot": "SKIP"}
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"vcreport: verify failed: {pdf}: chain check failed: "
                                    "CN=vcreport audit signer,O=Example Corp Test PKI (issued by CN=Forger Root CA")


def test_changed_attachment_under_the_old_signature_fails(signed, pki, tmp_path):
    pdf, _, _, _ = signed
    writer = PdfWriter(clone_from=str(pdf))
    att = next(a for a in writer.attachment_list if a.name == "inventory-vms.csv")
    att.content = att.content.replace(b"web-01", b"web-09")
    buf = io.BytesIO()
    writer.write(buf)
    target = tmp_path / "audit-evidence.pdf"
    target.write_bytes(buf.getvalue())
    result = _verify(str(target), "--trust", str(pki[1]["root.crt"]))
    assert result.exit_code == 4
    statuses = _statuses(result)
    assert statuses["signature"] == "FAIL" and statuses["attachments"] == "FAIL"
    assert "signature check failed" in result.stderr and result.stderr.count("\n") == 1


def test_incremental_update_after_signing_fails_coverage(signed, pki, tmp_path):
    pdf, _, _, _ = signed
    target = tmp_path / "audit-evidence.pdf"
    shutil.copy(pdf, target)
    writer = PdfWriter(str(target), incremental=True)
    note = DictionaryObject({
        NameObject("/Type"): NameObject("/Annot"), NameObject("/Subtype"): NameObject("/Text"),
        NameObject("/Rect"): ArrayObject([FloatObject(50), FloatObject(50), FloatObject(70), FloatObject(70)]),
        NameObject("/Contents"): TextStringObject("approved"), NameObject("/F"): FloatObject(4),
    })
    writer.add_annotation(0, note)
    with open(target, "ab") as fh:
        writer.write(fh)
    assert target.stat().st_size > pdf.stat().st_size
    result = _verify(str(target), "--trust", str(pki[1]["root.crt"]))
    assert result.exit_code == 4, result.output
    statuses = _statuses(result)
    assert statuses["coverage"] == "FAIL" and statuses["signature"] == "PASS" and statuses["attachments"] == "PASS"
    assert "coverage check failed: the file was changed after signing: " in result.stderr


def test_signer_not_chaining_to_trust_fails(signed, pki):
    pdf, _, _, _ = signed
    result = _verify(str(pdf), "--trust", str(pki[1]["forger_root.crt"]))
    assert result.exit_code == 4
    assert _statuses(result)["chain"] == "FAIL"
    assert "chain check failed" in result.stderr


def test_expired_certificate_without_timestamp_fails(unsigned_pdf, pki, tmp_path):
    _, files = pki
    target = tmp_path / "expired.pdf"
    target.write_bytes(_sign_bytes(unsigned_pdf, files, cert="expired.crt", key="expired.key", tsa=None))
    result = _verify(str(target), "--trust", str(files["root.crt"]))
    assert result.exit_code == 4, result.output
    statuses = _statuses(result)
    assert statuses == {"signature": "PASS", "coverage": "PASS", "chain": "PASS", "timestamp": "SKIP",
                        "certificate-validity": "FAIL", "attachments": "PASS", "snapshot": "SKIP"}
    assert ("certificate-validity check failed: the signer certificate expired 2021-01-01 00:00:00 UTC; "
            "no trusted timestamp") in result.stderr


def test_expired_certificate_with_timestamp_inside_its_validity_passes(unsigned_pdf, pki, tmp_path):
    made, files = pki
    target = tmp_path / "expired-ts.pdf"
    # A TSA that attests a time when the certificate was still valid (signed back then, in effect).
    with pf.timestamp_server(made, fixed_time=datetime(2020, 6, 1, 12, 0, tzinfo=UTC)) as url:
        target.write_bytes(_sign_bytes(unsigned_pdf, files, cert="expired.crt", key="expired.key", tsa=url))
    result = _verify(str(target), "--trust", str(files["root.crt"]), "--allow-unsigned")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert "RFC 3161 timestamp 2020-06-01 12:00:00 UTC by CN=Test TSA" in lines[3]
    assert lines[4].endswith("signing time 2020-06-01 12:00:00 UTC (proven by the timestamp)")


def test_not_yet_valid_certificate_fails_with_and_without_timestamp(unsigned_pdf, pki, tsa_url, tmp_path):
    _, files = pki
    for tsa in (None, tsa_url):
        target = tmp_path / f"future-{bool(tsa)}.pdf"
        target.write_bytes(_sign_bytes(unsigned_pdf, files, cert="not_yet_valid.crt", key="not_yet_valid.key", tsa=tsa))
        result = _verify(str(target), "--trust", str(files["root.crt"]))
        assert result.exit_code == 4, result.output
        assert _statuses(result)["certificate-validity"] == "FAIL"
        assert "the signer certificate is not valid before" in result.stderr


def test_wrong_snapshot_fails(signed, pki, tmp_path):
    pdf, _, _, _ = signed
    other = tmp_path / "other.json.gz"
    api.save_snapshot(rf.snapshot(errors=False), other)
    result = _verify(str(pdf), "--trust", str(pki[1]["root.crt"]), "--snapshot", str(other))
    assert result.exit_code == 4
    assert _statuses(result)["snapshot"] == "FAIL"
    assert f"snapshot check failed: {other}: SHA-256" in result.stderr


# -- unsigned files and bad usage ---------------------------------------------------------------------

def test_unsigned_file_fails_unless_allowed(unsigned_pdf, tmp_path):
    target = tmp_path / "audit-evidence.pdf"
    target.write_bytes(unsigned_pdf)
    result = _verify(str(target))
    assert result.exit_code == 4
    assert result.stdout.splitlines()[0].startswith("FAIL  signature             not signed: nothing proves who")
    allowed = _verify(str(target), "--allow-unsigned")
    assert allowed.exit_code == 0, allowed.output
    assert _statuses(allowed) == {"signature": "SKIP", "coverage": "SKIP", "chain": "SKIP", "timestamp": "SKIP",
                                  "certificate-validity": "SKIP", "attachments": "PASS", "snapshot": "SKIP"}
    first = re.sub(r"\s+", " ", rf.pdf_pages(target)[0])
    assert "Not signed. This document carries no digital signature." in first
    assert "they do not prove who produced the document or when" in first


def test_bad_usage_exits_2(tmp_path, pki):
    missing = _verify(str(tmp_path / "nope.pdf"))
    assert missing.exit_code == 2 and missing.stderr == f"vcreport: error: {tmp_path / 'nope.pdf'}: no such file\n"
    junk = tmp_path / "junk.pdf"
    junk.write_bytes(b"not a pdf at all")
    result = _verify(str(junk))
    assert result.exit_code == 2 and result.stderr == f"vcreport: error: {junk}: not a PDF file\n"


def test_unreadable_trust_file_exits_2(signed, tmp_path):
    pdf, _, _, _ = signed
    bad = tmp_path / "bad.pem"
    bad.write_text("not a certificate")
    result = _verify(str(pdf), "--trust", str(bad))
    assert result.exit_code == 2 and result.stderr == f"vcreport: error: {bad}: not a PEM or DER certificate file\n"
    result = _verify(str(pdf), "--trust", str(tmp_path / "absent.pem"))
    assert result.exit_code == 2 and "cannot read trust file" in result.stderr


# -- signing configuration errors ---------------------------------------------------------------------

def test_wrong_passphrase_and_mismatched_key_are_config_errors(pki):
    _, files = pki
    with pytest.raises(ConfigError, match=r"signer\.key: cannot load the signing key \(wrong passphrase"):
        load_signer(SigningSetup(SignerFiles(key_file=files["signer.key"], cert_file=files["signer.crt"],
                                             passphrase=b"wrong")))
    with pytest.raises(ConfigError, match=r"signer\.key: the signing key is encrypted: set a passphrase"):
        load_signer(SigningSetup(SignerFiles(key_file=files["signer.key"], cert_file=files["signer.crt"])))
    with pytest.raises(ConfigError, match="the signing key does not belong to the signing certificate"):
        load_signer(SigningSetup(SignerFiles(key_file=files["forger.key"], cert_file=files["signer.crt"])))
    ec_signer = pf.issue("ec signer", pki[0].intermediate, ec_key=True)
    (files["signer.key"].parent / "ec.key").write_bytes(ec_signer.key_pem())
    (files["signer.key"].parent / "ec.crt").write_bytes(ec_signer.cert_pem())
    with pytest.raises(ConfigError, match=r"ec\.key: the signing key is not RSA; the audit-evidence PDF/A-3b file needs an "
                                          "RSA key"):
        load_signer(SigningSetup(SignerFiles(key_file=files["signer.key"].parent / "ec.key",
                                             cert_file=files["signer.key"].parent / "ec.crt")))


def test_pkcs12_signer_and_level_without_revocation_data(unsigned_pdf, pki, tsa_url):
    _, files = pki
    signer = load_signer(SigningSetup(SignerFiles(pkcs12_file=files["signer.p12"], passphrase=pf.PASSPHRASE),
                                      tsa_url=tsa_url))
    assert signer.identity.subject == "CN=vcreport audit signer,O=Example Corp Test PKI"
    assert signer.identity.issuer == "CN=Test Issuing CA,O=Example Corp Test PKI"
    out = signer.sign(unsigned_pdf, datetime.now(UTC).replace(microsecond=0))
    assert out.level == "PAdES B-T"
    assert out.note == ("the signer certificate names no CRL or OCSP responder, so there is no revocation "
                        "information to embed")
    no_tsa = load_signer(SigningSetup(SignerFiles(pkcs12_file=files["signer.p12"], passphrase=pf.PASSPHRASE)))
    assert no_tsa.sign(unsigned_pdf, datetime.now(UTC)).level == "PAdES B-B"


def test_audit_config_is_strict(tmp_path):
    from reporter.config import parse_config

    with pytest.raises(ConfigError, match=r"audit\.sign_key_fle: unknown key"):
        parse_config({"audit": {"sign_key_fle": "k.pem"}})
    with pytest.raises(ConfigError, match="sign_key_file and sign_cert_file go together"):
        parse_config({"audit": {"sign_key_file": "k.pem"}})
    with pytest.raises(ConfigError, match="either sign_pkcs12_file or sign_key_file"):
        parse_config({"audit": {"sign_pkcs12_file": "s.p12", "sign_key_file": "k.pem", "sign_cert_file": "c.pem"}})
    with pytest.raises(ConfigError, match="only one of sign_key_passphrase_env and sign_key_passphrase_file"):
        parse_config({"audit": {"sign_pkcs12_file": "s.p12", "sign_key_passphrase_env": "X",
                                "sign_key_passphrase_file": "p"}})
    with pytest.raises(ConfigError, match=r"audit\.embed_validation_data: Input should be a valid boolean"):
        parse_config({"audit": {"embed_validation_data": "yes"}})
    cfg = parse_config({"audit": {"sign_pkcs12_file": "s.p12", "sign_key_passphrase_env": "VCREPORT_TEST_NO_SUCH_VAR"}})
    with pytest.raises(ConfigError, match="environment variable VCREPORT_TEST_NO_SUCH_VAR is not set"):
        cfg.audit.resolve_passphrase()
    assert parse_config({}).audit.signs is False


def test_signed_first_page_renders_with_pdftoppm(signed, tmp_path):
    import subprocess

    pdf, _, _, _ = signed
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) not installed")
    done = subprocess.run(["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0 and done.stderr == ""
    png = (tmp_path / "page-1.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert (width, height) == (414, 585)  # A4 at 50 dpi


def test_long_term_validation_data_when_revocation_data_is_reachable(unsigned_pdf, pki, tmp_path):
    made, files = pki
    crls: dict[str, bytes] = {}
    with pf.timestamp_server(made, crls=crls) as url:
        base = url.removesuffix("/tsa") + "/crl/"
        # A chain whose certificates name CRLs on the local server: revocation data can be had.
        issuing = pf.issue("LT Issuing CA", made.root, ca=True, crl_url=base + "root.crl")
        signer = pf.issue("vcreport LT signer", issuing, not_before=pf.NOW - pf.timedelta(days=1),
                          not_after=pf.NOW + pf.timedelta(days=30), crl_url=base + "issuing.crl")
        crls.update({"root.crl": pf.empty_crl(made.root), "issuing.crl": pf.empty_crl(issuing)})
        for name, item in (("lt.key", signer.key_pem()), ("lt.crt", signer.cert_pem()), ("lt-ca.crt", issuing.cert_pem())):
            (tmp_path / name).write_bytes(item)
        setup = SigningSetup(SignerFiles(key_file=tmp_path / "lt.key", cert_file=tmp_path / "lt.crt",
                                         chain_files=(tmp_path / "lt-ca.crt",)), tsa_url=url,
                             trust_files=(files["root.crt"],))
        out = load_signer(setup).sign(unsigned_pdf, datetime.now(UTC).replace(microsecond=0))
    assert (out.level, out.note) == ("PAdES B-LT", "")
    target = tmp_path / "lt.pdf"
    target.write_bytes(out.data)
    # Verified offline (the server is gone): the CRLs come from the file's DSS.
    result = _verify(str(target), "--trust", str(files["root.crt"]), "--allow-unsigned")
    assert result.exit_code == 0, result.output
    assert "intact PAdES B-LT signature by CN=vcreport LT signer" in result.stdout
    assert result.stdout.splitlines()[1].endswith("except validation data added after signing "
                                                  "(certificates, revocation data, document timestamps)")
    assert pdfa_problems(target) == []


def test_structure_check_catches_what_an_ec_signature_would_do(unsigned_pdf, pki, tmp_path):
    """Why the signer refuses EC keys: pyHanko's ECDSA signature raises the catalog to PDF 2.0."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    ec_signer = pf.issue("ec signer", pki[0].intermediate, ec_key=True)
    signer = signers.SimpleSigner(signing_cert=ec_signer.asn1_cert(), signing_key=ec_signer.asn1_key(),
                                  cert_registry=None)
    meta = signers.PdfSignatureMetadata(field_name="Sig", subfilter=fields.SigSeedSubFilter.PADES)
    out = signers.PdfSigner(meta, signer).sign_pdf(IncrementalPdfFileWriter(io.BytesIO(unsigned_pdf), strict=False))
    target = tmp_path / "ec.pdf"
    target.write_bytes(out.getvalue())
    assert pdfa_problems(target) == ["catalog /Version /2.0 (PDF/A-3 is PDF 1.7)"]


def test_real_cli_prints_no_library_warnings(unsigned_pdf, pki, tmp_path):
    """pyHanko logs a not-yet-valid chain at ERROR with a traceback; at default verbosity only
    the one verdict line reaches stderr, with -v the library's log is shown."""
    import subprocess
    import sys

    _, files = pki
    target = tmp_path / "future.pdf"
    target.write_bytes(_sign_bytes(unsigned_pdf, files, cert="not_yet_valid.crt", key="not_yet_valid.key", tsa=None))
    command = [sys.executable, "-m", "reporter.cli", "verify", str(target), "--trust", str(files["root.crt"])]
    quiet = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert quiet.returncode == 4
    assert quiet.stderr.count("\n") == 1
    assert quiet.stderr.startswith(f"vcreport: verify failed: {target}: certificate-validity check failed")
    verbose = subprocess.run(command[:3] + ["-v"] + command[3:], capture_output=True, text=True, timeout=120, check=False)
    assert verbose.returncode == 4 and "pyhanko" in verbose.stderr and verbose.stderr.count("\n") > 1


def test_unreachable_timestamp_authority_is_one_clear_error(unsigned_pdf, pki):
    import socket

    from reporter.errors import RenderError

    with socket.socket() as probe:  # a port with nothing listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    setup = SigningSetup(SignerFiles(pkcs12_file=pki[1]["signer.p12"], passphrase=pf.PASSPHRASE),
                         tsa_url=f"http://127.0.0.1:{port}/tsa", tsa_timeout_s=5)
    with pytest.raises(RenderError, match=rf"signing the audit-evidence PDF failed \(timestamp authority "
                                          rf"http://127\.0\.0\.1:{port}/tsa\): "):
        load_signer(setup).sign(unsigned_pdf, datetime.now(UTC))


def test_a_report_that_fails_to_sign_leaves_no_empty_out_directory(pki, tmp_path):
    """A wrong passphrase fails the audit edition during rendering: the --out directory (and its
    parent) that the report had just created go again, as a failed report set leaves no files."""
    _, files = pki
    (tmp_path / "passphrase").write_bytes(b"wrong\n")
    (tmp_path / "vcreport.toml").write_text(f'''
[audit]
sign_key_file = "{files["signer.key"]}"
sign_cert_file = "{files["signer.crt"]}"
sign_key_passphrase_file = "passphrase"
''', encoding="utf-8")
    cfg = api.load_config(tmp_path / "vcreport.toml")
    snap_file = tmp_path / "snapshot.json.gz"
    api.save_snapshot(rf.snapshot(), snap_file)
    with pytest.raises(ConfigError, match="wrong passphrase"):
        api.report(snap_file, tmp_path / "new" / "reports", formats=["html", "pdfa"], cfg=cfg)
    assert not (tmp_path / "new").exists()
    kept = tmp_path / "kept"
    kept.mkdir()
    with pytest.raises(ConfigError, match="wrong passphrase"):
        api.report(snap_file, kept, formats=["html", "pdfa"], cfg=cfg)
    assert kept.is_dir() and list(kept.iterdir()) == []  # a directory the user made stays
