"""Ctrl-C and SIGTERM in a real ``vcreport`` process: one line, exit 130 / 143, nothing half-written.

(In-process Ctrl-C during a report's clean-up: tests/test_bad_input.py; ``serve`` and SIGTERM:
tests/test_scheduler_service.py.)
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from datetime import date, timedelta
from pathlib import Path

import pytest
import report_fixtures as rf
from click.testing import CliRunner

from reporter import api, cli
from reporter.core import snapshot_io
from reporter.errors import Terminated

VCREPORT = [sys.executable, "-m", "reporter.cli"]


def _files(d: Path) -> list[str]:
    return sorted(str(p.relative_to(d)) for p in d.rglob("*") if p.is_file())


def _signal_when_started(argv: list[str], sig: int, after_s: float, *, cwd: Path,
                         also_group: bool = False) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` in a process group of its own; ``sig`` after ``after_s`` (then to the whole
    group too, as ``timeout -s INT`` does)."""
    proc = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    time.sleep(after_s)
    assert proc.poll() is None, "the command ended before the signal: make it slower"
    proc.send_signal(sig)
    if also_group:
        time.sleep(0.02)
        os.killpg(proc.pid, sig)
    out, err = proc.communicate(timeout=60)
    return subprocess.CompletedProcess(argv, proc.returncode, out, err)


@pytest.mark.parametrize(("sig", "line", "code"), [
    (signal.SIGTERM, "vcreport: error: terminated", 143),
    (signal.SIGINT, "vcreport: error: interrupted", 130),
])
def test_signal_during_collect_keeps_the_previous_snapshot(vcsim_factory, tmp_path: Path, sig: int, line: str,
                                                           code: int) -> None:
    """SIGTERM (``kill``, ``timeout``, a container stop) during ``collect`` killed the process where
    it stood: exit -15 and not a word on stderr. Now: one line and 143, as Ctrl-C gives 130."""
    sim = vcsim_factory(vms=40, delay_ms=150)  # every call 150 ms: the collection takes ~3 s
    cfg = sim.config_file(tmp_path)
    cfg.write_text(cfg.read_text() + f'\n[history]\nurl = "sqlite:///{tmp_path}/h.db"\n')
    out = tmp_path / "snap.json.gz"
    first = subprocess.run([*VCREPORT, "collect", "--config", str(cfg), "--out", str(out)], cwd=tmp_path,
                           capture_output=True, text=True, timeout=60)
    assert first.returncode == 0, first.stderr
    before, files_before = out.read_bytes(), _files(tmp_path)
    res = _signal_when_started([*VCREPORT, "collect", "--config", str(cfg), "--out", str(out)], sig, 1.0,
                               cwd=tmp_path, also_group=True)
    assert (res.returncode, res.stderr) == (code, line + "\n")
    assert out.read_bytes() == before  # the previous snapshot, untouched, and it still loads
    assert snapshot_io.load(out).vm_count() == 40
    assert _files(tmp_path) == files_before  # no temporary file
    assert sqlite3.connect(tmp_path / "h.db").execute("SELECT count(*) FROM vram_samples").fetchone() == (1,)


def _history_config(tmp_path: Path) -> Path:
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[history]\nurl = "sqlite:///{tmp_path}/h.db"\n')
    return cfg


def _big_csv(path: Path, pools: int, days: int) -> None:
    rows = ["date,pool,used_gb,entitled_gb"]
    for p in range(pools):
        rows += [f"{date(2000, 1, 1) + timedelta(days=d)},vc{p}/ent,{100 + d % 50},1536" for d in range(days)]
    path.write_text("\n".join(rows) + "\n")


@pytest.mark.parametrize(("sig", "line", "code"), [
    (signal.SIGTERM, "vcreport: error: terminated", 143),
    (signal.SIGINT, "vcreport: error: interrupted", 130),
])
def test_signal_during_history_import_imports_nothing(tmp_path: Path, sig: int, line: str, code: int) -> None:
    """An import is one transaction: interrupted, it stores none of the file's rows."""
    cfg = _history_config(tmp_path)
    small = tmp_path / "small.csv"
    small.write_text("date,pool,used_gb,entitled_gb\n2024-01-01,vc9/ent,10,64\n2024-01-02,vc9/ent,11,64\n")
    assert subprocess.run([*VCREPORT, "history", "import", str(small), "--config", str(cfg)], cwd=tmp_path,
                          capture_output=True, timeout=60).returncode == 0
    big = tmp_path / "big.csv"
    _big_csv(big, pools=40, days=2500)  # 100,000 rows: ~3 s to parse and insert
    res = _signal_when_started([*VCREPORT, "history", "import", str(big), "--config", str(cfg)], sig, 1.5,
                               cwd=tmp_path, also_group=True)
    assert (res.returncode, res.stderr, res.stdout) == (code, line + "\n", "")
    assert sqlite3.connect(tmp_path / "h.db").execute("SELECT count(*) FROM vram_samples").fetchone() == (2,)


