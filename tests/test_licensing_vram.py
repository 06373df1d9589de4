"""vRAM pool math (docs/methodology.md (section 2 topics)): exact numbers on small snapshots."""

from __future__ import annotations

import pytest
from licensing_helpers import (
    EVAL,
    KEY_EP,
    KEY_ESS,
    KEY_STD,
    assign,
    host,
    lic,
    snapshot,
    vcenter,
    vm,
    vsphere5_site,
)

from reporter.config import LicensingConfig
from reporter.config.settings import Settings
from reporter.domain.licensing import LicensingOptions, analyze


def _an(snap, table="aug2011", groups=None):
    return analyze(snap, options=LicensingOptions(vram_table=table, linked_mode_groups=groups or {}))


def test_enterprise_plus_pool_aug2011_exact():
    a = _an(snapshot(vsphere5_site()))
    p = a.pool("vc1/enterprise_plus")
    assert p.vram_applies and p.reason is None
    # powered-on only: 100 (capped to 96) + 64 + 32; the powered-off 48, suspended 16 and the template count nothing
    assert [v.name for v in p.top_consumers()] == ["vm-vm-1", "vm-vm-2", "vm-vm-3"]
    assert p.used_gb == 192.0
    assert p.used_raw_gb == 196.0
    assert p.cap_effect_gb == 4.0
    assert p.vms_not_on == 2
    assert p.configured_all_gb == 256.0
    # 4 assigned + 2 unassigned CPU licenses x 96 GB; unassigned count (docs/methodology.md (section 2 topics))
    assert (p.cpu_total, p.cpu_assigned, p.cpu_unassigned) == (6, 4, 2)
    assert (p.entitled_gb, p.entitled_assigned_gb, p.entitled_unassigned_gb) == (576.0, 384.0, 192.0)
    assert p.headroom_gb() == 384.0
    assert p.headroom_pct() == 66.67
    assert p.licenses_needed() == 0


def test_jul2011_table_no_cap_and_lower_entitlement():
    a = _an(snapshot(vsphere5_site()), table="jul2011")
    p = a.pool("vc1/enterprise_plus")
    assert p.cap_gb is None
    assert p.used_gb == 196.0  # no 96 GB cap before the August revision
    assert p.entitled_gb == 6 * 48
    s = a.pool("vc1/standard")
    assert (s.used_gb, s.entitled_gb, s.licenses_needed()) == (70.0, 48.0, 1)


def test_standard_pool_over_and_licenses_needed():
    p = _an(snapshot(vsphere5_site())).pool("vc1/standard")
    assert (p.used_gb, p.entitled_gb) == (70.0, 64.0)
    assert p.headroom_gb() == -6.0
    assert p.licenses_needed() == 1
    assert p.licenses_needed(used=64.0) == 0
    assert p.licenses_needed(used=128.0) == 2  # exactly 2 x 32 over: 2, not 3
    assert [v.name for v in p.vms_to_free(6)] == ["vm-vm-7"]


def test_cap_is_per_vm_exactly_96():
    v = vcenter("vc1", "u", [host("h1")], [vm("a", "h1", 96), vm("b", "h1", 96.5), vm("c", "h1", 1024)],
                [lic(KEY_EP, "esxEnterprisePlus", 2, 2)], [assign("h1", KEY_EP, "esxEnterprisePlus")])
    p = _an(snapshot(v)).pool("vc1/enterprise_plus")
    assert p.used_gb == 288.0
    assert p.used_raw_gb == 96 + 96.5 + 1024


def test_vsphere51_and_later_have_no_vram_verdict_but_show_use():
    a = _an(snapshot(vsphere5_site(version="5.1.0")))
    p = a.pool("vc1/enterprise_plus")
    assert not p.vram_applies
    assert "5.1" in p.reason
    assert p.entitled_gb is None and p.headroom_gb() is None and p.licenses_needed() is None
    assert p.used_gb == 192.0  # still computed as 5.0 counted it
    assert a.vram_pools == []


def test_vsphere4_keys_on_a_50_vcenter_are_their_own_pool_without_vram():
    v = vcenter("vc1", "u", [host("h1", version="4.1.0")], [vm("a", "h1", 8)],
                [lic(KEY_EP, "esxEnterprisePlus", 2, 2, version="4.0")], [assign("h1", KEY_EP, "esxEnterprisePlus")])
    p = _an(snapshot(v)).pool("vc1/enterprise_plus-v4")
    assert p is not None and not p.vram_applies
    assert "vSphere 4" in p.reason


def test_evaluation_hosts_have_no_verdict():
    v = vcenter("vc1", "u", [host("h1")], [vm("a", "h1", 8)],
                [lic(EVAL, "eval", 0, 0, unit="")], [assign("h1", EVAL, "eval")])
    p = _an(snapshot(v)).pool("vc1/eval")
    assert not p.vram_applies and "evaluation" in p.reason
    assert p.used_gb == 8.0


