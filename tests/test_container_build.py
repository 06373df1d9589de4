"""The container build: the Dockerfile (parsed with buildkit's own parser, via the `dockerfile`
package: there is no Docker engine here) builds the wheel in one stage and installs only that
wheel in the next, non-root; and the wheel, built here exactly as stage 1 builds it, carries
the templates, samples and data files the installed tool reads."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import dockerfile
import pytest

ROOT = Path(__file__).resolve().parent.parent
WEASYPRINT_LIBS = {"libpango-1.0-0", "libpangoft2-1.0-0", "libharfbuzz-subset0"}


def stages() -> dict[str, list[dockerfile.Command]]:
    """Instructions per stage name (FROM image AS name)."""
    out: dict[str, list[dockerfile.Command]] = {}
    current: list[dockerfile.Command] = []
    for cmd in dockerfile.parse_file(str(ROOT / "Dockerfile")):
        if cmd.cmd == "FROM":
            assert len(cmd.value) == 3 and cmd.value[1].upper() == "AS", f"unnamed stage: {cmd.original}"
            current = out.setdefault(cmd.value[2], [])
        current.append(cmd)
    return out


def runs(stage: list[dockerfile.Command]) -> str:
    return "\n".join(c.value[0] for c in stage if c.cmd == "RUN")


def test_two_stages_build_then_runtime() -> None:
    s = stages()
    assert list(s) == ["build", "runtime"]
    assert "pip wheel --no-cache-dir --no-deps --wheel-dir /wheels ." in runs(s["build"])
    runtime = s["runtime"]
    copies = [c for c in runtime if c.cmd == "COPY"]
    assert [(c.flags, c.value) for c in copies] == [(("--from=build",), ("/wheels", "/wheels"))]
    assert "pip install --no-cache-dir /wheels/*.whl" in runs(runtime)


def test_runtime_has_weasyprint_libraries_and_fonts() -> None:
    apt = [line for line in runs(stages()["runtime"]).split("\n") if "apt-get install" in line]
    assert len(apt) == 1
    packages = set(apt[0].split("--no-install-recommends", 1)[1].split("&&")[0].split())
    assert packages >= WEASYPRINT_LIBS
    assert {"fonts-dejavu-core", "fonts-noto-cjk"} <= packages
    # the test machine installs the same libraries (scripts/test.sh), so PDF tests match the image
    test_sh = (ROOT / "scripts" / "test.sh").read_text()
    assert all(lib in test_sh for lib in WEASYPRINT_LIBS)


def test_runs_as_a_numeric_non_root_user_with_vcreport_as_entrypoint() -> None:
    runtime = stages()["runtime"]
    users = [c for c in runtime if c.cmd == "USER"]
    assert users and users[-1].value == ("10001:10001",)
    last_user = runtime.index(users[-1])
    assert not [c for c in runtime[last_user:] if c.cmd == "RUN"], "RUN after USER would run as the app user"
    assert "useradd --create-home --uid 10001" in runs(runtime)
    (entry,) = [c for c in runtime if c.cmd == "ENTRYPOINT"]
    assert entry.json and entry.value == ("vcreport",)


def test_build_stage_copies_only_what_exists() -> None:
    for c in stages()["build"]:
        if c.cmd == "COPY":
            for src in c.value[:-1]:
                assert (ROOT / src).exists(), src


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    """The wheel, built like stage 1: the files it COPYs, then `pip wheel --no-deps .`
    (in a copy: building in place would leave build/ and egg-info in the source tree)."""
    src = tmp_path_factory.mktemp("src")
    for c in stages()["build"]:
        if c.cmd == "COPY":
            for name in c.value[:-1]:
                path = ROOT / name
                if path.is_dir():
                    shutil.copytree(path, src / name, ignore=shutil.ignore_patterns("__pycache__"))
                else:
                    shutil.copy2(path, src / name)
    out = tmp_path_factory.mktemp("wheels")
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", str(out), str(src)],
                          check=False, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    (whl,) = out.glob("vcenter_reporter-*.whl")
    return zipfile.ZipFile(whl)


def _files(directory: Path) -> set[str]:
    return {p.relative_to(directory).as_posix() for p in directory.rglob("*") if p.is_file() and "__pycache__" not in p.parts}


def test_wheel_carries_templates_samples_and_data(wheel: zipfile.ZipFile) -> None:
    names = set(wheel.namelist())
    assert {f"reporter/templates/{f}" for f in _files(ROOT / "templates")} <= names
    assert {f"reporter/samples/{f}" for f in _files(ROOT / "samples")} <= names
    assert {f"reporter/data/{f}" for f in _files(ROOT / "reporter" / "data")} <= names
    assert {f"reporter/licensing/templates/{f}" for f in _files(ROOT / "reporter" / "licensing" / "templates")} <= names
    assert "reporter/templates/report.html.j2" in names and "reporter/samples/sample-snapshot.json.gz" in names
    assert "reporter/py.typed" in names
    assert not [n for n in names if n.startswith(("tests/", "deploy/", "benchmarks/"))]


def test_wheel_installs_the_vcreport_command(wheel: zipfile.ZipFile) -> None:
    (entry_points,) = [n for n in wheel.namelist() if n.endswith(".dist-info/entry_points.txt")]
    text = wheel.read(entry_points).decode()
    assert "[console_scripts]\nvcreport = reporter.cli:entry" in text
    (metadata,) = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
    requires = [line for line in wheel.read(metadata).decode().splitlines() if line.startswith("Requires-Dist: ")]
    assert any(r.startswith("Requires-Dist: weasyprint") for r in requires)
