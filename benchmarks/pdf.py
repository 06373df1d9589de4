"""Benchmark report.pdf: this tree against an earlier checkout, interleaved (not a test).

    python benchmarks/pdf.py [--vms 10000] [--full-vms 2000] [--before-src DIR] [--repeat 2] [--forked] [--audit] [--record]

Cases: the bundled sample and the synthetic ``--vms`` snapshot (benchmarks/report.py makes it)
in the standard edition, and a synthetic ``--full-vms`` snapshot in the full edition (0: none);
``--audit`` adds the audit edition (PDF/A-3b, unsigned, its HTML build counted in WeasyPrint's column)
of the standard-edition snapshots.
Each run is a fresh process that loads the snapshot, runs the checks and masks, as `vcreport
report` does, prepares the PDF renderer as `vcreport run` does while it waits on vCenter
(``prepare_pdf``: WeasyPrint imported, the templates compiled), then renders report.pdf: CPU
seconds of that preparation, of the HTML build (views + template) and of WeasyPrint (layout +
drawing + writing) apart, their total, the pages and the process's peak RSS. With
``--before-src`` every case runs for both trees, alternating, and the two PDFs of a case are
compared page by page: same number of pages and the same text on each (pdfplumber), so a
speed-up that changed what the reader sees shows up here. ``--pixels DPI`` also compares every
page's pixels (pdftoppm at that resolution, Pillow): the pages that differ, and by how much.

``--forked`` renders in a child forked after the checks, as `vcreport report` and `run` render the
PDF on a machine with two or more cores (reporter.pipeline.parallel): CPU and peak RSS are then
the child's, which ends without tearing its objects down.

``--record`` puts the table at the top of benchmarks/RESULTS.md (below its first line).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
GENERATED = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
FORKED_ENV = "VCREPORT_BENCH_PDF_FORKED"  # set by --forked for the child processes


def child(src: str, snapshot: str, detail: str, out_pdf: str) -> None:
    """Runs in the tree ``src``; prints one JSON line."""
    sys.path.insert(0, src)
    use_templates_of(Path(src))
    from reporter import api
    from reporter.core.detail import Detail
    from reporter.core.gcpolicy import frozen_heap, paused_gc
    from reporter.render import ReportContext, sha256_file
    from reporter.render.pdf import html_to_pdf, report_pdf_html

    audit = detail == "audit"
    detail = "standard" if audit else detail
    prepared = prepare()  # first, as `run` does while it waits on vCenter: no snapshot in memory yet
    with paused_gc():  # as reporter.pipeline.report runs the checks
        snap = api.load_snapshot(snapshot)
        results, tables = api.check(snap)
        ctx = ReportContext(snapshot=snap, results=results, tables=tables, tool_version="bench",
                            snapshot_sha256=sha256_file(Path(snapshot)), detail=Detail(detail),
                            generated_at=GENERATED).masked()  # one clock: both trees print the same pages
    rss_before = peak_rss_mb()

    def render() -> dict[str, Any]:
        cpu0, wall0 = time.process_time(), time.perf_counter()
        if audit:  # the audit edition, unsigned, as `vcreport report --format pdfa` writes it (HTML included)
            from reporter.render import get_renderer

            out_dir = Path(out_pdf).parent / f"audit-{Path(out_pdf).stem}"
            out_dir.mkdir(exist_ok=True)
            (written,) = get_renderer("pdfa").render(ctx, out_dir)
            cpu1 = cpu0
            pdf = written.read_bytes()
        else:
            html = report_pdf_html(ctx)
            cpu1 = time.process_time()
            pdf = html_to_pdf(html)
        cpu2, wall2 = time.process_time(), time.perf_counter()
        Path(out_pdf).write_bytes(pdf)
        return {**prepared, "html_cpu": cpu1 - cpu0, "pdf_cpu": cpu2 - cpu1, "cpu": prepared["prepare_cpu"] + cpu2 - cpu0,
                "wall": wall2 - wall0, "rss_mb": peak_rss_mb(), "bytes": len(pdf)}

    with frozen_heap():  # as reporter.pipeline.report runs the renderers
        measured = render() if os.environ.get(FORKED_ENV) != "1" else in_forked_child(render)
    print(json.dumps({**measured, "rss_before_render_mb": rss_before,
                      "src": str(Path(api.__file__).resolve().parent.parent)}))


def prepare() -> dict[str, float]:
    """CPU seconds of what `vcreport run` does before the checks end, while it waits on vCenter
    (reporter.pipeline.run ``_prepare_report``): WeasyPrint imported, then the templates compiled
    (``prepare_pdf``; a tree older than it: the import alone). Done in this process before the
    snapshot is loaded (after the checks, the import's allocations set off collections over their
    heap: +0.3-0.8 s at 10,000 VMs, which `run` does not pay), and before the fork, as in `run`:
    the render child inherits it."""
    cpu0 = time.process_time()
    import weasyprint  # noqa: F401

    cpu1 = time.process_time()
    try:
        from reporter.render.pdf import prepare_pdf
    except ImportError:
        pass
    else:
        prepare_pdf()
    return {"import_cpu": cpu1 - cpu0, "prepare_cpu": time.process_time() - cpu0}


def in_forked_child(render: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """``render()`` in a child forked from this process, as `vcreport report`/`run` render the PDF
    (reporter.pipeline.parallel): its CPU and peak RSS are the child's own, and the child exits
    when it has sent them (``os._exit``, as a multiprocessing child ends)."""
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)

    def target() -> None:
        send.send(render())
        send.close()

    process = ctx.Process(target=target)
    process.start()
    send.close()
    measured: dict[str, Any] = receive.recv()
    process.join()
    return measured


def peak_rss_mb() -> float:
    """This process's peak RSS (VmHWM). Not ru_maxrss: Linux carries that over from the forked
    parent across exec, so a child would report the benchmark's own peak (pdfplumber's)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def use_templates_of(src: Path) -> None:
    """Templates from ``src``: an editable install maps the package reporter.templates to its own
    tree's templates/ whatever comes first on sys.path, so "before" would render with ours."""
    import importlib.util

    init = src / "templates" / "__init__.py"
    spec = importlib.util.spec_from_file_location("reporter.templates", init,
                                                  submodule_search_locations=[str(init.parent)])
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["reporter.templates"] = module
    spec.loader.exec_module(module)


