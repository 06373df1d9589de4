"""report.pdf leaves WeasyPrint's reference cycles to the collector in a normal process, and to the
exit in a forked render child (reporter/render/pdf.py)."""

from __future__ import annotations

import gc
import multiprocessing
import weakref
from multiprocessing.connection import Connection

from reporter.render.pdf import _release_layout_garbage


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
        _release_layout_garbage()
        assert cycle() is None
        assert gc.get_freeze_count() == 0
    finally:
        if was:
            gc.enable()


def _child(send: Connection) -> None:
    gc.disable()
    cycle = _garbage_cycle()
    _release_layout_garbage()
    frozen = gc.get_freeze_count()
    gc.enable()
    gc.collect()  # frozen objects are out of its sight: the cycle stays
    send.send((cycle() is not None, frozen > 0))
    send.close()


def test_a_render_child_freezes_them_instead_of_collecting() -> None:
    ctx = multiprocessing.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_child, args=(send,))
    process.start()
    send.close()
    alive, frozen = receive.recv()
    process.join()
    assert (alive, frozen, process.exitcode) == (True, True, 0)
