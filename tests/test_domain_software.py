"""Host software domain: acceptance levels, vmklinux detection, upgrade readiness, tables."""

from __future__ import annotations

import pytest

from reporter.core.model_hostconfig import HostSoftware, KernelModule, SoftwarePackage
from reporter.domain.datafiles import DataFileError, parse_rows, parse_toml
from reporter.domain.software import (
    VIBS_BEFORE_65,
    AcceptanceLevel,
    CpuRule,
    DependencyRule,
    HostReadiness,
    cluster_readiness,
    load_tables,
    packages_below,
    packages_below_host_level,
    packages_with_unknown_acceptance,
    parse_acceptance,
    unsatisfiable_dependencies,
    upgrade_readiness,
    vmklinux_driver_modules,
    vmklinux_modules_loaded,
)

A = AcceptanceLevel


@pytest.mark.parametrize("text,level", [
    ("vmware_certified", A.VMWARE_CERTIFIED), ("vmware_accepted", A.VMWARE_ACCEPTED),
    ("partner", A.PARTNER_SUPPORTED), ("community", A.COMMUNITY_SUPPORTED),
    ("certified", A.VMWARE_CERTIFIED), ("accepted", A.VMWARE_ACCEPTED),
    ("VMwareCertified", A.VMWARE_CERTIFIED), ("VMwareAccepted", A.VMWARE_ACCEPTED),
    ("PartnerSupported", A.PARTNER_SUPPORTED), ("CommunitySupported", A.COMMUNITY_SUPPORTED),
    (" Partner ", A.PARTNER_SUPPORTED), ("", None), (None, None),
    # ESXi 5.x image profile XML codes VMwareAccepted as "vmware" (certified > vmware > partner > community)
    ("vmware", A.VMWARE_ACCEPTED), ("VMWARE", A.VMWARE_ACCEPTED), ("vmwareish", None),
])
def test_parse_acceptance(text: str | None, level: AcceptanceLevel | None) -> None:
    assert parse_acceptance(text) == level


def test_acceptance_order_and_labels() -> None:
    assert A.VMWARE_CERTIFIED > A.VMWARE_ACCEPTED > A.PARTNER_SUPPORTED > A.COMMUNITY_SUPPORTED
    assert [x.label for x in sorted(A, reverse=True)] == [
        "VMwareCertified", "VMwareAccepted", "PartnerSupported", "CommunitySupported"]


def vib(name: str, level: str | None = "vmware_certified", depends: tuple[str, ...] = (), version: str = "1.0-1",
        vendor: str = "VMW") -> SoftwarePackage:
    return SoftwarePackage(name=name, vendor=vendor, version=version, acceptance_level=level, depends=list(depends))


PACKAGES = [vib("esx-base"), vib("nenic", "vmware_accepted"), vib("hpe-smx", "partner"),
            vib("net55-r8168", "community"), vib("odd", "weird"), vib("nolevel", None)]


def test_packages_below_vmware_accepted_by_default() -> None:
    assert [(x.package.name, x.level) for x in packages_below(PACKAGES)] == [
        ("net55-r8168", A.COMMUNITY_SUPPORTED), ("hpe-smx", A.PARTNER_SUPPORTED)]
    assert [x.package.name for x in packages_below(PACKAGES, A.PARTNER_SUPPORTED)] == ["net55-r8168"]
    assert [p.name for p in packages_with_unknown_acceptance(PACKAGES)] == ["odd", "nolevel"]


def test_packages_below_host_level() -> None:
    sw = HostSoftware(acceptance_level="partner", packages=PACKAGES)
    assert [x.package.name for x in packages_below_host_level(sw)] == ["net55-r8168"]
    assert packages_below_host_level(HostSoftware(acceptance_level="community", packages=PACKAGES)) == []
    assert packages_below_host_level(HostSoftware(acceptance_level=None, packages=PACKAGES)) == []


# --------------------------------------------------------------------------- vmklinux


VMKLINUX_VIB = vib("scsi-mpt3sas", "vmware_certified", ("vmkapi_2_0_0_0", "com.vmware.driverAPI-9.2.0.0"),
                   "04.00.00.00.1vmw-1OEM.500.0.0.472560", "LSI")
