"""One function run in a thread while the caller goes on; its result or exception collected later.

``concurrent.futures`` would do, but its worker threads are joined at interpreter exit by an
``atexit`` hook and a pool is more than one call needs; this is a thread, a result and a join.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Background(Generic[T]):
    """``fn()`` started in a (non-daemon) thread at once: the interpreter never exits with it
    half-way through writing a file."""

    def __init__(self, fn: Callable[[], T], *, name: str) -> None:
        self._fn = fn
        self._value: T | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=name)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._value = self._fn()
        except BaseException as exc:
            self._error = exc

    def wait(self) -> None:
        """Until it has finished (its outcome stays for ``result``)."""
        self._thread.join()

    def result(self) -> T:
        """What ``fn`` returned; raises what it raised."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value  # type: ignore[return-value]  # set when no error: fn returned it
