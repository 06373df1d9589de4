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