NATIVE_VIB = vib("lsi-msgpt3", "vmware_certified", ("vmkapi_2_4_0_0",))
OLD_ASYNC_VIB = vib("qedi", "vmware_certified", ("vmkapi_2_2_0_0",), "2.10.15.0-1OEM.670.0.0.8169922", "QLC")


def test_unsatisfiable_dependencies_vmklinux() -> None:
    for target in ("7.0", "8.0"):
        (ev,) = unsatisfiable_dependencies([NATIVE_VIB, VMKLINUX_VIB], target)
        assert isinstance(ev.rule, DependencyRule)
        assert (ev.kind, ev.subject, ev.relation, ev.rule.id, ev.rule.verified) == (
            "package", "scsi-mpt3sas", "com.vmware.driverAPI-9.2.0.0", "driver-api-9", True)
        assert ev.replacement is not None and ev.replacement.native_module == "lsi_msgpt3"


def test_removed_vmkapi_is_verified_for_7_and_inferred_for_8() -> None:
    (ev7,) = unsatisfiable_dependencies([OLD_ASYNC_VIB], "7.0")
    (ev8,) = unsatisfiable_dependencies([OLD_ASYNC_VIB], "8.0")
    assert isinstance(ev7.rule, DependencyRule) and isinstance(ev8.rule, DependencyRule)
    assert (ev7.rule.id, ev7.rule.verified) == ("vmkapi-2-2-and-2-3", True)
    assert (ev8.rule.id, ev8.rule.verified) == ("vmkapi-2-2-and-2-3-on-8", False)
    assert unsatisfiable_dependencies([NATIVE_VIB], "8.0") == []


def test_vmklinux_module_loaded_and_driver_modules() -> None:
    modules = [KernelModule(name="vmklinux_9", loaded=True, enabled=True),
               KernelModule(name="bnx2x", loaded=True), KernelModule(name="qfle3", loaded=False)]
    (ev,) = vmklinux_modules_loaded(modules, "8.0")
    assert (ev.kind, ev.subject, ev.rule.verified) == ("module", "vmklinux_9", True)
    assert vmklinux_modules_loaded([KernelModule(name="vmklinux_9", loaded=False)], "8.0") == []
    assert [(m.name, r.native_module) for m, r in vmklinux_driver_modules(modules)] == [("bnx2x", "qfle3")]


# --------------------------------------------------------------------------- readiness

CLEAN = HostSoftware(acceptance_level="partner", packages=[NATIVE_VIB], kernel_modules=[KernelModule(name="nmlx5_core", loaded=True)])
XEON_OK = "Intel(R) Xeon(R) Gold 6348 CPU @ 2.60GHz"
WESTMERE_EX = "Intel(R) Xeon(R) CPU E7- 4870  @ 2.40GHz"
IVY_EX = "Intel(R) Xeon(R) CPU E7-4870 v2 @ 2.30GHz"
WESTMERE_EP = "Intel(R) Xeon(R) CPU           X5670  @ 2.93GHz"


def codes(r: HostReadiness) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    return [(b.code, b.subject) for b in r.blockers], [(c.code, c.subject) for c in r.cautions]