def test_sigterm_during_a_write_leaves_no_temporary_file(tmp_path: Path) -> None:
    """SIGTERM while a file was being written left ``.x.csv.abc123.tmp`` next to it (the process
    died before its clean-up); now the temporary file goes and the previous file stays."""
    cfg = _history_config(tmp_path)
    out = tmp_path / "x.csv"
    out.write_text("previous\n")
    script = textwrap.dedent(f"""
        import os, signal, sys
        from reporter.core import fsutil
        real = os.fsync
        def fsync(fd):
            os.kill(os.getpid(), signal.SIGTERM)  # as the data reaches the disk
            real(fd)
        fsutil.os.fsync = fsync
        sys.argv = ["vcreport", "history", "export", "--config", {str(cfg)!r}, "--out", {str(out)!r}]
        from reporter.cli import entry
        entry()
    """)
    res = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert (res.returncode, res.stderr) == (143, "vcreport: error: terminated\n")
    assert out.read_text() == "previous\n"
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("h.db-")) == ["c.toml", "h.db", "x.csv"]


def test_a_second_signal_does_not_cut_the_clean_up_short() -> None:
    """``timeout -s INT`` signals the process, then its group: the second signal came while the
    first one's clean-up ran and cut it short (a ``.tmp`` left, or "Exception ignored in …" with a
    traceback). A repeat that quick is now ignored."""
    cleaned: list[bool] = []
    with pytest.raises(Terminated), cli._signals_raise():
        try:
            os.kill(os.getpid(), signal.SIGTERM)
        finally:
            os.kill(os.getpid(), signal.SIGINT)  # the second signal, during the clean-up
            os.kill(os.getpid(), signal.SIGTERM)
            cleaned.append(True)
    assert cleaned == [True]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # put back after the command
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL


def test_an_ignored_sigint_stays_ignored() -> None:
    """A command started with SIGINT ignored (``nohup``, a script's background job) keeps ignoring it."""
    script = ("import signal; signal.signal(signal.SIGINT, signal.SIG_IGN); from reporter import cli; "
              "cli._install_signal_handlers(); print(signal.getsignal(signal.SIGINT) == signal.SIG_IGN, "
              "signal.getsignal(signal.SIGTERM) is cli._raise_once)")
    res = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert res.stdout == "True True\n", res.stderr


@pytest.mark.parametrize(("exc", "word"), [(KeyboardInterrupt, "interrupted"), (Terminated, "terminated")])
def test_interrupted_while_recording_says_the_snapshot_was_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                    exc: type[BaseException], word: str) -> None:
    """Interrupted after the snapshot was saved, ``collect`` said only "interrupted": whoever ran
    it could not tell that --out now held the new snapshot (not in the history)."""
    snap = rf.snapshot(errors=False)
    monkeypatch.setattr(api, "collect", lambda cfg, insecure=False: snap)

    def record(*args: object, **kwargs: object) -> int:
        raise exc
    monkeypatch.setattr(api, "record_history", record)
    cfg = _history_config(tmp_path)
    out = tmp_path / "s.json.gz"
    res = CliRunner().invoke(cli.main, ["collect", "--config", str(cfg), "--out", str(out)])
    assert res.exit_code == (143 if exc is Terminated else 130)
    assert res.stderr == (f"vcreport: error: {word}; the snapshot was written to {out}, "
                          "but not recorded in the history\n")
    assert snapshot_io.load(out).vm_count() == snap.vm_count()


