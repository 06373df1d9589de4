"""Bad input gets one line and the documented exit code, never an internal error: gzip bombs,
deeply nested JSON, a boolean schema_version, a non-UTF-8 password file, a vCenter label with
CR/LF, an --out that cannot be written. Plus fuzzing of the loaders touched here."""

from __future__ import annotations

import contextlib
import gzip
import json
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reporter.config import parse_config
from reporter.core import snapshot_io
from reporter.errors import ConfigError, SnapshotFormatError


def vcreport(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "reporter.cli", *args], capture_output=True, text=True,
                          timeout=300, cwd=cwd)


def one_line(proc: subprocess.CompletedProcess[str]) -> str:
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "internal error" not in lines[0] and "Traceback" not in proc.stderr
    return lines[0]


def _bomb(path: Path, size: int) -> Path:
    with gzip.open(path, "wb", compresslevel=9) as fh:
        fh.write(b'{"schema_version": 1, "x": "')
        chunk = b"0" * (1024 * 1024)
        for _ in range(size // len(chunk)):
            fh.write(chunk)
    return path


def test_gzip_bomb_stops_at_the_limit(tmp_path: Path) -> None:
    bomb = _bomb(tmp_path / "bomb.json.gz", 64 * 1024 * 1024)  # 64 MiB of zeros in ~64 kB
    assert bomb.stat().st_size < 200_000
    tracemalloc.start()
    with pytest.raises(SnapshotFormatError) as exc:
        snapshot_io.load(bomb, max_bytes=8 * 1024 * 1024)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert str(exc.value) == (f"{bomb}: snapshot larger than 8 MiB when decompressed; refused "
                              "(raise [output] snapshot_max_bytes if it is genuine)")
    assert peak < 40 * 1024 * 1024  # bounded by the limit, not by the 64 MiB it would expand to
    assert snapshot_io.DEFAULT_MAX_BYTES == 2 * 1024**3


def test_gzip_bomb_on_the_cli_is_one_line_exit_2(tmp_path: Path) -> None:
    bomb = _bomb(tmp_path / "bomb.json.gz", 4 * 1024 * 1024)
    cfg = tmp_path / "c.toml"
    cfg.write_text("[output]\nsnapshot_max_bytes = 1048576\n", encoding="utf-8")
    proc = vcreport("report", str(bomb), "--out", str(tmp_path / "out"), "--config", str(cfg))
    assert proc.returncode == 2
    assert one_line(proc) == (f"vcreport: error: {bomb}: snapshot larger than 1 MiB when decompressed; refused "
                              "(raise [output] snapshot_max_bytes if it is genuine)")


def test_deeply_nested_json_is_not_a_snapshot(tmp_path: Path) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text('{"schema_version": 1, "x": ' + "[" * 200_000 + "]" * 200_000 + "}", encoding="utf-8")
    proc = vcreport("report", str(deep), "--out", str(tmp_path / "out"))
    assert proc.returncode == 2
    assert one_line(proc) == f"vcreport: error: {deep}: not a snapshot file (JSON nested too deeply)"


def _tree_doc(depth: int) -> bytes:
    node = '{"moid": "s", "name": "s", "children": [' * depth + '{"moid": "s", "name": "s"}' + "]}" * depth
    return ('{"schema_version": 1, "vcenters": {"u": {"name": "v", "host": "h", "instance_uuid": "u", '
            '"vms": {"vm-1": {"moid": "vm-1", "name": "a", "snapshots": [' + node + ']}}}}}').encode()


def test_snapshot_tree_depth() -> None:
    """A tree far deeper than vSphere allows (32 supported) is refused in one line; 200 levels load."""
    with pytest.raises(SnapshotFormatError) as exc:
        snapshot_io.loads(_tree_doc(3000), "deep.json")
    assert str(exc.value) == "deep.json: not a snapshot file (JSON nested too deeply)"
    snap = snapshot_io.loads(_tree_doc(200), "ok.json")
    assert len(snap.vcenters["u"].vms["vm-1"].iter_snapshots()) == 201


@pytest.mark.parametrize("value", ["true", "false", "1.0", "null"])
def test_schema_version_must_be_a_strict_integer(value: str) -> None:
    with pytest.raises(SnapshotFormatError, match=r"schema_version must be an integer, got "):
        snapshot_io.loads(f'{{"schema_version": {value}}}'.encode(), "s.json")


def test_non_utf8_password_file_names_the_file(tmp_path: Path) -> None:
    secret = tmp_path / "vc01.secret"
    secret.write_bytes(b"p\xe4ssw\xf6rd\n")  # Latin-1
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[[vcenter]]\nname = "vc01"\nhost = "127.0.0.1"\nuser = "u"\npassword_file = "{secret}"\n',
                   encoding="utf-8")
    proc = vcreport("collect", "--config", str(cfg), "--out", str(tmp_path / "s.json"))
    assert proc.returncode == 2
    assert one_line(proc) == (f"vcreport: error: vc01: password_file {secret} is not UTF-8 text "
                              "(save the password as UTF-8, one line)")


