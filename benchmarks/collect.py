"""Benchmark the collector against vcsim (not a test).

Measures in one run, against one simulator with N VMs:

  (a) naive    - a pyVmomi loop reading the same properties object by object,
                 attribute by attribute (what many community scripts do); on a
                 sample of VMs when N is large, extrapolated linearly (and said so)
  (b) bulk     - one pyVmomi ContainerView + RetrievePropertiesEx/Continue pass over
                 the same property paths, results iterated and dropped: the pyVmomi
                 floor (pyVmomi deserializing the replies is most of it)
  (t) transfer - the same requests sent raw (reporter.collect.rawsoap), reply bytes
                 received and dropped, no parsing: what the wire and the server cost
  (c) fast     - reporter.collect.collect() with the default engine (raw SOAP + lxml)
  (p) pyvmomi  - reporter.collect.collect(engine="pyvmomi"), the reference engine
(b), (t), (c) and (p) each run in a fresh child process that reports its own wall time
and peak RSS; they run interleaved, --repeat times, and the fastest run of each is kept.

And, on that simulator (pages of --page-size) and on a second one with the same
inventory that answers every read in one page whatever maxObjects says (vcsim's
-single-page, as unpatched govmomi 0.24 and some vCenters do):

  (g) Go       - benchmarks/go_peer: govmomi's view.Retrieve of the VM properties
                 reporter.collect reads (one RetrieveProperties call, decoded into
                 []mo.VirtualMachine), built from Debian's govmomi like tests/vcsim/
  (v) process  - the whole ``vcreport collect`` process (start-up, imports, collect,
                 writing the gzip snapshot): wall time and peak RSS from wait4()
These run interleaved with the others; ``--before-src DIR`` adds (v) runs of another
checkout of the package (e.g. ``git archive`` of an older commit) for a before/after.

    python benchmarks/collect.py [--vms 10000] [--delay-ms 5] [--naive-sample 200]

Needs Go and Debian's govmomi sources (see tests/vcsim/). Targets: (c)/(b) < 0.3,
(v)/(g) <= 0.7 (stretch 0.5), peak RSS of (v) <= 250 MB single-page and <= 200 MB
paged at 10k VMs; issue 3's (a)/(c) >= 20 with 5 ms delay.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
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
from vcsim_harness import CACHE_DIR, GOPATH, Vcsim, VcsimLauncher, build_launcher, make_tls_files  # noqa: E402  # noqa: E402

from reporter.collect import DEFAULT_PAGE_SIZE, convert  # noqa: E402

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


_TOKEN = re.compile(rb"<token>([^<]*)</token>")


def transfer(config: Path, page_size: int) -> dict[str, Any]:
    """(t): login, the same requests as (b) sent raw, reply bytes dropped unparsed, logout.

    The continuation token is cut out of the bytes with a regular expression (the only
    look at the reply); requests are sequential, one page after the other, like (b).
    """
    from reporter.collect.rawsoap import RawSoap
    from reporter.collect.retrieve import _filter_spec

    t0 = time.perf_counter()
    si = connect_config(config)
    content = si.RetrieveContent()
    pc = content.propertyCollector
    raw = RawSoap(si._stub)
    received = 0
    pages = 0
    for vimtype, paths in READS:
        view = content.viewManager.CreateContainerView(content.rootFolder, [vimtype], True)
        info, req = raw.request(pc, "RetrievePropertiesEx", [[_filter_spec(view, vimtype, paths)],
                                                            PC.RetrieveOptions(maxObjects=page_size)])
        while True:
            body = raw.invoke(pc, info, req)
            received += len(body)
            pages += 1
            m = _TOKEN.search(body)
            if not m:
                break
            info, req = raw.request(pc, "ContinueRetrievePropertiesEx", [m.group(1).decode()])
        view.DestroyView()
    Disconnect(si)
    return {"seconds": time.perf_counter() - t0, "bytes": received, "pages": pages}


def ours(config: Path, page_size: int, out: Path, engine: str) -> dict[str, Any]:
    """(c)/(p): reporter.collect.collect() with one engine, then (timed apart) writing the snapshot."""
    from reporter.collect import collect
    from reporter.config import load_config
    from reporter.core.snapshot_io import save

    cfg = load_config(config)
    t0 = time.perf_counter()
    snap = collect(cfg, progress=False, page_size=page_size, engine=engine)
    took = time.perf_counter() - t0
    t1 = time.perf_counter()
    save(snap, out)
    return {"seconds": took, "save_seconds": time.perf_counter() - t1, "vms": snap.vm_count(),
            "errors": len(snap.collection_errors)}


def in_child(mode: str, config: Path, page_size: int, workdir: Path) -> dict[str, Any]:
    """Run one mode in a fresh interpreter: each pays pyVmomi's lazy type loading as a
    real ``vcreport collect`` does, and the peak RSS measured is that run's own."""
    out = subprocess.run(
        [sys.executable, __file__, "--child", mode, "--config", str(config), "--page-size", str(page_size),
         "--out", str(workdir / "snapshot.json.gz")],
        capture_output=True, text=True, env=dict(os.environ),
    )
    if out.returncode != 0:
        raise SystemExit(f"child {mode} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


GO_PEER_SRC = ROOT / "benchmarks" / "go_peer"


def build_go_peer() -> Path:
    """Build (or reuse) benchmarks/go_peer, cached by a hash of its source (never committed)."""
    go = shutil.which("go")
    if go is None:
        raise SystemExit("the Go peer needs the Go toolchain (apt-get install golang-go)")
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in sorted(GO_PEER_SRC.glob("*.go")))).hexdigest()[:16]
    binary = CACHE_DIR / f"go-peer-{digest}"
    if binary.exists():
        return binary
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, GO111MODULE="off", GOPATH=str(GOPATH))
    env.setdefault("GOCACHE", str(CACHE_DIR / "go-build"))
    tmp = binary.with_name(f"{binary.name}.{os.getpid()}.tmp")
    proc = subprocess.run([go, "build", "-o", str(tmp), "."], cwd=GO_PEER_SRC, env=env, capture_output=True,
                          text=True, timeout=600, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"building the Go peer failed:\n{proc.stderr[-4000:]}")
    os.replace(tmp, binary)
    return binary


