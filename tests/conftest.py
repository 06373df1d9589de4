"""Shared fixtures: a real vCenter API (govmomi's vcsim) for the collector tests.

``vcsim`` is one simulator for the whole session (small inventory); ``vcsim_factory``
starts extra ones (own size, a loaded model directory, no custom certificate, a
method delay) that stop when the test ends; ``vcsim_launcher`` starts simulators a
test module manages itself. Without Go or the govmomi sources every vcsim test is
skipped with the reason. The machinery lives in ``vcsim_harness.py``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from vcsim_harness import HarnessUnavailable, Vcsim, VcsimLauncher, build_launcher, make_tls_files


@pytest.fixture(scope="session")
def vcsim_launcher(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VcsimLauncher]:
    try:
        binary = build_launcher()
        workdir = tmp_path_factory.mktemp("vcsim")
        launcher = VcsimLauncher(binary=binary, tls=make_tls_files(workdir / "tls"), workdir=workdir)
    except HarnessUnavailable as exc:
        # scripts/test.sh (and so CI) installs Go + govmomi and sets VCREPORT_REQUIRE_VCSIM=1:
        # there a missing simulator is a failure, never a quiet skip.
        if os.environ.get("VCREPORT_REQUIRE_VCSIM") == "1":
            pytest.fail(f"vcsim required but unavailable: {exc}")
        pytest.skip(str(exc))
    yield launcher
    launcher.stop_all()


@pytest.fixture(scope="session")
def vcsim(vcsim_launcher: VcsimLauncher) -> Iterator[Vcsim]:
    """The session's simulator: 1 datacenter, 1 cluster of 3 hosts + 1 standalone host,
    1 datastore, 8 VMs (4 in the cluster, 4 on the standalone host), all powered on."""
    inst = vcsim_launcher.start()
    yield inst
    inst.stop()
    vcsim_launcher.running.remove(inst)


@pytest.fixture
def vcsim_factory(vcsim_launcher: VcsimLauncher) -> Iterator[Any]:
    """Start extra simulators for one test: ``vcsim_factory(vms=..., hosts=..., model_dir=...,
    custom_cert=False, delay_ms=...)``; all of them stop when the test ends."""
    started: list[Vcsim] = []

    def factory(**kwargs: Any) -> Vcsim:
        inst = vcsim_launcher.start(**kwargs)
        started.append(inst)
        return inst

    yield factory
    for inst in started:
        inst.stop()
        if inst in vcsim_launcher.running:
            vcsim_launcher.running.remove(inst)
