"""Lifecycle domain: build -> release names, support dates, version checks, advisories, tables."""

from __future__ import annotations

import tomllib
from datetime import date
from importlib import resources

import pytest

from reporter.core.model import Host
from reporter.domain.cbt import host_defects
from reporter.domain.datafiles import DataFileError, parse_rows, parse_toml
from reporter.domain.lifecycle import (
    AdvisoryRow,
    BuildRow,
    HostVersion,
    LifecycleRow,
    advisory_table,
    build_advisories,
    build_table,
    lifecycle_status,
    lifecycle_table,
    mixed_builds,
    release_label,
    vcenter_older_than_hosts,
)


@pytest.mark.parametrize("product,build,version,text,exact,verified", [
    ("esxi", "21930508", "7.0.3", "ESXi 7.0 Update 3n", True, True),
    ("esxi", 21930508, "7.0.3", "ESXi 7.0 Update 3n", True, True),
    ("esxi", "build-21930508", "7.0.3", "ESXi 7.0 Update 3n", True, True),
    ("esxi", "20513097", "8.0.0", "ESXi 8.0 GA", True, True),
    ("esxi", "24674464", "8.0.3", "ESXi 8.0 Update 3e", True, True),
    ("esxi", "24022510", "8.0.3", "ESXi 8.0 Update 3", True, True),
    ("esxi", "24723872", "7.0.3", "ESXi 7.0 Update 3v", True, False),         # one copy of the KB only
    ("esxi", "14320388", "6.7.0", "ESXi 6.7 Update 3", True, True),
    ("esxi", "20502893", "6.5.0", "ESXi 6.5 Patch 9 (ESXi650-202210001)", True, True),
    ("esxi", "21930508", None, "ESXi 7.0 Update 3n", True, True),             # exact match needs no version
    ("esxi", "21930600", "7.0.3", "ESXi 7.0 (build 21930600, newer than ESXi 7.0 Update 3n)", False, False),
    ("esxi", "99999999", "8.0.3", "ESXi 8.0 (build 99999999, newer than ESXi 8.0 Update 3e)", False, False),
    ("esxi", "15000000", "7.0.0", "ESXi 7.0 (build 15000000, older than ESXi 7.0 GA)", False, False),
    ("esxi", "20502894", "7.0.3", "ESXi 7.0 (build 20502894, newer than ESXi 7.0 Update 3g)", False, False),
    ("esxi", "21930600", None, "ESXi build 21930600 (release not in the build table)", False, False),
    ("esxi", "3029758", "9.0.0", "ESXi 9.0 (build 3029758)", False, False),  # line not in the table
    ("esxi", None, "7.0.3", "ESXi 7.0 (build unknown)", False, False),
    ("esxi", "n/a", None, "ESXi (build unknown)", False, False),
    ("vcenter", "21958406", "7.0.3", "vCenter Server 7.0 Update 3n", True, True),
    ("vcenter", "15952599", "7.0.0", "vCenter Server 7.0 GA", True, True),
    ("vcenter", "15952498", "7.0.0", "vCenter Server 7.0 GA", True, True),   # the ISO build of the same release
    ("vcenter", "22385739", "8.0.2", "vCenter Server 8.0 Update 2", True, True),
    ("vcenter", "24022515", "8.0.3", "vCenter Server 8.0 Update 3", True, False),   # one copy of the KB only
    ("vcenter", "22400000", "8.0.2", "vCenter Server 8.0 (build 22400000, newer than vCenter Server 8.0 Update 2)",
     False, False),
])
def test_release_label(product: str, build: str | int | None, version: str | None, text: str, exact: bool,
                       verified: bool) -> None:
    label = release_label(product, build, version)  # type: ignore[arg-type]
    assert (label.text, label.exact, label.verified) == (text, exact, verified)


def test_nearest_lower_release_is_returned_for_unknown_build() -> None:
    label = release_label("esxi", "21930600", "7.0.3")
    assert label.release is not None and (label.release.build, label.release.name) == (21930508, "ESXi 7.0 Update 3n")
    assert label.build == 21930600