def run_measured(args: list[str], env: dict[str, str] | None = None,
                 cwd: Path | None = None) -> tuple[float, float, float, str]:
    """Run a process; its wall time (s), its own peak RSS (MB), CPU time (s) and stdout.

    The peak RSS comes from GNU time (Debian package ``time``): a child forked from this
    process and then exec'd reports this process's RSS as its own peak (Linux carries
    the high-water mark across exec), a child of the small ``time`` process does not.
    """
    gnu_time = shutil.which("time", path="/usr/bin:/bin")
    if gnu_time is None:
        raise SystemExit("measuring a process's peak RSS needs GNU time (apt-get install time)")
    with tempfile.TemporaryDirectory() as tmp:
        rss_file = Path(tmp) / "maxrss"
        t0 = time.perf_counter()
        proc = subprocess.run([gnu_time, "-f", "%M %U %S", "-o", str(rss_file), *args], capture_output=True, env=env,
                              cwd=cwd, check=False)
        took = time.perf_counter() - t0
        if proc.returncode != 0:
            raise SystemExit(f"{args[0]} failed ({proc.returncode}):\n{proc.stderr.decode(errors='replace')[-3000:]}")
        maxrss_kb, user, system = rss_file.read_text().split()[-3:]
        return took, int(maxrss_kb) / 1024, float(user) + float(system), proc.stdout.decode()


def go_peer(binary: Path, sim: Vcsim) -> dict[str, Any]:
    """(g): the Go peer against one simulator."""
    env = dict(os.environ, VCREPORT_BENCH_GO_PASSWORD=sim.password)
    args = [str(binary), "-url", sim.url, "-user", sim.user, "-password-env", "VCREPORT_BENCH_GO_PASSWORD",
            "-props", ",".join(convert.VM_PATHS)]
    if sim.ca_bundle is not None:
        args += ["-ca", str(sim.ca_bundle)]
    took, rss, cpu, out = run_measured(args, env)
    result = json.loads(out.strip().splitlines()[-1])
    result.update(process_s=took, maxrss_mb=rss, cpu_seconds=cpu)
    return result