def test_per_core_and_vsphere6_pools_are_not_vram():
    v = vcenter("vc2", "u2", [host("h1"), host("h2")], [vm("a", "h1", 8), vm("b", "h2", 16)],
                [lic("AAAAA-AAAAA-AAAAA-AAAAA-VCF01", "esx.vcf.cpuCoreMin", 64, 32, unit="cpuCore", version="8.0"),
                 lic("AAAAA-AAAAA-AAAAA-AAAAA-EP600", "esx.enterprisePlus.cpuPackage", 2, 2, version="6.0")],
                [assign("h1", "AAAAA-AAAAA-AAAAA-AAAAA-VCF01", "esx.vcf.cpuCoreMin"),
                 assign("h2", "AAAAA-AAAAA-AAAAA-AAAAA-EP600", "esx.enterprisePlus.cpuPackage")], version="8.0.2")
    a = _an(snapshot(v))
    assert {p.id: p.vram_applies for p in a.pools} == {"vc2/enterprise_plus": False, "vc2/vcf": False}
    assert "per-core" in a.pool("vc2/vcf").reason
    assert a.pool("vc2/vcf").used_gb == 8.0


def test_pools_are_per_vcenter_unless_linked():
    a1 = vsphere5_site(name="vcA", uuid="uA")
    a2 = vsphere5_site(name="vcB", uuid="uB")
    separate = _an(snapshot(a1, a2))
    assert {p.id for p in separate.vram_pools} == {"vcA/enterprise_plus", "vcA/standard", "vcB/enterprise_plus", "vcB/standard"}
    linked = _an(snapshot(a1, a2), groups={"vcA": "emea", "vcB": "emea"})
    p = linked.pool("group:emea/enterprise_plus")
    assert p.vcenters == ["vcA", "vcB"]
    # the same key seen by both members counts once; use adds up across the group
    assert p.cpu_total == 6
    assert p.used_gb == 384.0
    assert p.cpu_assigned == 8
    assert p.entitled_gb == 576.0
    assert any("8 CPUs" in n for n in p.notes)


def test_linked_mode_group_from_settings():
    cfg_groups = {"vcA": "g"}
    settings = Settings(licensing=LicensingConfig(vram_table="jul2011"), linked_mode_groups=cfg_groups)
    a = analyze(snapshot(vsphere5_site(name="vcA", uuid="uA")), settings)
    assert a.table.name == "jul2011"
    assert a.pool("group:g/enterprise_plus").entitled_gb == 288.0


def test_unreadable_licenses_and_unassigned_hosts():
    v = vcenter("vc1", "u", [host("h1"), host("h2")], [vm("a", "h1", 4), vm("b", "h2", 2), vm("c", None, 1)],
                [lic(KEY_EP, "esxEnterprisePlus", 2, 2)], [assign("h1", KEY_EP, "esxEnterprisePlus")])
    a = _an(snapshot(v))
    assert a.pool("vc1/unlicensed").used_gb == 2.0
    assert a.pool("vc1/unknown").used_gb == 1.0
    blind = vcenter("vc9", "u9", [host("h1")], [vm("a", "h1", 4)], None, None)
    b = _an(snapshot(blind))
    p = b.pool("vc9/unknown")
    assert not p.vram_applies and "Global.Licenses" in p.reason
    assert b.notes and "Global.Licenses" in b.notes[0]


def test_essentials_plus_kit_hard_limit_and_edition_keys():
    hosts = [host(f"h{i}") for i in range(3)]
    vms_ = [vm(f"v{i}", f"h{i % 3}", 40) for i in range(5)]  # 200 GB
    v = vcenter("vc1", "u", hosts, vms_, [lic(KEY_ESS, "esxExpressPlus", 6, 6)],
                [assign(f"h{i}", KEY_ESS, "esxExpressPlus") for i in range(3)])
    p = _an(snapshot(v)).pool("vc1/essentials_plus")
    assert p.vram_applies
    assert (p.used_gb, p.entitled_gb, p.hard_limit_gb) == (200.0, 192.0, 192.0)
    assert _an(snapshot(v), table="jul2011").pool("vc1/essentials_plus").hard_limit_gb == 144.0


@pytest.mark.parametrize("key,edition", [
    ("esxEnterprisePlus", "enterprise_plus"), ("esxEnterprise", "enterprise"), ("esxFull", "standard"),
    ("esxStandard", "standard"), ("esxExpress", "essentials"), ("esxEssentials", "essentials"),
    ("esxExpressPlus", "essentials_plus"), ("esxEssentialsPlus", "essentials_plus"), ("esxDesktop", "desktop"),
])
def test_vsphere5_edition_keys(key, edition):
    v = vcenter("vc1", "u", [host("h1")], [vm("a", "h1", 8)], [lic(KEY_STD, key, 2, 2)], [assign("h1", KEY_STD, key)])
    p = _an(snapshot(v)).pool(f"vc1/{edition}")
    assert p is not None and p.vram_applies


def test_desktop_is_unlimited():
    v = vcenter("vc1", "u", [host("h1")], [vm("a", "h1", 800)], [lic(KEY_STD, "esxDesktop", 2, 2)],
                [assign("h1", KEY_STD, "esxDesktop")])
    p = _an(snapshot(v)).pool("vc1/desktop")
    assert p.unlimited and p.entitled_gb is None and p.licenses_needed() is None


def test_vcenter_reported_vram_is_recorded_and_parsed():
    site = vsphere5_site()
    lics = [l.model_copy(update={"properties": {**l.properties, "vRAMUsed": "200 GB", "vram_entitled": 576}})
            if l.key == KEY_EP else l for l in site.licenses]
    a = _an(snapshot(site.model_copy(update={"licenses": lics})))
    rep = a.pool("vc1/enterprise_plus").reported
    assert rep.raw == {KEY_EP: {"vRAMUsed": "200 GB", "vram_entitled": 576}}
    assert (rep.used_gb, rep.entitled_gb) == (200.0, 576.0)
