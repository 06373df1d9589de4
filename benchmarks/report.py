"""Benchmark report generation per format (not a test).

For the bundled sample and for a synthetic 10,000-VM snapshot (generated here,
deterministically), each format is rendered in a fresh child process that loads
the snapshot, runs the checks and renders that one format; the child reports the
render time and its peak RSS. A "checks only" child gives the baseline the formats
add to.

    python benchmarks/report.py [--vms 10000] [--formats html,pdf,pdfa,xlsx,csv,json] [--detail standard] [--record]
    python benchmarks/report.py --full-run [--vms 10000] [--run-formats html,xlsx,pdf] [--repeat 2]
        [--before-src DIR] [--serial-too] [--record]
    python benchmarks/report.py --xlsx-before-src DIR [--vms 10000] [--repeat 2] [--record]
    python benchmarks/report.py --render-ab [--vms 10000] [--run-formats html,xlsx,pdf] [--repeat 2]

``--full-run`` starts a vcsim with ``--vms`` VMs (Go + govmomi, as the collector tests) and
times ``vcreport collect`` against ``vcreport run`` (collect + checks + the formats) in the
same run, with each process's CPU time, peak RSS and its process tree's peak RSS (a run renders
the PDF in a forked child), then the report half stage by stage. ``--before-src DIR`` interleaves
the run of an earlier checkout; ``--serial-too`` the run with parallel rendering off.

``--xlsx-before-src DIR`` times report.xlsx alone, interleaved ``--repeat`` times, for the package
in DIR (a checkout of an earlier commit: "before") and for this tree with each of its writers
(XlsxWriter, libxlsxwriter); CPU seconds of the render (``time.process_time``) next to wall seconds,
the workbook's cells and the process's peak RSS.

``--render-ab`` runs ``report`` of the synthetic snapshot in one process with the PDF in a forked
child and serially, interleaved: wall, CPU of each process and the CPU on the critical path.

``--record`` appends the tables to benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# VCREPORT_BENCH_SRC: import the reporter package of another checkout (the "before" of a comparison).
SRC = Path(os.environ.get("VCREPORT_BENCH_SRC") or ROOT)
sys.path.insert(0, str(SRC))

GB = 1024**3
COLLECTED = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)


def synthetic(n_vms: int, seed: int = 1):
    """Two vCenters, 20 VMs per host, 40 VMs per datastore, 1-3 disks per VM, 5% with snapshot chains,
    a few disconnected hosts, CBT off on a third, vSphere 5 licenses with assignments."""
    from reporter.core.model import (
        VM,
        Cluster,
        Datastore,
        Disk,
        Host,
        IoAllocation,
        IormConfig,
        License,
        LicenseAssignment,
        Snapshot,
        SnapshotNode,
        VCenter,
    )

    rng = random.Random(seed)
    vcs = {}
    per_vc = [n_vms // 2, n_vms - n_vms // 2]
    vm_no = 0
    for v, count in enumerate(per_vc, start=1):
        uuid = f"00000000-0000-4000-8000-{v:012d}"
        n_hosts = max(1, count // 20)
        n_ds = max(1, count // 40)
        hosts, clusters, datastores, vms = {}, {}, {}, {}
        for c in range(max(1, n_hosts // 16)):
            clusters[f"domain-c{c}"] = Cluster(moid=f"domain-c{c}", name=f"cl{v}-{c:02d}", hosts=[])
        for h in range(n_hosts):
            cl = f"domain-c{h % len(clusters)}"
            hosts[f"host-{h}"] = Host(
                moid=f"host-{h}", name=f"esx{v}-{h:04d}.example.com", version="5.0.0", build="623860",
                cpu_packages=2, cpu_cores=16, cpu_threads=32, memory_bytes=256 * GB, cluster=cl,
                connection_state="notResponding" if h % 97 == 5 else "connected", maintenance_mode=False,
                power_state="poweredOn", hw_exec_supported=True, hw_mmu_supported=True,
                exec_usage_ignored=False, mmu_usage_ignored=False)
        clusters = {k: c.model_copy(update={"hosts": [m for m, h in hosts.items() if h.cluster == k]})
                    for k, c in clusters.items()}
        for d in range(n_ds):
            datastores[f"datastore-{d}"] = Datastore(
                moid=f"datastore-{d}", name=f"ds{v}-{d:04d}", type="VMFS", capacity_bytes=8192 * GB,
                free_bytes=rng.randint(200, 4000) * GB, accessible=True, multiple_host_access=True, ssd=False,
                sioc_supported=True, iorm=IormConfig(enabled=d % 3 == 0, congestion_threshold_ms=30,
                                                     congestion_threshold_mode="manual"))
        for i in range(count):
            vm_no += 1
            moid = f"vm-{i}"
            host = f"host-{i % n_hosts}"
            ds = f"datastore-{i % n_ds}"
            disks = [Disk(key=2000 + k, label=f"Hard disk {k + 1}", controller="scsi", bus_number=0, unit_number=k,
                          capacity_bytes=rng.choice([40, 60, 100, 200]) * GB, datastore=ds,
                          backing_file=f"[ds{v}-{i % n_ds:04d}] vm{vm_no:05d}/vm{vm_no:05d}_{k}.vmdk",
                          backing_type="flat", disk_mode="persistent", thin=True,
                          io=IoAllocation(limit=-1 if k else 500 if i % 50 == 0 else -1, shares_level="normal",
                                          shares=1000))
                     for k in range(rng.randint(1, 3))]
            snaps = []
            if i % 20 == 0:
                snaps = [SnapshotNode(moid=f"{moid}-snapshot-1", name="before patch",
                                      create_time=COLLECTED - timedelta(days=rng.randint(1, 90)), state="poweredOff",
                                      quiesced=False)]
            win = i % 10 == 0
            vms[moid] = VM(
                moid=moid, name=f"vm{vm_no:05d}", instance_uuid=f"5000{vm_no:028x}", power_state="poweredOn" if i % 5 else "poweredOff",
                memory_mb=rng.choice([2048, 4096, 8192, 16384, 32768]), num_cpu=rng.choice([1, 2, 4, 8]),
                guest_id="winNetEnterpriseGuest" if win else "rhel7_64Guest",
                guest_full_name="Microsoft Windows Server 2003, Enterprise Edition (32-bit)" if win else "Red Hat Enterprise Linux 7 (64-bit)",
                hw_version="vmx-08", change_tracking_enabled=i % 3 != 0, virtual_exec_usage="hvAuto",
                virtual_mmu_usage="automatic", disks=disks, snapshots=snaps,
                current_snapshot=snaps[0].moid if snaps else None, host=host, cluster=hosts[host].cluster,
                folder_path=f"/DC{v}/vm/app{i % 30:02d}", datastores=[ds], consolidation_needed=False)
        lic_key = f"AAAAA-BBBBB-CCCCC-{v:05d}-ZZZZZ"
        licenses = [License(key=lic_key, edition_key="esxEnterprisePlus", name="VMware vSphere 5 Enterprise Plus",
                            total=n_hosts * 2, used=n_hosts * 2, cost_unit="cpuPackage",
                            properties={"ProductName": "VMware ESX Server", "ProductVersion": "5.0"})]
        assignments = [LicenseAssignment(entity=m, entity_name=h.name, entity_type="host", license_key=lic_key,
                                         edition_key="esxEnterprisePlus") for m, h in hosts.items()]
        vcs[uuid] = VCenter(name=f"vc{v:02d}", host=f"vc{v:02d}.example.com", instance_uuid=uuid, version="5.0.0",
                            build="804277", full_name="VMware vCenter Server 5.0.0 build-804277",
                            user="svc-report@vsphere.local", vms=vms, hosts=hosts, clusters=clusters,
                            datastores=datastores, licenses=licenses, license_assignments=assignments)
    return Snapshot(collected_at=COLLECTED, tool_version="bench", vcenters=vcs)


def child(snapshot: str, fmt: str, detail: str = "standard") -> None:
    """Load, check, render one format at one detail level; print JSON {seconds, cpu_seconds,
    checks_seconds, rss_mb, files, bytes, pages}."""
    from contextlib import nullcontext

    from reporter import api
    from reporter.core.detail import Detail
    from reporter.render import ReportContext, get_renderer, sha256_file

    try:  # the collector policy reporter.pipeline.report runs the checks and renderers under
        from reporter.core.gcpolicy import frozen_heap, paused_gc
    except ImportError:  # a tree from before it
        frozen_heap = paused_gc = nullcontext  # type: ignore[assignment]
    t0 = time.perf_counter()
    with paused_gc():  # load, checks and masking, as `vcreport report` does
        snap = api.load_snapshot(snapshot)
        results, tables = api.check(snap)
        ctx = ReportContext(snapshot=snap, results=results, tables=tables, tool_version="bench",
                            snapshot_sha256=sha256_file(Path(snapshot)), detail=Detail(detail)).masked()
    t1 = time.perf_counter()
    cpu1 = time.process_time()
    files: list[Path] = []
    pages = None
    with tempfile.TemporaryDirectory() as out, frozen_heap():
        if fmt != "none":
            files = get_renderer(fmt).render(ctx, Path(out))
        t2 = time.perf_counter()
        cpu2 = time.process_time()
        size = sum(p.stat().st_size for p in files)
        pdfs = [p for p in files if p.suffix == ".pdf"]
        if pdfs:
            from pypdf import PdfReader

            pages = sum(len(PdfReader(p).pages) for p in pdfs)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": t2 - t1, "cpu_seconds": cpu2 - cpu1, "checks_seconds": t1 - t0, "rss_mb": rss,
                      "files": len(files), "bytes": size, "findings": len(results.findings), "pages": pages,
                      "src": str(Path(api.__file__).parent.parent), **(_xlsx_cells(ctx) if fmt == "xlsx" else {})}))


def _xlsx_cells(ctx) -> dict:
    """Cells of the workbook (header included) and how many hold a value, after the render."""
    from reporter.render.sheets import all_sheets

    try:
        sheets = all_sheets(ctx, merge_tables=True)
    except TypeError:  # a tree from before the merged Disks sheet
        sheets = all_sheets(ctx)
    cells = sum((len(s.rows) + 1) * len(s.columns) for s in sheets)
    filled = sum(len(s.columns) + sum(1 for r in s.rows for v in r[:len(s.columns)] if v not in (None, ""))
                 for s in sheets)
    return {"sheets": len(sheets), "cells": cells, "filled_cells": filled}


def _peak_mb() -> float:
    """This process's peak RSS since the last ``_reset_peak`` (VmHWM)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _reset_peak() -> None:
    Path("/proc/self/clear_refs").write_text("5")  # Linux: reset VmHWM to the current RSS


