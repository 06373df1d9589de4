"""Host software fixtures for the launcher's ``-host-software DIR`` (schema:
``tests/fixtures/host_software/README.md``): the shipped examples and a writer for
test-specific ones."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

HOST_SOFTWARE_FIXTURES = Path(__file__).resolve().parent / "fixtures" / "host_software"


def write_host_software(directory: Path, host: str, *, acceptance_level: str = "partner",
                        profile: tuple[str, str] = ("ESXi-8.0U2-22380479-standard", "VMware, Inc."),
                        packages: Sequence[dict[str, Any]] = (), modules: Sequence[dict[str, Any]] = (),
                        fault: str | None = None) -> Path:
    """Write ``directory/HOST.json``; ``packages``/``modules`` use the vSphere property names."""
    directory.mkdir(parents=True, exist_ok=True)
    doc: dict[str, Any] = {"acceptanceLevel": acceptance_level,
                           "profile": {"name": profile[0], "vendor": profile[1]},
                           "packages": list(packages), "modules": list(modules)}
    if fault:
        doc["fault"] = fault
    path = directory / f"{host}.json"
    path.write_text(json.dumps(doc, indent=2), encoding="utf-8")
    return path


def package(name: str, version: str, *, vendor: str = "VMW", acceptance_level: str = "certified",
            depends: Sequence[str] = (), summary: str = "", creation_date: str = "2023-01-01T00:00:00Z") -> dict[str, Any]:
    """One SoftwarePackage (VIB) entry; ``depends`` are relation names without constraint."""
    return {"name": name, "version": version, "vendor": vendor, "acceptanceLevel": acceptance_level,
            "type": "bootbank", "summary": summary, "description": summary, "creationDate": creation_date,
            "depends": [{"name": d} for d in depends]}


def module(name: str, *, loaded: bool = True, use_count: int = 1, version: str = "") -> dict[str, Any]:
    """One KernelModuleInfo entry with zeroed sections."""
    zero = {"address": 0}
    return {"id": 0, "name": name, "version": version, "filename": f"/usr/lib/vmware/vmkmod/{name}",
            "optionString": "", "loaded": loaded, "enabled": True, "useCount": use_count,
            "readOnlySection": zero, "writableSection": zero, "textSection": zero, "dataSection": zero,
            "bssSection": zero}
