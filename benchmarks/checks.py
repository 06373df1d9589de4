"""CPU of loading a snapshot and of the checks at fleet size, before / after (not a test).

    python benchmarks/checks.py [--vms 10000] [--repeat 2] [--before-src DIR] [--snapshot FILE | --sample-copies N]

The synthetic snapshot of ``benchmarks/report.py`` (``--vms`` VMs; or ``--snapshot FILE``, e.g. one
collected from vcsim; or ``--sample-copies 25``: the bundled sample's VMs 25 times over, ~10,000
VMs shaped like collected ones, with layouts, extraConfig and snapshot trees) is saved once; then each tree (``--before-src DIR``, a checkout of an earlier
commit, and this one) runs in a fresh process, interleaved ``--repeat`` times, and measures what
``vcreport report`` does before rendering:

- load: ``snapshot_io.load`` of the gzip file;
- checks: the checks and tables (``check_with_context``), the delta against the same findings and
  the masked report context (``ReportContext.masked``), with the collector paused as the pipeline
  runs them.

CPU seconds (``time.process_time``) are what counts on a shared machine; wall seconds are printed
beside them. Imports (the check families) are done before the clocks start. Each child also prints
a digest of its findings (id, fingerprint, group, severity, status, message, evidence) and of its
tables, so a faster tree that changed a result shows up here as a different digest.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def child(snapshot: str) -> None:
    """Load and check ``snapshot`` with the reporter package first on sys.path; print JSON."""
    from reporter.checks import load_all
    from reporter.core import snapshot_io
    from reporter.core.gcpolicy import paused_gc
    from reporter.pipeline.report import check_with_context, compute_delta
    from reporter.render.base import ReportContext

    load_all()
    t0, c0 = time.perf_counter(), time.process_time()
    snap = snapshot_io.load(snapshot)
    t1, c1 = time.perf_counter(), time.process_time()
    with paused_gc():  # as reporter.pipeline.report runs the checks, the delta and the masking
        results, tables, ctx = check_with_context(snap)
        delta = compute_delta(results.findings, results.findings, snap)
        masked = ReportContext(snapshot=snap, results=results, tables=tables, tool_version="bench", delta=delta,
                               licensing=ctx.licensing).masked()
    t2, c2 = time.perf_counter(), time.process_time()
    digest = hashlib.sha256()
    for f in masked.results.findings:
        digest.update(f.model_dump_json().encode())
    for t in masked.tables:
        digest.update(json.dumps([t.id, t.title, t.note, t.columns, [list(r) for r in t.rows]], default=str).encode())
    print(json.dumps({"load_cpu": c1 - c0, "load_wall": t1 - t0, "checks_cpu": c2 - c1, "checks_wall": t2 - t1,
                      "findings": len(results.findings), "digest": digest.hexdigest()[:16],
                      "src": str(Path(sys.modules["reporter"].__file__ or "").parent.parent)}))


def sample_copies(n: int) -> Any:
    """The bundled sample with each vCenter's VMs ``n`` times (copies renamed ``<name>-<i>``)."""
    from reporter import api

    snap = api.load_snapshot(str(api.find_sample("sample-snapshot.json.gz")))
    vcenters = {}
    for uuid, vc in snap.vcenters.items():
        vms = {}
        for i in range(n):
            for moid, vm in vc.vms.items():
                copy = f"{moid}-{i}" if i else moid
                vms[copy] = vm.model_copy(update={"moid": copy, "name": f"{vm.name}-{i}" if i else vm.name})
        vcenters[uuid] = vc.model_copy(update={"vms": vms})
    return snap.model_copy(update={"vcenters": vcenters})


def measure(snapshot: Path, src: Path | None) -> dict[str, Any]:
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    if src is not None:
        env["PYTHONPATH"] = str(src) + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run([sys.executable, __file__, "--child", str(snapshot)], capture_output=True, text=True,
                          check=False, env=env, cwd=tempfile.gettempdir())
    if proc.returncode != 0:
        raise SystemExit(f"child ({src or 'this tree'}) failed:\n{proc.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--vms", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--before-src", metavar="DIR", help="a checkout of an earlier commit, measured interleaved")
    ap.add_argument("--snapshot", metavar="FILE", help="measure this snapshot instead of the synthetic one")
    ap.add_argument("--sample-copies", type=int, metavar="N", help="measure the sample with its VMs N times over")
    ap.add_argument("--child", metavar="SNAPSHOT", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child)
        return
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "benchmarks"))
    variants: list[tuple[str, Path | None]] = [("after", ROOT)]
    if args.before_src:
        variants.insert(0, ("before", Path(args.before_src).resolve()))
    with tempfile.TemporaryDirectory() as tmp:
        if args.snapshot:
            snapshot = Path(args.snapshot).resolve()
            label = snapshot.name
        elif args.sample_copies:
            from reporter.core import snapshot_io

            snapshot = Path(tmp) / f"sample-x{args.sample_copies}.json.gz"
            snap = sample_copies(args.sample_copies)
            snapshot_io.save(snap, snapshot)
            label = f"the sample's VMs {args.sample_copies}x over, {snap.vm_count():,} VMs"
        else:
            from report import synthetic  # benchmarks/report.py: the same 10,000-VM fleet

            from reporter.core import snapshot_io

            snapshot = Path(tmp) / f"synthetic-{args.vms}.json.gz"
            snapshot_io.save(synthetic(args.vms), snapshot)
            label = f"synthetic, {args.vms:,} VMs"
        runs: dict[str, list[dict[str, Any]]] = {name: [] for name, _ in variants}
        for i in range(max(1, args.repeat)):
            for name, src in variants:
                r = measure(snapshot, src)
                runs[name].append(r)
                print(f"  run {i + 1} {name:<6} load cpu {r['load_cpu']:5.2f} s (wall {r['load_wall']:5.2f})  "
                      f"checks cpu {r['checks_cpu']:5.2f} s (wall {r['checks_wall']:5.2f})  {r['findings']:,} "
                      f"findings, digest {r['digest']}  ({r['src']})", file=sys.stderr, flush=True)
    load = os.getloadavg()
    print(f"\n{label}; best of {args.repeat}, interleaved; load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}\n")
    print("| tree | load CPU s | load wall s | checks CPU s | checks wall s | findings | digest |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for name, rs in runs.items():
        print(f"| {name} | {min(r['load_cpu'] for r in rs):.2f} | {min(r['load_wall'] for r in rs):.2f} | "
              f"{min(r['checks_cpu'] for r in rs):.2f} | {min(r['checks_wall'] for r in rs):.2f} | "
              f"{rs[0]['findings']:,} | {rs[0]['digest']} |")
    if len({r["digest"] for rs in runs.values() for r in rs}) > 1:
        print("\nDIGESTS DIFFER: the trees do not give the same findings and tables", file=sys.stderr)
        raise SystemExit(1)


if __name__ == "__main__":
    main()