def stages_child(snapshot: str, formats: str) -> None:
    """The report half of a run stage by stage, as ``reporter.pipeline.report`` runs it:
    load, checks, then each format; wall seconds and peak RSS of each stage."""
    from contextlib import nullcontext

    from reporter import api
    from reporter.render import ReportContext, get_renderer, sha256_file

    try:
        from reporter.core.gcpolicy import frozen_heap, paused_gc
    except ImportError:  # a tree from before the GC policy (for before/after runs)
        frozen_heap = paused_gc = nullcontext  # type: ignore[assignment]
    out: dict[str, dict[str, float]] = {}
    _reset_peak()
    t = time.perf_counter()
    snap = api.load_snapshot(snapshot)
    out["load"] = {"seconds": time.perf_counter() - t, "rss_mb": _peak_mb()}
    _reset_peak()
    t = time.perf_counter()
    with paused_gc():
        results, tables = api.check(snap)
    ctx = ReportContext(snapshot=snap, results=results, tables=tables, tool_version="bench",
                        snapshot_sha256=sha256_file(Path(snapshot))).masked()
    out["checks"] = {"seconds": time.perf_counter() - t, "rss_mb": _peak_mb()}
    with tempfile.TemporaryDirectory() as tmp, frozen_heap():
        for fmt in formats.split(","):
            _reset_peak()
            t = time.perf_counter()
            files = get_renderer(fmt).render(ctx, Path(tmp))
            out[fmt] = {"seconds": time.perf_counter() - t, "rss_mb": _peak_mb(),
                        "bytes": sum(p.stat().st_size for p in files)}
    print(json.dumps(out))


