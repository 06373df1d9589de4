"""Merging per-vCenter snapshots (``reporter.core.snapshot_merge``) and ``vcreport report SNAP1 SNAP2 …``.

The pure merge on small hand-built snapshots (exact values), its properties with hypothesis
(order does not matter; the same vCenter twice is refused), and the file side: directories,
quoted glob patterns, one-line errors with exit code 2, every source file's SHA-256 in the
audit edition. ``test_snapshot_merge_vcsim.py`` merges real collections.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from reporter.cli import main
from reporter.core import snapshot_io
from reporter.core.model import VM, CollectionError, Snapshot, VCenter
from reporter.core.snapshot_merge import NamedSnapshot, SnapshotMergeError, merge_snapshots
from reporter.pipeline.sources import expand_sources, load_sources

T0 = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
UUIDS = [f"00000000-0000-0000-0000-00000000000{i}" for i in range(6)]


def vcenter(i: int, vms: int = 2) -> VCenter:
    return VCenter(name=f"vc{i:02d}", host=f"vc{i:02d}.example.test", instance_uuid=UUIDS[i],
                   vms={f"vm-{n}": VM(moid=f"vm-{n}", name=f"vc{i:02d}-app{n}", memory_mb=1024) for n in range(vms)})


def snap(*indexes: int, minutes: int = 0, errors: int = 0, tool: str | None = "0.1.0") -> Snapshot:
    return Snapshot(collected_at=T0 + timedelta(minutes=minutes), tool_version=tool,
                    vcenters={UUIDS[i]: vcenter(i) for i in indexes},
                    collection_errors=[CollectionError(vcenter=f"vc{indexes[0]:02d}", stage="host-options",
                                                       error_type="NoPermission", message=f"error {k}")
                                       for k in range(errors)])


def named(*snaps: Snapshot) -> list[NamedSnapshot]:
    return [NamedSnapshot(f"s{n}.json", s) for n, s in enumerate(snaps)]


def test_merge_keeps_every_vcenter_with_its_own_time_and_the_oldest_overall() -> None:
    merged = merge_snapshots(named(snap(1, minutes=30, errors=1), snap(2, 3, minutes=5, errors=2)))
    assert list(merged.vcenters) == [UUIDS[1], UUIDS[2], UUIDS[3]]
    assert merged.collected_at == T0 + timedelta(minutes=5)
    assert [vc.collected_at for vc in merged.vcenters.values()] == [
        T0 + timedelta(minutes=30), T0 + timedelta(minutes=5), T0 + timedelta(minutes=5)]
    assert [(e.vcenter, e.message) for e in merged.collection_errors] == [
        ("vc01", "error 0"), ("vc02", "error 0"), ("vc02", "error 1")]
    assert merged.vm_count() == 6
    assert merged.tool_version == "0.1.0"
    assert merged.vcenters[UUIDS[2]].vms["vm-1"].name == "vc02-app1"


def test_merge_keeps_a_time_already_recorded_and_lists_every_tool_version() -> None:
    earlier = merge_snapshots(named(snap(1, minutes=1, tool="0.1.0"), snap(2, minutes=2, tool="0.2.0")))
    merged = merge_snapshots(named(earlier, snap(3, minutes=9, tool=None)))
    assert [vc.collected_at for vc in merged.vcenters.values()] == [
        T0 + timedelta(minutes=1), T0 + timedelta(minutes=2), T0 + timedelta(minutes=9)]
    assert merged.tool_version == "0.1.0, 0.2.0"


def test_the_same_vcenter_twice_is_refused_naming_both_sources() -> None:
    with pytest.raises(SnapshotMergeError) as exc:
        merge_snapshots(named(snap(1), snap(2), snap(2, 3)))
    assert str(exc.value) == (f"s2.json: vCenter 'vc02' (instance UUID {UUIDS[2]}) is also in s1.json; "
                              "give each vCenter's snapshot once")
    assert exc.value.exit_code == 2


def test_mismatched_schema_versions_are_refused() -> None:
    with pytest.raises(SnapshotMergeError) as exc:
        merge_snapshots(named(snap(1), snap(2).model_copy(update={"schema_version": 2})))
    assert str(exc.value) == ("s1.json: snapshot schema version 2 differs from version 1 of s0.json; "
                              "collect all of them with the same vcenter-reporter release")


def test_nothing_to_merge_is_an_error() -> None:
    with pytest.raises(SnapshotMergeError, match="no snapshot to merge"):
        merge_snapshots([])


# -- properties ----------------------------------------------------------------------------------

def _normalised(s: Snapshot) -> tuple[dict[str, VCenter], list[str], datetime, str | None]:
    return dict(sorted(s.vcenters.items())), sorted(e.message for e in s.collection_errors), s.collected_at, s.tool_version


disjoint_snapshots = st.permutations(range(6)).flatmap(
    lambda order: st.lists(st.integers(1, 3), min_size=1, max_size=3).map(lambda sizes: _split(list(order), sizes))
).flatmap(lambda groups: st.tuples(*[
    st.builds(snap, *[st.just(i) for i in g], minutes=st.integers(0, 600), errors=st.integers(0, 2),
              tool=st.sampled_from(["0.1.0", "0.2.0", None]))
    for g in groups]))


def _split(order: list[int], sizes: list[int]) -> list[list[int]]:
    groups, at = [], 0
    for size in sizes:
        if at < len(order):
            groups.append(order[at:at + size])
            at += size
    return groups


@settings(max_examples=60, deadline=None)
@given(disjoint_snapshots, st.randoms(use_true_random=False))
def test_merge_is_commutative_modulo_order(snaps: tuple[Snapshot, ...], rnd: object) -> None:
    shuffled = list(snaps)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    a, b = merge_snapshots(named(*snaps)), merge_snapshots(named(*shuffled))
    assert _normalised(a) == _normalised(b)
    assert a.collected_at == min(s.collected_at for s in snaps)
    assert sorted(a.vcenters) == sorted(u for s in snaps for u in s.vcenters)
    assert len(a.collection_errors) == sum(len(s.collection_errors) for s in snaps)


@settings(max_examples=40, deadline=None)
@given(disjoint_snapshots, st.data())
def test_merging_a_snapshot_with_itself_is_refused(snaps: tuple[Snapshot, ...], data: st.DataObject) -> None:
    again = data.draw(st.sampled_from(snaps))
    position = data.draw(st.integers(0, len(snaps)))
    sources = list(snaps)
    sources.insert(position, again)
    with pytest.raises(SnapshotMergeError, match="is also in"):
        merge_snapshots(named(*sources))


# -- files and the CLI ---------------------------------------------------------------------------

def write(path: Path, s: Snapshot) -> Path:
    snapshot_io.save(s, path)
    return path


def report(*args: str) -> tuple[int, str, str]:
    res = CliRunner().invoke(main, ["report", *args])
    return res.exit_code, res.stdout, res.stderr


def test_a_directory_stands_for_its_snapshot_files_sorted(tmp_path: Path) -> None:
    d = tmp_path / "snaps"
    d.mkdir()
    write(d / "b.json.gz", snap(2))
    write(d / "a.json", snap(1))
    (d / "notes.txt").write_text("not a snapshot")
    assert expand_sources([d]) == [d / "a.json", d / "b.json.gz"]
    merged, sources = load_sources([d])
    assert list(merged.vcenters) == [UUIDS[1], UUIDS[2]]
    assert [s.name for s in sources] == ["a.json", "b.json.gz"]
    assert sources[1].sha256 == hashlib.sha256((d / "b.json.gz").read_bytes()).hexdigest()


def test_a_quoted_glob_pattern_is_expanded(tmp_path: Path) -> None:
    write(tmp_path / "vc01.json", snap(1))
    write(tmp_path / "vc02.json", snap(2))
    write(tmp_path / "other.json", snap(3))
    assert expand_sources([str(tmp_path / "vc*.json")]) == [tmp_path / "vc01.json", tmp_path / "vc02.json"]


def test_report_merges_files_and_a_directory(tmp_path: Path) -> None:
    d = tmp_path / "more"
    d.mkdir()
    write(d / "vc02.json", snap(2, minutes=3))
    write(d / "vc03.json", snap(3, minutes=7, errors=1))
    code, out, err = report(str(write(tmp_path / "vc01.json", snap(1, minutes=10))), str(d),
                            "--out", str(tmp_path / "r"), "--format", "json,html")
    assert (code, err) == (0, "")
    assert out.startswith("3 vCenter(s), 6 VMs, 0 hosts, 0 datastores;")
    html = (tmp_path / "r" / "report.html").read_text()
    assert "from 3 snapshots merged into one, dated by the oldest, collected 2026-11-30 02:03" in html
    assert "vc01 2026-11-30 02:10" in html and "vc03 2026-11-30 02:07" in html


@pytest.mark.parametrize(("setup", "message"), [
    ("twice", "vc01.json: vCenter 'vc01' (instance UUID {u1}) is also in {tmp}/vc01.json; give each vCenter's snapshot once"),
    ("empty-dir", "{tmp}/empty: no snapshot files (*.json, *.json.gz) in this directory"),
    ("no-match", "{tmp}/x*.json: no snapshot file matches this pattern"),
    ("missing", "{tmp}/gone.json: no such snapshot file"),
])
def test_bad_sources_are_one_line_and_exit_2(tmp_path: Path, setup: str, message: str) -> None:
    first = str(write(tmp_path / "vc01.json", snap(1)))
    (tmp_path / "empty").mkdir()
    second = {"twice": first, "empty-dir": str(tmp_path / "empty"), "no-match": str(tmp_path / "x*.json"),
              "missing": str(tmp_path / "gone.json")}[setup]
    code, out, err = report(first, second, "--out", str(tmp_path / "r"))
    expected = message.format(tmp=tmp_path, u1=UUIDS[1])
    if setup == "twice":
        expected = f"{tmp_path}/{expected}"
    assert (code, out, err) == (2, "", f"vcreport: error: {expected}\n")
    assert not (tmp_path / "r").exists()


def test_schema_mismatch_through_the_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A tool that reads schema 1 and 2 given one file of each: refused, not silently merged.
    monkeypatch.setattr(snapshot_io, "SCHEMA_VERSION", 2)
    v1 = write(tmp_path / "vc01.json", snap(1))
    raw = json.loads(snapshot_io.dumps(snap(2)))
    raw["schema_version"] = 2
    v2 = tmp_path / "vc02.json.gz"
    v2.write_bytes(gzip.compress(json.dumps(raw).encode()))
    code, out, err = report(str(v1), str(v2), "--out", str(tmp_path / "r"))
    assert (code, out) == (2, "")
    assert err == (f"vcreport: error: {v2}: snapshot schema version 2 differs from version 1 of {v1}; "
                   "collect all of them with the same vcenter-reporter release\n")


def test_one_snapshot_is_reported_as_before(tmp_path: Path) -> None:
    path = write(tmp_path / "one.json", snap(1, minutes=4))
    code, _, _ = report(str(path), "--out", str(tmp_path / "r"), "--format", "html")
    assert code == 0
    html = (tmp_path / "r" / "report.html").read_text()
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert f"from the snapshot collected 2026-11-30 02:04 UTC (SHA-256 <span class=\"mono\">{digest}</span>)" in html


def test_audit_edition_prints_every_source_hash_and_verify_accepts_each(tmp_path: Path) -> None:
    pytest.importorskip("weasyprint")
    a = write(tmp_path / "vc01.json", snap(1))
    b = write(tmp_path / "vc02.json.gz", snap(2, minutes=1))
    code, _, err = report(str(a), str(b), "--out", str(tmp_path / "r"), "--format", "pdfa")
    assert (code, err) == (0, "")
    pdf = tmp_path / "r" / "audit-evidence.pdf"
    from pypdf import PdfReader

    text = " ".join((p.extract_text() or "") for p in PdfReader(str(pdf)).pages)
    text = " ".join(text.split())
    for f in (a, b):
        assert f"SHA256 (source snapshot {f.name}) = {hashlib.sha256(f.read_bytes()).hexdigest()}" in text
    assert "SHA256 (source snapshot) =" not in text
    for f in (a, b):
        res = CliRunner().invoke(main, ["verify", str(pdf), "--allow-unsigned", "--snapshot", str(f)])
        assert res.exit_code == 0, res.output
        assert "matches the source snapshot SHA-256 printed" in res.output
    other = write(tmp_path / "vc03.json", snap(3))
    res = CliRunner().invoke(main, ["verify", str(pdf), "--allow-unsigned", "--snapshot", str(other)])
    assert res.exit_code == 4
    assert "matches none of the 2 source snapshots printed in the document" in res.output
