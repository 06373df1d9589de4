"""Staging directories for a report set, and the removal of ones a killed run left behind.

``report`` renders into ``<out>/.render-XXXX/`` and moves the files into place only when every
format succeeded. A run killed mid-render (SIGKILL, OOM, power loss) leaves that directory
behind, possibly hundreds of MB. Each one carries a marker file with the creating process id,
so a later run removes exactly the directories this tool made whose process is gone and that
are older than the running process: never a user's file, never a live run's staging.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from reporter.render.base import STAGING_PREFIX

log = logging.getLogger(__name__)

PREFIX = STAGING_PREFIX  # one name for the renderers and the clean-up
MARKER = ".vcreport-staging"
# When this process started (close enough: the module loads at the start of a report).
PROCESS_STARTED = time.time()


def make_staging(out: Path) -> Path:
    staging = Path(tempfile.mkdtemp(prefix=PREFIX, dir=out))
    (staging / MARKER).write_text(f"{os.getpid()}\n", encoding="ascii")
    return staging


@contextlib.contextmanager
def interrupts_deferred() -> Iterator[None]:
    """Ctrl-C (and SIGTERM) wait for the end of the block, then act as they would have
    (KeyboardInterrupt, ``Terminated``, or the handler that was there).

    For the moves of a report set into place and the removal of a staging directory: a second
    Ctrl-C (an impatient user, or ``timeout -s INT``, which signals the process and then its
    group) used to cut the clean-up of the first short and leave ``.render-*`` behind."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers belong to the main thread; there is nothing to defer here
        return
    caught: list[int] = []
    deferred = (signal.SIGINT, signal.SIGTERM)
    previous = {s: signal.signal(s, lambda signum, _frame: caught.append(signum)) for s in deferred}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        for signum in dict.fromkeys(caught):  # each signal once, in the order they came
            handler = previous[signal.Signals(signum)]
            if callable(handler):
                handler(signum, None)  # default_int_handler: KeyboardInterrupt, now
            elif handler == signal.SIG_DFL:
                signal.raise_signal(signum)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's live process
    return True


def _owner(marker: Path) -> int | None:
    try:
        return int(marker.read_text(encoding="ascii").strip())
    except (OSError, ValueError):
        return None


def remove_stale(out: Path, *, started: float | None = None) -> list[Path]:
    """Remove this tool's staging directories in ``out`` left by processes that are gone."""
    started = PROCESS_STARTED if started is None else started
    removed: list[Path] = []
    try:
        candidates = [p for p in out.iterdir() if p.name.startswith(PREFIX)]
    except OSError:
        return removed
    for path in candidates:
        marker = path / MARKER
        if path.is_symlink() or not path.is_dir() or not marker.is_file():
            continue  # not made by this tool: leave it alone
        try:
            if path.stat().st_mtime >= started:
                continue
        except OSError:
            continue
        pid = _owner(marker)
        if pid is not None and _alive(pid):
            continue  # a run in progress (another process rendering into the same directory)
        with contextlib.suppress(OSError):
            shutil.rmtree(path)
            removed.append(path)
            log.info("removed %s, left by an interrupted report run", path)
    return removed
