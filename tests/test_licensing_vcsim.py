"""License data collected from a real vCenter API (govmomi's vcsim): the evaluation license on
every host and the vCenter, an added key, and the vRAM sample/record path."""

from __future__ import annotations

import time

import pytest

from reporter import api
from reporter.api import load_config
from reporter.config import HistoryConfig
from reporter.domain.licensing import analyze

pytestmark = pytest.mark.vcsim

ADDED_KEY = "ABCDE-12345-FGHIJ-67890-KLMNO"


@pytest.fixture(scope="module")
def collected(vcsim, tmp_path_factory):
    si = vcsim.si()
    lm = si.RetrieveContent().licenseManager
    if not any(l.licenseKey == ADDED_KEY for l in lm.licenses):
        lm.AddLicense(licenseKey=ADDED_KEY)  # test-only shaping of the simulator
    cfg = load_config(vcsim.config_file(tmp_path_factory.mktemp("lic")))
    t0 = time.perf_counter()
    snap = api.collect(cfg)
    full_s = time.perf_counter() - t0
    return cfg, snap, full_s


def test_license_inventory_and_assignments(collected):
    _cfg, snap, _ = collected
    [vc] = snap.vcenters.values()
    keys = {l.key: l for l in vc.licenses}
    ev = keys["00000-00000-00000-00000-00000"]
    assert (ev.edition_key, ev.name) == ("eval", "Evaluation Mode")
    assert "feature" in ev.properties  # raw properties kept (repeated key -> list)
    assert ADDED_KEY in keys
    # The test launcher answers QueryAssignedLicenses() (no entity) as a vCenter does: every host and
    # the vCenter itself, all in evaluation mode.
    assert {a.entity_type for a in vc.license_assignments} == {"host", "vcenter"}
    assert len(vc.license_assignments) == len(vc.hosts) + 1
    assert {a.edition_key for a in vc.license_assignments} == {"eval"}
    assert {a.license_key for a in vc.license_assignments} == {"00000-00000-00000-00000-00000"}


def test_evaluation_pool_gets_no_vram_verdict(collected):
    _cfg, snap, _ = collected
    a = analyze(snap)
    pools = [p for p in a.pools if p.hosts]
    assert pools and {p.edition for p in pools} <= {"eval", "unlicensed"}
    assert all(not p.vram_applies and p.reason for p in pools)
    assert a.vram_pools == []
    powered_on = [v for vc in snap.vcenters.values() for v in vc.vms.values() if v.powered_on and not v.template]
    assert powered_on
    assert round(sum(p.used_gb for p in a.pools), 4) == round(sum(min(v.memory_mb / 1024, 96) for v in powered_on), 4)
    res, _tables = api.check(snap, only=["licensing"])
    by_id = {r.meta.id: r for r in res.checks}
    assert by_id["LIC-001"].findings == [] and by_id["LIC-002"].findings == []
    # Every host and the vCenter run in evaluation mode: one LIC-007 finding naming them all.
    [vc] = snap.vcenters.values()
    (ev,) = by_id["LIC-007"].findings
    assert ev.evidence["entities"] == sorted([h.name for h in vc.hosts.values()] + ["VMware vCenter Server"])  # about.name
    assert ev.message.startswith(f"{len(vc.hosts) + 1} entities in evaluation mode: ")


def test_reports_mask_the_collected_key(collected, tmp_path):
    _cfg, snap, _ = collected
    out = api.report(snap, tmp_path / "r", formats=["json", "csv"])
    for f in out.files:
        if f.suffix in (".json", ".csv"):
            assert ADDED_KEY not in f.read_text(errors="replace"), f


def test_vram_sample_is_lighter_and_records(collected, tmp_path, vcsim):
    cfg, snap, full_s = collected
    cfg = load_config(vcsim.config_file(tmp_path))
    cfg = cfg.model_copy(update={"history": HistoryConfig(url=f"sqlite:///{tmp_path / 'h.db'}")})
    t0 = time.perf_counter()
    light = api.sample_vram(cfg)
    light_s = time.perf_counter() - t0
    assert light.vm_count() == snap.vm_count()
    [vc] = light.vcenters.values()
    assert vc.licenses is not None and vc.license_assignments is not None
    assert api.record_history(cfg, light, source="sample") == len(analyze(light).pools)
    print(f"\nvcsim {snap.vm_count()} VMs: full collect {full_s:.3f} s, vram sample {light_s:.3f} s")
