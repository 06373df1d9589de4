"""Compiled templates are kept in Jinja's on-disk cache (reporter.render.templating): a report
from the cache is the same report; a cache that is damaged, unsafe or cannot be written is only
slower, never a failure."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from jinja2.bccache import Bucket

from reporter.render.templating import _QuietBytecodeCache, environment

SAMPLE = Path(__file__).resolve().parent.parent / "samples" / "sample-snapshot.json.gz"

# A fresh process renders the sample's HTML report and says which templates it compiled
# (compile_templates' work goes through Environment._compile: counted there).
PROBE = """
import sys
from pathlib import Path
from jinja2 import Environment
compiled = []
original = Environment._compile
def counting(self, source, filename):
    compiled.append(filename)
    return original(self, source, filename)
Environment._compile = counting
from reporter.pipeline.report import report
report(sys.argv[2], sys.argv[1], formats="html", progress=False)
print(len(compiled))
"""


def _render(tmp: Path, out: Path) -> tuple[int, str]:
    proc = subprocess.run([sys.executable, "-c", PROBE, str(out), str(SAMPLE)], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "TMPDIR": str(tmp)})
    assert proc.returncode == 0, proc.stderr
    html = (out / "report.html").read_text(encoding="utf-8")
    return int(proc.stdout.strip().splitlines()[-1]), html


def _cache_dir(tmp: Path) -> Path:
    return tmp / f"_jinja2-cache-{os.getuid()}"


def _same_report(a: str, b: str) -> bool:
    # The report's own generation time is the only thing that may differ between two renders.
    strip = [line for line in a.splitlines() if "Generated" not in line and "generated" not in line]
    return strip == [line for line in b.splitlines() if "Generated" not in line and "generated" not in line]


def test_second_report_loads_the_templates_compiled_and_is_the_same(tmp_path: Path) -> None:
    first_n, first = _render(tmp_path, tmp_path / "a")
    cache = _cache_dir(tmp_path)
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700  # this user's alone
    entries = sorted(cache.glob("__jinja2_*.cache"))
    assert first_n >= 5 and len(entries) == first_n  # every template compiled once, and kept
    second_n, second = _render(tmp_path, tmp_path / "b")
    assert second_n == 0  # nothing compiled: all from the cache
    assert _same_report(first, second)


def test_damaged_cache_entries_are_compiled_again(tmp_path: Path) -> None:
    _, first = _render(tmp_path, tmp_path / "a")
    entries = list(_cache_dir(tmp_path).glob("__jinja2_*.cache"))
    for entry in entries:
        entry.write_bytes(entry.read_bytes()[:40])  # header intact, code cut short
    n, again = _render(tmp_path, tmp_path / "b")
    assert n == len(entries)
    assert _same_report(first, again)


def test_an_unsafe_cache_directory_is_not_used(tmp_path: Path) -> None:
    cache = _cache_dir(tmp_path)
    cache.write_text("not a directory")  # Jinja refuses it: the templates compile in memory
    n, html = _render(tmp_path, tmp_path / "a")
    assert n >= 5 and "<html" in html
    assert cache.read_text() == "not a directory"


def test_a_cache_that_cannot_be_written_does_not_fail_the_render(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    cache = _QuietBytecodeCache(str(tmp_path))

    def refuse(*_args: object, **_kwargs: object) -> object:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(tempfile, "NamedTemporaryFile", refuse)
    env = environment()
    bucket = Bucket(env, "key", "checksum")
    bucket.code = compile("x = 1", "<t>", "exec")
    cache.dump_bytecode(bucket)  # no exception
    assert list(tmp_path.iterdir()) == []
