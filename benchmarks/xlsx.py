"""Benchmark report.xlsx alone, before / after, and prove both workbooks read the same (not a test).

    python benchmarks/xlsx.py --before-src DIR [--vms 10000] [--repeat 2] [--record]
    python benchmarks/xlsx.py --before-src DIR --check [--vms 10000]
    python benchmarks/xlsx.py --before-src DIR --callgrind [--vms 2000] [--repeat 1]

The synthetic snapshot of ``benchmarks/report.py`` (same generator, same seed) is loaded and checked
in a fresh child process per run; only ``XlsxRenderer.render`` is timed: CPU seconds
(``time.process_time``), wall seconds and the render's own peak RSS (VmHWM reset just before it),
next to the process's peak. DIR is a checkout of an earlier commit (``git worktree add /tmp/base
<commit>``); its package and this tree's run interleaved, ``--repeat`` times, with libxlsxwriter
(``VCREPORT_XLSX_WRITER=libxlsxwriter``) unless ``--writer xlsxwriter``.

``--callgrind`` runs each child under valgrind's callgrind with instrumentation switched on for the
render only and adds the instructions it executed (all threads): a count that other jobs on the
machine do not change, for comparing two trees on a loaded machine (about 50x slower: use
``--vms 2000``). It needs valgrind (Debian: ``valgrind``).

``--record`` puts the table at the top of benchmarks/RESULTS.md (below its first line).

``--check`` renders the bundled sample and the synthetic snapshot with both trees and compares the
two workbooks read back with openpyxl: sheet names and order, every cell's value, type and number
format, the header's bold and fill, frozen panes, autofilter and column widths. It exits 1 on the
first difference, naming the sheet and cell.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SRC = Path(os.environ.get("VCREPORT_BENCH_SRC") or ROOT)
GENERATED_AT = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
sys.path.insert(0, str(SRC))


def _peak_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def child(snapshot: str, out_dir: str) -> None:
    """Load and check ``snapshot`` as ``vcreport report`` does, then render report.xlsx into
    ``out_dir``; print JSON with the render's CPU and wall seconds and peak RSS."""
    import resource

    from reporter import api
    from reporter.core.gcpolicy import frozen_heap, paused_gc
    from reporter.render import ReportContext, get_renderer, sha256_file

    with paused_gc():
        snap = api.load_snapshot(snapshot)
        results, tables = api.check(snap)
        # generated_at fixed: the two trees' workbooks differ in no cell, "Generated at" included
        ctx = ReportContext(snapshot=snap, results=results, tables=tables, tool_version="bench",
                            snapshot_sha256=sha256_file(Path(snapshot)), generated_at=GENERATED_AT).masked()
    before_mb = _peak_mb()
    Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM: the render's own peak from here
    counting = os.environ.get("VCREPORT_BENCH_CALLGRIND") == "1"
    with frozen_heap():
        if counting:  # callgrind counts from here to the "off" below
            subprocess.run(["callgrind_control", "-i", "on", str(os.getpid())], capture_output=True, check=True)
        wall, cpu = time.perf_counter(), time.process_time()
        files = get_renderer("xlsx").render(ctx, Path(out_dir))
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        if counting:
            subprocess.run(["callgrind_control", "-i", "off", str(os.getpid())], capture_output=True, check=True)
    print(json.dumps({"cpu_seconds": cpu, "seconds": wall, "render_rss_mb": _peak_mb(), "load_rss_mb": before_mb,
                      "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "bytes": sum(p.stat().st_size for p in files), "src": str(Path(api.__file__).parent.parent)}))


def render(src: Path, snapshot: Path, out_dir: Path, writer: str, callgrind: bool = False) -> dict[str, Any]:
    """One child process rendering report.xlsx with the package in ``src`` (under callgrind: its
    instruction count is ``instructions``)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "VCREPORT_BENCH_SRC": str(src), "VCREPORT_XLSX_WRITER": writer, "PYTHONWARNINGS": "ignore",
           "VCREPORT_BENCH_CALLGRIND": "1" if callgrind else "0"}
    command = [sys.executable, __file__, "--child", str(snapshot), str(out_dir)]
    if callgrind:  # string hashes fixed too: the same count for the same tree, run after run
        env["PYTHONHASHSEED"] = "0"
        command = ["valgrind", "--tool=callgrind", "--instr-atstart=no", "--callgrind-out-file=/dev/null", *command]
    proc = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    if proc.returncode != 0:
        raise SystemExit(f"render with {src} failed:\n{proc.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    if callgrind:
        counted = re.search(r"Collected : (\d+)", proc.stderr)
        if counted is None:
            raise SystemExit(f"callgrind printed no count for {src}:\n{proc.stderr[-2000:]}")
        result["instructions"] = int(counted.group(1))
    if Path(result["src"]).resolve() != src.resolve():
        raise SystemExit(f"the child imported {result['src']}, not {src}")
    return result


def synthetic_snapshot(vms: int, tmp: Path) -> Path:
    import importlib

    from reporter.core import snapshot_io

    sys.path.insert(0, str(ROOT / "benchmarks"))
    report = importlib.import_module("report")  # the generator benchmarks/report.py times the formats with
    path = tmp / f"synthetic-{vms}.json.gz"
    snapshot_io.save(report.synthetic(vms), path)
    return path


def timing(args: argparse.Namespace, before: Path) -> str:
    variants = [("before", before), ("after", ROOT)]
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name, _ in variants}
    with tempfile.TemporaryDirectory(prefix="vcreport-bench-xlsx-") as tmp:
        snap = synthetic_snapshot(args.vms, Path(tmp))
        for i in range(max(1, args.repeat)):
            for name, src in variants:
                r = render(src, snap, Path(tmp) / f"{name}-{i}", args.writer, args.callgrind)
                runs[name].append(r)
                counted = f"  {r['instructions'] / 1e9:.3f} G instructions" if args.callgrind else ""
                print(f"  run {i + 1} {name:<6} cpu {r['cpu_seconds']:5.2f} s  wall {r['seconds']:5.2f} s  "
                      f"render peak {r['render_rss_mb']:.0f} MB (process {r['maxrss_mb']:.0f} MB){counted}  ({r['src']})",
                      file=sys.stderr, flush=True)
    load = os.getloadavg()
    command = f"`python benchmarks/xlsx.py --before-src <checkout> --vms {args.vms} --repeat {args.repeat}" \
              f"{' --callgrind' if args.callgrind else ''}` ({args.writer}; load average at the end " \
              f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}):"
    if args.callgrind:  # seconds under valgrind say nothing; the count is the same on a busy machine
        rows = [f"| {name} | **{min(r['instructions'] for r in rs) / 1e9:.3f}** | {rs[0]['bytes'] / 1e6:.2f} |"
                for name, rs in runs.items()]
        every = "; ".join(f"{name}: " + " / ".join(f"{r['instructions'] / 1e9:.3f}" for r in rs)
                          for name, rs in runs.items())
        return "\n".join([command, "", "| tree | render G instructions (callgrind) | MB |", "|---|---:|---:|", *rows, "",
                          f"All runs: {every}.", ""])
    rows = []
    for name, rs in runs.items():
        rows.append(f"| {name} | **{min(r['cpu_seconds'] for r in rs):.2f}** | {min(r['seconds'] for r in rs):.2f} | "
                    f"{max(r['render_rss_mb'] for r in rs):.0f} | {max(r['maxrss_mb'] for r in rs):.0f} | "
                    f"{rs[0]['bytes'] / 1e6:.2f} |")
    every = "; ".join(f"{name}: cpu " + " / ".join(f"{r['cpu_seconds']:.2f}" for r in rs) for name, rs in runs.items())
    return "\n".join([
        command, "",
        "| tree | render CPU s | wall s | render peak RSS MB | process peak RSS MB | MB |",
        "|---|---:|---:|---:|---:|---:|", *rows, "", f"All runs: {every}.", ""])


def _sheet_view(ws: Any) -> Iterator[tuple[str, Any]]:
    """What a reader sees of one sheet, piece by piece: (where, what)."""
    yield "freeze panes", ws.freeze_panes
    yield "autofilter", ws.auto_filter.ref
    yield "column widths", {i: round(d.width, 2) for d in ws.column_dimensions.values() for i in range(d.min, d.max + 1)}
    yield "header style", [(c.font.b, c.fill.fill_type, c.fill.fgColor.rgb) for c in ws[1]]
    yield "size", (ws.max_row, ws.max_column)
    for row in ws.iter_rows():
        for c in row:
            yield c.coordinate, (c.value, c.data_type, c.number_format if c.value is not None else None)


def same_workbook(a: Path, b: Path) -> str | None:
    """None when the two workbooks read the same, else the first difference in words."""
    import openpyxl

    wa, wb = openpyxl.load_workbook(a), openpyxl.load_workbook(b)
    if wa.sheetnames != wb.sheetnames:
        return f"sheets differ: {wa.sheetnames} / {wb.sheetnames}"
    for name in wa.sheetnames:
        for (where, va), (_, vb) in zip(_sheet_view(wa[name]), _sheet_view(wb[name]), strict=False):
            if va != vb:
                return f"sheet {name!r} {where}: {va!r} / {vb!r}"
    return None


def check(args: argparse.Namespace, before: Path) -> int:
    from reporter import api

    failed = 0
    with tempfile.TemporaryDirectory(prefix="vcreport-bench-xlsx-") as tmp:
        inputs = [("sample", Path(str(api.find_sample("sample-snapshot.json.gz")))),
                  (f"synthetic {args.vms:,} VMs", synthetic_snapshot(args.vms, Path(tmp)))]
        for label, snap in inputs:
            paths = []
            for name, src in (("before", before), ("after", ROOT)):
                render(src, snap, Path(tmp) / f"{label}-{name}", args.writer)
                paths.append(Path(tmp) / f"{label}-{name}" / "report.xlsx")
            t = time.perf_counter()
            diff = same_workbook(*paths)
            import openpyxl

            cells = sum(ws.max_row * ws.max_column for ws in openpyxl.load_workbook(paths[1], read_only=True))
            print(f"{label}: {'SAME' if diff is None else 'DIFFERENT'} ({cells:,} cells compared in "
                  f"{time.perf_counter() - t:.0f} s){'' if diff is None else ': ' + diff}")
            failed += diff is not None
    return 1 if failed else 0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--vms", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--before-src", metavar="DIR", help="checkout of the commit to compare with")
    ap.add_argument("--writer", default="libxlsxwriter", choices=["libxlsxwriter", "xlsxwriter"])
    ap.add_argument("--check", action="store_true", help="compare the two trees' workbooks cell by cell")
    ap.add_argument("--callgrind", action="store_true", help="count the render's instructions with callgrind")
    ap.add_argument("--record", action="store_true", help="put the table at the top of benchmarks/RESULTS.md")
    ap.add_argument("--child", nargs=2, metavar=("SNAPSHOT", "OUT_DIR"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(*args.child)
        return
    if not args.before_src:
        ap.error("--before-src DIR is required")
    before = Path(args.before_src).resolve()
    if args.check:
        raise SystemExit(check(args, before))
    text = timing(args, before)
    print(text)
    if args.record:
        results = ROOT / "benchmarks" / "RESULTS.md"
        first, _, rest = results.read_text(encoding="utf-8").partition("\n")
        section = f"## report.xlsx, before / after (issue 18) — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n\n{text}"
        results.write_text(f"{first}\n\n{section}\n{rest.lstrip(chr(10))}", encoding="utf-8")
        print(f"recorded at the top of {results}", file=sys.stderr)


if __name__ == "__main__":
    main()
