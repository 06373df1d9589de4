"""What changed since the last run names its objects, in every format that shows it."""

from __future__ import annotations

from dataclasses import replace

import report_fixtures as rf

from reporter.core.findings import Finding
from reporter.render.view import build_view, named


def test_the_first_three_are_named_and_the_rest_counted() -> None:
    assert named(("a", "b", "c", "d", "e")) == (("a", "b", "c"), 2)
    assert named(("a",)) == (("a",), 0)
    assert named(()) == ((), 0)


def test_rows_of_what_changed_name_each_object_once_by_name() -> None:
    res = rf.results()
    snap_finding = res.checks[0].findings[0]
    twice = [snap_finding.model_copy(update={"object_name": n, "object_id": f"vc/{n}"})
             for n in ("web-2", "Alpha", "web-2", "beta")]
    ctx = rf.context(res=res)
    delta = ctx.delta
    assert delta is not None
    ctx = replace(ctx, delta=replace(delta, new=[*delta.new, *twice]))
    rows = build_view(ctx).changed_rows
    assert [(r.check_id, r.new, r.fixed) for r in rows] == [("TST-001", 5, 1)]
    # distinct, case-insensitive order; the HTML's hostile name is escaped later, by the template
    assert rows[0].new_names == ("<script>alert(1)</script>", "Alpha", "beta", "web-2")
    assert rows[0].new_named == (("<script>alert(1)</script>", "Alpha", "beta"), 1)
    assert rows[0].fixed_named == (("db-07",), 0)
    assert all(isinstance(f, Finding) for f in twice)


def test_the_workbooks_summary_counts_the_change_and_says_when_there_is_none() -> None:
    from reporter.render.sheets import summary_sheet

    rows = {r[0]: r[1] for r in summary_sheet(rf.context()).rows}
    assert (rows["Since the last run: new"], rows["Since the last run: fixed"], rows["Since the last run: still open"]) == (
        1, 1, 2)
    assert "Since the last run: not re-checked" not in rows
    first = {r[0]: r[1] for r in summary_sheet(rf.context(with_delta=False)).rows}
    assert first["Since the last run"] == "no previous run to compare with"


def test_the_workbooks_summary_has_the_licensing_verdicts_in_the_reports_words(tmp_path) -> None:
    from importlib import resources

    from reporter import api
    from reporter.pipeline.report import report
    from reporter.render.licensing_view import licensing_lines
    from reporter.render.sheets import summary_sheet

    with resources.as_file(api.find_sample("sample-snapshot.json.gz")) as sample:
        snap = api.load_snapshot(sample)
    out = report(snap, tmp_path, formats=["json"])
    rows = {r[0]: r[1] for r in summary_sheet(out.context).rows}
    lines = licensing_lines(out.context)
    assert [k for k in rows if k.startswith("Licensing: ")] == [f"Licensing: {x.pool}" for x in lines]
    # without history the 12-month average is unknown: said so, never a verdict
    assert rows["Licensing: vc01 · vSphere Enterprise Plus"].startswith("not evaluated — No vRAM history")


def test_the_checks_that_changed_come_first() -> None:
    res = rf.results()
    first, second = res.checks[0].findings[0], res.checks[1].findings[0]
    assert (first.check_id, second.check_id) == ("TST-001", "TST-002")
    ctx = rf.context(res=res)
    assert ctx.delta is not None
    ctx = replace(ctx, delta=replace(ctx.delta, new=[second], fixed=[], still_open=[first]))
    view = build_view(ctx)
    assert [(r.check_id, r.changed) for r in view.delta_rows] == [("TST-002", True), ("TST-001", False)]
    assert [r.check_id for r in view.changed_rows] == ["TST-002"]