def test_the_database_file_alone_holds_what_a_command_wrote(tmp_path: Path) -> None:
    """SQLite keeps recent commits in h.db-wal until its last connection closes; the command used to
    end without closing it, so h.db alone (a copy for an auditor, a one-file backup) lacked them."""
    cfg = _history_config(tmp_path)
    csv_file = tmp_path / "h.csv"
    _big_csv(csv_file, pools=2, days=30)
    proc = subprocess.run([*VCREPORT, "history", "import", str(csv_file), "--config", str(cfg)],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    wal = tmp_path / "h.db-wal"
    assert not wal.exists() or wal.stat().st_size == 0
    copy = tmp_path / "copy.db"
    copy.write_bytes((tmp_path / "h.db").read_bytes())  # the file alone, without its -wal
    with sqlite3.connect(copy) as conn:
        assert conn.execute("SELECT COUNT(*) FROM vram_samples").fetchone() == (60,)


@pytest.mark.parametrize(("sig", "line", "code"), [
    (signal.SIGINT, "vcreport: error: interrupted", 130),
    (signal.SIGTERM, "vcreport: error: terminated", 143),
])
def test_signal_during_a_collect_shared_with_a_child_process(vcsim_factory, tmp_path: Path, sig: int, line: str,
                                                            code: int) -> None:
    """Four vCenters are read by this process and a forked child (one per core). Ctrl-C reaches the
    whole process group: the child printed its own 'Process vcreport-collect: Traceback ...
    KeyboardInterrupt' under the parent's line. Now it leaves the signal to the parent."""
    from vcsim_harness import toml_table

    sims = [vcsim_factory(vms=20, delay_ms=150) for _ in range(4)]
    cfg = tmp_path / "fleet.toml"
    cfg.write_text("".join(toml_table("[[vcenter]]", s.vcenter_table(name=f"vc{n}")) + "\n" for n, s in enumerate(sims))
                   + toml_table("[collect]", {"workers": 4}), encoding="utf-8")
    out = tmp_path / "snap.json.gz"
    res = _signal_when_started([*VCREPORT, "collect", "--config", str(cfg), "--out", str(out)], sig, 1.5,
                               cwd=tmp_path, also_group=True)
    assert (res.returncode, res.stderr) == (code, line + "\n")
    assert not out.exists() and _files(tmp_path) == ["fleet.toml"]


def test_an_interrupted_exit_does_not_wait_for_a_stuck_thread() -> None:
    """After Ctrl-C or SIGTERM the exit waits a few seconds for the command's other threads, then
    ends without them: a thread stuck on a reply (or on a page nobody will read now) used to keep
    an interrupted command from exiting at all."""
    code = ("import threading, time\n"
            "from reporter import cli\n"
            "threading.Thread(target=threading.Event().wait).start()  # never ends\n"
            "cli._interrupted_at.append(time.monotonic())\n"
            "cli._exit_now(143)\n")
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 143, proc.stderr
    assert time.monotonic() - started < cli.INTERRUPTED_JOIN_S + 20


@pytest.mark.parametrize(("exc", "word"), [(KeyboardInterrupt, "interrupted"), (Terminated, "terminated")])
def test_run_interrupted_while_reporting_says_where_the_snapshot_is(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                    exc: type[BaseException], word: str) -> None:
    """Ctrl-C or SIGTERM while ``run`` wrote its reports said only "interrupted": the collection
    (minutes against a large vCenter) was saved, but nothing said so or how to report it."""
    import reporter.collect
    import reporter.pipeline.run as run_module

    snap = rf.snapshot(errors=False)
    monkeypatch.setattr(reporter.collect, "collect", lambda cfg, insecure=False, progress=None: snap)

    def report(*args: object, **kwargs: object) -> None:
        raise exc
    monkeypatch.setattr(run_module, "report", report)
    out = tmp_path / "out"
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[output]\ndir = "{out}"\nformats = ["html"]\n', encoding="utf-8")
    res = CliRunner().invoke(cli.main, ["run", "--config", str(cfg)])
    assert res.exit_code == (143 if exc is Terminated else 130)
    (saved,) = (out / "snapshots").iterdir()
    assert res.stderr == (f"vcreport: error: {word}; the snapshot was saved to {saved}, the reports were not "
                          f"written (vcreport report {saved} --out {out} --config {cfg} writes them)\n")
    assert snapshot_io.load(saved).vm_count() == snap.vm_count()
    assert not (out / "report.html").exists()
    # ... and the command it names writes them from that snapshot
    res = CliRunner().invoke(cli.main, ["report", str(saved), "--out", str(out), "--config", str(cfg), "--format", "html"])
    assert res.exit_code == 0, res.output
    assert (out / "report.html").exists()