def cli_collect(config: Path, out: Path, src: Path) -> dict[str, Any]:
    """(v): the whole ``vcreport collect`` process, the package imported from ``src``
    (its working directory too: ``-m`` puts that first on the import path)."""
    env = dict(os.environ, PYTHONPATH=str(src))
    args = [sys.executable, "-m", "reporter.cli", "collect", "--config", str(config), "--out", str(out)]
    took, rss, cpu, _ = run_measured(args, env, cwd=src)
    return {"seconds": took, "maxrss_mb": rss, "cpu_seconds": cpu}


def child_main(args: argparse.Namespace) -> int:
    if args.child == "bulk":
        result = raw_bulk(args.config, args.page_size)
    elif args.child == "transfer":
        result = transfer(args.config, args.page_size)
    else:
        result = ours(args.config, args.page_size, args.out, engine=args.child)
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
    ap.add_argument("--naive-sample", type=int, default=200,
                    help="VMs read by the naive loop (0 = all, -1 = skip the naive loop)")
    ap.add_argument("--page-size", type=int, default=DEFAULT_PAGE_SIZE)
    ap.add_argument("--repeat", type=int, default=3,
                    help="interleaved runs of (b), (t), (c), (p); the fastest of each is kept")
    ap.add_argument("--modes", default=",".join(MODES),
                    help="which of bulk,transfer,fast,pyvmomi to run (default all; (g) and (v) always run)")
    ap.add_argument("--json", type=Path, help="also write the results here")
    ap.add_argument("--before-src", type=Path, action="append", default=[],
                    help="also time `vcreport collect` with the reporter package from this directory "
                         "(repeatable: before, before2, ...; the table shows the first)")
    ap.add_argument("--child", choices=["bulk", "transfer", "fast", "pyvmomi"], help=argparse.SUPPRESS)
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
    t0 = time.perf_counter()
    single = launcher.start(vms=args.vms, clusters=args.clusters, hosts=args.hosts, standalone=0,
                            delay_ms=args.delay_ms, timeout_s=1800, single_page=True)
    print(f"  and the same inventory answered in single pages: started in {time.perf_counter() - t0:.1f} s",
          flush=True)
    go_binary = build_go_peer()
    sources = {"after": ROOT, **{f"before{i + 1 if i else ''}": src.resolve() for i, src in enumerate(args.before_src)}}
    modes = [m for m in MODES if m in args.modes.split(",")]
    runs: dict[str, list[dict[str, Any]]] = {m: [] for m in modes}
    peer: dict[str, list[dict[str, Any]]] = {"paged": [], "single": []}
    procs: dict[tuple[str, str], list[dict[str, Any]]] = {(src, s): [] for src in sources for s in peer}
    try:
        config = sim.config_file(workdir, timeout_s=600)
        sims = {"paged": (sim, config), "single": (single, single.config_file(workdir, timeout_s=600))}
        for i in range(max(1, args.repeat)):
            for mode in modes:
                r = in_child(mode, config, args.page_size, workdir)
                runs[mode].append(r)
                extra = f", {r['bytes'] / 1e6:.1f} MB in {r['pages']} pages" if mode == "transfer" else ""
                print(f"  run {i + 1} {LABELS[mode]}: {r['seconds']:.2f} s, client CPU {r['cpu_seconds']:.2f} s, "
                      f"peak RSS {r['maxrss_mb']:.0f} MB{extra}", flush=True)
            for name, (inst, cfg_path) in sims.items():
                g = go_peer(go_binary, inst)
                peer[name].append(g)
                print(f"  run {i + 1} (g) Go view.Retrieve, {name}: {g['retrieve_s']:.2f} s "
                      f"({g['objects']:,} VMs; process {g['process_s']:.2f} s, CPU {g['cpu_seconds']:.2f} s), "
                      f"peak RSS {g['maxrss_mb']:.0f} MB",
                      flush=True)
                for src_name, src in sources.items():
                    v = cli_collect(cfg_path, workdir / "cli-snapshot.json.gz", src)
                    procs[(src_name, name)].append(v)
                    print(f"  run {i + 1} (v) vcreport collect process ({src_name}), {name}: {v['seconds']:.2f} s, "
                          f"CPU {v['cpu_seconds']:.2f} s, peak RSS {v['maxrss_mb']:.0f} MB", flush=True)
        naive_t = naive(sim, args.naive_sample or args.vms) if args.naive_sample >= 0 else None
        if naive_t:
            print(f"  (a) naive: {naive_t['total_extrapolated']:.1f} s (extrapolated)", flush=True)
    finally:
        launcher.stop_all()
        shutil.rmtree(workdir, ignore_errors=True)

    if modes != list(MODES):
        result = {"vms": args.vms, "page_size": args.page_size, "repeat": args.repeat, "bulk_s": None,
                  "modes": {m: {"seconds": min(r["seconds"] for r in rs), "cpu_s": min(r["cpu_seconds"] for r in rs),
                                "peak_rss_mb": max(r["maxrss_mb"] for r in rs)} for m, rs in runs.items()}}
        _peer_results(result, peer, procs)
        print_process_table(args, result, list(sources))
        if args.json:
            args.json.write_text(json.dumps(result, indent=2))
        return 0
    best = {m: min(rs, key=lambda r: r["seconds"]) for m, rs in runs.items()}
    bulk, xfer, fast, ref = (best[m]["seconds"] for m in MODES)
    result: dict[str, Any] = {
        "vms": args.vms, "hosts": args.clusters * args.hosts, "delay_ms": args.delay_ms,
        "page_size": args.page_size, "repeat": args.repeat,
        "bulk_s": bulk, "transfer_s": xfer, "transfer_mb": best["transfer"]["bytes"] / 1e6,
        "fast_s": fast, "pyvmomi_s": ref,
        "fast_save_s": best["fast"]["save_seconds"], "fast_vms": best["fast"]["vms"],
        "fast_errors": best["fast"]["errors"], "pyvmomi_vms": best["pyvmomi"]["vms"],
        "fast_peak_rss_mb": max(r["maxrss_mb"] for r in runs["fast"]),
        "pyvmomi_peak_rss_mb": max(r["maxrss_mb"] for r in runs["pyvmomi"]),
        "cpu_s": {m: min(r["cpu_seconds"] for r in runs[m]) for m in MODES},
        "all_runs_s": {m: [round(r["seconds"], 2) for r in runs[m]] for m in MODES},
        "ratio_fast_bulk": fast / bulk, "ratio_pyvmomi_bulk": ref / bulk, "ratio_transfer_bulk": xfer / bulk,
        "ratio_fast_transfer": fast / xfer,
    }
    _peer_results(result, peer, procs)
    if naive_t:
        result["naive_s"] = naive_t["total_extrapolated"]
        result["naive_vm_sample"] = naive_t["VirtualMachine"]["measured"]
        result["ratio_naive_fast"] = naive_t["total_extrapolated"] / fast
    _print_tables(args, result, naive_t, list(sources))
    return 0