def _tree_rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` and its descendants added up (an upper bound: pages a forked
    child still shares with its parent count twice), from /proc; 0 when they are gone. Not PSS:
    smaps_rollup over-counts while a process maps and unmaps memory fast (it did here)."""
    total_kb, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total_kb += int(line.split()[1])
                    break
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, ValueError):
            continue
    return total_kb / 1024


def _own_cpu_seconds(pid: int) -> float:
    """utime + stime of ``pid`` itself (its threads, not its children), 0 when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed_process(cmd: list[str], env: dict[str, str] | None = None, cwd: Path | None = None) -> dict[str, Any]:
    """Run a command; its wall seconds, CPU seconds (user + system, with its waited-for children:
    a run's PDF process), its own peak RSS (wait4: the largest of it and its children) and the
    peak of its process tree's RSS added up (sampled every 0.1 s)."""
    import threading

    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, cwd=cwd,
                                env={**os.environ, "PYTHONWARNINGS": "ignore", **(env or {})})
        peak = [0.0]
        done = threading.Event()

        own = [0.0]  # the process's own CPU (not its children's), last read from /proc/PID/stat

        def sample() -> None:
            while not done.wait(0.1):
                peak[0] = max(peak[0], _tree_rss_mb(proc.pid))
                own[0] = max(own[0], _own_cpu_seconds(proc.pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - t
        done.set()
        sampler.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return {"seconds": seconds, "cpu_seconds": usage.ru_utime + usage.ru_stime, "returncode": proc.returncode,
                "stdout": out.read().decode(), "stderr": err.read().decode(), "rss_mb": usage.ru_maxrss / 1024,
                "tree_rss_mb": peak[0], "own_cpu_seconds": own[0]}


# The editable install maps the package reporter.templates to this tree's templates/ whatever comes
# first on sys.path, so a "before" checkout's `vcreport run` would render with this tree's templates
# (and fail where a template reads a field the older views lack): its CLI is started through
# benchmarks/pdf.py's use_templates_of first.
_CLI_WITH_TEMPLATES = (
    "import sys; from pathlib import Path; sys.path.insert(0, sys.argv[1]); "
    "from pdf import use_templates_of; use_templates_of(Path(sys.argv[2])); "
    "sys.argv = ['vcreport', *sys.argv[3:]]; from reporter.cli import entry; entry()"
)


def _with_templates_of(src: Path, cli_args: list[str]) -> list[str]:
    """The command line of ``vcreport <cli_args>`` run from the checkout ``src`` with its own templates."""
    return [sys.executable, "-c", _CLI_WITH_TEMPLATES, str(ROOT / "benchmarks"), str(src), *cli_args]


def full_run(args: argparse.Namespace) -> str:
    """``vcreport collect`` and ``vcreport run`` (collect + checks + every format asked) against
    one vcsim with ``--vms`` VMs, interleaved ``--repeat`` times, plus the report stage by stage.
    With ``--before-src DIR`` the run of the package in DIR ("before") is interleaved too, each
    mode with its own output directory (from the second repetition on, a run has a previous one)."""
    sys.path.insert(0, str(ROOT / "tests"))
    from vcsim_harness import (  # type: ignore[import-not-found]  # tests/ is put on the path just above
        VcsimLauncher,
        build_launcher,
        make_tls_files,
        toml_table,
    )

    formats = [f for f in args.run_formats.split(",") if f]
    workdir = Path(tempfile.mkdtemp(prefix="vcreport-bench-run-"))
    launcher = VcsimLauncher(binary=build_launcher(), tls=make_tls_files(workdir / "tls"), workdir=workdir)
    t0 = time.perf_counter()
    sim = launcher.start(vms=args.vms, clusters=10, hosts=8, standalone=0, timeout_s=1800)
    print(f"vcsim with {args.vms:,} VMs started in {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)
    # Each mode: the package it imports (PYTHONPATH, run from the work directory so the current
    # directory's package does not shadow it) and extra environment.
    modes: dict[str, tuple[Path, dict[str, str]]] = {"collect": (ROOT, {}), "run": (ROOT, {})}
    if args.serial_too:
        modes["run, serial render"] = (ROOT, {"VCREPORT_PARALLEL_RENDER": "0"})
    if args.before_src:
        modes["run before"] = (Path(args.before_src).resolve(), {})
    runs: dict[str, list[dict[str, Any]]] = {m: [] for m in modes}
    load_start = os.getloadavg()
    try:
        cli = [sys.executable, "-m", "reporter.cli"]
        for i in range(max(1, args.repeat)):
            for mode, (src, extra) in modes.items():
                config = workdir / f"bench-{mode.replace(' ', '-').replace(',', '')}.toml"
                config.write_text(toml_table("[[vcenter]]", sim.vcenter_table(timeout_s=600)) + "\n" + toml_table(
                    "[output]", {"dir": str(workdir / f"reports-{config.stem}"), "formats": formats}))
                cmd = cli + (["collect", "--config", str(config), "--out", str(workdir / "snapshot.json.gz")]
                             if mode == "collect" else ["run", "--config", str(config)])
                if src != ROOT:  # another checkout: its own templates too (see _with_templates_of)
                    cmd = _with_templates_of(src, cmd[3:])
                r = timed_process(cmd, env={"PYTHONPATH": str(src), **extra}, cwd=workdir)
                if r["returncode"] != 0:
                    raise SystemExit(f"vcreport {mode} failed:\n{r['stderr'][-2000:]}")
                runs[mode].append(r)
                print(f"  run {i + 1} vcreport {mode}: {r['seconds']:.2f} s, CPU {r['cpu_seconds']:.2f} s "
                      f"(main process {r['own_cpu_seconds']:.2f} s), "
                      f"peak RSS {r['rss_mb']:.0f} MB, peak RSS of the process tree {r['tree_rss_mb']:.0f} MB ({src})", file=sys.stderr, flush=True)
        proc = subprocess.run([sys.executable, __file__, "--stages", str(workdir / "snapshot.json.gz"), ",".join(formats)],
                              capture_output=True, text=True, check=False, env={**os.environ, "PYTHONWARNINGS": "ignore"})
        if proc.returncode != 0:
            raise SystemExit(f"stages failed:\n{proc.stderr[-2000:]}")
        stages = json.loads(proc.stdout.strip().splitlines()[-1])
    finally:
        launcher.stop_all()
    load_end = os.getloadavg()
    best = {m: min(rs, key=lambda r: r["seconds"]) for m, rs in runs.items()}
    collect_s = best["collect"]["seconds"]
    all_runs = "; ".join(f"{m}: " + " / ".join(f"{r['seconds']:.2f} (CPU {r['cpu_seconds']:.2f})" for r in rs)
                         for m, rs in runs.items())
    before = f" --before-src {args.before_src}" if args.before_src else ""
    serial = " --serial-too" if args.serial_too else ""
    lines = [
        "", f"## Full run (issue 18) — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC", "",
        f"`python benchmarks/report.py --full-run --vms {args.vms} --run-formats {','.join(formats)} --repeat "
        f"{args.repeat}{before}{serial}`: one vcsim with {args.vms:,} VMs (10 clusters × 8 hosts); `vcreport collect` "
        f"and `vcreport run` (collect, save, checks, {', '.join(formats)} + findings.json) each as its own process, "
        f"interleaved {args.repeat}×, fastest kept; CPU = user + system of the process and its children (wait4); "
        f"CPU of the main process = without its children (/proc, sampled every 0.1 s: up to 0.1 s low); "
        f"peak RSS = the largest single process (wait4); tree = the RSS of the process and its children added up, "
        f"sampled every 0.1 s (pages a forked child shares with its parent count twice). "
        f"{os.cpu_count()} cores, shared with vcsim; load average {load_start[0]:.1f} at the start, "
        f"{load_end[0]:.1f} at the end.", "",
        "| mode | wall | CPU (all processes) | CPU of the main process | ÷ collect (wall) | peak RSS | peak RSS, tree |",
        "|---|---:|---:|---:|---:|---:|---:|",
        *[f"| `vcreport {m}` | {r['seconds']:.2f} s | {r['cpu_seconds']:.2f} s | {r['own_cpu_seconds']:.2f} s | "
          + ("—" if m == "collect" else f"**{r['seconds'] / collect_s:.2f}**")
          + f" | {r['rss_mb']:.0f} MB | {r['tree_rss_mb']:.0f} MB |" for m, r in best.items()], "",
        f"All runs (s): {all_runs}.", "",
        "The report half stage by stage (one process, serial, on the snapshot just collected; peak RSS per stage "
        "from VmHWM reset before each):", "",
        "| stage | seconds | peak RSS MB | output MB |", "|---|---:|---:|---:|",
        *[f"| {name} | {v['seconds']:.2f} | {v['rss_mb']:.0f} | "
          + (f"{v['bytes'] / 1e6:.2f}" if "bytes" in v else "—") + " |" for name, v in stages.items()], "",
    ]
    return "\n".join(lines)


