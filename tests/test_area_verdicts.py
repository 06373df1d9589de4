"""The executive page's area verdicts: "OK" only when nothing in the area is unknown."""

from __future__ import annotations

import html as htmllib
import re
from pathlib import Path

from snapshots_fixtures import VmBuilder, snapshot_of

from reporter.checks import registry
from reporter.checks.engine import CheckStatus
from reporter.pipeline.report import report
from reporter.render.view import CheckView, area_verdict


def _areas(out: Path) -> dict[str, tuple[str, str]]:
    raw = (out / "report.html").read_text(encoding="utf-8")
    start = raw.index("<th>Area</th>")
    rows = re.findall(r"<tr>(.*?)</tr>", raw[start:raw.index("</table>", start)], flags=re.S)
    cells = [[htmllib.unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)]
             for r in rows]
    return {c[0]: (c[1], c[-1]) for c in cells if c}


def _one_clean_vm(tmp_path: Path, consolidation_needed: bool | None) -> dict[str, tuple[str, str]]:
    b = VmBuilder("vm-1", "app01", consolidation_needed=consolidation_needed)
    b.disk(40)
    out = tmp_path / str(consolidation_needed)
    report(snapshot_of([b.build()]), out, formats="html")
    return _areas(out)


def test_an_area_with_a_check_that_lacked_its_data_is_partly_evaluated(tmp_path: Path) -> None:
    # One VM without snapshots: the snapshot checks pass, but vCenter did not say whether its
    # disks need consolidation, so SNAP-004 could not be evaluated: not "OK" (it used to be).
    assert _one_clean_vm(tmp_path, None)["Snapshots"] == ("Partly evaluated", "1")
    # The same VM with the consolidation state reported: every snapshot check passed.
    assert _one_clean_vm(tmp_path, False)["Snapshots"] == ("OK", "0")


def _view(check_id: str, status: CheckStatus, *, nothing_applies: bool = False) -> CheckView:
    meta = next(c.meta for c in registry.all_checks() if c.meta.id == check_id)
    return CheckView(meta=meta, checked=0 if status is CheckStatus.not_evaluated else 3, open=[], waived=[], passed=0,
                     notes=[], error="boom" if status is CheckStatus.error else None, new_keys=set(), status=status,
                     nothing_applies=nothing_applies)


def test_verdicts_without_findings() -> None:
    passed, out_of_scope = CheckStatus.passed, CheckStatus.not_evaluated
    assert area_verdict([_view("CPU-001", passed), _view("CPU-002", out_of_scope, nothing_applies=True)]) == "OK"
    assert area_verdict([_view("CPU-001", out_of_scope, nothing_applies=True),
                         _view("CPU-002", out_of_scope, nothing_applies=True)]) == "Nothing to check"
    assert area_verdict([_view("CPU-001", passed), _view("CPU-002", out_of_scope)]) == "Partly evaluated"
    assert area_verdict([_view("CPU-001", passed), _view("CPU-002", CheckStatus.error)]) == "Partly evaluated"
    assert area_verdict([_view("CPU-001", out_of_scope, nothing_applies=True), _view("CPU-002", out_of_scope)]) \
        == "Not evaluated"
