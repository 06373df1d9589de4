"""Progress on stderr, per vCenter and object type, only when stderr is a terminal."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    def __init__(self, enabled: bool | None = None, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        if enabled is None:
            isatty = getattr(self.stream, "isatty", None)
            enabled = bool(isatty and isatty())
        self.enabled = enabled
        self._label = ""
        self._started = 0.0
        self._last_len = 0

    def start(self, vcenter: str, what: str) -> None:
        self._label = f"{vcenter}: {what}"
        self._started = time.monotonic()
        self._write(f"{self._label} ...")

    def count(self, n: int) -> None:
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
        pad = " " * max(0, self._last_len - len(line))
        self.stream.write("\r" + line + pad + end)
        self.stream.flush()
        self._last_len = 0 if end else len(line)
