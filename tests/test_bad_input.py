"""Bad input gets one line and the documented exit code, never an internal error: gzip bombs,
deeply nested JSON, a boolean schema_version, a non-UTF-8 password file, a vCenter label with
CR/LF, an --out that cannot be written. Plus fuzzing of the loaders touched here."""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import subprocess
import sys
import tracemalloc
from pathlib import Path
from typing import Any

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


# -- found by the robustness audit (audit-robust) ---------------------------------------------------

@pytest.mark.parametrize(("args", "line"), [
    (("config", "check", "{d}"), "vcreport: error: Invalid value for 'FILE': File '{d}' is a directory. "
                                 "(see 'vcreport config check --help')"),
    (("demo", "--out", "{f}", "--format", "json"), "vcreport: error: Invalid value for '--out': Directory '{f}' is "
                                                  "a file. (see 'vcreport demo --help')"),
    (("no-such-command",), "vcreport: error: No such command 'no-such-command'. (see 'vcreport --help')"),
])
def test_click_usage_errors_are_one_line(tmp_path: Path, args: tuple[str, ...], line: str) -> None:
    """click's own checks (a directory for a file, a file for a directory, an unknown command)
    printed the usage, a hint, a blank line and "Error: …": four lines. Now one, exit 2."""
    (tmp_path / "f").write_text("x", encoding="utf-8")
    (tmp_path / "d").mkdir()
    proc = vcreport(*(a.format(d="d", f="f") for a in args), cwd=tmp_path)
    assert proc.returncode == 2
    assert one_line(proc) == line.format(d="d", f="f")


def test_bare_command_still_prints_the_help() -> None:
    proc = vcreport()
    assert proc.returncode == 2
    assert proc.stderr.startswith("Usage: vcreport [OPTIONS] COMMAND [ARGS]...")


def test_history_file_that_is_not_a_database_is_one_line(tmp_path: Path) -> None:
    """history export/import on a corrupt SQLite file: "internal error: DatabaseError" before."""
    db = tmp_path / "history.db"
    garbage = b"not a database, just text\n" * 200
    db.write_bytes(garbage)
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[history]\nurl = "sqlite:///{db}"\n', encoding="utf-8")
    for args in (("history", "export", "--config", str(cfg)),
                 ("history", "import", str(tmp_path / "h.csv"), "--config", str(cfg))):
        (tmp_path / "h.csv").write_text("date,pool,used_gb,entitled_gb\n2026-01-01,p,1,2\n", encoding="utf-8")
        proc = vcreport(*args)
        assert proc.returncode == 1
        assert one_line(proc) == f"vcreport: error: history database sqlite:///{db}: file is not a database"
    assert db.read_bytes() == garbage  # nothing stored is touched


@pytest.mark.parametrize(("name", "message"), [
    ('"bad \\ud800 name"', "a string holds a lone UTF-16 surrogate escape such as \\ud800"),
    ('"bad \\udc00"', "a string holds a lone UTF-16 surrogate escape such as \\ud800"),
    ("1" + "0" * 5000, "a number of more than 4300 digits"),
], ids=["high-surrogate", "low-surrogate", "5001-digit-number"])
def test_json_that_python_decodes_but_cannot_use(name: str, message: str) -> None:
    doc = ('{"schema_version": 1, "vcenters": {"u": {"name": "v", "host": "h", "instance_uuid": "u", '
           '"vms": {"vm-1": {"moid": "vm-1", "name": ' + name + '}}}}}').encode()
    with pytest.raises(SnapshotFormatError) as exc:
        snapshot_io.loads(doc, "s.json")
    assert str(exc.value) == f"s.json: not a snapshot file (invalid JSON: {message})"


def test_surrogate_pairs_still_load() -> None:
    doc = (b'{"schema_version": 1, "vcenters": {"u": {"name": "v", "host": "h", "instance_uuid": "u", '
           b'"vms": {"vm-1": {"moid": "vm-1", "name": "db \\ud83d\\ude00 \\\\ud800"}}}}}')
    assert snapshot_io.loads(doc).vcenters["u"].vms["vm-1"].name == "db \U0001f600 \\ud800"


def test_lone_surrogate_vm_name_on_the_cli(tmp_path: Path) -> None:
    """It was "internal error: UnicodeEncodeError" when the first report file was written."""
    snap = tmp_path / "s.json"
    snap.write_bytes(b'{"schema_version": 1, "vcenters": {"u": {"name": "v", "host": "h", "instance_uuid": "u", '
                     b'"vms": {"vm-1": {"moid": "vm-1", "name": "x\\ud800"}}}}}')
    proc = vcreport("report", str(snap), "--out", str(tmp_path / "out"), "--format", "json")
    assert proc.returncode == 2
    assert "lone UTF-16 surrogate" in one_line(proc)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("args", "line"), [
    (("--add-vms", "99999999999999999999", "--vm-memory-gb", "4"), "--add-vms: Input should be less than or equal "
                                                                   "to 100000"),
    (("--add-vms", "2", "--vm-memory-gb", "1e308"), "--vm-memory-gb: Input should be less than or equal to 24576"),
])
def test_plan_numbers_out_of_range_name_the_option(tmp_path: Path, args: tuple[str, ...], line: str) -> None:
    """It was "internal error: ValidationError: 2 validation errors for Scenario" and 6 more lines."""
    from samples import __file__ as samples_init

    snap = Path(samples_init).parent / "sample-snapshot.json.gz"
    proc = vcreport("plan", str(snap), *args, cwd=tmp_path)
    assert proc.returncode == 2
    assert one_line(proc) == f"vcreport: error: {line}"


