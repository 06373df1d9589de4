"""``vcreport``'s exit (reporter.cli.entry): what the interpreter's exit does, minus freeing the
heap object by object — threads joined, atexit handlers run, output flushed, the exit code kept."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

SCRIPT = textwrap.dedent("""
    import atexit, sys, threading, time
    from pathlib import Path
    out = Path(sys.argv[1])

    class Teardown:  # freed only by the interpreter's teardown (a module global)
        def __del__(self):
            sys.stderr.write("TEARDOWN\\n")

    kept = Teardown()
    atexit.register(lambda: (out / "atexit").write_text("ran"))

    def late():
        time.sleep(0.3)
        (out / "thread").write_text("joined")

    threading.Thread(target=late).start()
    import reporter.cli
    sys.argv = ["vcreport", *sys.argv[2:]]
    sys.stdout.write("buffered ")  # not flushed by hand: the exit must flush it
    reporter.cli.entry()
""")


def _entry(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "entry.py"
    script.write_text(SCRIPT)
    return subprocess.run([sys.executable, str(script), str(tmp_path), *args], capture_output=True, text=True,
                          timeout=120, check=False)


def test_success_keeps_output_threads_and_atexit_but_skips_teardown(tmp_path: Path) -> None:
    from reporter import __version__

    proc = _entry(tmp_path, "--version")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"buffered vcreport, version {__version__}\n"
    assert (tmp_path / "thread").read_text() == "joined"  # a non-daemon thread finished first
    assert (tmp_path / "atexit").read_text() == "ran"
    assert "TEARDOWN" not in proc.stderr  # the heap was not freed object by object


@pytest.mark.parametrize(("args", "code", "line"), [
    (("config", "check", "missing.toml"), 2, "vcreport: error: "),
    (("no-such-command",), 2, "No such command"),
])
def test_failure_keeps_its_exit_code_and_message(tmp_path: Path, args: tuple[str, ...], code: int, line: str) -> None:
    proc = _entry(tmp_path, *args)
    assert proc.returncode == code
    assert line in proc.stderr
    assert "Traceback" not in proc.stderr
    assert (tmp_path / "atexit").read_text() == "ran"