def render_ab(args: argparse.Namespace) -> str:
    """``vcreport report`` (html, xlsx, pdf) of the synthetic snapshot in this process, parallel and
    serial rendering interleaved. On a shared machine wall time says little, so the CPU seconds
    on the critical path are given too: before the fork, then the longer of the parent's own
    formats and the child's PDF — what the wall time would be with a core free for each."""
    import gc

    from reporter.core import snapshot_io
    from reporter.core.gcpolicy import paused_gc
    from reporter.pipeline import parallel
    from reporter.pipeline.report import report

    marks: dict[str, float] = {}
    real_start, real_wait = parallel.start, parallel.BackgroundRender.wait

    def start(name: Any, ctx: Any, staging: Path) -> parallel.BackgroundRender:
        marks.setdefault("fork", time.process_time())
        return real_start(name, ctx, staging)

    def wait(self: parallel.BackgroundRender) -> list[Path]:
        marks.setdefault("wait", time.process_time())
        return real_wait(self)

    parallel.start = start  # type: ignore[assignment]  # timing marks around the real functions
    parallel.BackgroundRender.wait = wait  # type: ignore[method-assign]
    runs: dict[str, list[dict[str, float]]] = {"parallel": [], "serial": []}
    with tempfile.TemporaryDirectory() as tmp:
        with paused_gc():
            snap = synthetic(args.vms)
        path = snapshot_io.save(snap, Path(tmp) / "s.json.gz")
        del snap
        gc.collect()
        for i in range(max(1, args.repeat)):
            for mode in runs:
                os.environ["VCREPORT_PARALLEL_RENDER"] = "1" if mode == "parallel" else "0"
                marks.clear()
                children0 = resource.getrusage(resource.RUSAGE_CHILDREN)
                cpu0, wall0 = time.process_time(), time.perf_counter()
                report(path, Path(tmp) / f"{mode}-{i}", formats=args.run_formats)
                wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
                children1 = resource.getrusage(resource.RUSAGE_CHILDREN)
                child = children1.ru_utime + children1.ru_stime - children0.ru_utime - children0.ru_stime
                if "fork" in marks:
                    critical = marks["fork"] - cpu0 + max(marks["wait"] - marks["fork"], child)
                else:
                    critical = cpu + child
                r = {"wall": wall, "cpu": cpu, "child_cpu": child, "critical": critical}
                runs[mode].append(r)
                print(f"  run {i + 1} {mode:<8} wall {wall:6.2f} s  CPU {cpu:6.2f} s + child {child:5.2f} s  "
                      f"critical path {critical:6.2f} CPU s  (load {os.getloadavg()[0]:.1f})", file=sys.stderr, flush=True)
    load = os.getloadavg()
    rows = [f"| {mode} | {min(r['critical'] for r in rs):.2f} | {min(r['cpu'] for r in rs):.2f} | "
            f"{min(r['child_cpu'] for r in rs):.2f} | {min(r['wall'] for r in rs):.2f} |" for mode, rs in runs.items()]
    return "\n".join([
        "", f"## `vcreport report` rendering in parallel, {args.vms:,} VMs (issue 18) — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC", "",
        f"`python benchmarks/report.py --render-ab --vms {args.vms} --run-formats {args.run_formats} --repeat {args.repeat}`: "
        "the synthetic snapshot, load + checks + formats in one process, parallel (the PDF in a forked child) and "
        f"serial interleaved; best of {args.repeat}. {os.cpu_count()} cores; load average at the end "
        f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}.", "",
        "| rendering | critical path, CPU s | CPU s, main process | CPU s, child | wall s |",
        "|---|---:|---:|---:|---:|", *rows, ""])