def _peer_results(result: dict[str, Any], peer: dict[str, list[dict[str, Any]]],
                  procs: dict[tuple[str, str], list[dict[str, Any]]]) -> None:
    result["go"] = {name: {"retrieve_s": min(r["retrieve_s"] for r in rs),
                           "process_s": min(r["process_s"] for r in rs),
                           "peak_rss_mb": max(r["maxrss_mb"] for r in rs), "objects": rs[0]["objects"],
                           "cpu_s": min(r["cpu_seconds"] for r in rs),
                           "all_runs_s": [round(r["retrieve_s"], 2) for r in rs]} for name, rs in peer.items()}
    result["process"] = {f"{src}/{name}": {"seconds": min(r["seconds"] for r in rs),
                                           "peak_rss_mb": max(r["maxrss_mb"] for r in rs),
                                           "cpu_s": min(r["cpu_seconds"] for r in rs),
                                           "all_runs_s": [round(r["seconds"], 2) for r in rs],
                                           "all_runs_rss_mb": [round(r["maxrss_mb"]) for r in rs]}
                         for (src, name), rs in procs.items()}


def _print_tables(args: argparse.Namespace, result: dict[str, Any], naive_t: dict[str, Any] | None,
                  sources: list[str]) -> None:
    bulk, xfer, fast, ref = (result[k] for k in ("bulk_s", "transfer_s", "fast_s", "pyvmomi_s"))
    print()
    print("| VMs | delay | (a) naive | (b) pyVmomi bulk | (t) raw transfer | (c) `collect()` fast | "
          "(p) `collect(engine=\"pyvmomi\")` | (c)/(b) | (p)/(b) | (t)/(b) | (c)/(t) | (a)/(c) | peak RSS (c) / (p) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    naive_s = f"{result['naive_s']:.1f} s" if naive_t else "—"
    naive_r = f"{result['ratio_naive_fast']:.0f}" if naive_t else "—"
    print(f"| {args.vms:,} | {args.delay_ms} ms | {naive_s} | {bulk:.2f} s | {xfer:.2f} s | {fast:.2f} s | {ref:.2f} s "
          f"| {result['ratio_fast_bulk']:.2f} | {result['ratio_pyvmomi_bulk']:.2f} "
          f"| {result['ratio_transfer_bulk']:.2f} "
          f"| {result['ratio_fast_transfer']:.2f} | {naive_r} | {result['fast_peak_rss_mb']:.0f} / "
          f"{result['pyvmomi_peak_rss_mb']:.0f} MB |")
    extrap = ""
    if naive_t and naive_t["VirtualMachine"]["measured"] != naive_t["VirtualMachine"]["total"]:
        vm_t = naive_t["VirtualMachine"]
        extrap = (f"(a): VM part measured on {vm_t['measured']:,} of {vm_t['total']:,} VMs in {vm_t['seconds']:.1f} s, "
                  f"extrapolated linearly. ")
    cpu = result["cpu_s"]
    print(f"\n{extrap}(t) received {result['transfer_mb']:.1f} MB. (c) collected {result['fast_vms']:,} VMs with "
          f"{result['fast_errors']} collection errors; writing the gzip snapshot took another "
          f"{result['fast_save_s']:.2f} s. Client CPU (whole child process): (b) {cpu['bulk']:.2f} s, "
          f"(t) {cpu['transfer']:.2f} s, (c) {cpu['fast']:.2f} s, (p) {cpu['pyvmomi']:.2f} s. "
          f"Fastest of {args.repeat} interleaved runs each; all runs (s): {result['all_runs_s']}.")
    print_process_table(args, result, sources)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


def print_process_table(args: argparse.Namespace, result: dict[str, Any], sources: list[str]) -> None:
    """(g) and (v) on both simulators; ratios of the same run."""
    before = "before" in sources
    head = ("| VMs | server pages | (g) Go `view.Retrieve` | (g) peak RSS | (v) `vcreport collect` process "
            "| (v) peak RSS | (v)/(g) | (v)/(b) |")
    if before:
        head += " (v) before | before peak RSS | before (v)/(g) |"
    print()
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    for name, label in (("paged", f"maxObjects {args.page_size:,}"), ("single", "one page (maxObjects ignored)")):
        go = result["go"][name]
        after = result["process"][f"after/{name}"]
        row = (f"| {args.vms:,} | {label} | {go['retrieve_s']:.2f} s | {go['peak_rss_mb']:.0f} MB "
               f"| {after['seconds']:.2f} s | {after['peak_rss_mb']:.0f} MB "
               f"| {after['seconds'] / go['retrieve_s']:.2f} "
               f"| {after['seconds'] / result['bulk_s'] if result['bulk_s'] else float('nan'):.2f} |")
        if before:
            old = result["process"][f"before/{name}"]
            row += (f" {old['seconds']:.2f} s | {old['peak_rss_mb']:.0f} MB "
                    f"| {old['seconds'] / go['retrieve_s']:.2f} |")
        print(row)
    print(f"\n(g)/(v): fastest of {args.repeat} interleaved runs, peak RSS the highest; (b) is the paged "
          f"pyVmomi floor above. All runs (s): Go {{paged: {result['go']['paged']['all_runs_s']}, single: "
          f"{result['go']['single']['all_runs_s']}}}, process {{"
          + ", ".join(f"{k}: {v['all_runs_s']} ({v['all_runs_rss_mb']} MB)" for k, v in result["process"].items())
          + "}. CPU time (user+system, lowest of the runs): "
          + ", ".join([f"Go {k} {v['cpu_s']:.2f} s" for k, v in result["go"].items()]
                      + [f"process {k} {v['cpu_s']:.2f} s" for k, v in result["process"].items()]) + ".")


MODES = ("bulk", "transfer", "fast", "pyvmomi")
LABELS = {"bulk": "(b) pyVmomi bulk", "transfer": "(t) raw transfer", "fast": "(c) collect() fast",
          "pyvmomi": "(p) collect(engine=pyvmomi)"}


if __name__ == "__main__":
    raise SystemExit(main())
