"""Several vCenters collected at once ([collect] workers): same snapshot as one by one,
one vCenter down costs only itself, the pool is bounded, workers is validated."""

from __future__ import annotations

import socket
import threading
from pathlib import Path
from typing import Any

import pytest
from vcsim_harness import Vcsim, toml_table

from reporter.collect import collect
from reporter.collect import session as session_mod
from reporter.config import load_config, parse_config
from reporter.errors import ConfigError

pytestmark = pytest.mark.vcsim


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def sims(vcsim_launcher: Any) -> Any:
    # Three different inventories, so a mix-up between vCenters would show.
    started = [vcsim_launcher.start(vms=n, hosts=h) for n, h in ((4, 1), (6, 2), (8, 3))]
    yield started
    for inst in started:
        inst.stop()
        vcsim_launcher.running.remove(inst)


def write_config(tmp_path: Path, sims: list[Vcsim], workers: int | None, **overrides: dict[str, Any]) -> Path:
    text = ""
    for n, sim in enumerate(sims):
        text += toml_table("[[vcenter]]", sim.vcenter_table(name=f"vc{n}", **overrides.get(f"vc{n}", {}))) + "\n"
    text += toml_table("[output]", {"dir": str(tmp_path / "reports")})
    if workers is not None:
        text += "\n" + toml_table("[collect]", {"workers": workers})
    path = tmp_path / "fleet.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_each_simulator_has_its_own_instance_uuid(sims: list[Vcsim]) -> None:
    uuids = {sim.si().content.about.instanceUuid for sim in sims}
    assert len(uuids) == 3


def test_concurrent_equals_one_by_one(sims: list[Vcsim], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    threads: set[str] = set()
    original = session_mod.Session.login

    def login(self: Any) -> None:
        threads.add(threading.current_thread().name)
        original(self)

    monkeypatch.setattr(session_mod.Session, "login", login)
    together = collect(load_config(write_config(tmp_path, sims, workers=3)), progress=False)
    assert len(threads) == 3 and all(t.startswith("collect") for t in threads)  # really in parallel threads
    threads.clear()
    alone = collect(load_config(write_config(tmp_path, sims, workers=1)), progress=False)
    assert threads == {"MainThread"}
    assert together.collection_errors == alone.collection_errors == []
    assert together.vcenters == alone.vcenters
    # In config order, whatever order the threads finished in.
    assert [vc.name for vc in together.vcenters.values()] == ["vc0", "vc1", "vc2"]
    assert [len(vc.vms) for vc in together.vcenters.values()] == [4, 6, 8]
    assert socket.getdefaulttimeout() is None  # the shared login timeout was given back


def test_one_vcenter_down_the_others_are_collected(sims: list[Vcsim], tmp_path: Path) -> None:
    port = closed_port()
    cfg = load_config(write_config(tmp_path, sims, workers=3, vc1={"port": port}))
    snap = collect(cfg, progress=False)
    assert [vc.name for vc in snap.vcenters.values()] == ["vc0", "vc2"]
    assert [len(vc.vms) for vc in snap.vcenters.values()] == [4, 8]
    assert [(e.vcenter, e.stage, e.error_type, e.message) for e in snap.collection_errors] == [
        ("vc1", "connect", "ConnectionRefused",
         f"vc1 (127.0.0.1:{port}): connection refused (is the port right and vCenter up?)")]


def test_concurrent_progress_is_whole_lines_per_vcenter(sims: list[Vcsim], tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    collect(load_config(write_config(tmp_path, sims, workers=3)), progress=True)
    err = capsys.readouterr().err
    assert "\r" not in err  # no live counters fighting over one terminal line
    lines = err.splitlines()
    for name, vms in (("vc0", 4), ("vc1", 6), ("vc2", 8)):
        assert sum(1 for line in lines if line.startswith(f"{name}: virtual machines: {vms} in ")) == 1


def test_workers_default_and_bounds() -> None:
    base: dict[str, Any] = {"vcenter": []}
    assert parse_config(base).collect.workers == 8
    assert parse_config({**base, "collect": {"workers": 1}}).collect.workers == 1
    assert parse_config({**base, "collect": {"workers": 64}}).collect.workers == 64
    for bad, msg in ((0, "Input should be greater than or equal to 1"),
                     (65, "Input should be less than or equal to 64"),
                     ("4", "Input should be a valid integer"),
                     (2.5, "Input should be a valid integer")):
        with pytest.raises(ConfigError) as info:
            parse_config({**base, "collect": {"workers": bad}}, "f.toml")
        assert str(info.value) == f"f.toml: collect.workers: {msg}"
    with pytest.raises(ConfigError) as info:
        parse_config({**base, "collect": {"threads": 4}}, "f.toml")
    assert str(info.value) == "f.toml: collect.threads: unknown key"



SHARED_SCRIPT = """
import json, os, sys, threading
from reporter.collect import collect, processes
from reporter.config import load_config
from reporter.core import forking

processes.usable_cores = forking.usable_cores = lambda: 2  # two processes, whatever this runner has
counts = []
run_shared = processes.run_shared
def counting(*args, **kwargs):
    counts.append(kwargs["processes"])
    return run_shared(*args, **kwargs)
processes.run_shared = counting
alone = threading.active_count() == 1
shared = collect(load_config(sys.argv[1]), progress=False)
os.environ[processes.PROCESS_ENV] = "0"
threaded = collect(load_config(sys.argv[1]), progress=False)
print(json.dumps({
    "alone": alone, "processes": counts, "same": shared.vcenters == threaded.vcenters,
    "names": list(shared.vcenters), "threaded_names": list(threaded.vcenters),
    "vms": [len(vc.vms) for vc in shared.vcenters.values()],
    "errors": [(e.vcenter, e.stage, e.error_type) for e in shared.collection_errors],
    "threaded_errors": [(e.vcenter, e.stage, e.error_type) for e in threaded.collection_errors],
}))
"""


def test_vcenters_shared_with_a_forked_process(sims: list[Vcsim], tmp_path: Path) -> None:
    """Four vCenters (one down) in a single-threaded process, as `vcreport collect` runs: shared
    with a forked child, the same snapshot and errors as on threads alone. (In a separate process:
    a test worker has threads of its own, and a fork is never made beside other threads.)"""
    import json
    import subprocess
    import sys

    path = write_config(tmp_path, [*sims, sims[0]], workers=4, vc3={"port": closed_port()})
    out = subprocess.run([sys.executable, "-c", SHARED_SCRIPT, str(path)], capture_output=True, text=True,
                         timeout=180, check=False)
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["alone"] and result["processes"] == [2]
    assert result["same"] and result["names"] == result["threaded_names"]
    assert result["vms"] == [4, 6, 8]
    assert result["errors"] == result["threaded_errors"] == [["vc3", "connect", "ConnectionRefused"]]


def test_logouts_run_in_the_background_and_join_waits_for_them():
    """A vCenter's result does not wait for its Logout round trip; the collection does, at its end."""
    import threading
    import time
    from types import SimpleNamespace

    from reporter.collect.session import Logouts

    done = threading.Event()

    def slow_logout() -> None:
        time.sleep(0.3)
        done.set()

    logouts = Logouts()
    t0 = time.perf_counter()
    logouts.start(SimpleNamespace(vc=SimpleNamespace(name="vc1"), logout=slow_logout))  # type: ignore[arg-type]
    assert time.perf_counter() - t0 < 0.2 and not done.is_set()
    logouts.join()
    assert done.is_set()
    logouts.join()  # nothing left: returns at once
