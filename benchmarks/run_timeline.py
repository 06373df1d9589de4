"""The timeline of one ``vcreport run`` (not a test): what runs in which process and thread, when,
and the CPU seconds on the critical path after the collect.

    python benchmarks/run_timeline.py --config RUN.toml [--src DIR ...] [--repeat 3]

Each ``--src`` (default: this checkout) is a tree whose ``reporter`` package is run, interleaved
``--repeat`` times, as ``vcreport run --config RUN.toml`` with its stages wrapped: the collect, the
snapshot's save, the previous snapshot's read, the checks, the masking, the fork of each PDF process,
every format's render (in the parent or the child) and every garbage-collector pass over 20 ms of CPU.
The config needs its vCenter's password in the environment, as for ``vcreport run``.

"Critical path after the collect" = the main process's CPU from the end of the collect to the fork
of the PDF process, plus that process's CPU: on a machine with a core for each, the wall time from
the collect's end to the run's end (the parent's own formats are shorter than the PDF). CPU, unlike
wall time, is little disturbed by other jobs on the machine.
"""

from __future__ import annotations

import argparse
import atexit
import functools
import gc
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TRACE_ENV, START_ENV = "VCREPORT_TIMELINE_FILE", "VCREPORT_TIMELINE_T0"
GC_SHOWN = 0.02  # CPU seconds: collector passes shorter than this are left out


def _log(label: str, start: float, end: float, cpu: float) -> None:
    with open(os.environ[TRACE_ENV], "a", encoding="utf-8") as f:
        f.write(json.dumps({"pid": os.getpid(), "thread": threading.current_thread().name, "label": label,
                            "start": start - float(os.environ[START_ENV]),
                            "end": end - float(os.environ[START_ENV]), "cpu": cpu,
                            "process_cpu": time.process_time()}) + "\n")


def _traced(label: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start, cpu = time.time(), time.thread_time()
        try:
            return fn(*args, **kwargs)
        finally:
            _log(label, start, time.time(), time.thread_time() - cpu)
    return wrapper


def _wrap(owner: object, name: str, wrapper: Callable[[Any], Any]) -> None:
    """Replace ``owner.name`` by ``wrapper(owner.name)``."""
    setattr(owner, name, wrapper(getattr(owner, name)))


def _traced_lookup(get: Callable[[str], Any]) -> Callable[[str], Any]:
    return lambda name: _TracedRenderer(get(name), name)


class _TracedRenderer:
    def __init__(self, renderer: Any, name: str) -> None:
        self.renderer, self.name = renderer, name

    def render(self, ctx: Any, out_dir: Path) -> Any:
        return _traced(f"render {self.name}", self.renderer.render)(ctx, out_dir)


def child(argv: list[str]) -> None:
    """``vcreport run`` in this process, its stages wrapped (the package on sys.path: PYTHONPATH)."""
    import reporter.collect
    import reporter.pipeline.parallel as parallel
    import reporter.pipeline.report as report
    import reporter.pipeline.run as run
    from reporter.render.base import ReportContext

    stages: list[tuple[object, str, str]] = [
        (reporter.collect, "collect", "collect"), (run, "_keep", "_keep"), (run, "_load_previous", "_load_previous"),
        (run, "previous_findings_in", "previous_findings_in"), (report, "check_with_context", "checks"),
        (ReportContext, "masked", "masking"), (parallel, "start", "fork"),
        (parallel.BackgroundRender, "wait", "waiting for the child")]
    for owner, name, label in stages:
        _wrap(owner, name, functools.partial(_traced, label))
    for module in (report, parallel):
        _wrap(module, "get_renderer", _traced_lookup)
    passes: dict[str, float] = {}

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            passes["start"], passes["cpu"] = time.time(), time.thread_time()
        elif "start" in passes and time.thread_time() - passes["cpu"] > GC_SHOWN:
            _log(f"gc generation {info['generation']}", passes["start"], time.time(), time.thread_time() - passes["cpu"])

    gc.callbacks.append(on_gc)
    atexit.register(lambda: _log("exit", time.time(), time.time(), 0.0))
    sys.argv = ["vcreport", "run", *argv]
    from reporter.cli import entry

    entry()


def _critical_path(rows: list[dict[str, Any]]) -> dict[str, float]:
    main = rows[0]["pid"]

    def first(label: str, pid: int | None = main) -> dict[str, Any]:
        return next(r for r in rows if r["label"] == label and (pid is None or r["pid"] == pid))

    collect, end = first("collect"), first("exit")
    out = {"collect_cpu": collect["process_cpu"], "wall_after_collect": end["end"] - collect["end"],
           "gc_after_collect_cpu": sum(r["cpu"] for r in rows if r["pid"] == main and r["label"].startswith("gc")
                                       and r["start"] >= collect["end"] - 0.01)}
    fork = next((r for r in rows if r["label"] == "fork" and r["pid"] == main), None)
    pdf = next((r for r in rows if r["label"] == "render pdf" and r["pid"] != main), None)
    if fork is not None and pdf is not None:
        out["to_fork_cpu"] = fork["process_cpu"] - collect["process_cpu"]
        out["pdf_child_cpu"] = pdf["process_cpu"]
        out["critical_cpu"] = out["to_fork_cpu"] + out["pdf_child_cpu"]
    return out


def _show(rows: list[dict[str, Any]]) -> None:
    main = rows[0]["pid"]
    for r in sorted(rows, key=lambda r: r["start"]):
        who = "main" if r["pid"] == main else f"child {r['pid']}"
        print(f"    {who:12} {r['thread'][:24]:24} {r['label']:24} {r['start']:7.2f} → {r['end']:7.2f} s "
              f"(thread CPU {r['cpu']:.2f} s)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", required=True, help="the config of the run (its [output] dir is the run's)")
    ap.add_argument("--src", action="append", help="a tree whose reporter package to run (repeatable)")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--quiet", action="store_true", help="no timelines, only the critical paths")
    if sys.argv[1:2] == ["--child"]:  # the traced run itself
        child(sys.argv[2:])
        return
    args = ap.parse_args()
    trees = [Path(s).resolve() for s in args.src or [str(ROOT)]]
    with tempfile.TemporaryDirectory(prefix="vcreport-timeline-") as tmp:
        for i in range(args.repeat):
            for tree in trees:
                trace = Path(tmp) / f"{i}-{len(str(tree))}.jsonl"
                env = {**os.environ, "PYTHONPATH": str(tree), TRACE_ENV: str(trace), START_ENV: repr(time.time()),
                       "PYTHONWARNINGS": "ignore"}
                proc = subprocess.run([sys.executable, __file__, "--child", "--config", args.config], env=env,
                                      cwd=tmp, capture_output=True, text=True, check=False)
                if proc.returncode not in (0, 3):
                    raise SystemExit(f"vcreport run ({tree}) failed:\n{proc.stderr[-2000:]}")
                rows = [json.loads(line) for line in trace.read_text(encoding="utf-8").splitlines()]
                crit = _critical_path(rows)
                print(f"run {i + 1}, {tree}: " + ", ".join(f"{k} {v:.2f}" for k, v in crit.items())
                      + f" (load {os.getloadavg()[0]:.1f})", flush=True)
                if not args.quiet:
                    _show(rows)


if __name__ == "__main__":
    main()
