"""Evidence as a reader sees it: quantities with thousands separators and units, identifiers
(builds, device keys, VLAN IDs) as vSphere and the KBs spell them, labels in words."""

from __future__ import annotations

from reporter.render.evidence import flat, items, scalar


def test_builds_keys_and_ids_print_without_separators() -> None:
    assert scalar(2312428, "fixed_build") == "2312428"
    assert scalar(21930508, "host_build") == "21930508"
    assert scalar(2000, "key") == "2000"
    assert scalar(4095, "vlan_id") == "4095"


def test_quantities_keep_their_separators_and_units() -> None:
    assert scalar(21000, "free_gb") == "21,000.0 GB"
    assert scalar(1400, "total") == "1,400"
    assert scalar(2000, "keys_read") == "2,000"


def test_a_disk_table_and_a_defect_table_read_as_vsphere_spells_them() -> None:
    [disks] = items({"independent_disks": [{"label": "Hard disk 1", "node": "scsi0:0", "key": 2000, "capacity_gb": 40.0}]})
    assert disks.table is not None and disks.table.rows == [["Hard disk 1", "scsi0:0", "2000", "40.0 GB"]]
    assert flat({"release": "ESXi 5.0", "build": 623860, "fixed_build": 2312428}, "defects") == (
        "Release: ESXi 5.0; Build: 623860; Fixed build: 2312428")


def test_the_vram_pool_evidence_reads_as_words_with_units() -> None:
    shown = {i.label: i.text for i in items({"used_gb_now": 1764, "used_gb_uncapped": 1892, "verdict": "at_risk",
                                             "today_high_water_gb": 1764.0, "cpu_licenses_to_add_now": 0,
                                             "cpu_licenses_to_add_to_hold_today": 3})}
    assert shown == {"vRAM used now": "1,764.0 GB", "vRAM used (without per-VM cap)": "1,892.0 GB",
                     "Verdict": "at risk", "Today's high-water": "1,764.0 GB", "CPU licenses to add now": "0",
                     "CPU licenses to hold today's use": "3"}
    assert items({"verdict": "non_compliant"})[0].text == "non-compliant"


def test_cpu_mmu_and_scheduler_evidence_has_readers_labels() -> None:
    shown = [i.label for i in items({"host_cpu_vendor": "intel", "host_hw_mmu_supported": True,
                                     "host_mmu_usage_ignored": True, "if_legacy": "300 IOPS"})]
    assert shown == ["Host CPU vendor", "Host has hardware MMU virtualization", "Host ignores the per-VM MMU setting",
                     "If the legacy scheduler"]