def measure(snapshot: Path, fmt: str, detail: str = "standard", env: dict[str, str] | None = None) -> dict:
    proc = subprocess.run([sys.executable, __file__, "--child", str(snapshot), fmt, detail], capture_output=True,
                          text=True, check=False, env={**os.environ, "PYTHONWARNINGS": "ignore", **(env or {})})
    if proc.returncode != 0:
        raise SystemExit(f"{fmt} on {snapshot.name} failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def xlsx_compare(args: argparse.Namespace) -> str:
    """report.xlsx of the synthetic snapshot: the package in --xlsx-before-src against this tree with
    each writer, each a fresh process, interleaved --repeat times; best CPU and best wall kept."""
    from reporter.core import snapshot_io

    before = Path(args.xlsx_before_src).resolve()
    variants = [("before", {"VCREPORT_BENCH_SRC": str(before)}),
                ("after, XlsxWriter", {"VCREPORT_XLSX_WRITER": "xlsxwriter"}),
                ("after, libxlsxwriter", {"VCREPORT_XLSX_WRITER": "libxlsxwriter"})]
    runs: dict[str, list[dict]] = {name: [] for name, _ in variants}
    with tempfile.TemporaryDirectory() as tmp:
        synth = Path(tmp) / f"synthetic-{args.vms}.json.gz"
        snapshot_io.save(synthetic(args.vms), synth)
        for i in range(max(1, args.repeat)):
            for name, env in variants:
                r = measure(synth, "xlsx", env=env)
                runs[name].append(r)
                print(f"  run {i + 1} {name:<22} cpu {r['cpu_seconds']:6.2f} s  wall {r['seconds']:6.2f} s  "
                      f"{r['filled_cells']:,} filled cells  peak RSS {r['rss_mb']:.0f} MB  ({r['src']})",
                      file=sys.stderr, flush=True)
    load = os.getloadavg()
    rows = []
    for name, rs in runs.items():
        cpu, wall, r = min(x["cpu_seconds"] for x in rs), min(x["seconds"] for x in rs), rs[0]
        rows.append(f"| {name} | {r['sheets']} | {r['cells']:,} | {r['filled_cells']:,} | **{cpu:.2f}** | {wall:.2f} | "
                    f"{r['bytes'] / 1e6:.2f} | {max(x['rss_mb'] for x in rs):.0f} |")
    all_runs = "; ".join(f"{name}: cpu " + " / ".join(f"{x['cpu_seconds']:.2f}" for x in rs) + ", wall "
                         + " / ".join(f"{x['seconds']:.2f}" for x in rs) for name, rs in runs.items())
    return "\n".join([
        "", f"## report.xlsx at {args.vms:,} VMs, before / after (issue 18) — {datetime.now(UTC):%Y-%m-%d}", "",
        f"`python benchmarks/report.py --vms {args.vms} --xlsx-before-src <checkout> --repeat {args.repeat}`: "
        f"the synthetic snapshot, render only (load and checks excluded), each run a fresh process, "
        f"interleaved; best of {args.repeat}. {os.cpu_count()} cores; load average at the end "
        f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}.", "",
        "| tree, writer | sheets | cells | filled cells | CPU s | wall s | MB | peak RSS MB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|", *rows, "", f"All runs (s): {all_runs}.", ""])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--vms", type=int, default=10_000)
    ap.add_argument("--formats", default="html,pdf,pdfa,xlsx,csv,json")
    ap.add_argument("--record", action="store_true", help="append the results to benchmarks/RESULTS.md")
    ap.add_argument("--full-run", action="store_true",
                    help="collect from a vcsim with --vms VMs and time `vcreport collect` against `vcreport run`")
    ap.add_argument("--run-formats", default="html,xlsx,pdf", help="formats of the full run")
    ap.add_argument("--repeat", type=int, default=2, help="interleaved full-run repetitions (fastest kept)")
    ap.add_argument("--before-src", metavar="DIR",
                    help="--full-run: also time `vcreport run` of the package in DIR (a checkout of an earlier commit)")
    ap.add_argument("--serial-too", action="store_true",
                    help="--full-run: also time `vcreport run` with VCREPORT_PARALLEL_RENDER=0 (everything in one process)")
    ap.add_argument("--render-ab", action="store_true",
                    help="`report` of the synthetic snapshot with parallel and serial rendering, interleaved")
    ap.add_argument("--xlsx-before-src", metavar="DIR",
                    help="time report.xlsx for the package in DIR against this tree's two writers")
    ap.add_argument("--detail", default="standard", choices=["summary", "standard", "full"],
                    help="detail level of the HTML/PDF editions (default: standard, as `vcreport report`)")
    ap.add_argument("--child", nargs=3, metavar=("SNAPSHOT", "FORMAT", "DETAIL"), help=argparse.SUPPRESS)
    ap.add_argument("--stages", nargs=2, metavar=("SNAPSHOT", "FORMATS"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(*args.child)
        return
    if args.stages:
        stages_child(*args.stages)
        return
    if args.render_ab:
        text = render_ab(args)
        print(text)
        return
    if args.xlsx_before_src:
        text = xlsx_compare(args)
        print(text)
        return
    if args.full_run:
        text = full_run(args)
        print(text)
        if args.record:
            results = ROOT / "benchmarks" / "RESULTS.md"
            results.write_text(results.read_text(encoding="utf-8").rstrip("\n") + "\n" + text, encoding="utf-8")
            print(f"appended to {results}", file=sys.stderr)
        return
    from reporter import api
    from reporter.core import snapshot_io

    formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    with tempfile.TemporaryDirectory() as tmp:
        synth = Path(tmp) / f"synthetic-{args.vms}.json.gz"
        t0 = time.perf_counter()
        snap = synthetic(args.vms)
        snapshot_io.save(snap, synth)
        print(f"generated {snap.vm_count()} VMs in {time.perf_counter() - t0:.1f} s ({synth.stat().st_size / 1e6:.1f} MB gz)",
              file=sys.stderr)
        del snap
        sample = api.find_sample("sample-snapshot.json.gz")
        inputs = [(f"sample ({api.load_snapshot(sample).vm_count():,} VMs)", sample),
                  (f"synthetic ({args.vms:,} VMs)", synth)]
        lines = []
        for label, path in inputs:
            base = measure(path, "none")
            print(f"{label}: load + checks {base['checks_seconds']:.2f} s, {base['findings']} findings, "
                  f"peak RSS {base['rss_mb']:.0f} MB", file=sys.stderr)
            rows = [f"| {label} | load + checks (baseline) | {base['checks_seconds']:.2f} | — | — | — | {base['rss_mb']:.0f} |"]
            for fmt in formats:
                r = measure(path, fmt, args.detail)
                pages = "—" if r["pages"] is None else f"{r['pages']:,}"
                print(f"  {fmt:<5} {r['seconds']:7.2f} s  CPU {r['cpu_seconds']:7.2f} s  {r['bytes'] / 1e6:7.2f} MB  "
                      f"pages {pages}  peak RSS {r['rss_mb']:.0f} MB", file=sys.stderr)
                rows.append(f"| {label} | {fmt} | {r['seconds']:.2f} | {r['cpu_seconds']:.2f} | {r['bytes'] / 1e6:.2f} | "
                            f"{pages} | {r['rss_mb']:.0f} |")
            lines.append((label, base["findings"], rows))
    import weasyprint

    from reporter.render.html import FINDINGS_LIMIT
    from reporter.render.pdf import PDF_FINDINGS_LIMIT
    from reporter.render.pdfa import AUDIT_FINDINGS_LIMIT

    header = [
        "", f"## Report generation (issue 8) — {datetime.now(UTC):%Y-%m-%d}", "",
        f"`python benchmarks/report.py --vms {args.vms} --detail {args.detail}` on {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"WeasyPrint {weasyprint.__version__}. Each row is a fresh process: load the snapshot, run every check, "
        "render one format. Seconds = render time only, wall and CPU (the baseline row is load + checks); peak RSS is the whole "
        f"process. Per check, the PDF lists at most {PDF_FINDINGS_LIMIT} findings (audit PDF: {AUDIT_FINDINGS_LIMIT}), "
        f"the HTML {FINDINGS_LIMIT:,}; XLSX/CSV/JSON have everything.", "",
        "| snapshot | format | seconds | CPU seconds | output MB | pages | peak RSS MB |", "|---|---|---:|---:|---:|---:|---:|",
    ]
    body = [row for _, _, rows in lines for row in rows]
    notes = ["", *[f"- {label}: {n:,} findings." for label, n, _ in lines], ""]
    text = "\n".join(header + body + notes)
    print(text)
    if args.record:
        results = ROOT / "benchmarks" / "RESULTS.md"
        existing = results.read_text(encoding="utf-8") if results.exists() else "# Benchmark results\n"
        results.write_text(existing.rstrip("\n") + "\n" + text, encoding="utf-8")
        print(f"appended to {results}", file=sys.stderr)


if __name__ == "__main__":
    main()