def test_builds_only_compare_within_a_line() -> None:
    """6.5 Patch 9 (20502893) is numerically above 7.0 GA; on a 7.0 host it must not be named."""
    assert release_label("esxi", "20502893", "7.0.3").text == "ESXi 7.0 (build 20502893, newer than ESXi 7.0 Update 3g)"


@pytest.mark.parametrize("product,line,eogs,eotg,verified", [
    ("esxi", "6.5", date(2022, 10, 15), date(2023, 11, 15), True),
    ("esxi", "6.7", date(2022, 10, 15), date(2023, 11, 15), True),
    ("esxi", "7.0", date(2025, 10, 2), date(2027, 4, 2), False),
    ("esxi", "8.0", date(2027, 10, 11), date(2029, 10, 11), False),
    ("vcenter", "6.5", date(2022, 10, 15), date(2023, 11, 15), True),
    ("vcenter", "6.7", date(2022, 10, 15), date(2023, 11, 15), True),
    ("vcenter", "7.0", date(2025, 10, 2), date(2027, 4, 2), False),
    ("vcenter", "8.0", date(2027, 10, 11), date(2029, 10, 11), False),
])
def test_lifecycle_dates(product: str, line: str, eogs: date, eotg: date, verified: bool) -> None:
    (row,) = [r for r in lifecycle_table() if r.product == product and r.line == line]
    assert (row.end_of_general_support, row.end_of_technical_guidance, row.verified) == (eogs, eotg, verified)


@pytest.mark.parametrize("version,today,warning,days,past,past_tg,within", [
    ("8.0.3", date(2026, 12, 1), 180, 314, False, False, False),
    ("8.0.3", date(2027, 5, 1), 180, 163, False, False, True),
    ("8.0.3", date(2027, 4, 14), 180, 180, False, False, True),     # the boundary day is inside the window
    ("8.0.3", date(2027, 4, 13), 180, 181, False, False, False),
    ("8.0.3", date(2027, 10, 11), 180, 0, True, False, False),      # EoGS day itself: no longer supported
    ("7.0.3", date(2026, 12, 1), 180, -425, True, False, False),
    ("6.7.0", date(2023, 11, 15), 30, -396, True, True, False),
    ("8.0.3", date(2027, 5, 1), 90, 163, False, False, False),      # a shorter warning window (setting)
])
def test_lifecycle_status(version: str, today: date, warning: int, days: int, past: bool, past_tg: bool,
                          within: bool) -> None:
    s = lifecycle_status("esxi", version, today, warning)
    assert s is not None
    assert (s.days_to_end_of_general_support, s.past_general_support, s.past_technical_guidance, s.within_warning) == (
        days, past, past_tg, within)


@pytest.mark.parametrize("version", [None, "4.1.0", "not-a-version"])
def test_lifecycle_status_unknown_line(version: str | None) -> None:
    assert lifecycle_status("esxi", version, date(2026, 1, 1)) is None


def test_vcenter_older_than_hosts() -> None:
    hosts = [HostVersion("esx1", "8.0.1"), HostVersion("esx2", "7.0.3"), HostVersion("esx3", "6.7.0"),
             HostVersion("esx4", None), HostVersion("esx0", "7.0.3.1")]
    gaps = vcenter_older_than_hosts("7.0.3", hosts)
    assert [(g.host, g.host_version, g.vcenter_version) for g in gaps] == [
        ("esx0", "7.0.3.1", "7.0.3"), ("esx1", "8.0.1", "7.0.3")]
    assert vcenter_older_than_hosts("8.0", [HostVersion("esx1", "8.0.0")]) == []
    assert vcenter_older_than_hosts(None, hosts) == []


def test_mixed_builds() -> None:
    same = [HostVersion("esx1", "7.0.3", "21930508"), HostVersion("esx2", "7.0.3", "21930508"),
            HostVersion("esx3", "7.0.3", None)]
    assert mixed_builds(same) is None
    mixed = mixed_builds([*same, HostVersion("esx4", "8.0.2", "22380479"), HostVersion("esx5", "7.0.3", "bad")])
    assert mixed is not None
    assert (mixed.by_build, mixed.unknown) == ({"21930508": ("esx1", "esx2"), "22380479": ("esx4",)}, ("esx3", "esx5"))


