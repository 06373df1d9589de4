"""Forked children that share this process's work: how many cores, whether a fork is safe, and a
child that dies with its parent. Used by the report's render children (``pipeline.parallel``) and
by the collection of many vCenters (``collect.processes``)."""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import signal
import sys
import threading

OFF_WORDS = frozenset({"0", "false", "no", "off", "serial"})
_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        return os.cpu_count() or 1


def fork_allowed(env: str) -> bool:
    """A child may be forked now: ``env`` not set off, fork available, two usable cores, and no
    other thread alive (a thread holding a lock at the fork would leave the child that lock held)."""
    if os.environ.get(env, "").strip().lower() in OFF_WORDS:
        return False
    if "fork" not in multiprocessing.get_all_start_methods() or usable_cores() < 2:
        return False
    return threading.active_count() == 1


def die_with(parent: int) -> None:
    """Ask Linux to SIGKILL this process when its parent dies (no orphan left working)."""
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):  # CDLL(None): this process's symbols, libc's among them
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)
