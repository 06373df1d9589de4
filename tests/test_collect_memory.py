"""What keeps ``vcreport collect`` small at 10,000 VMs: shared pydantic fields-sets, the
snapshot written in pieces, and no report-stack imports (numbers in benchmarks/RESULTS.md)."""

from __future__ import annotations

import gzip
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import BaseModel

from reporter.collect import convert
from reporter.core import snapshot_io
from reporter.core.fsutil import atomic_write_chunks
from reporter.core.model import (
    VM,
    CollectionError,
    Host,
    LayoutFile,
    LicenseAssignment,
    Snapshot,
    VCenter,
    share_fields_set,
)

FILE_FIELDS = {"key", "name", "type", "size", "unique_size"}


def layout_file(key: int) -> LayoutFile:
    return convert.build_layout_file(key=key, name=f"[ds1] vm/f{key}", type_="diskExtent", size=key * 10,
                                     unique_size=None)


def vm(moid: str, **extra: object) -> VM:
    props = {"name": f"name of {moid}", "runtime.powerState": "poweredOn", "config.hardware.memoryMB": 2048,
             "runtime.host": "host-1", "parent": "group-v1", **extra}
    return convert.vm_from(moid, props, {"group-v1": "/DC0/vm"}, {"host-1": "domain-c1"})


def test_collected_models_of_a_class_share_one_fields_set() -> None:
    a, b = layout_file(1), layout_file(2)
    assert a.model_fields_set == FILE_FIELDS
    assert a.__pydantic_fields_set__ is b.__pydantic_fields_set__
    vm1, vm2 = vm("vm-1"), vm("vm-2")
    assert vm1.__pydantic_fields_set__ is vm2.__pydantic_fields_set__
    assert vm1.model_fields_set == set(VM.model_fields) - {"tags", "unreadable"}


def test_models_built_with_other_names_get_their_own_set() -> None:
    # A disk without a backing is built without the six backing fields.
    controllers = {1000: ("scsi", 0)}
    common = {"label": "Hard disk 1", "controllers": controllers, "controller_key": 1000, "unit_number": 0,
              "capacity_kb": 1, "capacity_bytes": None, "io": None}
    backed = convert.build_disk(key=1, backing_type="flat", backing={
        "datastore": "datastore-1", "backing_file": "[ds1] a.vmdk", "disk_mode": "persistent",
        "compatibility_mode": None, "thin": True, "change_id": None}, **common)  # type: ignore[arg-type]
    bare = convert.build_disk(key=2, backing_type=None, backing={}, **common)  # type: ignore[arg-type]
    assert backed.model_fields_set == {"key", "label", "controller", "bus_number", "unit_number", "capacity_bytes",
                                       "backing_type", "io", "datastore", "backing_file", "disk_mode",
                                       "compatibility_mode", "thin", "change_id"}
    assert bare.model_fields_set == {"key", "label", "controller", "bus_number", "unit_number", "capacity_bytes",
                                     "backing_type", "io"}
    assert convert.build_disk(key=3, backing_type=None, backing={}, **common  # type: ignore[arg-type]
                              ).__pydantic_fields_set__ is bare.__pydantic_fields_set__
    # Same class, same number of names, other names: not mixed up.
    one = share_fields_set(LicenseAssignment(entity="host-1", license_key="K", entity_name="esx1"))
    other = share_fields_set(LicenseAssignment(entity="host-2", license_key="K", edition_key="esx.enterprisePlus"))
    assert one.model_fields_set == {"entity", "license_key", "entity_name"}
    assert other.model_fields_set == {"entity", "license_key", "edition_key"}
    again = share_fields_set(LicenseAssignment(entity="host-3", license_key="K", entity_name="esx3"))
    assert again.__pydantic_fields_set__ is one.__pydantic_fields_set__


