"""Benchmark: many vCenters at once over a WAN (not a test).

Starts N simulators of --vms VMs each, every SOAP call delayed by --delay-ms (a WAN
round trip), and times ``reporter.collect.collect()`` in a fresh child process for
one vCenter alone and for all N with ``[collect] workers = N``; each child reports
its wall time and peak RSS. Runs interleaved, --repeat times; the fastest of each
is kept (all runs are printed).

    python benchmarks/fleet.py [--vcenters 12] [--vms 1000] [--delay-ms 300] [--repeat 2]
                               [--before-src DIR] [--remote]

Goal: N vCenters in <= 1.5x the wall time of one, peak RSS <= 300 MB. The simulators
run on the same cores as the collector: their CPU time is printed with each run, and the
load average when it started. ``--before-src DIR`` (e.g. ``git archive`` of an older
commit) also times that checkout's package, interleaved with this one on the same
simulators, for a before/after.

``--remote`` puts ``replay.py`` in front of the simulators: one untimed pass records every
reply, then the timed runs read the same bytes, after the same delay, from one small server
(its CPU, a fraction of the simulators', is printed with each run), as vCenters across a WAN
would cost the collector's machine nothing. Without it, the
simulators' own CPU (building every reply) shares the collector's cores.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from vcsim_harness import (  # noqa: E402
    Vcsim,
    VcsimLauncher,
    build_launcher,
    make_tls_files,
    toml_table,
)


def server_cpu_seconds(pids: list[int]) -> float:
    """CPU time the servers have used so far (they share this machine's cores with the collector)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick


class Replay:
    """``replay.py`` in front of ``sims``: ``fronts`` are the simulators as seen through it."""

    def __init__(self, sims: list[Vcsim], tls: Any, delay_ms: int) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("replay.py")), "--cert", str(tls.cert), "--key", str(tls.key),
             "--delay-ms", str(delay_ms), *(str(s.port) for s in sims)], stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        ports = {}
        for line in self.process.stdout:
            if line.startswith("READY"):
                break
            _, front, _, back = line.split()
            ports[int(back)] = int(front)
        self.fronts = [dataclasses.replace(s, port=ports[s.port]) for s in sims]

    def stats(self) -> dict[str, int]:
        import http.client
        import ssl

        conn = http.client.HTTPSConnection("127.0.0.1", self.fronts[0].port, context=ssl._create_unverified_context())
        conn.request("GET", "/__replay_stats")
        stats: dict[str, int] = json.loads(conn.getresponse().read())
        conn.close()
        return stats

    def stop(self) -> None:
        self.process.kill()
        self.process.wait()


def write_config(path: Path, sims: list[Vcsim], workers: int) -> Path:
    text = "".join(toml_table("[[vcenter]]", s.vcenter_table(name=f"vc{n:02d}", timeout_s=600)) + "\n"
                   for n, s in enumerate(sims))
    text += toml_table("[output]", {"dir": str(path.parent / "reports")})
    text += "\n" + toml_table("[collect]", {"workers": workers})
    path.write_text(text, encoding="utf-8")
    return path


def child(config: Path, page_size: int | None, src: Path | None) -> int:
    if src is not None:
        sys.path.insert(0, str(src))  # that checkout's reporter package, not this one's
    from reporter.collect import DEFAULT_PAGE_SIZE, collect
    from reporter.config import load_config

    cfg = load_config(config)
    t0 = time.perf_counter()
    snap = collect(cfg, progress=False, page_size=page_size or DEFAULT_PAGE_SIZE)
    took = time.perf_counter() - t0
    usage = resource.getrusage(resource.RUSAGE_SELF)
    # The collection's own forked processes (one per core with many vCenters): their CPU counts;
    # the peak is the largest child's (any child: ctypes' short library lookup is ~24 MB), and a
    # forked child's counts the pages it shares with this process.
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(json.dumps({"seconds": took, "vcenters": len(snap.vcenters), "vms": snap.vm_count(),
                      "errors": len(snap.collection_errors), "maxrss_mb": usage.ru_maxrss / 1024,
                      "child_maxrss_mb": kids.ru_maxrss / 1024,
                      "cpu_seconds": usage.ru_utime + usage.ru_stime + kids.ru_utime + kids.ru_stime}))
    return 0


