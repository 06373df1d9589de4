# mypy: disable-error-code="no-untyped-call"
# (pyVmomi's generated types and pyVim are untyped)
"""Benchmark: incremental vRAM samples against a full collect and a full light read (not a test).

One simulator of --vms VMs (every call delayed by --delay-ms). Each mode runs in a
fresh child process, which reports the wall time of the measured call and the reply
bytes it received (every HTTP reply body, counted where it is read):

  collect      - reporter.collect.collect(): the full collection (the reference)
  light        - sample_vram(): the full light read (a new session, every VM)
  long-running - a VramSampler (what ``vcreport serve`` keeps): first sample, then
                 --changes VMs powered off, then the sample that is measured
  one-shot     - ``vcreport vram sample`` from cron: a first run leaves its state file,
                 --changes VMs are powered off, then a second process runs the sample that
                 is measured (session, filter and version resumed from the state file);
                 its whole-process time (interpreter and imports included) is shown too

    python benchmarks/vram_sample.py [--vms 10000] [--changes 10] [--delay-ms 0]

Goal at 10k VMs and 10 changes: an incremental sample moves <= 1 % of a full collect's
reply bytes; long-running it takes <= 5 % of a collect's time.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from vcsim_harness import VcsimLauncher, build_launcher, make_tls_files  # noqa: E402

RECEIVED = {"bytes": 0}


def count_reply_bytes() -> None:
    read = http.client.HTTPResponse.read

    def counting(resp: Any, amt: Any = None) -> bytes:
        data: bytes = read(resp, amt)
        RECEIVED["bytes"] += len(data)
        return data

    http.client.HTTPResponse.read = counting  # type: ignore[method-assign,assignment]


def power_off(cfg: Any, n: int) -> None:
    """Power off ``n`` powered-on VMs through a separate session (the admin's change)."""
    from pyVim.connect import Disconnect, SmartConnect
    from pyVim.task import WaitForTask
    from pyVmomi import vim, vmodl

    from reporter.collect.session import ssl_context

    (vc,) = cfg.vcenter
    si = SmartConnect(host=vc.host, port=vc.port, user=vc.user, pwd=vc.resolve_password(vc.name),
                      sslContext=ssl_context(vc), httpConnectionTimeout=600)
    try:
        content = si.RetrieveContent()
        view = content.viewManager.CreateContainerView(content.rootFolder, [vim.VirtualMachine], True)
        pc = content.propertyCollector
        PC = vmodl.query.PropertyCollector
        spec = PC.FilterSpec(objectSet=[PC.ObjectSpec(obj=view, skip=True, selectSet=[
            PC.TraversalSpec(name="v", path="view", skip=False, type=vim.view.ContainerView)])],
            propSet=[PC.PropertySpec(type=vim.VirtualMachine, pathSet=["runtime.powerState"])])
        on = [oc.obj for oc in pc.RetrieveContents([spec]) if oc.propSet[0].val == "poweredOn"]
        for vm in on[:n]:
            WaitForTask(vm.PowerOffVM_Task())
        view.DestroyView()
    finally:
        Disconnect(si)


def child(mode: str, config: Path, changes: int) -> dict[str, Any]:
    from reporter.collect import collect, incremental, sample_vram
    from reporter.config import load_config

    cfg = load_config(config)
    count_reply_bytes()
    stats: dict[str, Any] = {}
    if mode == "collect":
        t0 = time.perf_counter()
        snap = collect(cfg, progress=False)
    elif mode == "light":
        t0 = time.perf_counter()
        snap = sample_vram(cfg)
    elif mode == "long-running":
        sampler = incremental.VramSampler(cfg)
        sampler.sample()
        power_off(cfg, changes)
        RECEIVED["bytes"] = 0
        t0 = time.perf_counter()
        snap = sampler.sample()
        stats = {"incremental": sampler.last_stats["vcsim"].incremental,
                 "objects": sampler.last_stats["vcsim"].objects_received}
    elif mode == "one-shot-prepare":
        sample_vram(cfg, incremental=True)
        power_off(cfg, changes)
        return {}
    elif mode == "one-shot":
        t0 = time.perf_counter()
        got: dict[str, Any] = {}
        snap = sample_vram(cfg, incremental=True, stats=got)
        stats = {"incremental": got["vcsim"].incremental, "objects": got["vcsim"].objects_received}
    else:
        raise SystemExit(f"unknown mode {mode}")
    took = time.perf_counter() - t0
    return {"mode": mode, "seconds": took, "bytes": RECEIVED["bytes"], "vms": snap.vm_count(),
            "errors": len(snap.collection_errors), **stats}


def in_child(mode: str, config: Path, changes: int) -> dict[str, Any]:
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, __file__, "--child", mode, "--config", str(config),
                          "--changes", str(changes)], capture_output=True, text=True, check=False,
                         env=dict(os.environ))
    if out.returncode != 0:
        raise SystemExit(f"child {mode} failed:\n{out.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    result["process_seconds"] = time.perf_counter() - t0
    return result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vms", type=int, default=10000)
    ap.add_argument("--changes", type=int, default=10)
    ap.add_argument("--delay-ms", type=int, default=0)
    ap.add_argument("--child")
    ap.add_argument("--config", type=Path)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.config, args.changes)))
        return 0

    work = Path(tempfile.mkdtemp(prefix="vcreport-vram-"))
    launcher = VcsimLauncher(binary=build_launcher(), tls=make_tls_files(work / "tls"), workdir=work)
    try:
        # The inventory shape of benchmarks/collect.py: 10 clusters x 8 hosts.
        sim = launcher.start(vms=args.vms, clusters=10, hosts=8, standalone=0, delay_ms=args.delay_ms, timeout_s=600)
        config = sim.config_file(work, timeout_s=600)
        config.write_text(config.read_text() + f'\n[collect]\nstate_dir = "{work / "state"}"\n')
        results = {}
        for mode in ("collect", "light", "long-running"):
            results[mode] = in_child(mode, config, args.changes)
        in_child("one-shot-prepare", config, args.changes)
        results["one-shot"] = in_child("one-shot", config, args.changes)
        full = results["collect"]
        for mode, r in results.items():
            print(f"{mode:>12}: {r['seconds']:7.3f} s ({r['seconds'] / full['seconds'] * 100:6.2f} % of collect), "
                  f"{r['bytes']:>12,} reply bytes ({r['bytes'] / full['bytes'] * 100:6.3f} % of collect), "
                  f"{r['vms']:,} VMs, errors {r['errors']}"
                  + (f", incremental={r['incremental']} objects={r['objects']}" if "objects" in r else "")
                  + (f"; whole process {r['process_seconds']:.2f} s" if mode == "one-shot" else ""), flush=True)
        print(json.dumps({"vms": args.vms, "changes": args.changes, "delay_ms": args.delay_ms, "results": results}))
        return 0
    finally:
        launcher.stop_all()


if __name__ == "__main__":
    raise SystemExit(main())
