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
    """Automatic collection off for the block; the previous setting is restored.

    What the block built is handed to the collector as old objects (``_resume``): re-enabled
    plainly, the first allocation after the block would start a young collection that walks
    every object the block left alive (~0.14 s per 1.8 million; 0.5 s after 12 vCenters of 1,000
    VMs), only to find them alive."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            _resume()


def _resume() -> None:
    """Automatic collection back on, with the objects made while it was off aged into the oldest
    generation without a scan (``gc.freeze`` moves every generation to the permanent one and
    ``gc.unfreeze`` back into the oldest, both without walking them): they are still collected,
    by the next full collection, when CPython's own schedule calls for one. Not when something
    is frozen already (``frozen_heap``): unfreezing would hand that back early."""
    if gc.get_freeze_count() == 0:
        gc.freeze()
        gc.unfreeze()
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
