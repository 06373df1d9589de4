"""report.pdf leaves WeasyPrint's reference cycles to the collector in a normal process (a forked
one too), and to the exit in a one-shot render child (reporter/render/pdf.py, core/gcpolicy.py)."""

from __future__ import annotations

import gc
import multiprocessing
import weakref
from multiprocessing.connection import Connection

from reporter.core.gcpolicy import one_shot_process, release_garbage


class _Node:
    """An object in a reference cycle: only the collector frees it."""

    def __init__(self) -> None:
        self.me = self


def _garbage_cycle() -> weakref.ref[_Node]:
    return weakref.ref(_Node())


def test_a_normal_process_collects_the_cycles_at_once() -> None:
    was = gc.isenabled()
    gc.disable()
    try:
        cycle = _garbage_cycle()
        assert cycle() is not None
        release_garbage()
        assert cycle() is None
        assert gc.get_freeze_count() == 0
    finally:
        if was:
            gc.enable()


def _child(send: Connection, one_shot: bool) -> None:
    if one_shot:
        one_shot_process()  # as reporter.pipeline.parallel's render child
    gc.disable()
    cycle = _garbage_cycle()
    release_garbage()
    frozen = gc.get_freeze_count()
    gc.enable()
    gc.collect()  # frozen objects are out of its sight: the cycle stays
    send.send((cycle() is not None, frozen > 0))
    send.close()


def _in_child(one_shot: bool) -> tuple[bool, bool, int | None]:
    ctx = multiprocessing.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_child, args=(send, one_shot))
    process.start()
    send.close()
    alive, frozen = receive.recv()
    process.join()
    return alive, frozen, process.exitcode


def test_a_render_child_freezes_them_instead_of_collecting() -> None:
    assert _in_child(one_shot=True) == (True, True, 0)


def test_any_other_child_process_collects_them() -> None:
    assert _in_child(one_shot=False) == (False, False, 0)
