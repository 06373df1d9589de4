"""Progress on stderr, per vCenter and object type, only when stderr is a terminal.

One vCenter at a time: a live counter on one terminal line. Several at once
(``[collect] workers``), and stages running beside the VM read: each ``branch()``
writes whole lines only (a stage done, a failure), under a lock shared by all
branches, so lines of different vCenters or stages never overwrite or cut into each
other.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import TextIO


class Progress:
    def __init__(self, enabled: bool | None = None, stream: TextIO | None = None, *,
                 lines_only: bool = False, lock: threading.Lock | None = None,
                 parent: Progress | None = None) -> None:
        self.stream = stream or sys.stderr
        if enabled is None:
            isatty = getattr(self.stream, "isatty", None)
            enabled = bool(isatty and isatty())
        self.enabled = enabled
        self.lines_only = lines_only
        self._lock = lock or threading.Lock()
        self._parent = parent  # a live counter whose line this one's lines must not cut into
        self._label = ""
        self._started = 0.0
        self._last_len = 0

    def branch(self) -> Progress:
        """Progress of work running beside this one (another vCenter, a stage aside)."""
        return Progress(self.enabled, self.stream, lines_only=True, lock=self._lock, parent=self)

    def start(self, vcenter: str, what: str) -> None:
        self._label = f"{vcenter}: {what}"
        self._started = time.monotonic()
        if not self.lines_only:
            self._write(f"{self._label} ...")

    def count(self, n: int) -> None:
        if not self.lines_only:
            self._write(f"{self._label}: {n:,}")

    def done(self, n: int | None = None) -> None:
        if not self.enabled:
            return
        took = time.monotonic() - self._started
        tail = f"{n:,} in {took:.1f} s" if n is not None else f"done in {took:.1f} s"
        self._write(f"{self._label}: {tail}", end="\n")

    def message(self, line: str) -> None:
        self._write(line, end="\n")

    def _write(self, line: str, end: str = "") -> None:
        if not self.enabled:
            return
        with self._lock:
            if self.lines_only:
                live = self._parent._last_len if self._parent is not None else 0
                if live:  # the parent's counter is on this terminal line: clear it first
                    self.stream.write("\r" + " " * live + "\r")
                    self._parent._last_len = 0  # type: ignore[union-attr]
                self.stream.write(line + end)
            else:
                pad = " " * max(0, self._last_len - len(line))
                self.stream.write("\r" + line + pad + end)
                self._last_len = 0 if end else len(line)
            self.stream.flush()
