"""The long formats rendered in forked child processes while this process writes the others.

A report is single-threaded Python: at 10,000 VMs the standard PDF alone takes longer than the
HTML, XLSX, CSV and JSON together. On a machine with two or more cores each PDF edition is
rendered in a child forked from this process (it inherits the checked, masked report context
without copying or pickling it) into the same staging directory, and the parent writes the other
formats meanwhile. The child sends back the paths it wrote, or the exception it raised, which the
parent raises as if it had rendered the format itself: the same one line and exit code.

Forking is only done from a single-threaded process (a thread holding a lock at the moment of the
fork would leave it locked forever in the child) on a POSIX system with ``fork``;
``VCREPORT_PARALLEL_RENDER=0`` renders everything in this process, one format after the other.
A child never outlives the parent: it is killed when the parent dies (Linux), and on any error or
Ctrl-C the parent kills and reaps it before the staging directory is removed.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import pickle
import signal
import sys
import time
import traceback
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path

from reporter.core.forking import die_with, fork_allowed
from reporter.core.formats import Format
from reporter.core.gcpolicy import one_shot_process
from reporter.errors import RenderError
from reporter.render.base import ReportContext, get_renderer

log = logging.getLogger(__name__)

PARALLEL_ENV = "VCREPORT_PARALLEL_RENDER"
# The formats worth a process of their own: WeasyPrint layout, seconds at fleet scale.
BACKGROUND_FORMATS: frozenset[str] = frozenset({Format.pdf, Format.pdfa})


def parallel_allowed() -> bool:
    """Whether this process may render formats in forked children now (see the module text)."""
    return fork_allowed(PARALLEL_ENV)


def background_formats(formats: list[Format]) -> list[Format]:
    """The formats of ``formats`` to render in children: none unless parallel rendering is allowed."""
    if not parallel_allowed():
        return []
    return [f for f in formats if f in BACKGROUND_FORMATS]


@dataclass
class BackgroundRender:
    """One format being rendered by a forked child into ``staging``."""

    name: str
    process: BaseProcess
    results: Connection
    started: float = field(default_factory=time.monotonic)

    def wait(self) -> list[Path]:
        """The files the child wrote; raises what it raised, or RenderError if it died."""
        try:
            outcome = self.results.recv()
        except EOFError:  # it ended without a word: killed, or crashed in a C library
            outcome = None
        finally:
            self.results.close()
        self.process.join()
        if outcome is None:
            raise RenderError(f"writing {self.name}: the rendering process {_how_it_ended(self.process.exitcode)}; "
                              "no report file was replaced")
        kind, value = outcome
        if kind == "ok":
            return [Path(p) for p in value]
        raise _rebuilt(value)

    def stop(self) -> None:
        """Kill the child if it still runs and reap it (no zombie, no orphan writing on)."""
        with contextlib.suppress(OSError, ValueError):
            self.results.close()
        if self.process.is_alive():
            self.process.kill()
        self.process.join()


def start(name: Format, ctx: ReportContext, staging: Path) -> BackgroundRender:
    """Fork a child that renders ``name`` from ``ctx`` into ``staging``."""
    receive, send = multiprocessing.get_context("fork").Pipe(duplex=False)
    process = multiprocessing.get_context("fork").Process(
        target=_child, args=(send, str(name), ctx, staging, os.getpid()), name=f"vcreport-render-{name}", daemon=True)
    # Output buffered now would be flushed twice: by this process and by the child on exit.
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    process.start()
    send.close()  # the child holds the only writing end: its death is an EOF here
    return BackgroundRender(name=str(name), process=process, results=receive)


def _child(send: Connection, name: str, ctx: ReportContext, staging: Path, parent: int) -> None:
    die_with(parent)
    one_shot_process()  # renders one format and exits: what it leaves goes with the process
    # Ctrl-C reaches the whole process group: the parent handles it (and kills this child).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a service's stop handler is not this process's
    try:
        files = get_renderer(name).render(ctx, staging)
        outcome: tuple[str, object] = ("ok", [str(p) for p in files])
    except BaseException as exc:
        outcome = ("error", _portable(exc))
    send.send(outcome)
    send.close()


@dataclass(frozen=True)
class _Unpicklable:
    """An exception that does not survive pickling, as its type name, text and traceback."""

    type_name: str
    text: str
    trace: str


def _portable(exc: BaseException) -> BaseException | _Unpicklable:
    trace = "".join(traceback.format_exception(exc))
    try:
        exc.__traceback__ = None
        exc.__context__ = exc.__cause__ = None
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return _Unpicklable(type(exc).__name__, str(exc), trace)
    _add_note(exc, trace)
    return exc


def _add_note(exc: BaseException, trace: str) -> None:
    # Shown only where a traceback is printed (``-vv``): where in the child it failed.
    exc.add_note(f"(raised in the rendering process)\n{trace.rstrip()}")


def _rebuilt(value: object) -> BaseException:
    if isinstance(value, BaseException):
        return value
    if isinstance(value, _Unpicklable):
        # The same class name and text as a serial render would show ("internal error: Name: text").
        stand_in: type[Exception] = type(value.type_name, (Exception,), {})
        exc = stand_in(value.text)
        _add_note(exc, value.trace)
        return exc
    return RenderError(f"the rendering process sent an unexpected answer: {type(value).__name__}")


def _how_it_ended(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            signame = signal.Signals(-exitcode).name
        except ValueError:
            signame = f"signal {-exitcode}"
        hint = " (out of memory?)" if -exitcode == signal.SIGKILL else ""
        return f"was killed by {signame}{hint}"
    return f"ended with exit code {exitcode} before it finished"
