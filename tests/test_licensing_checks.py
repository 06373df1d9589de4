"""LIC-001 ... LIC-009 on small snapshots: exact findings."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest
from licensing_helpers import (
    AT,
    EVAL,
    KEY_EP,
    KEY_EP_SPARE,
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

from reporter.checks import CheckContext
from reporter.checks.licensing import lic_001_vram_average as vram_average
from reporter.checks.licensing import lic_002_vram_today as vram_today
from reporter.checks.licensing import lic_003_vram_headroom as vram_headroom
from reporter.checks.licensing import lic_004_vram_reported as vram_reported
from reporter.checks.licensing import lic_005_hard_limits as hard_limits
from reporter.checks.licensing import lic_006_expiring as expiring
from reporter.checks.licensing import lic_007_evaluation as evaluation
from reporter.checks.licensing import lic_008_over_assigned as over_assigned
from reporter.checks.licensing import lic_009_unassigned as unassigned
from reporter.checks.licensing.settings import LicensingSettings
from reporter.config.settings import Settings
from reporter.core.findings import Severity
from reporter.history import history_from_samples


def ctx(snap, history=None, **thresholds):
    settings = Settings(thresholds={"licensing": LicensingSettings(**thresholds)} if thresholds else {})
    return CheckContext(snapshot=snap, settings=settings, history=history)


def hist(pool_id, daily_gb, days, entitled=576.0, end=AT):
    rows = [{"ts": end - timedelta(days=i), "pool_id": pool_id, "edition": "x", "used_gb_raw": daily_gb,
             "used_gb_capped": daily_gb, "entitled_gb": entitled} for i in range(days)]
    df = pd.DataFrame(rows)
    df["ts"] = pd.to_datetime(df["ts"], utc=True)
    return history_from_samples(df, end.date())


def test_lic001_average_over_entitlement_with_short_history():
    out = vram_average.run(ctx(snapshot(vsphere5_site()), hist("vc1/enterprise_plus", 600.0, 200)))
    assert out.checked == 2
    [f] = out.findings
    assert (f.check_id, f.severity, f.object_name, f.vcenter) == ("LIC-001", Severity.high, "vc1 · vSphere Enterprise Plus", "vc1")
    # 200 days at 600 GB, all of them over 576 GB: over since the first day of history.
    assert f.message == ("Non-compliant: the 12-month average vRAM use 600 GB exceeds the entitlement of 576 GB by "
                         "24 GB (over 200 days of history (fewer than 365: the average covers the days that exist "
                         "and may still change a lot), over since 2026-05-08). CPU licenses to add: 1 to be compliant "
                         "on the 12-month average now; 1 so that today's use (600 GB), if it stays, never crosses.")
    assert f.evidence["cpu_licenses_to_add_now"] == 1
    assert f.evidence["cpu_licenses_to_add_to_hold_today"] == 1
    assert f.evidence["non_compliant_since"] == "2026-05-08"
    assert f.evidence["days_of_history"] == 200
    assert f.remediation.splitlines()[0].startswith(
        "Add 1 CPU license of vSphere Enterprise Plus (1 x 96 GB = 96 GB vRAM) to this pool")
    assert "vm-vm-1 (96 GB)" in f.remediation


def test_lic001_needs_history_and_passes_when_average_within():
    no_hist = vram_average.run(ctx(snapshot(vsphere5_site())))
    assert no_hist.findings == [] and no_hist.not_evaluated is not None
    assert no_hist.not_evaluated.startswith("No vRAM history: set [history]")
    assert "`vcreport vram sample` on a schedule" in no_hist.not_evaluated
    ok = vram_average.run(ctx(snapshot(vsphere5_site()), hist("vc1/enterprise_plus", 576.0, 365)))
    assert ok.findings == [] and ok.not_evaluated is None


def test_lic002_today_over_from_snapshot_and_from_history():
    out = vram_today.run(ctx(snapshot(vsphere5_site())))
    [f] = out.findings
    assert (f.check_id, f.severity, f.object_name) == ("LIC-002", Severity.medium, "vc1 · vSphere Standard")
    assert f.message == ("Today's vRAM high-water 70 GB exceeds the entitlement of 64 GB by 6 GB (2 powered-on VMs). "
                         "This is the direction of travel: the 12-month average is unknown (no history), so the pool "
                         "has no verdict. CPU licenses to add: unknown (no history) to be compliant on the 12-month "
                         "average now; 1 so that today's use (70 GB), if it stays, never crosses.")
    steps = f.remediation.splitlines()
    assert steps[0].startswith("Add 1 CPU license of vSphere Standard (1 x 32 GB = 32 GB vRAM) to this pool so that "
                               "today's use, if it stays, never takes the 12-month average over")
    assert "vm-vm-7 (40 GB)" in steps[1]
    assert any("upgrade the pool's 2 CPU licenses to vSphere Enterprise: 64 GB per CPU = 128 GB entitled, which covers 70 GB" in s
               for s in steps)
    # An earlier sample today was higher than this snapshot: the day's high-water counts.
    out = vram_today.run(ctx(snapshot(vsphere5_site()), hist("vc1/enterprise_plus", 700.0, 1)))
    ep = [f for f in out.findings if f.object_name == "vc1 · vSphere Enterprise Plus"]
    assert len(ep) == 1 and ep[0].evidence["today_high_water_gb"] == 700.0
    assert ep[0].evidence["high_water_from"] == "history"


def test_lic003_headroom_threshold():
    # Without history there is no verdict, so no "at risk" either.
    assert vram_headroom.run(ctx(snapshot(vsphere5_site()), headroom_warn_pct=70)).findings == []
    history = hist("vc1/enterprise_plus", 192.0, 365)
    assert vram_headroom.run(ctx(snapshot(vsphere5_site()), history)).findings == []
    [f] = vram_headroom.run(ctx(snapshot(vsphere5_site()), history, headroom_warn_pct=70)).findings
    # No crossing (use is flat far below the entitlement): at risk on headroom only, so low.
    assert f.object_name == "vc1 · vSphere Enterprise Plus" and f.severity == Severity.low
    assert f.message == ("At risk: the 12-month average of 192 GB is within the entitlement of 576 GB (66.7 % free); "
                         "less than 70 % of the entitlement is free. CPU licenses to add: 0 to be compliant on the "
                         "12-month average now; 0 so that today's use (192 GB), if it stays, never crosses.")
    # 192 / 0.3 = 640 GB needed: one more 96 GB CPU license
    assert f.remediation.splitlines()[0].startswith("Adding 1 CPU license of vSphere Enterprise Plus restores 70 %")


def test_lic004_reported_uncapped_figure():
    site = vsphere5_site()
    lics = [l.model_copy(update={"properties": {**l.properties, "vramUsed": 196}}) if l.key == KEY_EP else l
            for l in site.licenses]
    [f] = vram_reported.run(ctx(snapshot(site.model_copy(update={"licenses": lics})))).findings
    assert f.message == ("vCenter reports 196 GB vRAM used, computed 192 GB. vCenter's figure equals the uncapped "
                         "sum: it does not apply the 96 GB per-VM cap.")
    within = [l.model_copy(update={"properties": {**l.properties, "vramUsed": 192.5}}) if l.key == KEY_EP else l
              for l in site.licenses]
    assert vram_reported.run(ctx(snapshot(site.model_copy(update={"licenses": within})))).findings == []


def test_lic005_essentials_kit_over_hard_limit():
    hosts = [host(f"h{i}") for i in range(3)]
    v = vcenter("vc1", "u", hosts, [vm(f"v{i}", f"h{i % 3}", 40) for i in range(5)],
                [lic(KEY_ESS, "esxExpressPlus", 6, 6)], [assign(f"h{i}", KEY_ESS, "esxExpressPlus") for i in range(3)])
    [f] = hard_limits.run(ctx(snapshot(v))).findings
    assert (f.severity, f.object_name) == (Severity.high, "vc1 · vSphere Essentials Plus")
    assert f.message == ("vSphere Essentials Plus kit uses 200 GB vRAM, above its hard limit of 192 GB: "
                         "further power-ons fail.")


def test_lic006_expiring_and_expired():
    site = vsphere5_site()
    soon = (AT + timedelta(days=10)).isoformat()
    past = (AT - timedelta(days=1)).isoformat()
    lics = [
        lic("TTTTT-TTTTT-TTTTT-55555-TERM1", "esx.vcf.cpuCoreMin", 64, 32, unit="cpuCore", version="8.0", expirationDate=soon),
        lic("TTTTT-TTTTT-TTTTT-66666-TERM2", "esx.vcf.cpuCoreMin", 64, 32, unit="cpuCore", version="8.0", expirationDate=past),
        lic("TTTTT-TTTTT-TTTTT-77777-TERM3", "esx.vcf.cpuCoreMin", 64, 32, unit="cpuCore", version="8.0",
            expirationDate=(AT + timedelta(days=90)).isoformat()),
    ]
    out = expiring.run(ctx(snapshot(site.model_copy(update={"licenses": site.licenses + lics}))))
    got = {f.object_name: (f.severity, f.message) for f in out.findings}
    assert got == {
        "XXXXX-XXXXX-XXXXX-55555-TERM1 (VMware vSphere 8 esx.vcf.cpuCoreMin)":
            (Severity.medium, "VMware vSphere 8 esx.vcf.cpuCoreMin expires on 2026-12-03, in 10 days."),
        "XXXXX-XXXXX-XXXXX-66666-TERM2 (VMware vSphere 8 esx.vcf.cpuCoreMin)":
            (Severity.high, "VMware vSphere 8 esx.vcf.cpuCoreMin expired on 2026-11-22."),
    }
    assert out.checked == 6  # the evaluation license is LIC-007's
    # 9 days and 18 hours left: "in 10 days" in the message and 10 in the evidence (it was 9.8 there).
    near = lic("TTTTT-TTTTT-TTTTT-88888-TERM4", "esx.vcf.cpuCoreMin", 64, 32, unit="cpuCore", version="8.0",
               expirationDate=(AT + timedelta(days=9, hours=18)).isoformat())
    [f] = expiring.run(ctx(snapshot(site.model_copy(update={"licenses": site.licenses + [near]})))).findings
    assert f.message.endswith("in 10 days.") and f.evidence["days_left"] == 10


def test_lic007_evaluation_in_use():
    v = vcenter("vc1", "u", [host("h1"), host("h2")], [], [
        lic(EVAL, "eval", 0, 0, unit="", expirationHours=240)], [assign("h1", EVAL, "eval"), assign("h2", EVAL, "eval")])
    [f] = evaluation.run(ctx(snapshot(v))).findings
    assert f.severity == Severity.high  # 10 days left, within the 30-day warning
    assert f.message == "2 entities in evaluation mode: h1.example, h2.example. Evaluation ends in 10 days (2026-12-03)."
    [g] = evaluation.run(ctx(snapshot(v), expiry_warn_days=5)).findings
    assert g.severity == Severity.medium
    assert evaluation.run(ctx(snapshot(vsphere5_site()))).findings == []


def test_lic008_over_assigned_and_lic009_unassigned():
    site = vsphere5_site()
    lics = [l.model_copy(update={"used": 5}) if l.key == KEY_STD else l for l in site.licenses]
    snap = snapshot(site.model_copy(update={"licenses": lics}))
    [f] = over_assigned.run(ctx(snap)).findings
    assert f.object_name.startswith("XXXXX-XXXXX-XXXXX-33333-STAND")
    assert f.message == "5 CPUs in use on a key for 2: 3 CPUs over capacity."
    [u] = unassigned.run(ctx(snapshot(site))).findings
    assert u.object_name.startswith("XXXXX-XXXXX-XXXXX-22222-SPARE")
    assert u.message == "2 of 2 CPUs unassigned. They add 192 GB to the vRAM pool vc1 · vSphere Enterprise Plus."
    assert u.evidence["license_key"] == KEY_EP_SPARE  # raw in evidence; masked at render time


def test_no_vram_findings_on_vsphere51():
    snap = snapshot(vsphere5_site(version="5.1.0"))
    for mod in (vram_average, vram_today, vram_headroom, hard_limits):
        out = mod.run(ctx(snap, hist("vc1/enterprise_plus", 9999.0, 30)))
        assert out.findings == [] and out.checked == 0


def test_lic003_warns_on_the_12_month_average_even_when_today_is_over():
    # 364 days at 560 GB, today 700 GB: today is over (LIC-002), and the compliance measure,
    # the average of daily high-water marks, has only 2.7 % left.
    rows = [{"ts": AT - timedelta(days=i), "pool_id": "vc1/enterprise_plus", "edition": "x",
             "used_gb_raw": 700.0 if i == 0 else 560.0, "used_gb_capped": 700.0 if i == 0 else 560.0,
             "entitled_gb": 576.0} for i in range(365)]
    df = pd.DataFrame(rows)
    df["ts"] = pd.to_datetime(df["ts"], utc=True)
    history = history_from_samples(df, AT.date())
    c = ctx(snapshot(vsphere5_site()), history)
    assert [f.object_name for f in vram_today.run(c).findings if f.object_name == "vc1 · vSphere Enterprise Plus"] == [
        "vc1 · vSphere Enterprise Plus"]
    [f] = [f for f in vram_headroom.run(c).findings if f.object_name == "vc1 · vSphere Enterprise Plus"]
    # Crossing: the first k with ((365 - k) * 560 + k * 700) / 365 > 576, i.e. k = 42 days counting
    # today: 41 days after 2026-11-23. Within the 90-day horizon, so medium.
    assert f.severity == Severity.medium
    assert f.message == ("At risk: the 12-month average of 560.4 GB is within the entitlement of 576 GB (2.7 % free), "
                         "but if every day's high-water stays at today's 700 GB the average goes over on 2027-01-03 "
                         "(in 41 days); at the trend of the last 90 days: 2027-08-29; less than 10 % of the "
                         "entitlement is free. CPU licenses to add: 0 to be compliant on the 12-month average now; "
                         "2 so that today's use (700 GB), if it stays, never crosses.")
    assert f.evidence["crossing_date"] == "2027-01-03"
    assert f.evidence["avg_12m_gb"] == pytest.approx(560.3836, abs=1e-3)
    assert f.evidence["avg_headroom_pct"] == 2.71


def test_lic004_and_lic005_say_why_they_had_nothing_to_evaluate():
    # The site's vCenter reports no vRAM figures of its own, and it has no Essentials kit.
    out4 = vram_reported.run(ctx(snapshot(vsphere5_site())))
    assert out4.findings == [] and out4.checked == 0
    assert out4.not_evaluated == ("vCenter's license data gives no vRAM use or entitlement of its own for the 2 "
                                  "vRAM pools: there is nothing to compare the computed figures with.")
    out5 = hard_limits.run(ctx(snapshot(vsphere5_site())))
    assert out5.findings == [] and out5.not_evaluated is not None
    assert out5.not_evaluated.startswith("No Essentials or Essentials Plus kit pool")


def test_lic005_free_hypervisor_physical_limit_binds_esxi_50_only():
    # The 32 GB physical RAM limit is the vSphere 5.0 free edition's. A free ESXi 7.0 host with 128 GB
    # was reported "above the 32 GB limit"; only the 5.0 host is over it. A host of unknown version
    # is not judged.
    key50, key70, key_unknown = "FREE0-00000-00000-00000-00050", "FREE0-00000-00000-00000-00070", "FREE0-00000-00000-00000-0000X"
    hosts = [host("h50", memory_gb=64, version="5.0.0"), host("h70", memory_gb=128, version="7.0.3"),
             host("hx", memory_gb=96).model_copy(update={"version": None})]
    v = vcenter("vc1", "u", hosts, [],
                [lic(key50, "esxBasic", 1, 1, version="5.0"), lic(key70, "esxBasic", 1, 1, version="7.0"),
                 lic(key_unknown, "esxBasic", 1, 1, version="5.0")],
                [assign("h50", key50, "esxBasic"), assign("h70", key70, "esxBasic"), assign("hx", key_unknown, "esxBasic")],
                version="7.0.3")
    out = hard_limits.run(ctx(snapshot(v)))
    assert [(f.object_name, f.object_type, f.severity, f.message) for f in out.findings] == [
        ("h50.example", "host", Severity.high,
         "Free vSphere Hypervisor host has 64 GB physical RAM, above the 32 GB limit (table aug2011)."),
    ]
    assert out.findings[0].evidence == {"host": "h50.example", "kind": "physical", "value_gb": 64.0, "limit_gb": 32.0,
                                        "rule": "docs/methodology.md#vram-pools"}
