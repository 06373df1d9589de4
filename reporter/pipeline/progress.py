"""Stage progress for ``vcreport report`` / ``run`` on a terminal: one line per stage.

``loading 3 snapshot files ...`` is shown while a stage runs and replaced by ``loading 3
snapshot files: 0.4 s`` when it ends, so a long PDF layout is never a silent wait. Only when
stderr is a terminal (or when asked); quiet otherwise, so cron mail and logs stay clean.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO


class StageProgress:
    def __init__(self, enabled: bool | None = None, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        if enabled is None:
            isatty = getattr(self.stream, "isatty", None)
            enabled = bool(isatty and isatty())
        self.enabled = enabled

    @contextmanager
    def stage(self, label: str, started: float | None = None) -> Iterator[None]:
        """Show ``label ...`` for the block, then how long it took (or that it failed).
        ``started`` (a ``time.monotonic()`` value): the work began earlier, elsewhere (a format
        rendered in a child process while others were written): the time shown counts from it."""
        if not self.enabled:
            yield
            return
        self._write(f"\r{label} ...")
        started = time.monotonic() if started is None else started
        try:
            yield
        except BaseException:
            self._write(f"\r{label}: failed after {time.monotonic() - started:.1f} s\n")
            raise
        self._write(f"\r{label}: {time.monotonic() - started:.1f} s    \n")

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()