def test_model_copy_with_update_leaves_the_shared_set_alone() -> None:
    vm1, vm2 = vm("vm-1"), vm("vm-2")
    shared = set(vm2.model_fields_set)
    tagged = vm1.model_copy(update={"tags": ["Backup/daily"]})
    assert tagged.tags == ["Backup/daily"]
    assert tagged.model_fields_set == shared | {"tags"}
    assert vm1.model_fields_set == shared and vm2.model_fields_set == shared
    assert share_fields_set(tagged).model_fields_set == shared | {"tags"}


def test_shared_sets_change_neither_equality_nor_json() -> None:
    props = {"name": "db01", "config.hardware.memoryMB": 4096, "runtime.powerState": "poweredOff"}
    shared = convert.vm_from("vm-9", props, {}, {})
    own = VM(**{name: getattr(shared, name) for name in shared.model_fields_set})  # the same names, its own set
    assert own.__pydantic_fields_set__ is not shared.__pydantic_fields_set__
    assert shared == own == VM(moid="vm-9", name="db01", memory_mb=4096, power_state="poweredOff")
    assert shared.model_dump_json(exclude_none=True) == own.model_dump_json(exclude_none=True)
    assert shared.model_dump(exclude_unset=True) == own.model_dump(exclude_unset=True)


def test_models_that_can_be_assigned_to_keep_their_own_set() -> None:
    class Mutable(BaseModel):
        a: int = 0

    first, second = share_fields_set(Mutable(a=1)), share_fields_set(Mutable(a=2))
    assert first.__pydantic_fields_set__ is not second.__pydantic_fields_set__
    first.a = 3
    assert second.model_fields_set == {"a"} and first.model_fields_set == {"a"}


def big_snapshot() -> Snapshot:
    """Two vCenters, one with more VMs than a chunk, odd keys, unset and None fields."""
    vms = {f"vm-{i}": vm(f"vm-{i}", **({"config.annotation": f'say "hi" \\ é\n\x01 {i}'} if i % 7 == 0 else {}))
           for i in range(600)}
    vms['vm-"quoted"\u2028'] = vm("vm-q")
    first = VCenter(name="vc01", host="vc01.example", instance_uuid="uuid-1", version="8.0.2", vms=vms,
                    hosts={"host-1": Host(moid="host-1", name="esx1", advanced_options={"Disk.X": None})},
                    licenses=None, collection_notes=["tags not collected: no vAPI endpoint"])
    second = VCenter(name="vc02", host="vc02.example", instance_uuid="uuid-2")
    return Snapshot(tool_version=None, vcenters={"uuid-1": first, "uuid-2": second},
                    collection_errors=[CollectionError(vcenter="vc02", stage="vms", error_type="X", message="m")])


def test_the_snapshot_json_in_pieces_is_the_same_bytes() -> None:
    snap = big_snapshot()
    whole = snapshot_io.dumps(snap)
    pieces = list(snapshot_io.iter_json(snap))
    assert b"".join(pieces) == whole
    assert max(len(p) for p in pieces) < len(whole) // 2  # no piece near the whole document
    assert json.loads(whole)["vcenters"]["uuid-1"]["vms"]['vm-"quoted"\u2028']["moid"] == "vm-q"
    empty = Snapshot(vcenters={"u": VCenter(name="a", host="h", instance_uuid="u")})
    assert b"".join(snapshot_io.iter_json(empty)) == snapshot_io.dumps(empty)
    bare = Snapshot()
    assert b"".join(snapshot_io.iter_json(bare)) == snapshot_io.dumps(bare)


@pytest.mark.parametrize("name", ["snap.json", "snap.json.gz"])
def test_saved_snapshot_is_what_it_was_before_streaming(tmp_path: Path, name: str) -> None:
    snap = big_snapshot()
    path = snapshot_io.save(snap, tmp_path / name)
    data = path.read_bytes()
    whole = snapshot_io.dumps(snap)
    assert data == (gzip.compress(whole, compresslevel=1, mtime=0) if name.endswith(".gz") else whole)
    assert snapshot_io.load(path) == snap
    assert [p.name for p in tmp_path.iterdir()] == [name]


