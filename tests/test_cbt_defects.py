"""The known-CBT-defect data file (reporter/data/cbt_defects.toml, docs/methodology.md (section 5 topics)) and build matching."""

from __future__ import annotations

import tomllib
from importlib import resources

import pytest

from reporter.core.model import Host
from reporter.domain.cbt import host_defects, load_defects, parse_defects, unknown_build_hosts


def h(version: str, build: str | None) -> Host:
    return Host(moid="host-1", name="esx", version=version, build=build)


def test_data_file_rows_and_sources() -> None:
    defects = {d.kb: d for d in load_defects()}
    assert set(defects) == {"KB2090639", "KB2136854"}
    kb128 = defects["KB2090639"]
    assert kb128.broadcom_id == "310751"
    assert kb128.grown_disk_boundary_gb == 128
    assert kb128.url == "https://knowledge.broadcom.com/external/article?legacyId=2090639"
    assert [(r.version, r.fixed_build, r.verified) for r in kb128.affected] == [
        ("4.0", None, True), ("4.1", None, True),
        ("5.0", 2312428, False), ("5.1", 2323236, False), ("5.5", 2302651, False)]
    kb60 = defects["KB2136854"]
    assert kb60.broadcom_id == "317933"
    assert kb60.grown_disk_boundary_gb is None
    assert [(r.version, r.fixed_build, r.verified) for r in kb60.affected] == [("6.0", 3247720, True)]
    assert "ESXi600-201511001" in kb60.affected[0].fix and "KB2137545" in kb60.affected[0].fix
    for d in defects.values():
        assert d.source and d.after_fix and "full" in d.after_fix.lower()
        for r in d.affected:
            assert r.source and r.fix
            assert r.verified or r.source.startswith("UNVERIFIED")


def test_file_is_packaged_and_plain_toml() -> None:
    text = resources.files("reporter").joinpath("data/cbt_defects.toml").read_text(encoding="utf-8")
    assert len(tomllib.loads(text)["defect"]) == 2


@pytest.mark.parametrize("version,build,expected", [
    ("6.0.0", "2494585", ["KB2136854"]),   # 6.0 GA
    ("6.0.0", "3247719", ["KB2136854"]),   # one below the fix
    ("6.0.0", "3247720", []),              # ESXi600-201511001
    ("6.5.0", "4564106", []),
    ("5.5.0", "1892794", ["KB2090639"]),   # 5.5 Patch 2 (July 2014): before the December 2014 fix
    ("5.5.0", "2302651", []),
    ("5.1.0", "2323235", ["KB2090639"]),
    ("5.1.0", "2323236", []),
    ("5.0.0", "623860", ["KB2090639"]),
    ("5.0.0", "2312428", []),
    ("4.1.0", "9999999", ["KB2090639"]),   # never fixed
    ("4.0.0", None, ["KB2090639"]),
    ("5.5.0", None, []),                   # unknown build: cannot tell
    ("5.5.0", "not-a-number", []),
    ("7.0.3", "21930508", []),
    ("55.0", "1", []),                     # "55.0" is not "5.5"
])
def test_host_defects_build_ranges(version: str, build: str | None, expected: list[str]) -> None:
    assert [x.defect.kb for x in host_defects(h(version, build))] == expected


def test_unknown_build_hosts() -> None:
    hosts = [h("5.5.0", None), h("4.1.0", None), h("8.0.2", None), h("6.0.0", "3247720")]
    assert unknown_build_hosts(hosts) == [hosts[0]]


def test_malformed_rows_are_rejected() -> None:
    with pytest.raises(ValueError, match="malformed CBT defect table"):
        parse_defects({"defect": [{"kb": "KB1", "affected": [{"version": "6.0"}]}]})
    with pytest.raises(ValueError, match="malformed CBT defect table"):
        parse_defects({"defect": [{"kb": "KB1", "broadcom_id": "1", "title": "t", "defect": "d", "after_fix": "a",
                                   "source": "s", "affected": [{"version": "6.0", "product": "p", "fix": "f",
                                                                "verified": True, "source": "s",
                                                                "fixed_build": "abc"}]}]})