@pytest.mark.parametrize("version,cpu,software,target,verdict,blockers,cautions,unknowns", [
    ("6.7.0", XEON_OK, CLEAN, "8.0", "ready", [], [], ()),
    ("6.7.0", XEON_OK, CLEAN, "7.0", "ready", [], [], ()),
    ("6.7.0", XEON_OK, HostSoftware(packages=[VMKLINUX_VIB], kernel_modules=[]), "8.0", "blocked",
     [("unsatisfiable-dependency", "scsi-mpt3sas")], [], ()),
    ("6.5.0", XEON_OK, HostSoftware(packages=[], kernel_modules=[KernelModule(name="vmklinux_9", loaded=True)]), "7.0",
     "blocked", [("vmklinux-module", "vmklinux_9")], [], ()),
    ("6.7.0", WESTMERE_EX, CLEAN, "8.0", "blocked", [("cpu-unsupported", WESTMERE_EX)], [], ()),
    ("6.7.0", WESTMERE_EX, CLEAN, "7.0", "ready", [], [], ()),          # no sourced 7.0 CPU rows
    ("6.7.0", IVY_EX, CLEAN, "8.0", "ready", [], [], ()),               # E7 v2 is not Westmere
    ("6.7.0", WESTMERE_EP, CLEAN, "8.0", "ready", [], [("cpu-unsupported", WESTMERE_EP)], ()),  # unverified row
    ("7.0.3", XEON_OK, HostSoftware(packages=[OLD_ASYNC_VIB], kernel_modules=None), "8.0", "ready", [],
     [("unsatisfiable-dependency", "qedi")], ()),                      # 8.0 vmkapi rule unverified; modules moot on 7.0
    ("6.7.0", XEON_OK, HostSoftware(packages=[OLD_ASYNC_VIB], kernel_modules=[]), "7.0", "blocked",
     [("unsatisfiable-dependency", "qedi"), ("cna-driver", "qedi 2.10.15.0-1OEM.670.0.0.8169922")], [], ()),
    ("6.7.0", XEON_OK, HostSoftware(packages=None, kernel_modules=None, software_unknown_reason="NoPermission"), "8.0",
     "unknown", [], [], ("installed VIBs: NoPermission", "kernel modules")),
    ("6.0.0", XEON_OK, HostSoftware(packages=None, kernel_modules=[], software_unknown_reason=VIBS_BEFORE_65), "8.0",
     "unknown", [], [], ("installed VIBs not listed: the vSphere API lists them from ESXi 6.5 on",)),  # not "installed VIBs: installed VIBs ..."
    ("6.7.0", XEON_OK, None, "8.0", "unknown", [], [], ("host software (not collected)",)),
    ("6.7.0", None, CLEAN, "8.0", "unknown", [], [], ("CPU model",)),
    ("6.7.0", None, CLEAN, "7.0", "ready", [], [], ()),                 # no CPU rows for 7.0: model not needed
    (None, XEON_OK, CLEAN, "8.0", "unknown", [], [], ("ESXi version",)),
    # a verified blocker wins over what could not be read
    ("6.7.0", None, HostSoftware(packages=[VMKLINUX_VIB], kernel_modules=None), "8.0", "blocked",
     [("unsatisfiable-dependency", "scsi-mpt3sas")], [], ("CPU model", "kernel modules")),
])
def test_upgrade_readiness(version: str | None, cpu: str | None, software: HostSoftware | None, target: str,
                           verdict: str, blockers: list[tuple[str, str]], cautions: list[tuple[str, str]],
                           unknowns: tuple[str, ...]) -> None:
    r = upgrade_readiness("esx1", version, cpu, software, target)
    assert (r.verdict, codes(r), r.unknowns, r.target, r.already_at_target) == (
        verdict, (blockers, cautions), unknowns, target, False)


def test_blocker_carries_source_and_replacement_hint() -> None:
    r = upgrade_readiness("esx1", "6.7.0", XEON_OK, HostSoftware(packages=[VMKLINUX_VIB], kernel_modules=[]))
    (b,) = r.blockers
    assert b.detail == ("depends on com.vmware.driverAPI-9.2.0.0 (vmklinux driver API (the Linux compatibility layer "
                        "removed in ESXi 7.0)); native replacement: lsi_msgpt3")
    assert b.verified is True and "com.vmware.driverAPI-9.2.2.0" in b.source


@pytest.mark.parametrize("version,target", [("8.0.2", "8.0"), ("8.0", "8.0"), ("7.0.3", "7.0"), ("8.0.1", "7.0")])
def test_already_at_target_is_ready(version: str, target: str) -> None:
    r = upgrade_readiness("esx1", version, WESTMERE_EX, None, target)
    assert (r.verdict, r.already_at_target, r.blockers, r.unknowns) == ("ready", True, (), ())


def test_unknown_target_is_an_error() -> None:
    with pytest.raises(ValueError, match=r"unknown target release '9\.0'"):
        upgrade_readiness("esx1", "6.7.0", XEON_OK, CLEAN, "9.0")