def test_a_failure_while_writing_pieces_leaves_no_file(tmp_path: Path) -> None:
    def pieces() -> Iterator[bytes]:
        yield b"{"
        raise RuntimeError("serializer failed")

    with pytest.raises(RuntimeError):
        atomic_write_chunks(tmp_path / "s.json", pieces())
    assert list(tmp_path.iterdir()) == []


HEAVY = ("pandas", "numpy", "sqlalchemy", "pyhanko", "weasyprint", "jinja2", "openpyxl", "xlsxwriter", "matplotlib")

PROBE = f"""
import atexit, sys
atexit.register(lambda: print("heavy:", sorted(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr))
atexit.register(lambda: print("check modules:", len([m for m in sys.modules
                                                      if m.startswith("reporter.checks.") and "_0" in m]), file=sys.stderr))
from reporter import api, cli
from reporter.core.model import Snapshot
assert api.record_history(api.load_config(sys.argv[1]), Snapshot()) == 0
sys.argv = ["vcreport", "collect", "--config", sys.argv[1], "--out", sys.argv[2]]
cli.main()
"""


def test_vcreport_collect_imports_no_report_libraries(tmp_path: Path) -> None:
    """The CLI imports the render package for one helper; that may not pull in pandas,
    SQLAlchemy or the renderers (~70 MB, ~1 s). Without [thresholds] no check module loads
    either (they load only to validate thresholds: ~0.4 s)."""
    with socket.socket() as s:  # a port nothing listens on: the collect fails at connect
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[[vcenter]]\nname = "vc01"\nhost = "127.0.0.1"\nport = {port}\nuser = "u"\n'
                   'password_env = "VCREPORT_TEST_PW"\ntimeout_s = 5\n', encoding="utf-8")
    proc = subprocess.run([sys.executable, "-c", PROBE, str(cfg), str(tmp_path / "s.json")], capture_output=True,
                          text=True, timeout=120, env={**os.environ, "VCREPORT_TEST_PW": "x"})
    assert "no vCenter could be collected" in proc.stderr, proc.stderr
    assert proc.stderr.strip().splitlines()[-2:] == ["check modules: 0", "heavy: []"]
    # With thresholds the families load to validate them, and still no report library.
    cfg.write_text(cfg.read_text(encoding="utf-8") + "[thresholds.snapshots]\nage_warn_days = 3\n", encoding="utf-8")
    proc = subprocess.run([sys.executable, "-c", PROBE, str(cfg), str(tmp_path / "s.json")], capture_output=True,
                          text=True, timeout=120, env={**os.environ, "VCREPORT_TEST_PW": "x"})
    assert "no vCenter could be collected" in proc.stderr, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert lines[-1] == "heavy: []" and lines[-2] != "check modules: 0", lines


def test_a_loaded_snapshot_shares_fields_sets_and_is_unchanged(tmp_path: Path) -> None:
    from reporter.core import snapshot_io

    sample = Path(__file__).resolve().parents[1] / "samples" / "sample-snapshot.json.gz"
    snap = snapshot_io.load(sample)
    vms = [vm for vc in snap.vcenters.values() for vm in vc.vms.values()]
    assert len({id(vm.__pydantic_fields_set__) for vm in vms}) < len(vms) / 10  # shared, not one per VM
    again = snapshot_io.loads(snapshot_io.dumps(snap))
    assert again == snap and snapshot_io.dumps(again) == snapshot_io.dumps(snap)


