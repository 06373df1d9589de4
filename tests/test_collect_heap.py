"""The C heap gives freed memory back while many vCenters are read (``collect.heap``)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from reporter.collect import heap

glibc_only = pytest.mark.skipif(heap._LIBC is None, reason="glibc's mallopt/malloc_trim are not available here")

# In a fresh interpreter: 64 KB blocks (malloc'd, below the mmap threshold), every other one
# kept, the rest freed: the heap keeps the holes mapped until released.
_FRAGMENT = textwrap.dedent("""
    import sys
    from reporter.collect import heap

    def rss_mb():
        for line in open("/proc/self/status"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024

    blocks = [bytearray(64 * 1024) for _ in range(1000)]
    kept = blocks[::2]
    del blocks
    before = rss_mb()
    heap.release_free_memory()
    print(len(kept), round(before - rss_mb()))
""")


@glibc_only
def test_release_free_memory_gives_freed_blocks_back() -> None:
    out = subprocess.run([sys.executable, "-c", _FRAGMENT], capture_output=True, text=True, check=True)
    kept, released_mb = map(int, out.stdout.split())
    assert kept == 500
    assert released_mb >= 20  # of the ~32 MB freed; the rest is page rounding at the blocks' edges


@glibc_only
def test_shared_arenas_sets_and_restores_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[int, int]] = []

    class Libc:
        def mallopt(self, param: int, value: int) -> int:
            calls.append((param, value))
            return 1

    monkeypatch.setattr(heap, "_LIBC", Libc())
    with heap.shared_arenas():
        assert calls == [(heap.M_ARENA_MAX, 2)]
    assert calls == [(heap.M_ARENA_MAX, 2), (heap.M_ARENA_MAX, heap.ARENA_MAX_DEFAULT)]


def test_without_glibc_both_do_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(heap, "_LIBC", None)
    heap.release_free_memory()
    with heap.shared_arenas():
        pass
