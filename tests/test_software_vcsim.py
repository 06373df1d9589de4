"""Host software through the launcher's ``-host-software`` fixtures (tests/vcsim_software.py):
each software finding fires on its shaped host and a correct host stays silent; faults make
the host's software unknown with the reason, never a collection error (exit code 0); each
software method is called once per host, and only read-only methods are called."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from test_collect_protocol import READ_ONLY, Recorder
from vcsim_software import module, package, write_host_software

from reporter.api import load_config
from reporter.checks.base import CheckContext
from reporter.checks.engine import run_checks
from reporter.checks.software.settings import SoftwareSettings
from reporter.collect import collect
from reporter.config.settings import Settings
from reporter.core.model import Snapshot

pytestmark = pytest.mark.vcsim

DRIVER_API = "com.vmware.driverAPI-9.2.2.0"


def _fixtures(directory: Path) -> Path:
    # Community host with a community vmklinux NIC driver and the vmklinux shim loaded.
    write_host_software(directory, "DC0_C0_H0", acceptance_level="community",
                        profile=("ESXi-6.7.0-20191204001-custom", "Example"),
                        packages=[package("esx-base", "6.7.0-3.89.15160138", vendor="VMware"),
                                  package("net55-r8168", "8.045a-napi", vendor="VFrontDe", acceptance_level="community",
                                          depends=["vmkapi_2_2_0_0", DRIVER_API])],
                        modules=[module("vmklinux_9"), module("r8168")])
    # Correct: VMwareAccepted, native drivers only.
    write_host_software(directory, "DC0_C0_H1", acceptance_level="vmware_accepted",
                        packages=[package("esx-base", "6.7.0-3.89.15160138", vendor="VMware"),
                                  package("nmlx5-core", "4.17.13.1-1vmw.670.3.73.14320388",
                                          depends=["vmkapi_2_5_0_0"])],
                        modules=[module("nmlx5_core")])
    # A partner FCoE driver whose version fails the upgrade to 7.0 (cna_drivers.toml), not to 8.0.
    write_host_software(directory, "DC0_C0_H2", acceptance_level="partner",
                        packages=[package("qedf", "1.3.35.0-1OEM.600.0.0.2768847", vendor="QLC",
                                          acceptance_level="partner")],
                        modules=[module("qedf")])
    return directory  # DC0_H0: no file (NotSupported); DC0_H1: -software-fault NoPermission


@pytest.fixture(scope="module")
def sim(vcsim_launcher: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    inst = vcsim_launcher.start(hosts=3, standalone=2, host_software=_fixtures(tmp_path_factory.mktemp("sw")),
                                software_fault={"DC0_H1": "NoPermission"})
    yield inst
    inst.stop()
    vcsim_launcher.running.remove(inst)


@pytest.fixture(scope="module")
def snap(sim: Any, tmp_path_factory: pytest.TempPathFactory) -> Snapshot:
    return collect(load_config(sim.config_file(tmp_path_factory.mktemp("cfg"))), progress=False)


def _sw(snapshot: Snapshot, target: str = "8.0") -> list[tuple[str, str, str]]:
    settings = Settings(thresholds={"software": SoftwareSettings(target_release=target)})
    results = run_checks(CheckContext(snapshot=snapshot, settings=settings), only=["software"])
    return sorted((f.check_id, f.object_name, f.severity.value) for f in results.findings)


def test_each_software_finding_on_its_host_and_none_on_the_correct_one(snap: Snapshot) -> None:
    assert snap.collection_errors == []
    assert _sw(snap) == [
        ("SW-001", "DC0_C0_H0", "high"),  # community host and VIB
        ("SW-001", "DC0_C0_H2", "medium"),  # a PartnerSupported VIB: who supports it?
        ("SW-002", "DC0_C0_H0", "high"),  # vmklinux: blocked for 8.0
        ("SW-003", "DC0_H0", "info"),  # NotSupported
        ("SW-003", "DC0_H1", "info"),  # NoPermission
    ]
    # For 7.0 the FCoE driver blocks too.
    assert ("SW-002", "DC0_C0_H2", "high") in _sw(snap, "7.0")
    assert [f for f in _sw(snap, "7.0") if f[0] == "SW-002"] == [
        ("SW-002", "DC0_C0_H0", "high"), ("SW-002", "DC0_C0_H2", "high")]


def test_blocked_host_says_why(snap: Snapshot) -> None:
    results = run_checks(CheckContext(snapshot=snap), only=["SW-002"])
    (f,) = results.findings
    assert [(b["code"], b["subject"]) for b in f.evidence["blockers"]] == [
        ("unsatisfiable-dependency", "net55-r8168"), ("vmklinux-module", "vmklinux_9")]
    assert f.message.startswith("Host DC0_C0_H0 (ESXi 6.5.0) is blocked from upgrading to ESXi 8.0: net55-r8168: "
                                f"depends on {DRIVER_API} (vmklinux driver API")


def test_unknown_software_keeps_the_reason(snap: Snapshot) -> None:
    (vc,) = snap.vcenters.values()
    hosts = {h.name: h.software for h in vc.hosts.values()}
    assert hosts["DC0_H1"] is not None and hosts["DC0_H1"].software_unknown_reason == (
        "permission denied during HostImageConfigGetAcceptance (needs privilege System.Read); "
        "permission denied during QueryModules (needs privilege Host.Config.Settings)")
    h1 = hosts["DC0_C0_H1"]
    assert h1 is not None and (h1.acceptance_level, h1.software_unknown_reason) == ("vmware_accepted", None)
    assert [p.name for p in h1.packages or []] == ["esx-base", "nmlx5-core"]


def test_software_methods_once_per_host_and_read_only(sim: Any, tmp_path: Path, monkeypatch: Any) -> None:
    rec = Recorder(monkeypatch)
    snapshot = collect(load_config(sim.config_file(tmp_path)), progress=False)
    assert snapshot.collection_errors == []
    counts = rec.counts()
    assert set(counts) <= READ_ONLY
    # 5 hosts; the image manager's later methods only where its first one answered (3 hosts).
    assert [counts[m] for m in ("HostImageConfigGetAcceptance", "HostImageConfigGetProfile",
                                "fetchSoftwarePackages", "QueryModules")] == [5, 3, 3, 5]


def test_cli_collect_exits_0_with_unknown_software(sim: Any, tmp_path: Path) -> None:
    out = tmp_path / "snap.json.gz"
    res = subprocess.run([sys.executable, "-m", "reporter.cli", "collect", "--config", str(sim.config_file(tmp_path)),
                          "--out", str(out)], capture_output=True, text=True, env=dict(os.environ), timeout=300)
    assert res.returncode == 0, res.stderr
    assert "Traceback" not in res.stderr


def test_read_only_role_and_a_host_before_6_5(vcsim_launcher: Any, tmp_path: Path) -> None:
    """The built-in Read-only role reads the acceptance level and image profile but not the VIBs
    (Host.Config.Image) or the kernel modules (Host.Config.Settings); a host before ESXi 6.5 has
    no fetchSoftwarePackages. Both are 'unknown' with what to do, and what was read still counts."""
    directory = tmp_path / "sw"
    write_host_software(directory, "DC0_C0_H0", acceptance_level="community",
                        profile=("ESXi-6.7.0-20191204001-custom", "Example"),
                        packages=[package("net55-r8168", "8.045a-napi", vendor="VFrontDe", acceptance_level="community",
                                          depends=[DRIVER_API])],
                        modules=[module("vmklinux_9")])
    write_host_software(directory, "DC0_C0_H1", acceptance_level="partner",
                        packages=[package("esx-base", "6.0.0-3.66.5485776", vendor="VMware")],
                        modules=[module("vmklinux_9"), module("bnx2x")])
    inst = vcsim_launcher.start(hosts=2, standalone=0, vms=0, host_software=directory,
                                software_fault={"DC0_C0_H0": "ReadOnly", "DC0_C0_H1": "Pre65"})
    try:
        snapshot = collect(load_config(inst.config_file(tmp_path)), progress=False)
    finally:
        inst.stop()
    assert snapshot.collection_errors == []
    (vc,) = snapshot.vcenters.values()
    sw = {h.name: h.software for h in vc.hosts.values()}
    ro, old = sw["DC0_C0_H0"], sw["DC0_C0_H1"]
    assert ro is not None and old is not None
    assert (ro.acceptance_level, ro.image_profile_name, ro.packages, ro.kernel_modules) == (
        "community", "ESXi-6.7.0-20191204001-custom", None, None)
    assert ro.software_unknown_reason == (
        "permission denied during fetchSoftwarePackages (needs privilege Host.Config.Image); "
        "permission denied during QueryModules (needs privilege Host.Config.Settings)")
    assert (old.acceptance_level, old.packages, [m.name for m in old.kernel_modules or []]) == (
        "partner", None, ["vmklinux_9", "bnx2x"])
    assert old.software_unknown_reason == (
        "installed VIBs not listed: the vSphere API lists them from ESXi 6.5 on")

    results = run_checks(CheckContext(snapshot=snapshot), only=["software"])
    assert sorted((f.check_id, f.object_name) for f in results.findings) == [
        ("SW-001", "DC0_C0_H0"),  # the acceptance level was readable: CommunitySupported
        ("SW-002", "DC0_C0_H1"),  # no VIB list, but the loaded vmklinux module blocks 8.0
        ("SW-003", "DC0_C0_H0"), ("SW-003", "DC0_C0_H1")]
    fixes = {f.object_name: f.remediation for f in results.findings if f.check_id == "SW-003"}
    assert fixes["DC0_C0_H0"].startswith(
        "Grant the collector's role, at the vCenter root with \"Propagate to children\": Host > Configuration > "
        "Image configuration (Host.Config.Image) for the installed VIBs; Host > Configuration > Change settings "
        "(Host.Config.Settings) for the kernel modules. The collector calls only read methods with them.")
    assert fixes["DC0_C0_H1"].startswith("ESXi before 6.5 does not list its VIBs through the vSphere API")