def test_unsigned_html_report_loads_neither_pyhanko_nor_weasyprint(tmp_path: Path) -> None:
    """pyHanko (~0.5 s to import) is for the signed audit edition only, WeasyPrint for the PDF:
    an HTML + JSON report, and a `run`'s import of the pipeline, load neither."""
    probe = ("import sys\nfrom reporter.pipeline import run\nfrom reporter import api\n"
             f"api.demo({str(tmp_path)!r}, formats='html,json')\n"
             "print([m for m in ('pyhanko', 'weasyprint') if m in sys.modules])\n")
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "[]"


def test_a_report_without_history_loads_neither_pandas_nor_sqlalchemy(tmp_path: Path) -> None:
    """pandas and SQLAlchemy (~1 s to import) are for the vRAM history: a `run`'s import of the
    pipeline, a report and a whole run (save, report) from a config without [history] load
    neither; the vRAM pools then say that there is no history, as before. With [history] both
    load and the history is read."""
    sample = Path(__file__).resolve().parents[1] / "samples" / "sample-snapshot.json.gz"
    probe = ("import sys\nfrom reporter.pipeline import run\nfrom reporter import api\n"
             "cfg = api.parse_config({'output': {'dir': sys.argv[2], 'formats': ['html', 'xlsx', 'csv', 'json']},"
             " **({'history': {'url': 'sqlite:///' + sys.argv[3]}} if sys.argv[3] else {})})\n"
             f"res = api.report({str(sample)!r}, sys.argv[2], formats='html,xlsx,csv,json', cfg=cfg)\n"
             f"run.run_once(cfg, collect=lambda c, insecure=False: api.load_snapshot({str(sample)!r}))\n"
             "print(sorted({p.verdict.value for p in res.context.licensing.pools}))\n"
             "print([m for m in ('pandas', 'sqlalchemy', 'numpy') if m in sys.modules])\n")
    proc = subprocess.run([sys.executable, "-c", probe, "x", str(tmp_path / "a"), ""], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-2:] == ["['not_evaluated']", "[]"]
    proc = subprocess.run([sys.executable, "-c", probe, "x", str(tmp_path / "b"), str(tmp_path / "h.db")],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "['pandas', 'sqlalchemy', 'numpy']"


def test_prepare_renderers_loads_ahead_what_the_formats_need() -> None:
    """`vcreport run` prepares the renderers while it collects: WeasyPrint imported and the
    package's templates compiled (every one: reporter.render.templating.precompile); nothing for
    a format that needs nothing; an unknown format is left for the report to refuse in its own words."""
    probe = ("import sys\nfrom reporter.render.base import prepare_renderers\n"
             "from reporter.render.templating import environment\n"
             "prepare_renderers(sys.argv[1].split(','))\n"
             "print('weasyprint' in sys.modules, sorted(k[1] for k in environment().cache.keys()))\n")
    out = subprocess.run([sys.executable, "-c", probe, "csv,json,nope"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False []"
    out = subprocess.run([sys.executable, "-c", probe, "pdf,html"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ("True ['_charts.html.j2', '_licensing_summary.html.j2', '_macros.html.j2', "
                                  "'_pdf.html.j2', '_print.css', '_report.css', 'audit.html.j2', 'email.html.j2', "
                                  "'plan.html.j2', 'report.html.j2', 'report_pdf.html.j2']")


def test_run_prepares_the_checks_with_the_renderers() -> None:
    """`vcreport run`'s preparing thread imports the check modules too; a check module that cannot
    be imported leaves the renderers prepared and its error for the report to show."""
    probe = ("import sys\nfrom reporter.checks import registry\nfrom reporter.pipeline import run\n"
             "if sys.argv[1] == 'broken':\n"
             "    def broken():\n        raise ImportError('a check module is broken')\n"
             "    run.load_all = broken\n"
             "run._prepare_report(['pdf'])\n"
             "print(len(registry._REGISTRY) > 40, 'weasyprint' in sys.modules)\n")
    for case, expected in (("ok", "True True"), ("broken", "False True")):
        out = subprocess.run([sys.executable, "-c", probe, case], capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        assert out.stdout.strip() == expected