def _r(name: str, verdict: str) -> HostReadiness:
    return HostReadiness(name, "8.0", verdict)  # type: ignore[arg-type]


@pytest.mark.parametrize("verdicts,expected", [
    (["ready", "ready"], "ready"),
    (["ready", "unknown"], "unknown"),
    (["unknown", "blocked", "ready"], "blocked"),
    (["blocked"], "blocked"),
    ([], "unknown"),
])
def test_cluster_rollup(verdicts: list[str], expected: str) -> None:
    hosts = [_r(f"esx{i}", v) for i, v in enumerate(verdicts)]
    c = cluster_readiness("Cluster A", hosts)
    assert c.verdict == expected
    assert (c.blocked_hosts, c.unknown_hosts, c.ready_hosts) == (
        tuple(f"esx{i}" for i, v in enumerate(verdicts) if v == "blocked"),
        tuple(f"esx{i}" for i, v in enumerate(verdicts) if v == "unknown"),
        tuple(f"esx{i}" for i, v in enumerate(verdicts) if v == "ready"))


# --------------------------------------------------------------------------- data files


def test_tables_load_with_sources() -> None:
    t = load_tables()
    assert [r.id for r in t.dependencies] == ["driver-api-9", "vmklinux-9", "vmkapi-2-2-and-2-3", "vmkapi-2-2-and-2-3-on-8"]
    assert [r.name for r in t.modules] == ["vmklinux_9"]
    assert [(r.vmklinux_module, r.native_module, r.verified) for r in t.replacements] == [
        ("bnx2x", "qfle3", True), ("mpt3sas", "lsi_msgpt3", False), ("megaraid_sas", "lsi_mr3", False),
        ("lpfc820", "lpfc", False), ("be2net", "elxnet", False), ("qla2xxx", "qlnativefc", False)]
    assert [(r.id, r.target, r.verified) for r in t.cpus] == [
        ("intel-westmere-ex-8.0", "8.0", True), ("intel-westmere-ep-8.0", "8.0", False)]
    assert [(r.vib, r.version, r.targets) for r in t.cna_drivers] == [
        ("qedf", "1.3.35.0-1OEM.600.0.0.2768847", ["7.0"]), ("qedi", "2.10.15.0-1OEM.670.0.0.8169922", ["7.0"])]
    rows = [*t.dependencies, *t.modules, *t.replacements, *t.cpus, *t.cna_drivers]
    assert all(r.source.strip() for r in rows)
    assert all(r.verified or (r.note and r.note.strip()) for r in rows)


DEP = 'id = "x"\nname_pattern = "a"\nmeaning = "m"\ntargets = ["7.0"]\nverified = true\nsource = "s"\n'


@pytest.mark.parametrize("text,message", [
    ("[[relation]]\n" + DEP.replace('["7.0"]', '["7.5"]'),
     "v.toml: [[relation]] row 1: targets: Value error, unknown target release '7.5'"),
    ("[[relation]]\n" + DEP.replace('"a"', '"a["'), "v.toml: [[relation]] row 1: name_pattern: Value error, not a valid"),
    ("[[relation]]\n" + DEP.replace('targets = ["7.0"]\n', ""), "v.toml: [[relation]] row 1: targets: Field required"),
])
def test_malformed_dependency_rows(text: str, message: str) -> None:
    with pytest.raises(DataFileError) as info:
        parse_rows(parse_toml(text, "v.toml"), "relation", DependencyRule, "v.toml")
    assert str(info.value).startswith(message)


def test_malformed_cpu_row() -> None:
    text = '[[cpu]]\nid = "c"\ntarget = "8.0"\nfamily = "f"\nmodel_pattern = "x"\neffect = "e"\nverified = "yes"\nsource = "s"\n'
    with pytest.raises(DataFileError, match=r"^c.toml: \[\[cpu\]\] row 1: verified: Input should be a valid boolean"):
        parse_rows(parse_toml(text, "c.toml"), "cpu", CpuRule, "c.toml")