def test_empty_password_env_or_file_is_a_config_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An empty variable went to vCenter as the password: "login failed", exit 1, after a round trip."""
    from reporter.config.sections import SecretRef

    monkeypatch.setenv("VCR_EMPTY_PW", "")
    with pytest.raises(ConfigError, match=r"^vc01: environment variable VCR_EMPTY_PW is empty$"):
        SecretRef(password_env="VCR_EMPTY_PW").resolve_password("vc01")
    empty = tmp_path / "pw"
    empty.write_text("\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"^vc01: password_file .* is empty$"):
        SecretRef(password_file=empty).resolve_password("vc01")
    cfg = tmp_path / "c.toml"
    cfg.write_text('[[vcenter]]\nname = "vc01"\nhost = "127.0.0.1"\nport = 1\nuser = "u"\npassword_env = "VCR_EMPTY_PW"\n',
                   encoding="utf-8")
    proc = vcreport("collect", "--config", str(cfg), "--out", str(tmp_path / "s.json"))
    assert proc.returncode == 2
    assert one_line(proc) == "vcreport: error: vc01: environment variable VCR_EMPTY_PW is empty"
    assert not (tmp_path / "s.json").exists()


def test_atomic_write_names_the_users_file_not_the_temp_file(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """plan --out in a read-only directory said "…/.p.html.g23dapwa.tmp: Permission denied"."""
    import tempfile

    from reporter.core import fsutil

    target = tmp_path / "d"
    target.mkdir()  # os.replace of the temp file onto a directory: the error named the temp file
    with pytest.raises(IsADirectoryError) as exc:
        fsutil.atomic_write_bytes(target, b"x")
    assert exc.value.filename == str(target)
    assert [p.name for p in tmp_path.iterdir()] == ["d"]

    def denied(**kw: object) -> tuple[int, str]:
        raise PermissionError(13, "Permission denied", str(tmp_path / ".p.html.abc123.tmp"))
    monkeypatch.setattr(tempfile, "mkstemp", denied)
    with pytest.raises(PermissionError) as perm:
        fsutil.atomic_write_bytes(tmp_path / "p.html", b"x")
    assert perm.value.filename == str(tmp_path / "p.html")


def test_interrupts_deferred_raises_after_the_block() -> None:
    import os
    import signal

    from reporter.pipeline.staging import interrupts_deferred

    done = []
    with pytest.raises(KeyboardInterrupt), interrupts_deferred():
        os.kill(os.getpid(), signal.SIGINT)
        os.kill(os.getpid(), signal.SIGINT)
        done.append(True)  # not cut short
    assert done == [True]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_second_ctrl_c_during_clean_up_leaves_no_staging(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C twice (or ``timeout -s INT``, which signals the process and its group) left
    ``.render-*`` with half a report set in --out every time: the second interrupt cut the
    clean-up of the first short."""
    import os
    import shutil
    import signal

    import report_fixtures as rf

    from reporter.pipeline import report as report_mod

    def first(*args: object, **kwargs: object) -> list[Path]:
        raise KeyboardInterrupt
    real_rmtree = shutil.rmtree

    def rmtree_interrupted(path: Path, **kwargs: object) -> None:
        os.kill(os.getpid(), signal.SIGINT)  # the second Ctrl-C, as the clean-up starts
        real_rmtree(path, **kwargs)  # type: ignore[arg-type]
    monkeypatch.setattr(report_mod, "_render_into", first)
    monkeypatch.setattr(report_mod.shutil, "rmtree", rmtree_interrupted)
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        report_mod.report(rf.snapshot(), out, formats="json")
    assert not out.exists()  # the staging directory and the --out the report had made are both gone


def test_a_closed_stdout_pipe_is_not_an_error_line() -> None:
    """``vcreport checks | head -1`` printed "vcreport: error: Broken pipe"."""
    proc = subprocess.Popen([sys.executable, "-m", "reporter.cli", "checks"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # before the command writes its first line
    err = proc.stderr.read()
    assert proc.wait(timeout=120) == 1
    assert err == ""


def test_collect_with_a_broken_history_says_the_snapshot_was_written(vcsim: Any, tmp_path: Path) -> None:
    """The snapshot is saved before the history is written: the error line says so (it used to
    end at the database's message, as if nothing had been collected)."""
    db = tmp_path / "history.db"
    db.write_bytes(b"not a database, just text\n" * 200)
    cfg = vcsim.config_file(tmp_path)
    cfg.write_text(cfg.read_text(encoding="utf-8") + f'\n[history]\nurl = "sqlite:///{db}"\n', encoding="utf-8")
    out = tmp_path / "snap.json.gz"
    proc = subprocess.run([sys.executable, "-m", "reporter.cli", "collect", "--config", str(cfg), "--out", str(out)],
                          capture_output=True, text=True, timeout=300, env=os.environ.copy())
    assert proc.returncode == 1, proc.stderr
    assert one_line(proc) == (f"vcreport: error: history database sqlite:///{db}: file is not a database; "
                              f"the snapshot was written to {out}, but not recorded in the history")
    assert snapshot_io.load(out).vm_count() > 0
