"""Split collection, one report, against two real simulators (each its own instance UUID).

Collecting each vCenter in its own run and merging the snapshot files must give what one
run collecting both gives, apart from the times; the report over the merged files shows
both vCenters and the findings one run gives.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from vcsim_harness import toml_table

from reporter.api import check, collect, load_config, save_snapshot
from reporter.cli import main
from reporter.core.model import Snapshot
from reporter.pipeline.sources import load_sources

pytestmark = pytest.mark.vcsim


def without_times(s: Snapshot) -> dict[str, object]:
    data = json.loads(s.model_dump_json(exclude={"collected_at", "tool_version"}))
    for vc in data["vcenters"].values():
        vc.pop("collected_at", None)
    data["vcenters"] = dict(sorted(data["vcenters"].items()))
    return data


def test_merged_per_vcenter_snapshots_equal_one_run_collecting_both(vcsim, vcsim_factory, tmp_path: Path) -> None:
    other = vcsim_factory(vms=6, hosts=2, standalone=1, drop_option_manager=("DC0_C0_H1",))
    tables = [toml_table("[[vcenter]]", vcsim.vcenter_table(name="vc01")),
              toml_table("[[vcenter]]", other.vcenter_table(name="vc02"))]
    configs = []
    for name, text in (("vc01", tables[0]), ("vc02", tables[1]), ("both", "\n".join(tables))):
        path = tmp_path / f"{name}.toml"
        path.write_text(text)
        configs.append(load_config(path))
    snaps = tmp_path / "snapshots"
    first = collect(configs[0], progress=False)
    second = collect(configs[1], progress=False)
    save_snapshot(first, snaps / "vc01.json.gz")
    save_snapshot(second, snaps / "vc02.json.gz")
    together = collect(configs[2], progress=False)

    merged, sources = load_sources([snaps])
    assert [s.name for s in sources] == ["vc01.json.gz", "vc02.json.gz"]
    assert len(merged.vcenters) == 2 and merged.vm_count() == 14
    assert merged.collection_errors == together.collection_errors == []
    vc02 = next(vc for vc in merged.vcenters.values() if vc.name == "vc02")
    assert [h.name for h in vc02.hosts.values() if h.advanced_option_errors] == ["DC0_C0_H1"]
    assert without_times(merged) == without_times(together)
    assert merged.collected_at == first.collected_at
    assert [vc.collected_at for vc in merged.vcenters.values()] == [first.collected_at, second.collected_at]

    res = CliRunner().invoke(main, ["report", str(snaps / "vc01.json.gz"), str(snaps / "vc02.json.gz"),
                                    "--out", str(tmp_path / "r"), "--format", "json"])
    assert res.exit_code == 0, res.output
    assert res.stdout.startswith("2 vCenter(s), 14 VMs, 7 hosts, 2 datastores;")
    findings = json.loads((tmp_path / "r" / "findings.json").read_text())
    one_run, _ = check(together)
    from_merged, _ = check(merged)
    assert sorted((f["check_id"], f["object_id"], f["status"]) for f in findings) == sorted(
        (f.check_id, f.object_id, f.status.value) for f in one_run.findings)
    assert [(c.meta.id, c.checked, c.error) for c in from_merged.checks] == [
        (c.meta.id, c.checked, c.error) for c in one_run.checks]
    assert max(c.checked for c in one_run.checks) >= 14  # the VM checks saw both vCenters' VMs


def test_the_same_vcenter_collected_twice_is_refused(vcsim, tmp_path: Path) -> None:
    cfg = load_config(vcsim.config_file(tmp_path))
    a = save_snapshot(collect(cfg, progress=False), tmp_path / "monday.json")
    b = save_snapshot(collect(cfg, progress=False), tmp_path / "tuesday.json")
    res = CliRunner().invoke(main, ["report", str(a), str(b), "--out", str(tmp_path / "r")])
    uuid = next(iter(load_sources([a])[0].vcenters))
    assert res.exit_code == 2
    assert res.stderr == (f"vcreport: error: {b}: vCenter 'vcsim' (instance UUID {uuid}) is also in {a}; "
                          "give each vCenter's snapshot once\n")
