"""``report`` freezes the heap for the rendering before automatic collection resumes after the
checks: the first automatic pass would otherwise walk every object made while it was paused."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import report_fixtures as rf

from reporter.core import gcpolicy
from reporter.pipeline import report as pipeline_report


def test_the_heap_is_frozen_while_collection_is_still_paused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    events: list[str] = []
    real = gcpolicy.frozen_heap

    @contextmanager
    def frozen_heap() -> Iterator[None]:
        events.append(f"freeze, collection {'on' if gc.isenabled() else 'paused'}")
        with real():
            yield
        events.append(f"unfreeze, {'still frozen' if gc.get_freeze_count() else 'handed back'}")

    real_render_all = pipeline_report._render_all

    def render_all(*args: object, **kwargs: object) -> list[Path]:
        events.append(f"render, {'frozen' if gc.get_freeze_count() else 'not frozen'}, "
                      f"collection {'on' if gc.isenabled() else 'paused'}")
        return real_render_all(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pipeline_report, "frozen_heap", frozen_heap)
    monkeypatch.setattr(pipeline_report, "_render_all", render_all)
    assert gc.isenabled()
    out = pipeline_report.report(rf.snapshot(), tmp_path, formats="json")
    assert events == ["freeze, collection paused", "render, frozen, collection on", "unfreeze, handed back"]
    assert gc.isenabled() and gc.get_freeze_count() == 0
    assert [p.name for p in out.files] == ["findings.json", "summary.json"]


def test_a_failure_before_the_rendering_hands_the_heap_back(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    with pytest.raises(Exception, match="cannot write the reports there"):
        pipeline_report.report(rf.snapshot(), blocked / "out", formats="json")
    assert gc.isenabled() and gc.get_freeze_count() == 0


def test_a_run_freezes_the_collected_snapshot_until_its_report_ends(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from test_scheduler_service import WEEK1, WEEK2, _week, config

    from reporter.pipeline import run as pipeline_run

    cfg = config(tmp_path, output={"dir": str(tmp_path / "out"), "formats": ["json"]})
    seen: list[str] = []
    real_load, real_keep = pipeline_run._load_previous, pipeline_run._keep

    def load_previous(path: Path | None) -> object:
        seen.append(f"previous read, {'frozen' if gc.get_freeze_count() else 'not frozen'}")
        return real_load(path)

    def keep(*args: object) -> object:
        seen.append(f"saved, {'frozen' if gc.get_freeze_count() else 'not frozen'}")
        return real_keep(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(pipeline_run, "_load_previous", load_previous)
    monkeypatch.setattr(pipeline_run, "_keep", keep)
    weeks = iter([_week(WEEK1, {}), _week(WEEK2, {})])
    pipeline_run.run_once(cfg, collect=lambda c, insecure=False: next(weeks))
    second = pipeline_run.run_once(cfg, collect=lambda c, insecure=False: next(weeks))
    assert sorted(seen) == ["previous read, frozen"] * 2 + ["saved, frozen"] * 2
    assert second.previous is not None and gc.isenabled() and gc.get_freeze_count() == 0
