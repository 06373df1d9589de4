"""paused_gc hands what its block built to the collector as old objects: no young collection
walks them when the block ends, cycles made inside are still collected, and what someone froze
stays frozen (reporter.core.gcpolicy)."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from reporter.core.gcpolicy import frozen_heap, paused_gc


class Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the cyclic collector frees it


@pytest.fixture(autouse=True)
def collector_on() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    gc.collect()
    yield
    if was:
        gc.enable()
    else:
        gc.disable()


def test_no_young_collection_walks_what_the_block_built() -> None:
    seen: list[int] = []

    def watch(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            seen.append(info["generation"])

    gc.callbacks.append(watch)  # before the block ends: the first allocation after it would collect
    try:
        with paused_gc():
            built = [{"n": [i]} for i in range(200_000)]  # 400,000 tracked objects, left alive
            pending = gc.get_count()[0]
        more: list[list[int]] = [[] for _ in range(100)]
    finally:
        gc.callbacks.remove(watch)
    assert pending > gc.get_threshold()[0]
    assert seen == []  # plainly re-enabled, a young collection walks the 400,000 objects here
    assert gc.isenabled() and gc.get_freeze_count() == 0
    assert gc.is_tracked(built[0]) and len(more) == 100


def test_cycles_made_in_the_block_are_still_collected() -> None:
    with paused_gc():
        node = Node()
        ref = weakref.ref(node)
        del node
    assert ref() is not None  # not freed by reference counting
    gc.collect()
    assert ref() is None


def test_what_was_frozen_stays_frozen() -> None:
    with frozen_heap():
        frozen = gc.get_freeze_count()
        assert frozen > 0
        with paused_gc():
            _ = [{} for _ in range(1000)]
        assert gc.get_freeze_count() == frozen
    assert gc.get_freeze_count() == 0


def test_a_disabled_collector_stays_disabled() -> None:
    gc.disable()
    with paused_gc():
        pass
    assert not gc.isenabled()