def in_child(config: Path, page_size: int | None, src: Path | None = None) -> dict[str, Any]:
    extra = ["--page-size", str(page_size)] if page_size else []
    extra += ["--src", str(src)] if src else []
    out = subprocess.run([sys.executable, __file__, "--child", str(config), *extra], capture_output=True, text=True, check=False,
                         env=dict(os.environ))
    if out.returncode != 0:
        raise SystemExit(f"child failed:\n{out.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vcenters", type=int, default=12)
    ap.add_argument("--vms", type=int, default=1000)
    ap.add_argument("--delay-ms", type=int, default=300)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--page-size", type=int, default=None, help="objects per page (default: the collector's)")
    ap.add_argument("--before-src", type=Path, default=None,
                    help="also time the reporter package of this directory (interleaved)")
    ap.add_argument("--remote", action="store_true",
                    help="time against a replay of the simulators' recorded replies (the simulators' CPU out of the timed runs)")
    ap.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--src", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        return child(args.child, args.page_size, args.src)

    work = Path(tempfile.mkdtemp(prefix="vcreport-fleet-"))
    launcher = VcsimLauncher(binary=build_launcher(), tls=make_tls_files(work / "tls"), workdir=work)
    replay: Replay | None = None
    try:
        # Replayed, "one alone" has a simulator of its own: a record is one collection's
        # session, and one vCenter alone is read in larger pages than one of many.
        sims = [launcher.start(vms=args.vms, delay_ms=0 if args.remote else args.delay_ms, timeout_s=600)
                for _ in range(args.vcenters + (1 if args.remote else 0))]
        servers = [s.process.pid for s in sims]
        if args.remote:
            replay = Replay(sims, launcher.tls, args.delay_ms)
            sims = replay.fronts
            servers.append(replay.process.pid)
        one = write_config(work / "one.toml", sims[-1:] if args.remote else sims[:1], workers=1)
        fleet = write_config(work / "fleet.toml", sims[:args.vcenters], workers=args.vcenters)
        if replay is not None:
            for config in (fleet, one):  # the recording pass, not timed
                r = in_child(config, args.page_size)
                if r["errors"]:
                    raise SystemExit(f"the recording pass had {r['errors']} collection error(s)")
            recorded = replay.stats()
            print(f"recorded {recorded['recorded']} replies ({recorded['conflicts']} conflicts)", flush=True)
        sources: dict[str, Path | None] = {"": None}
        if args.before_src:
            sources["before "] = args.before_src.resolve()
        runs: dict[str, list[dict[str, Any]]] = {}
        for n in range(args.repeat):
            for label, src in sources.items():
                for name, config in (("one", one), ("fleet", fleet)):
                    before = server_cpu_seconds(servers)
                    load = os.getloadavg()[0]
                    r = in_child(config, args.page_size, src)
                    r["server_cpu_seconds"] = server_cpu_seconds(servers) - before
                    runs.setdefault(label + name, []).append(r)
                    print(f"run {n + 1} {label}{name}: {r['vcenters']} vCenter(s), {r['vms']:,} VMs, {r['seconds']:.2f} s, "
                          f"CPU {r['cpu_seconds']:.1f} s (servers {r['server_cpu_seconds']:.1f} s), "
                          f"peak RSS {r['maxrss_mb']:.0f} MB (largest child process {r.get('child_maxrss_mb', 0):.0f} MB), errors {r['errors']}, load {load:.1f}", flush=True)
        if replay is not None:
            stats = replay.stats()
            missed = stats["recorded"] - recorded["recorded"]
            print(f"replayed {stats['replayed']} replies; {missed} requests not in the record "
                  f"(forwarded to the simulators){'' if not missed else ': those runs are not pure replay'}", flush=True)
        for label in sources:
            best = {k: min(runs[label + k], key=lambda r: r["seconds"]) for k in ("one", "fleet")}
            result = {
                "src": str(sources[label] or ROOT),
                "vcenters": args.vcenters, "vms_each": args.vms, "delay_ms": args.delay_ms,
                "servers": "recorded replies replayed on these cores" if args.remote else "simulators on these cores",
                "one_seconds": best["one"]["seconds"], "fleet_seconds": best["fleet"]["seconds"],
                "ratio": best["fleet"]["seconds"] / best["one"]["seconds"],
                "one_cpu_seconds": min(r["cpu_seconds"] for r in runs[label + "one"]),
                "fleet_cpu_seconds": min(r["cpu_seconds"] for r in runs[label + "fleet"]),
                "fleet_server_cpu_seconds": min(r["server_cpu_seconds"] for r in runs[label + "fleet"]),
                "one_peak_rss_mb": max(r["maxrss_mb"] for r in runs[label + "one"]),
                "fleet_peak_rss_mb": max(r["maxrss_mb"] for r in runs[label + "fleet"]),
                "fleet_child_peak_rss_mb": max(r.get("child_maxrss_mb", 0.0) for r in runs[label + "fleet"]),
                "fleet_errors": max(r["errors"] for r in runs[label + "fleet"]),
            }
            print(json.dumps(result))
            print(f"| {label}{args.vcenters} x {args.vms:,} VMs, {args.delay_ms} ms per call, {result['servers']} | one alone "
                  f"{result['one_seconds']:.1f} s | all, workers = {args.vcenters}: {result['fleet_seconds']:.1f} s | "
                  f"{result['ratio']:.2f}x | peak RSS {result['one_peak_rss_mb']:.0f} / {result['fleet_peak_rss_mb']:.0f} MB "
                  f"(largest child process {result['fleet_child_peak_rss_mb']:.0f} MB) |")
        return 0
    finally:
        if replay is not None:
            replay.stop()
        launcher.stop_all()


if __name__ == "__main__":
    raise SystemExit(main())