@pytest.mark.parametrize("label", ["vc01\r\nBcc: evil@example.com", "vc01\n", "vc\x00"])
def test_vcenter_label_with_control_characters_is_refused_at_load(tmp_path: Path, label: str) -> None:
    with pytest.raises(ConfigError) as exc:
        parse_config({"vcenter": [{"name": label, "host": "h", "user": "u", "password_env": "X"}]}, "c.toml")
    assert str(exc.value) == ("c.toml: vcenter[0].name: must be one line of text without control characters "
                              "(CR, LF, tab ...)")
    cfg = tmp_path / "c.toml"
    cfg.write_text(f"[[vcenter]]\nname = {json.dumps(label)}\nhost = \"h\"\nuser = \"u\"\npassword_env = \"X\"\n",
                   encoding="utf-8")
    proc = vcreport("config", "check", str(cfg))
    assert proc.returncode == 2
    assert "vcenter[0].name: must be one line of text without control characters" in one_line(proc)


def test_unwritable_out_names_the_users_path(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x", encoding="utf-8")
    proc = vcreport("demo", "--out", str(blocker / "reports"), "--format", "json")
    assert proc.returncode == 1
    assert one_line(proc) == f"vcreport: error: {blocker / 'reports'}: cannot write the reports there: Not a directory"


def test_staging_that_cannot_be_made_names_the_out_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import report_fixtures as rf

    from reporter.errors import RenderError
    from reporter.pipeline import report as report_mod

    def denied(out: Path) -> Path:
        raise PermissionError(13, "Permission denied", str(out / ".render-abc123"))
    monkeypatch.setattr(report_mod, "make_staging", denied)
    with pytest.raises(RenderError) as exc:
        report_mod.report(rf.snapshot(), tmp_path / "out", formats="json")
    assert str(exc.value) == f"{tmp_path / 'out'}: cannot write the reports there: Permission denied"
    assert ".render-" not in str(exc.value)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400))
def test_gzip_loader_never_crashes(tmp_path_factory: pytest.TempPathFactory, data: bytes) -> None:
    p = tmp_path_factory.mktemp("gz") / "s.json.gz"
    p.write_bytes(b"\x1f\x8b" + data)
    with contextlib.suppress(SnapshotFormatError):
        snapshot_io.load(p, max_bytes=4096)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(["config", "snapshot", "runtime.host", ""]),
                       st.none() | st.integers() | st.text(max_size=8), max_size=3),
       st.none() | st.lists(st.text(max_size=6), max_size=3) | st.integers())
def test_loader_never_crashes_on_new_vm_fields(unreadable: dict[str, object], tags: object) -> None:
    """The fields added here (unreadable, tags, vapp, collection_notes) load or fail with one line."""
    doc = {"schema_version": 1, "vcenters": {"u": {"name": "v", "host": "h", "instance_uuid": "u",
                                                   "collection_notes": ["tags not collected"],
                                                   "vms": {"vm-1": {"moid": "vm-1", "name": "a", "vapp": "A/B",
                                                                    "unreadable": unreadable, "tags": tags}}}}}
    try:
        snap = snapshot_io.loads(json.dumps(doc).encode())
    except SnapshotFormatError:
        return
    vm = snap.vcenters["u"].vms["vm-1"]
    assert all(isinstance(v, str) for v in vm.unreadable.values())
    assert vm.tags is None or all(isinstance(t, str) for t in vm.tags)
