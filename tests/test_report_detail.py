"""``--detail summary|standard|full`` and ``[output] detail``: what each level lists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from reporter.cli import main
from reporter.config.sections import OutputConfig
from reporter.core import snapshot_io
from reporter.core.detail import Detail
from reporter.errors import UsageError
from reporter.pipeline.report import report, resolve_detail

SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "sample-snapshot.json.gz"


@pytest.fixture(scope="module")
def html_by_level(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    snap = snapshot_io.load(SAMPLE)
    out = {}
    for level in Detail:
        d = tmp_path_factory.mktemp(level.value)
        report(snap, d, formats="html", detail=level)
        out[level.value] = (d / "report.html").read_text(encoding="utf-8")
    return out


def _rows(html: str, anchor: str) -> int:
    block = html[html.index(f'id="{anchor}"'):]
    block = block[:block.index("</section>")]
    return len(re.findall(r'<td class="obj"', block))


def test_levels_list_no_50_or_all_objects(html_by_level: dict[str, str]) -> None:
    # CBT-001 on vc01: 77 VMs in one group
    assert _rows(html_by_level["summary"], "g-cbt-001-vc01") == 0
    assert _rows(html_by_level["standard"], "g-cbt-001-vc01") == 50
    assert _rows(html_by_level["full"], "g-cbt-001-vc01") == 77
    assert "27 more not listed here (the first 50 are)" in html_by_level["standard"]
    for level in ("summary", "standard", "full"):
        assert "Executive summary" in html_by_level[level] and "Top actions" in html_by_level[level]
        assert "CBT off on VMs in the backup scope of vc01" in html_by_level[level]


def test_detail_resolution_and_validation() -> None:
    assert resolve_detail(None, None) is Detail.standard
    assert resolve_detail("full", None) is Detail.full
    with pytest.raises(UsageError, match=r"--detail: unknown level 'verbose'"):
        resolve_detail("verbose", None)
    with pytest.raises(ValueError, match="summary"):
        OutputConfig.model_validate({"detail": "verbose"})
    assert OutputConfig.model_validate({"detail": "summary"}).detail is Detail.summary


def test_cli_rejects_an_unknown_level(tmp_path: Path) -> None:
    res = CliRunner().invoke(main, ["report", str(SAMPLE), "--out", str(tmp_path), "--detail", "verbose"])
    assert res.exit_code == 2 and "Invalid value for '--detail'" in res.output
    bad = tmp_path / "bad.toml"
    bad.write_text('[output]\ndetail = "verbose"\n', encoding="utf-8")
    res = CliRunner().invoke(main, ["config", "check", str(bad)])
    assert res.exit_code == 2 and "output.detail" in res.output


def test_full_pdf_of_a_large_inventory_warns_first() -> None:
    from reporter.core.formats import Format
    from reporter.pipeline.report import FULL_PDF_WARN_VMS, full_pdf_warning

    big = FULL_PDF_WARN_VMS + 1
    said = full_pdf_warning(big, Detail.full, [Format.html, Format.pdf])
    assert said is not None and f"{big:,} VMs" in said and "--detail standard" in said
    assert full_pdf_warning(FULL_PDF_WARN_VMS, Detail.full, [Format.pdf]) is None  # not large
    assert full_pdf_warning(big, Detail.standard, [Format.pdf]) is None  # paper stays short
    assert full_pdf_warning(big, Detail.full, [Format.html, Format.xlsx]) is None  # no PDF asked


def test_report_logs_the_full_pdf_warning(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           caplog: pytest.LogCaptureFixture) -> None:
    import logging

    from licensing_helpers import snapshot, vsphere5_site

    import reporter.pipeline.report as pipeline_report

    monkeypatch.setattr(pipeline_report, "FULL_PDF_WARN_VMS", 5)  # the 8-VM site counts as large here
    snap = snapshot(vsphere5_site())
    with caplog.at_level(logging.WARNING, logger="reporter.pipeline.report"):
        report(snap, tmp_path / "std", formats="pdf", detail="standard")
        assert not [r for r in caplog.records if "--detail full" in r.getMessage()]
        report(snap, tmp_path / "full", formats="pdf", detail="full")
    [warned] = [r for r in caplog.records if "--detail full" in r.getMessage()]
    assert "8 VMs" in warned.getMessage()
    assert (tmp_path / "full" / "report.pdf").stat().st_size > 0
