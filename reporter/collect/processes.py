"""Many vCenters on every core: the vCenters shared between this process and forked children.

Threads overlap one vCenter's waiting with another's conversion, but the conversion is Python
and holds the GIL: with a dozen vCenters answering at once, one core converts them all while the
other waits. So when several vCenters are read together (``[collect] workers`` > 1, at least
``MIN_PER_PROCESS`` vCenters a process), on a machine with two or more usable cores, the
vCenters are dealt out round-robin to as many processes as there are cores: this one and forked
children, each reading its share on its own threads, sessions and progress lines, as before.

A child sends each vCenter's result (the collected vCenter and its errors, or the vCenter's
``CollectionError``) as soon as it is done; a thread of this process receives and unpickles it
while this process reads its own share. Nothing is sent to a child: it starts as a copy of this
process, the passwords already in memory (nothing secret crosses a pipe or the disk). A child
that dies or cannot send costs only time: this process reads the vCenters it did not send.

Not used when a thread other than the main one is alive (a fork would copy that thread's locks
held), when fork is unavailable, or with ``VCREPORT_PARALLEL_COLLECT=0``.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from multiprocessing.connection import Connection
from typing import Any, TypeVar

from reporter.collect import heap
from reporter.core.forking import die_with, fork_allowed, usable_cores
from reporter.core.gcpolicy import paused_gc

log = logging.getLogger(__name__)

PROCESS_ENV = "VCREPORT_PARALLEL_COLLECT"
# A process of its own pays for itself only with a few vCenters to read: below this many in a
# share, the child's start and the results' pickling cost more than the second core gives.
MIN_PER_PROCESS = 2

J = TypeVar("J")
R = TypeVar("R")


def process_count(jobs: int, workers: int) -> int:
    """How many processes read ``jobs`` vCenters, ``workers`` at a time (1: this one alone)."""
    if workers < 2 or jobs < 2 * MIN_PER_PROCESS or not fork_allowed(PROCESS_ENV):
        return 1
    return max(1, min(usable_cores(), jobs // MIN_PER_PROCESS, workers))


def run_shared(jobs: list[J], one: Callable[[J], R], *, workers: int, processes: int,
               threads: Callable[[list[J], Callable[[J], R], int], list[R]],
               finish: Callable[[], None] | None = None) -> list[R]:
    """``one(job)`` for every job, in order, ``workers`` at a time over ``processes`` processes.

    ``threads(jobs, one, workers)`` reads one process's share on its threads and returns the
    results in order (``one`` never raises: a vCenter's failure is its result). ``finish()``
    runs in each child once it has sent its results (the sessions' logouts, which its results
    did not wait for); the children have ended when this returns.
    """
    with paused_gc():  # also while the children's results are unpickled here (see _child)
        return _run_shared(jobs, one, workers=workers, processes=processes, threads=threads, finish=finish)


def _run_shared(jobs: list[J], one: Callable[[J], R], *, workers: int, processes: int,
                threads: Callable[[list[J], Callable[[J], R], int], list[R]],
                finish: Callable[[], None] | None = None) -> list[R]:
    shares = [list(range(p, len(jobs), processes)) for p in range(processes)]
    per_process = max(1, -(-workers // processes))  # ceil: the workers spread over the processes
    results: dict[int, R] = {}
    children: list[tuple[multiprocessing.process.BaseProcess, threading.Thread]] = []
    ctx = multiprocessing.get_context("fork")
    for share in shares[1:]:
        receive, send = ctx.Pipe(duplex=False)
        parent = os.getpid()
        child = ctx.Process(target=_child, args=(send, receive, parent, [(i, jobs[i]) for i in share], one,
                                                 per_process, finish), name="vcreport-collect", daemon=True)
        child.start()
        send.close()
        receiver = threading.Thread(target=_receive, args=(receive, results), name="vcreport-collect-receive",
                                    daemon=True)
        receiver.start()
        children.append((child, receiver))
    own = shares[0]
    try:
        for i, result in zip(own, threads([jobs[i] for i in own], one, per_process), strict=True):
            results[i] = result
    except BaseException:  # Ctrl-C, SIGTERM: the children stop with this process's share
        for process, _ in children:
            process.kill()
            process.join()
        raise
    for process, receiver in children:
        receiver.join()
        process.join()
    missing = [i for i in range(len(jobs)) if i not in results]
    if missing:  # a child died or could not send these: read them here
        log.warning("a collection process ended before it sent %d vCenter(s); reading them in this process",
                    len(missing))
        for i, result in zip(missing, threads([jobs[i] for i in missing], one, per_process), strict=True):
            results[i] = result
    return [results[i] for i in range(len(jobs))]


def _child(send: Connection, receive: Connection, parent: int, share: list[tuple[int, Any]],
           one: Callable[[Any], Any], workers: int, finish: Callable[[], None] | None = None) -> None:
    receive.close()
    die_with(parent)
    # Ctrl-C reaches the whole process group: the parent handles it (one line) and ends this child;
    # a stop handler the parent installed for SIGTERM is not this process's either.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    # As on the parent's threads: automatic collection off (each page frees its own cycles) and
    # the threads' malloc arenas shared.
    with paused_gc(), heap.shared_arenas(), ThreadPoolExecutor(max_workers=workers, thread_name_prefix="collect") as pool:
        futures = {pool.submit(one, job): i for i, job in share}
        for future in as_completed(futures):
            try:
                send.send((futures[future], future.result()))
            except Exception:  # unpicklable or a broken pipe: the parent reads this vCenter itself
                log.debug("collection result not sent", exc_info=True)
    send.close()
    if finish is not None:
        finish()


def _receive(receive: Connection, results: dict[int, Any]) -> None:
    try:
        while True:
            i, result = receive.recv()
            results[i] = result
    except (EOFError, OSError):  # the child is done (or gone: what it did not send is read again)
        pass
    except Exception:  # a result that does not unpickle: read again by the parent
        log.debug("collection result not received", exc_info=True)
    finally:
        receive.close()