@pytest.mark.parametrize("version,build,expected", [
    ("7.0.1", "17168206", ["vmsa-2021-0002-esxi-7.0"]),  # 7.0 U1b: before the fix
    ("7.0.1", "17325551", []),                            # 7.0 U1c: the fix
    ("7.0.3", "21930508", []),
    ("6.7.0", "17167734", ["vmsa-2021-0002-esxi-6.7"]),
    ("6.5.0", "17477841", []),
    ("8.0.0", "20513097", []),
    (None, "17168206", []),
    ("7.0.1", None, []),
])
def test_build_advisories(version: str | None, build: str | None, expected: list[str]) -> None:
    assert [a.id for a in build_advisories("esxi", version, build)] == expected
    assert build_advisories("vcenter", version, build) == []


def _adv(**kw: object) -> AdvisoryRow:
    base: dict[str, object] = {"id": "a", "product": "esxi", "line": "8.0", "advisory": "X", "title": "t",
                               "severity": "high", "fix": "f", "verified": True, "source": "s"}
    return AdvisoryRow.model_validate({**base, **kw})


@pytest.mark.parametrize("row,build,covered", [
    (_adv(affected_from=100, fixed_in=200), 99, False),
    (_adv(affected_from=100, fixed_in=200), 100, True),
    (_adv(affected_from=100, fixed_in=200), 199, True),
    (_adv(affected_from=100, fixed_in=200), 200, False),
    (_adv(affected_from=100), 10**9, True),        # never fixed
    (_adv(fixed_in=200), 1, True),                 # whole line below the fix
])
def test_advisory_build_range(row: AdvisoryRow, build: int, covered: bool) -> None:
    assert row.covers("8.0", build) is covered
    assert row.covers("7.0", build) is False


def test_cbt_defect_rows_map_onto_advisory_rows() -> None:
    """The design claim of build_advisories.toml: each CBT [[defect.affected]] row is one
    advisory row (product esxi, line = version, fixed_in = fixed_build) and answers the same."""
    text = resources.files("reporter").joinpath("data/cbt_defects.toml").read_text(encoding="utf-8")
    rows = []
    for d in tomllib.loads(text)["defect"]:
        for a in d["affected"]:
            rows.append(AdvisoryRow.model_validate({
                "id": f"{d['kb']}-{a['version']}", "product": "esxi", "line": a["version"], "advisory": d["kb"],
                "kb": d["kb"], "title": d["title"], "severity": "high", "fix": a["fix"], "after_fix": d["after_fix"],
                "fixed_in": a.get("fixed_build"), "verified": a["verified"], "source": a["source"],
                "note": None if a["verified"] else "see source"}))
    for version, build in [("6.0.0", "3247719"), ("6.0.0", "3247720"), ("5.5.0", "1892794"), ("5.5.0", "2302651"),
                           ("4.1.0", "9999999"), ("5.1.0", "2323235"), ("6.5.0", "4564106")]:
        cbt = sorted(x.defect.kb for x in host_defects(Host(moid="h", name="h", version=version, build=build)))
        assert sorted(r.advisory for r in build_advisories("esxi", version, build, rows)) == cbt, (version, build)


# --------------------------------------------------------------------------- data files


@pytest.mark.parametrize("product,prefix", [("esxi", "ESXi "), ("vcenter", "vCenter Server ")])
def test_build_tables_are_sourced_and_consistent(product: str, prefix: str) -> None:
    rows = build_table(product)
    assert len(rows) == {"esxi": 76, "vcenter": 54}[product]
    numbers = [b for r in rows for b in (r.build, *r.other_builds)]
    assert len(numbers) == len(set(numbers)), "a build number appears twice"
    for r in rows:
        assert r.source.strip() and r.name.startswith(prefix + r.line)
        assert r.verified or (r.note and r.note.strip())
    by_line: dict[str, list[int]] = {}
    for r in rows:
        by_line.setdefault(r.line, []).append(r.build)
    assert sorted(by_line) == {"esxi": ["6.5", "6.7", "7.0", "8.0"], "vcenter": ["6.7", "7.0", "8.0"]}[product]


