"""Benchmark the collector against vcsim (not a test).

Measures in one run, against one simulator with N VMs:

  (a) naive  - a pyVmomi loop reading the same properties object by object,
               attribute by attribute (what many community scripts do); on a
               sample of VMs when N is large, extrapolated linearly (and said so)
  (b) bulk   - one raw ContainerView + RetrievePropertiesEx/Continue pass over
               the same property paths, results iterated and dropped: the floor
  (c) ours   - reporter.collect.collect()
(b) and (c) each run in a fresh child process that reports its own wall time and
peak RSS.

    python benchmarks/collect.py [--vms 10000] [--delay-ms 5] [--naive-sample 200]

Needs Go and Debian's govmomi sources (see tests/vcsim/). Targets (issue 3):
(c)/(b) <= 1.2, (a)/(c) >= 20 with 5 ms delay, peak RSS of (c) <= 400 MB at 10k VMs.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from pyVim.connect import Disconnect, SmartConnect  # noqa: E402
from pyVmomi import vim, vmodl  # noqa: E402

from reporter.collect import DEFAULT_PAGE_SIZE, convert  # noqa: E402
from vcsim_harness import Vcsim, VcsimLauncher, build_launcher, make_tls_files  # noqa: E402

PC = vmodl.query.PropertyCollector

# The same object types and property paths reporter.collect reads.
READS: list[tuple[type, list[str]]] = [
    (vim.Folder, convert.FOLDER_PATHS),
    (vim.Datacenter, convert.FOLDER_PATHS),
    (vim.ClusterComputeResource, convert.CLUSTER_PATHS),
    (vim.HostSystem, convert.HOST_PATHS),
    (vim.Datastore, convert.DATASTORE_PATHS),
    (vim.VirtualMachine, convert.VM_PATHS),
]


def connect(sim: Vcsim) -> Any:
    return SmartConnect(host=sim.host, port=sim.port, user=sim.user, pwd=sim.password,
                        sslContext=sim.ssl_context(), httpConnectionTimeout=600)


def connect_config(config: Path) -> Any:
    from reporter.collect.session import ssl_context
    from reporter.config import load_config

    (vc,) = load_config(config).vcenter
    return SmartConnect(host=vc.host, port=vc.port, user=vc.user, pwd=vc.resolve_password(vc.name),
                        sslContext=ssl_context(vc), httpConnectionTimeout=600)


def raw_bulk(config: Path, page_size: int) -> dict[str, Any]:
    """(b): login, one paged bulk read per type of the same paths, logout."""
    t0 = time.perf_counter()
    si = connect_config(config)
    content = si.RetrieveContent()
    pc = content.propertyCollector
    objects = 0
    for vimtype, paths in READS:
        view = content.viewManager.CreateContainerView(content.rootFolder, [vimtype], True)
        spec = PC.FilterSpec(
            objectSet=[PC.ObjectSpec(obj=view, skip=True, selectSet=[
                PC.TraversalSpec(name="v", path="view", skip=False, type=vim.view.ContainerView)])],
            propSet=[PC.PropertySpec(type=vimtype, pathSet=paths)])
        result = pc.RetrievePropertiesEx([spec], PC.RetrieveOptions(maxObjects=page_size))
        while result is not None:
            objects += len(result.objects)
            token = result.token
            result = pc.ContinueRetrievePropertiesEx(token) if token else None
        view.DestroyView()
    Disconnect(si)
    return {"seconds": time.perf_counter() - t0, "objects": objects}


def ours(config: Path, page_size: int, out: Path) -> dict[str, Any]:
    """(c): reporter.collect.collect(), then (timed apart) writing the snapshot."""
    from reporter.collect import collect
    from reporter.config import load_config
    from reporter.snapshot_io import save

    cfg = load_config(config)
    t0 = time.perf_counter()
    snap = collect(cfg, progress=False, page_size=page_size)
    took = time.perf_counter() - t0
    t1 = time.perf_counter()
    save(snap, out)
    return {"seconds": took, "save_seconds": time.perf_counter() - t1, "vms": snap.vm_count(),
            "errors": len(snap.collection_errors)}


def in_child(mode: str, config: Path, page_size: int, workdir: Path) -> dict[str, Any]:
    """Run (b) or (c) in a fresh interpreter: both pay pyVmomi's lazy type loading as a
    real ``vcreport collect`` does, and the peak RSS measured is that run's own."""
    out = subprocess.run(
        [sys.executable, __file__, "--child", mode, "--config", str(config), "--page-size", str(page_size),
         "--out", str(workdir / "snapshot.json.gz")],
        capture_output=True, text=True, env=dict(os.environ),
    )
    if out.returncode != 0:
        raise SystemExit(f"child {mode} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def child_main(args: argparse.Namespace) -> int:
    if args.child == "bulk":
        result = raw_bulk(args.config, args.page_size)
    else:
        result = ours(args.config, args.page_size, args.out)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    result["maxrss_mb"] = usage.ru_maxrss / 1024
    result["cpu_seconds"] = usage.ru_utime + usage.ru_stime  # the whole child, imports included
    print(json.dumps(result))
    return 0


def _read_path(obj: Any, path: str) -> Any:
    value = obj
    for part in path.split("."):
        if value is None:
            return None
        value = getattr(value, part, None)
    return value


def naive(sim: Vcsim, sample: int) -> dict[str, Any]:
    """(a): one lazy pyVmomi attribute access per property path and object.

    Every first attribute of a path on a managed object is one server call
    (pyVmomi fetches it on access), as in a typical per-object script.
    """
    si = connect(sim)
    content = si.RetrieveContent()
    timings: dict[str, Any] = {}
    for vimtype, paths in READS:
        view = content.viewManager.CreateContainerView(content.rootFolder, [vimtype], True)
        objs = list(view.view)
        view.DestroyView()
        chosen = objs if vimtype is not vim.VirtualMachine else objs[:sample]
        t0 = time.perf_counter()
        for obj in chosen:
            for path in paths:
                _read_path(obj, path)
        took = time.perf_counter() - t0
        per_object = took / len(chosen) if chosen else 0.0
        name = vimtype.__name__.rsplit(".", 1)[-1]  # "vim.VirtualMachine" -> "VirtualMachine"
        timings[name] = {"measured": len(chosen), "total": len(objs), "seconds": took,
                         "extrapolated": per_object * len(objs)}
    Disconnect(si)
    timings["total_extrapolated"] = sum(t["extrapolated"] for t in timings.values() if isinstance(t, dict))
    return timings


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vms", type=int, default=10_000)
    ap.add_argument("--clusters", type=int, default=10)
    ap.add_argument("--hosts", type=int, default=8, help="hosts per cluster")
    ap.add_argument("--delay-ms", type=int, default=0, help="vcsim delay per SOAP call (simulated WAN)")
    ap.add_argument("--naive-sample", type=int, default=200, help="VMs read by the naive loop (0 = all)")
    ap.add_argument("--page-size", type=int, default=DEFAULT_PAGE_SIZE)
    ap.add_argument("--repeat", type=int, default=3, help="interleaved runs of (b) and (c); the fastest of each is kept")
    ap.add_argument("--json", type=Path, help="also write the results here")
    ap.add_argument("--child", choices=["bulk", "ours"], help=argparse.SUPPRESS)
    ap.add_argument("--config", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        return child_main(args)

    workdir = Path(tempfile.mkdtemp(prefix="vcreport-bench-"))
    launcher = VcsimLauncher(binary=build_launcher(), tls=make_tls_files(workdir / "tls"), workdir=workdir)
    t0 = time.perf_counter()
    sim = launcher.start(vms=args.vms, clusters=args.clusters, hosts=args.hosts, standalone=0,
                         delay_ms=args.delay_ms, timeout_s=1800)
    print(f"vcsim with {args.vms:,} VMs, {args.clusters * args.hosts} hosts, delay {args.delay_ms} ms: "
          f"started in {time.perf_counter() - t0:.1f} s", flush=True)
    try:
        config = sim.config_file(workdir, timeout_s=600)
        bulk_runs, our_runs = [], []
        for _ in range(max(1, args.repeat)):
            bulk_runs.append(in_child("bulk", config, args.page_size, workdir))
            print(f"  (b) bulk: {bulk_runs[-1]['seconds']:.2f} s ({bulk_runs[-1]['objects']:,} objects), "
                  f"client CPU {bulk_runs[-1]['cpu_seconds']:.2f} s, peak RSS {bulk_runs[-1]['maxrss_mb']:.0f} MB",
                  flush=True)
            our_runs.append(in_child("ours", config, args.page_size, workdir))
            print(f"  (c) ours: {our_runs[-1]['seconds']:.2f} s, client CPU {our_runs[-1]['cpu_seconds']:.2f} s, "
                  f"peak RSS {our_runs[-1]['maxrss_mb']:.0f} MB", flush=True)
        sample = args.naive_sample or args.vms
        naive_t = naive(sim, sample)
        print(f"  (a) naive: {naive_t['total_extrapolated']:.1f} s (extrapolated)", flush=True)
    finally:
        launcher.stop_all()
        shutil.rmtree(workdir, ignore_errors=True)

    bulk = min(r["seconds"] for r in bulk_runs)
    best = min(our_runs, key=lambda r: r["seconds"])
    vm_t = naive_t["VirtualMachine"]
    result = {
        "vms": args.vms, "hosts": args.clusters * args.hosts, "delay_ms": args.delay_ms,
        "page_size": args.page_size, "repeat": args.repeat,
        "naive_s": naive_t["total_extrapolated"], "naive_vm_sample": vm_t["measured"],
        "bulk_s": bulk, "ours_s": best["seconds"], "ours_save_s": best["save_seconds"],
        "ours_peak_rss_mb": max(r["maxrss_mb"] for r in our_runs),
        "ours_vms": best["vms"], "ours_errors": best["errors"],
        "bulk_cpu_s": min(r["cpu_seconds"] for r in bulk_runs),
        "ours_cpu_s": min(r["cpu_seconds"] for r in our_runs),
        "ratio_ours_bulk": best["seconds"] / bulk, "ratio_naive_ours": naive_t["total_extrapolated"] / best["seconds"],
    }
    extrap = "" if vm_t["measured"] == vm_t["total"] else (
        f" (VM part measured on {vm_t['measured']:,} of {vm_t['total']:,} VMs in {vm_t['seconds']:.1f} s, "
        f"extrapolated linearly)")
    print()
    print("| VMs | delay | (a) naive | (b) bulk | (c) ours | (c)/(b) | (a)/(c) | peak RSS (c) |")
    print("|---|---|---|---|---|---|---|---|")
    print(f"| {args.vms:,} | {args.delay_ms} ms | {result['naive_s']:.1f} s | {bulk:.2f} s | {best['seconds']:.2f} s "
          f"| {result['ratio_ours_bulk']:.2f} | {result['ratio_naive_ours']:.0f} | {result['ours_peak_rss_mb']:.0f} MB |")
    print(f"\n(a){extrap}; (c) collected {best['vms']:,} VMs with {best['errors']} collection errors; "
          f"writing the gzip snapshot took another {best['save_seconds']:.2f} s. Client CPU (whole child "
          f"process): (b) {result['bulk_cpu_s']:.2f} s, (c) {result['ours_cpu_s']:.2f} s. Fastest of "
          f"{args.repeat} interleaved runs each.")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
