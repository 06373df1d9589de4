"""Garbage-collector settings for the stages that build or read a large, acyclic object graph.

A 10,000-VM snapshot is a few million small objects. CPython's automatic full collections
traverse every live object each time, so while the snapshot is built (loading a file) or
walked (the checks) they cost more than the work itself: loading took ~4× and the checks
~1.5× longer with them. Those stages create no reference cycles worth collecting (plain
data, freed by reference counting), so automatic collection is paused for them. The report
renderers run with the snapshot and check results frozen out of the collector's scans; the XLSX
writer pauses it too (its cells are acyclic), and the PDF renderer pauses it while WeasyPrint
works and collects its cyclic box trees once at the end (the passes in between freed next to
nothing).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_gc() -> Iterator[None]:
    """Automatic collection off for the block; the previous setting is restored."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@contextmanager
def frozen_heap() -> Iterator[None]:
    """Everything alive now is left out of the collector's scans for the block (``gc.freeze``);
    it is handed back to the collector afterwards, so a long-running service frees it normally."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


# Set in a process that renders one format and exits (reporter.pipeline.parallel's child).
_one_shot = False


def one_shot_process() -> None:
    """This process does one job and exits: the garbage it leaves is freed by the exit."""
    global _one_shot
    _one_shot = True


def release_garbage() -> None:
    """Free the reference cycles made so far: one full collection; in a one-shot process,
    ``gc.freeze`` instead (no cost), so no automatic collection in its last steps walks them."""
    if _one_shot:
        gc.freeze()
    else:
        gc.collect()