def run_child(src: Path, snapshot: Path, detail: str, out_pdf: Path, texts: bool, forked: bool = False) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, __file__, "--child", str(src), str(snapshot), detail, str(out_pdf)],
                          capture_output=True, text=True, check=False,
                          env={**os.environ, "PYTHONWARNINGS": "ignore", FORKED_ENV: "1" if forked else "0"})
    if proc.returncode != 0:
        raise SystemExit(f"report.pdf of {snapshot.name} ({src}) failed:\n{proc.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    if texts:
        result["pages_text"] = page_texts(out_pdf)
        result["pages"] = len(result["pages_text"])
    else:  # nothing to compare with: the page count alone
        from pypdf import PdfReader

        result["pages"] = len(PdfReader(out_pdf).pages)
    return result


def page_texts(pdf: Path) -> list[str]:
    """The text of each page, read in a process of its own (pdfplumber takes GBs on 100+ pages)."""
    proc = subprocess.run([sys.executable, __file__, "--texts", str(pdf)], capture_output=True, text=True, check=True)
    texts: list[str] = json.loads(proc.stdout)
    return texts


def print_page_texts(pdf: str) -> None:
    import pdfplumber

    with pdfplumber.open(pdf) as doc:
        print(json.dumps([page.extract_text() or "" for page in doc.pages]))


def pixel_diff(a: Path, b: Path, dpi: int) -> str:
    """Every page of ``a`` against ``b``'s, rendered at ``dpi``: which differ, in how many pixels,
    and the largest difference of one colour channel (0-255)."""
    from PIL import Image, ImageChops

    with tempfile.TemporaryDirectory() as tmp_dir:
        pages = {}
        for name, pdf in (("a", a), ("b", b)):
            subprocess.run(["pdftoppm", "-r", str(dpi), "-png", str(pdf), f"{tmp_dir}/{name}"], check=True)
            pages[name] = sorted(Path(tmp_dir).glob(f"{name}-*.png"))
        if len(pages["a"]) != len(pages["b"]):
            return f"✘ {len(pages['a'])} against {len(pages['b'])} pages"
        differ = []
        for number, (x, y) in enumerate(zip(pages["a"], pages["b"], strict=True), start=1):
            with Image.open(x) as ia, Image.open(y) as ib:
                if ia.size != ib.size:
                    differ.append(f"{number} (size)")
                    continue
                delta = ImageChops.difference(ia.convert("RGB"), ib.convert("RGB"))
                red, green, blue = delta.split()
                counts = ImageChops.lighter(ImageChops.lighter(red, green), blue).histogram()  # largest channel
                if counts[0] != ia.size[0] * ia.size[1]:
                    largest = max(level for level, n in enumerate(counts) if n)
                    differ.append(f"{number} ({sum(counts[1:])} px, at most {largest})")
    return f"✔ pixel-identical at {dpi} dpi" if not differ else f"differ at {dpi} dpi: page " + ", ".join(differ)


def same_pages(a: list[str], b: list[str]) -> str:
    if len(a) != len(b):
        return f"✘ {len(a)} against {len(b)} pages"
    differ = [i + 1 for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
    return "✔ same text on every page" if not differ else f"✘ text differs on pages {differ[:10]}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--vms", type=int, default=10_000, help="synthetic snapshot for the standard edition")
    ap.add_argument("--full-vms", type=int, default=2_000, help="synthetic snapshot for the full edition (0: none)")
    ap.add_argument("--before-src", metavar="DIR", help="a checkout of an earlier commit to compare with")
    ap.add_argument("--repeat", type=int, default=2, help="interleaved runs of each case (lowest render CPU kept)")
    ap.add_argument("--no-sample", action="store_true", help="leave out the bundled sample")
    ap.add_argument("--audit", action="store_true",
                    help="also the audit edition (PDF/A-3b, unsigned) of the sample and of the --vms snapshot")
    ap.add_argument("--record", action="store_true", help="put the table at the top of benchmarks/RESULTS.md")
    ap.add_argument("--forked", action="store_true",
                    help="render in a forked child, as `vcreport report`/`run` do on 2+ cores (CPU and RSS of the child)")
    ap.add_argument("--pixels", type=int, metavar="DPI", help="also compare every page's pixels at this resolution")
    ap.add_argument("--child", nargs=4, metavar=("SRC", "SNAPSHOT", "DETAIL", "OUT"), help=argparse.SUPPRESS)
    ap.add_argument("--texts", metavar="PDF", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(*args.child)
        return
    if args.texts:
        print_page_texts(args.texts)
        return
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from report import synthetic

    from reporter import api
    from reporter.core import snapshot_io

    trees = [("after", ROOT)] + ([("before", Path(args.before_src).resolve())] if args.before_src else [])
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        cases: list[tuple[str, Path, str]] = []
        if not args.no_sample:
            cases.append(("sample (409 VMs)", Path(str(api.find_sample("sample-snapshot.json.gz"))), "standard"))
        for n, detail in ((args.vms, "standard"), (args.full_vms, "full")):
            if n:
                path = tmp / f"synthetic-{n}.json.gz"
                if not path.exists():
                    snapshot_io.save(synthetic(n), path)
                cases.append((f"synthetic {n:,} VMs", path, detail))
        if args.audit:
            cases += [(label, path, "audit") for label, path, detail in list(cases) if detail == "standard"]
        runs: dict[tuple[int, str], list[dict[str, Any]]] = {}
        for r in range(max(1, args.repeat)):
            for c, (label, path, detail) in enumerate(cases):
                order = trees if r % 2 == 0 else trees[::-1]  # alternate who goes first
                for name, src in order:
                    res = run_child(src, path, detail, tmp / f"{c}-{name}.pdf", texts=len(trees) > 1,
                                    forked=args.forked)
                    runs.setdefault((c, name), []).append(res)
                    print(f"  run {r + 1} {label} {detail} {name:6}: prepared ahead {res['prepare_cpu']:4.2f} s, "
                          f"HTML {res['html_cpu']:5.2f} s + WeasyPrint "
                          f"{res['pdf_cpu']:6.2f} s CPU (wall {res['wall']:6.2f} s), {res['pages']} pages, "
                          f"peak RSS {res['rss_mb']:.0f} MB", file=sys.stderr, flush=True)
        pixels = {c: pixel_diff(tmp / f"{c}-after.pdf", tmp / f"{c}-before.pdf", args.pixels)
                  for c in range(len(cases)) if args.pixels and len(trees) > 1}
    load = os.getloadavg()
    rows = []
    for c, (label, _, detail) in enumerate(cases):
        for name, _ in trees:
            rs = runs[(c, name)]
            best = min(rs, key=lambda x: x["html_cpu"] + x["pdf_cpu"])  # the render: what `run` waits for
            same = ""
            if name == "after" and len(trees) > 1:
                same = same_pages(best["pages_text"], runs[(c, "before")][0]["pages_text"])
                same += f"; {pixels[c]}" if c in pixels else ""
            render_cpu = best["html_cpu"] + best["pdf_cpu"]
            rows.append(f"| {label} | {detail} | {name} | {best['prepare_cpu']:.2f} | {best['html_cpu']:.2f} | "
                        f"{best['pdf_cpu']:.2f} | **{render_cpu:.2f}** | {best['cpu']:.2f} | "
                        f"{min(x['wall'] for x in rs):.2f} | {best['pages']} | "
                        f"{max(x['rss_mb'] for x in rs):.0f} | {same} |")
    all_runs = "; ".join(f"{cases[c][0]} {cases[c][2]} {name}: CPU " + " / ".join(f"{x['cpu']:.2f}" for x in rs)
                         for (c, name), rs in runs.items())
    command = (f"python benchmarks/pdf.py --vms {args.vms} --full-vms {args.full_vms} --repeat {args.repeat}"
               + (" --audit" if args.audit else "")
               + (" --forked" if args.forked else "") + (f" --pixels {args.pixels}" if args.pixels else "")
               + (" --before-src <checkout>" if args.before_src else ""))
    text = "\n".join([
        f"## report.pdf, before / after (issue 18) — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC", "",
        f"`{command}`: each run a fresh process (load, checks, masking, then report.pdf"
        f"{', rendered in a forked child as `vcreport run` does: CPU and peak RSS are the child' + chr(39) + 's' if args.forked else ''}); CPU seconds of "
        f"the preparation `vcreport run` does while it waits on vCenter (WeasyPrint's import, the templates "
        f"compiled: not on its path), of the HTML build and of WeasyPrint; the render is these two, the total "
        f"all three (the old \"total\"); the run of the lowest render CPU of {args.repeat} interleaved runs; peak RSS of the "
        f"whole process, highest. {os.cpu_count()} cores; load average at the end "
        f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}.", "",
        "| snapshot | edition | tree | prepared ahead CPU s | HTML CPU s | WeasyPrint CPU s | render CPU s "
        "| total CPU s | wall s | pages | peak RSS MB | same pages as before |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|", *rows, "", f"All runs: {all_runs}.", ""])
    print(text)
    if args.record:
        results = ROOT / "benchmarks" / "RESULTS.md"
        first, _, rest = results.read_text(encoding="utf-8").partition("\n")
        results.write_text(f"{first}\n\n{text}\n{rest.lstrip(chr(10))}", encoding="utf-8")
        print(f"recorded at the top of {results}", file=sys.stderr)


if __name__ == "__main__":
    main()
