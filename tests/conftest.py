"""Shared fixtures: a real vCenter API (govmomi's vcsim) for the collector tests.

``vcsim`` is one simulator for the whole session (small inventory); ``vcsim_factory``
starts extra ones (own size, a loaded model directory, no custom certificate, a
method delay) that stop when the test ends; ``vcsim_launcher`` starts simulators a
test module manages itself. Without Go or the govmomi sources every vcsim test is
skipped with the reason. The machinery lives in ``vcsim_harness.py``.

The suite runs in parallel (``scripts/test.sh``: pytest-xdist, ``--dist loadfile``): the tests of
one file run in one worker process, in file order, and different files run at the same time in
other workers. So a test file stays isolated when it

- writes only under ``tmp_path`` / ``tmp_path_factory`` (never into the source tree or a fixed
  ``/tmp`` path; a cache shared between processes must be written atomically, as
  ``vcsim_harness.build_launcher`` does);
- binds servers to ``127.0.0.1`` port 0 and reads the port back (never a fixed port);
- changes environment variables and process state only through ``monkeypatch`` (or restores them);
- uses PostgreSQL only through ``VCREPORT_TEST_PG_URL``: every worker gets its own database there
  (``pytest_configure`` below), so tables one file drops or fills are that worker's alone;
- shapes the session's ``vcsim`` (the same simulator for every file of a worker) only in ways other
  files do not depend on, or uses ``vcsim_factory`` for a simulator of its own;
- asserts timings only with a margin a second test process running beside it cannot break.
- collects the same tests in every worker: parametrize values and ids never depend on the clock or
  on chance (``gzip.compress(..., mtime=0)``, fixed seeds), or xdist refuses to start.

``pytest -n 0`` (or ``-p no:xdist``) runs everything in one process, as before.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from vcsim_harness import HarnessUnavailable, Vcsim, VcsimLauncher, build_launcher, make_tls_files

# The database the PostgreSQL history tests of this worker use; created in pytest_configure.
_WORKER_DB: dict[str, str] = {}


def pytest_configure(config: pytest.Config) -> None:
    """Under pytest-xdist, point ``VCREPORT_TEST_PG_URL`` of this worker at a database of its own
    (``<database>_<worker id>``, created empty here, dropped at the end), so two workers never
    drop or fill each other's tables. Runs before the test modules are imported, which read it."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    server_url = os.environ.get("VCREPORT_TEST_PG_URL")
    if not worker or not server_url:
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    url = make_url(server_url)
    name = f"{url.database or 'postgres'}_{worker}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    _WORKER_DB.update(server=server_url, name=name)
    os.environ["VCREPORT_TEST_PG_URL"] = url.set(database=name).render_as_string(hide_password=False)


def pytest_unconfigure(config: pytest.Config) -> None:
    if not _WORKER_DB:
        return
    from sqlalchemy import create_engine, text

    from reporter.history.store import dispose_all

    dispose_all()  # the store's pooled connections to the worker's database
    admin = create_engine(_WORKER_DB["server"], isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{_WORKER_DB["name"]}" WITH (FORCE)'))
    finally:
        admin.dispose()
    os.environ["VCREPORT_TEST_PG_URL"] = _WORKER_DB["server"]


# Files whose tests take a minute or more (see `pytest --durations`). Under pytest-xdist they are
# handed out first, so that the two workers start on them at once and the run does not end with
# one worker still inside one of them while the other is idle (``--dist loadfile`` hands out
# files in collection order). Only the order changes; a file missing here just runs in its turn.
SLOW_FILES = (
    "test_pdf_layout.py", "test_e2e_cli.py", "test_run_in_memory.py", "test_customer_text.py",
    "test_parallel_render.py", "test_pdf_quiet_table.py", "test_history_concurrency.py", "test_hostile_names.py",
    "test_long_names_layout.py", "test_licensing_consistency.py", "test_render_end_to_end.py",
    "test_collect_memory.py", "test_snapshot_merge.py", "test_render_pdf.py", "test_audit_signing.py",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return  # one process: the usual file order
    rank = {name: i for i, name in enumerate(SLOW_FILES)}
    items.sort(key=lambda item: rank.get(item.path.name, len(SLOW_FILES)))  # stable: file order kept otherwise


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
