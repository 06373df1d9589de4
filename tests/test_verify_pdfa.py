"""`vcreport verify` on unsigned audit PDFs: the embedded-evidence checks (hashes printed vs embedded).

The signature checks are in test_audit_signing.py; here the files are unsigned, so the CLI runs
with --allow-unsigned and the hash logic is exercised directly through ``verify_pdf``."""

from __future__ import annotations

import io
import shutil

import pytest
import report_fixtures as rf
from click.testing import CliRunner
from pypdf import PdfReader, PdfWriter

from reporter import api
from reporter.cli import main
from reporter.errors import VerificationFailed
from reporter.render import get_renderer
from reporter.render.pdfa import verify_pdf


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    out = tmp_path_factory.mktemp("verify")
    snap_file = out / "snapshot.json.gz"
    api.save_snapshot(rf.snapshot(), snap_file)
    # Through api.report, so the printed source-snapshot hash is the real file's.
    api.report(snap_file, out, formats=["pdfa"])
    return out / "audit-evidence.pdf", snap_file


@pytest.fixture
def copy(pristine, tmp_path):
    dst = tmp_path / "audit-evidence.pdf"
    shutil.copy(pristine[0], dst)
    return dst


def test_untouched_file_verifies(pristine):
    pdf, snap = pristine
    res = verify_pdf(pdf, snap)
    assert res.snapshot_checked
    assert len(res.attachments) == 11
    report = api.verify(pdf, snap, allow_unsigned=True)
    assert report.valid and not report.signed and report.to_json()["signed"] is False
    result = CliRunner().invoke(main, ["verify", str(pdf), "--snapshot", str(snap), "--allow-unsigned"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[-3:] == ["PASS  attachments           11 attachment(s) match the SHA-256 printed in the document",
                          f"PASS  snapshot              {snap} matches the source snapshot SHA-256 printed",
                          f"{pdf}: VALID, NOT SIGNED (the embedded evidence is intact; who produced the file is not proven)"]


def _rewrite(path, mutate) -> None:
    writer = PdfWriter(clone_from=str(path))
    mutate(writer)
    buf = io.BytesIO()
    writer.write(buf)
    path.write_bytes(buf.getvalue())


def test_reembedded_changed_attachment_is_detected(copy):
    def change(writer):
        att = next(a for a in writer.attachment_list if a.name == "inventory-vms.csv")
        att.content = att.content.replace(b"web-01", b"web-99")

    _rewrite(copy, change)
    with pytest.raises(VerificationFailed, match=r"inventory-vms\.csv: SHA-256 [0-9a-f]{64} does not match [0-9a-f]{64} printed"):
        verify_pdf(copy)
    result = CliRunner().invoke(main, ["verify", str(copy), "--allow-unsigned"])
    assert result.exit_code == 4
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"vcreport: verify failed: {copy}: attachments check failed: ")
    assert "inventory-vms.csv" in lines[0]


def test_flipped_bytes_in_an_embedded_stream_are_detected(copy):
    reader = PdfReader(str(copy))
    att = next(a for a in reader.attachment_list if a.name == "findings.json")
    idnum = att.pdf_object["/EF"].raw_get("/F").idnum
    raw = bytearray(copy.read_bytes())
    start = raw.index(b"stream", raw.index(f"\n{idnum} 0 obj".encode())) + len(b"stream\n")
    for i in range(start + 40, start + 44):
        raw[i] ^= 0xFF
    copy.write_bytes(bytes(raw))
    with pytest.raises(VerificationFailed, match=r"findings\.json"):
        verify_pdf(copy)


def test_removed_attachment_is_detected(copy):
    def remove(writer):
        next(a for a in writer.attachment_list if a.name == "inventory-hosts.csv").delete()

    _rewrite(copy, remove)
    with pytest.raises(VerificationFailed, match=r"listed in the document but not embedded: inventory-hosts\.csv"):
        verify_pdf(copy)


def test_added_attachment_is_detected(copy):
    _rewrite(copy, lambda w: w.add_attachment("extra.csv", b"a,b\n"))
    with pytest.raises(VerificationFailed, match=r"attachment extra\.csv is not listed in the document"):
        verify_pdf(copy)


def test_other_snapshot_is_detected(pristine, tmp_path):
    pdf, _ = pristine
    other = tmp_path / "other.json.gz"
    api.save_snapshot(rf.snapshot(errors=False), other)
    with pytest.raises(VerificationFailed, match=r"does not match the source snapshot [0-9a-f]{64} printed in"):
        verify_pdf(pdf, other)


def test_not_an_audit_pdf(tmp_path):
    get_renderer("pdf").render(rf.context(), tmp_path)
    with pytest.raises(VerificationFailed, match="no attachment hashes printed"):
        verify_pdf(tmp_path / "report.pdf")
    result = CliRunner().invoke(main, ["verify", str(tmp_path / "report.pdf"), "--allow-unsigned"])
    assert result.exit_code == 4
    assert "attachments check failed: no attachment hashes printed in the document" in result.stderr
    (tmp_path / "junk.pdf").write_bytes(b"not a pdf at all")
    result = CliRunner().invoke(main, ["verify", str(tmp_path / "junk.pdf")])
    assert result.exit_code == 2  # bad usage, not a failed verification
    assert result.stderr == f"vcreport: error: {tmp_path / 'junk.pdf'}: not a PDF file\n"