def test_verified_counts() -> None:
    """Fewer, verified rows: the counts a reviewer can hold the data file to."""
    assert sum(r.verified for r in build_table("esxi")) == 72
    assert sum(r.verified for r in build_table("vcenter")) == 6
    assert sum(r.verified for r in lifecycle_table()) == 4
    assert [(a.id, a.verified) for a in advisory_table()] == [
        ("vmsa-2021-0002-esxi-7.0", True), ("vmsa-2021-0002-esxi-6.7", False), ("vmsa-2021-0002-esxi-6.5", False)]


REL = '[[release]]\nline = "7.0"\nbuild = 1\nname = "ESXi 7.0 X"\nverified = true\nsource = "s"\n'
LC = ('[[release]]\nproduct = "esxi"\nline = "7.0"\nend_of_general_support = 2025-10-02\n'
      'end_of_technical_guidance = 2027-04-02\nverified = true\nsource = "s"\n')
ADV = ('[[advisory]]\nid = "a"\nproduct = "esxi"\nline = "7.0"\nfixed_in = 10\nadvisory = "X"\ntitle = "t"\n'
       'severity = "high"\nfix = "f"\nverified = true\nsource = "s"\n')


@pytest.mark.parametrize("text,key,model,message", [
    (REL.replace("build = 1", 'build = "abc"'), "release", BuildRow, "f.toml: [[release]] row 1: build: Input should be a valid integer"),
    (REL.replace("build = 1", 'build = "1"'), "release", BuildRow, "f.toml: [[release]] row 1: build: Input should be a valid integer"),
    (REL.replace('source = "s"\n', ""), "release", BuildRow, "f.toml: [[release]] row 1: source: Field required"),
    (REL.replace("verified = true", "verified = false"), "release", BuildRow,
     "f.toml: [[release]] row 1: row: Value error, a row with verified = false needs a note"),
    (LC.replace("2027-04-02", "2024-01-01"), "release", LifecycleRow,
     "f.toml: [[release]] row 1: row: Value error, end_of_technical_guidance is before end_of_general_support"),
    (LC.replace('"esxi"', '"nsx"'), "release", LifecycleRow, "f.toml: [[release]] row 1: product: Input should be 'esxi' or 'vcenter'"),
    (LC.replace("2025-10-02", '"soon"'), "release", LifecycleRow, "f.toml: [[release]] row 1: end_of_general_support: Input should be a valid date"),
    (ADV.replace('"high"', '"urgent"'), "advisory", AdvisoryRow, "f.toml: [[advisory]] row 1: severity: Input should be"),
    (ADV.replace("fixed_in = 10", "fixed_in = 10\naffected_from = 10"), "advisory", AdvisoryRow,
     "f.toml: [[advisory]] row 1: row: Value error, fixed_in must be above affected_from"),
])
def test_malformed_lifecycle_rows(text: str, key: str, model: type, message: str) -> None:
    with pytest.raises(DataFileError) as info:
        parse_rows(parse_toml(text, "f.toml"), key, model, "f.toml")
    assert str(info.value).startswith(message)
    assert "\n" not in str(info.value)


def test_data_error_is_a_reporter_error_with_exit_code() -> None:
    from reporter.errors import ReporterError

    with pytest.raises(ReporterError) as info:
        parse_toml("x = ", "bad.toml")
    assert info.value.exit_code == 2


@pytest.mark.parametrize(("version", "eogs"), [("5.0.0", date(2016, 8, 24)), ("5.1.0", date(2016, 8, 24)),
                                               ("5.5.0", date(2018, 9, 19)), ("6.0.0", date(2020, 3, 12))])
def test_old_lines_are_long_past_support_and_marked_unverified(version: str, eogs: date) -> None:
    for product in ("esxi", "vcenter"):
        s = lifecycle_status(product, version, date(2026, 11, 23))  # type: ignore[arg-type]
        assert s is not None and s.end_of_general_support == eogs
        assert s.past_general_support and s.past_technical_guidance and not s.verified
