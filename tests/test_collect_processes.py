"""Many vCenters shared between this process and forked children (reporter.collect.processes):
every result comes back in order, from both processes; a child that dies or cannot send costs
only time (the parent reads what it did not send); when a process of its own is used."""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest

from reporter.collect import processes


def threads(share: list[int], one: Callable[[int], tuple[int, int]], count: int) -> list[tuple[int, int]]:
    return [one(job) for job in share]


def test_results_in_order_from_both_processes() -> None:
    results = processes.run_shared(list(range(9)), lambda job: (job * 10, os.getpid()), workers=4, processes=2,
                                   threads=threads)
    assert [value for value, _ in results] == [n * 10 for n in range(9)]
    pids = {pid for _, pid in results}
    assert os.getpid() in pids and len(pids) == 2  # really two processes
    # round-robin: this process read the even jobs, the child the odd ones
    assert all((pid == os.getpid()) == (n % 2 == 0) for n, (_, pid) in enumerate(results))


def test_a_child_that_dies_costs_only_time() -> None:
    parent = os.getpid()

    def one(job: int) -> tuple[int, int]:
        if os.getpid() != parent and job == 5:
            os._exit(3)  # killed mid-way: what it had not sent is read again by the parent
        return job, os.getpid()

    results = processes.run_shared(list(range(8)), one, workers=1, processes=2, threads=threads)
    assert [job for job, _ in results] == list(range(8))
    assert results[5][1] == parent  # read by the parent after the child died


def test_a_result_that_cannot_be_sent_is_read_by_the_parent() -> None:
    parent = os.getpid()

    def one(job: int) -> object:
        if os.getpid() != parent and job == 3:
            return lambda: None  # does not pickle
        return job

    assert processes.run_shared(list(range(6)), one, workers=2, processes=2, threads=threads) == list(range(6))  # type: ignore[arg-type]


def test_process_count(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(processes, "usable_cores", lambda: 2)
    monkeypatch.setattr(processes, "fork_allowed", lambda env: True)
    assert processes.process_count(12, 12) == 2
    assert processes.process_count(4, 8) == 2
    assert processes.process_count(3, 8) == 1  # too few vCenters to share
    assert processes.process_count(12, 1) == 1  # one at a time: nothing to share
    monkeypatch.setattr(processes, "usable_cores", lambda: 8)
    assert processes.process_count(12, 3) == 3  # never more processes than workers
    assert processes.process_count(9, 12) == 4
    monkeypatch.setattr(processes, "fork_allowed", lambda env: False)
    assert processes.process_count(12, 12) == 1


def test_off_by_environment_or_with_another_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    from reporter.core import forking
    monkeypatch.setattr(forking, "usable_cores", lambda: 2)
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    assert forking.fork_allowed(processes.PROCESS_ENV)
    monkeypatch.setenv(processes.PROCESS_ENV, "0")
    assert not forking.fork_allowed(processes.PROCESS_ENV)
    monkeypatch.delenv(processes.PROCESS_ENV)
    monkeypatch.setattr(threading, "active_count", lambda: 2)  # e.g. `run` importing the report libraries
    assert not forking.fork_allowed(processes.PROCESS_ENV)
