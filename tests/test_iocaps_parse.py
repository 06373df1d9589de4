"""The KB1038241 cap parser: units, case, whitespace, defaults, and garbage (never a crash)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reporter.domain.iocaps import (
    UNITS,
    Cap,
    CapKind,
    CapParseError,
    Unlimited,
    format_cap,
    parse_cap,
    suggest_cap_string,
)

KINDS = st.sampled_from([CapKind.iops, CapKind.bandwidth])
WS = st.text(alphabet=" \t", max_size=3)
POWER = {unit: i for units in UNITS.values() for i, unit in enumerate(units)}


def random_case(draw: st.DrawFn, text: str) -> str:
    flips = draw(st.lists(st.booleans(), min_size=len(text), max_size=len(text)))
    return "".join(c.swapcase() if f else c for c, f in zip(text, flips))


@st.composite
def cap_strings(draw: st.DrawFn) -> tuple[CapKind, int, str, str]:
    kind = draw(KINDS)
    number = draw(st.integers(min_value=1, max_value=10**9))
    unit = draw(st.sampled_from(UNITS[kind]))
    text = draw(WS) + str(number) + draw(st.sampled_from(["", " "])) + random_case(draw, unit) + draw(WS)
    return kind, number, unit, text


@given(cap_strings(), st.sampled_from([1000, 1024]), st.sampled_from([1000, 1024]))
def test_round_trip_any_case_and_whitespace(case, iops_base, bw_base):
    kind, number, unit, text = case
    parsed = parse_cap(text, kind, iops_base=iops_base, bandwidth_base=bw_base)
    base = iops_base if kind is CapKind.iops else bw_base
    assert parsed == Cap(kind, number * base ** POWER[unit], text, number, unit, True)
    # The canonical spelling parses to the same value.
    again = parse_cap(format_cap(parsed.number, parsed.unit), kind, iops_base=iops_base, bandwidth_base=bw_base)
    assert isinstance(again, Cap) and again.value == parsed.value


@given(KINDS, st.integers(min_value=1, max_value=10**12))
def test_no_unit_means_iops_or_bytes_not_k_units(kind, number):
    parsed = parse_cap(str(number), kind)
    assert isinstance(parsed, Cap)
    assert parsed.value == number  # docs/methodology.md (section 6 topics): not K-units as KB1038241 says
    assert (parsed.unit, parsed.unit_written) == ("IOps" if kind is CapKind.iops else "Bps", False)


@given(KINDS, st.integers(min_value=1, max_value=2**40))
def test_suggested_spelling_is_shortest_exact(kind, value):
    text = suggest_cap_string(kind, value)
    parsed = parse_cap(text, kind)
    assert isinstance(parsed, Cap) and parsed.value == value
    # nothing bigger divides evenly: the number part is not a multiple of the base (unless at G)
    base = 1000 if kind is CapKind.iops else 1024
    assert parsed.unit == UNITS[kind][-1] or parsed.number % base != 0


@settings(max_examples=400)
@given(KINDS, st.one_of(st.text(max_size=30), st.binary(max_size=10).map(lambda b: b.decode("latin-1")),
                        st.integers(), st.none(), st.floats(allow_nan=True)))
def test_garbage_never_raises(kind, raw):
    parsed = parse_cap(raw, kind)
    assert isinstance(parsed, (Cap, Unlimited, CapParseError))
    if isinstance(parsed, Cap):
        assert parsed.value > 0
        assert re.fullmatch(r"\s*[0-9]+\s*[A-Za-z]*\s*", str(raw))
    if isinstance(parsed, CapParseError):
        assert parsed.reason


@given(KINDS, st.sampled_from(["off", "OFF", " Off ", "oFf"]))
def test_off_is_unlimited(kind, raw):
    assert parse_cap(raw, kind) == Unlimited(kind, raw)


@pytest.mark.parametrize(("raw", "kind", "value"), [
    ("500IOps", CapKind.iops, 500),
    ("500iops", CapKind.iops, 500),
    ("2KIOps", CapKind.iops, 2000),
    ("2kiops", CapKind.iops, 2000),
    ("3MIOps", CapKind.iops, 3_000_000),
    ("1GIOps", CapKind.iops, 1_000_000_000),
    ("250", CapKind.iops, 250),
    (" 750 IOps ", CapKind.iops, 750),
    ("10MBps", CapKind.bandwidth, 10 * 1024**2),
    ("10mbps", CapKind.bandwidth, 10 * 1024**2),
    ("512KBps", CapKind.bandwidth, 512 * 1024),
    ("1GBps", CapKind.bandwidth, 1024**3),
    ("4096Bps", CapKind.bandwidth, 4096),
    ("4096", CapKind.bandwidth, 4096),
])
def test_exact_values(raw, kind, value):
    parsed = parse_cap(raw, kind)
    assert isinstance(parsed, Cap)
    assert parsed.value == value
    assert parsed.raw == raw  # reported as written


def test_prefix_base_is_a_setting():
    assert parse_cap("2KIOps", CapKind.iops, iops_base=1024).value == 2048
    assert parse_cap("1MBps", CapKind.bandwidth, bandwidth_base=1000).value == 1_000_000


@pytest.mark.parametrize(("raw", "kind", "reason"), [
    ("", CapKind.iops, "empty value"),
    ("   ", CapKind.bandwidth, "empty value"),
    ("fast please", CapKind.iops, "not '<whole number><unit>'; units: IOps, KIOps, MIOps, GIOps"),
    ("10MBps", CapKind.iops, "'MBps' is a bandwidth unit; throughputCap takes IOps, KIOps, MIOps, GIOps"),
    ("500IOps", CapKind.bandwidth, "'IOps' is an operations (IOPS) unit; bandwidthCap takes Bps, KBps, MBps, GBps"),
    ("2.5MBps", CapKind.bandwidth, "only whole numbers are accepted (KB1038241 examples: 500IOps, 10MBps)"),
    ("-1", CapKind.iops, "a negative cap is not valid (use 'off' or remove the key for no cap)"),
    ("0", CapKind.iops, "a cap of 0 is not a limit (use 'off' or remove the key for no cap)"),
    ("0KIOps", CapKind.iops, "a cap of 0 is not a limit (use 'off' or remove the key for no cap)"),
    ("10Mbit", CapKind.bandwidth, "unknown unit 'Mbit'; units: Bps, KBps, MBps, GBps"),
    ("500 I Ops", CapKind.iops, "not '<whole number><unit>'; units: IOps, KIOps, MIOps, GIOps"),
    ("99999999999GBps", CapKind.bandwidth, "value out of range"),
])
def test_parse_errors_are_typed_with_reason(raw, kind, reason):
    assert parse_cap(raw, kind) == CapParseError(kind, raw, reason)
