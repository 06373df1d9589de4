"""Build numbers, support lifecycle and known bad builds of ESXi and vCenter.

* :func:`release_label` - build -> release name, exact ("ESXi 7.0 Update 3n") or, for a build
  the table does not list, the nearest lower listed build of the same release line
  ("ESXi 7.0 (build 21930600, newer than ESXi 7.0 Update 3n)"): a label, never a guess.
* :func:`lifecycle_status` - End of General Support / Technical Guidance of the release line,
  whether it is past, and whether it is within a warning window.
* :func:`vcenter_older_than_hosts` - a vCenter must be at least the version of every host it
  manages (vSphere upgrade order: vCenter first).
* :func:`mixed_builds` - hosts of one cluster on different builds.
* :func:`build_advisories` - known defect / vulnerability rows whose build range covers a build.

Data: ``esxi_builds.toml``, ``vcenter_builds.toml``, ``lifecycle.toml``, ``build_advisories.toml``.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Literal

from pydantic import Field, StrictInt, model_validator

from reporter.core import states
from reporter.core.findings import Severity
from reporter.domain.datafiles import DataRow, parse_rows, read_packaged
from reporter.domain.versions import build_number, padded, parse_version, release_line

Product = Literal["esxi", "vcenter"]
PRODUCT_NAMES: dict[str, str] = states.PRODUCTS
DEFAULT_EOGS_WARNING_DAYS = 180  # half a year is about the time an upgrade project needs

BUILD_FILES: dict[str, str] = {"esxi": "esxi_builds.toml", "vcenter": "vcenter_builds.toml"}
LIFECYCLE_FILE = "lifecycle.toml"
ADVISORY_FILE = "build_advisories.toml"


# --------------------------------------------------------------------------- tables


class BuildRow(DataRow):
    line: str
    build: StrictInt
    name: str
    other_builds: list[StrictInt] = Field(default_factory=list)  # vCenter: ISO/installer builds of the same release


class LifecycleRow(DataRow):
    product: Product
    line: str
    end_of_general_support: date
    end_of_technical_guidance: date

    @model_validator(mode="after")
    def _guidance_after_support(self) -> LifecycleRow:
        if self.end_of_technical_guidance < self.end_of_general_support:
            raise ValueError("end_of_technical_guidance is before end_of_general_support")
        return self


class AdvisoryRow(DataRow):
    id: str
    product: Product
    line: str
    affected_from: StrictInt | None = None  # inclusive; None = from the first build of the line
    fixed_in: StrictInt | None = None  # first fixed build; None = never fixed on this line
    advisory: str
    title: str
    severity: Severity
    fix: str
    kb: str | None = None
    cves: list[str] = Field(default_factory=list)
    after_fix: str | None = None

    @model_validator(mode="after")
    def _range_not_empty(self) -> AdvisoryRow:
        if self.affected_from is not None and self.fixed_in is not None and self.fixed_in <= self.affected_from:
            raise ValueError("fixed_in must be above affected_from")
        return self

    def covers(self, line: str, build: int) -> bool:
        if line != self.line:
            return False
        if self.affected_from is not None and build < self.affected_from:
            return False
        return self.fixed_in is None or build < self.fixed_in


@lru_cache(maxsize=2)
def build_table(product: Product) -> tuple[BuildRow, ...]:
    file = BUILD_FILES[product]
    rows = parse_rows(read_packaged(file), "release", BuildRow, file)
    return tuple(sorted(rows, key=lambda r: (r.line, r.build)))


@lru_cache(maxsize=1)
def lifecycle_table() -> tuple[LifecycleRow, ...]:
    return parse_rows(read_packaged(LIFECYCLE_FILE), "release", LifecycleRow, LIFECYCLE_FILE)


@lru_cache(maxsize=1)
def advisory_table() -> tuple[AdvisoryRow, ...]:
    return parse_rows(read_packaged(ADVISORY_FILE), "advisory", AdvisoryRow, ADVISORY_FILE)


# --------------------------------------------------------------------------- build -> release


@dataclass(frozen=True)
class ReleaseLabel:
    text: str  # what a report shows
    build: int | None
    exact: bool  # the build is listed: ``release`` is its release
    release: BuildRow | None  # exact: that release; otherwise the nearest lower listed one
    verified: bool  # exact and the row is verified (anything else says "verify")


def release_label(
    product: Product, build: str | int | None, version: str | None, rows: Sequence[BuildRow] | None = None
) -> ReleaseLabel:
    """The release name of a build (see the module docstring). Builds are only comparable
    within a release line (6.5 patches of 2022 have higher numbers than 7.0 GA), so the line
    comes from ``version``; without it only an exact match can name the release."""
    if rows is None:  # the shipped table: the same few builds are asked for once per VM
        return _shipped_label(product, build, version)
    return _label(product, build, version, tuple(rows))


@lru_cache(maxsize=4096)
def _shipped_label(product: Product, build: str | int | None, version: str | None) -> ReleaseLabel:
    return _label(product, build, version, build_table(product))


def _label(product: Product, build: str | int | None, version: str | None, table: Sequence[BuildRow]) -> ReleaseLabel:
    prefix = PRODUCT_NAMES[product]
    number = build_number(build)
    line = release_line(version)
    if number is None:
        text = f"{prefix} {line} (build unknown)" if line else f"{prefix} (build unknown)"
        return ReleaseLabel(text, None, False, None, False)
    for row in table:
        if (number == row.build or number in row.other_builds) and (line is None or row.line == line):
            return ReleaseLabel(row.name, number, True, row, row.verified)
    if line is None:
        return ReleaseLabel(f"{prefix} build {number} (release not in the build table)", number, False, None, False)
    same_line = [r for r in table if r.line == line]
    builds = [r.build for r in same_line]
    position = bisect.bisect_left(builds, number)
    if position == 0:
        older = f", older than {same_line[0].name}" if same_line else ""
        return ReleaseLabel(f"{prefix} {line} (build {number}{older})", number, False, None, False)
    lower = same_line[position - 1]
    return ReleaseLabel(f"{prefix} {line} (build {number}, newer than {lower.name})", number, False, lower, False)


# --------------------------------------------------------------------------- lifecycle


@dataclass(frozen=True)
class LifecycleStatus:
    product: Product
    line: str
    end_of_general_support: date
    end_of_technical_guidance: date
    days_to_end_of_general_support: int  # negative once past
    past_general_support: bool
    past_technical_guidance: bool
    within_warning: bool  # not yet past, but within the warning window
    verified: bool
    source: str


def lifecycle_status(
    product: Product,
    version: str | None,
    today: date,
    warning_days: int = DEFAULT_EOGS_WARNING_DAYS,
    rows: Sequence[LifecycleRow] | None = None,
) -> LifecycleStatus | None:
    """Support status of the release line of ``version`` on ``today``; ``None`` when the
    version is unknown or its line is not in the table."""
    line = release_line(version)
    row = next((r for r in (rows if rows is not None else lifecycle_table())
                if r.product == product and r.line == line), None)
    if row is None or line is None:
        return None
    days = (row.end_of_general_support - today).days
    past = today >= row.end_of_general_support
    return LifecycleStatus(
        product=product, line=line,
        end_of_general_support=row.end_of_general_support,
        end_of_technical_guidance=row.end_of_technical_guidance,
        days_to_end_of_general_support=days,
        past_general_support=past,
        past_technical_guidance=today >= row.end_of_technical_guidance,
        within_warning=not past and days <= warning_days,
        verified=row.verified, source=row.source,
    )


# --------------------------------------------------------------------------- versions across objects


@dataclass(frozen=True)
class HostVersion:
    """The version facts of one host the comparisons need (from ``reporter.core.model.Host``)."""

    name: str
    version: str | None
    build: str | None = None


@dataclass(frozen=True)
class VersionGap:
    host: str
    host_version: str
    vcenter_version: str


def vcenter_older_than_hosts(vcenter_version: str | None, hosts: Iterable[HostVersion]) -> list[VersionGap]:
    """Hosts whose version (x.y.z) is above the vCenter's. Hosts or a vCenter whose version is
    unknown are left out (nothing can be said about them)."""
    vc = parse_version(vcenter_version)
    if vc is None or vcenter_version is None:
        return []
    out: list[VersionGap] = []
    for h in hosts:
        hv = parse_version(h.version)
        if hv is not None and h.version is not None and padded(hv) > padded(vc):
            out.append(VersionGap(h.name, h.version, vcenter_version))
    return sorted(out, key=lambda g: g.host)


@dataclass(frozen=True)
class MixedBuilds:
    """A cluster whose hosts run different builds: build -> host names."""

    by_build: dict[str, tuple[str, ...]]
    unknown: tuple[str, ...]  # hosts whose build could not be read


def mixed_builds(hosts: Iterable[HostVersion]) -> MixedBuilds | None:
    """``None`` when every host with a known build is on the same one."""
    groups: dict[str, list[str]] = defaultdict(list)
    unknown: list[str] = []
    for h in hosts:
        if build_number(h.build) is None:
            unknown.append(h.name)
        else:
            groups[str(build_number(h.build))].append(h.name)
    if len(groups) < 2:
        return None
    return MixedBuilds({b: tuple(sorted(n)) for b, n in sorted(groups.items(), key=lambda kv: int(kv[0]))},
                       tuple(sorted(unknown)))


# --------------------------------------------------------------------------- advisories


def build_advisories(
    product: Product, version: str | None, build: str | int | None, rows: Sequence[AdvisoryRow] | None = None
) -> list[AdvisoryRow]:
    """The advisory rows whose range covers this build of this release line (none when the
    version or build is unknown)."""
    line = release_line(version)
    number = build_number(build)
    if line is None or number is None:
        return []
    table = rows if rows is not None else advisory_table()
    return [r for r in table if r.product == product and r.covers(line, number)]
