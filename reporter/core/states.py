"""vSphere state codes (and API field names) in the vSphere Client's words: the one mapping every
reader-facing text uses.

The snapshot keeps the API's codes (``poweredOn``, ``notResponding``), and so does findings.json's
evidence (machines compare codes); the report, the spreadsheets, the CSV files and the email print
the words below, as the vSphere Client shows them. A code not listed is printed as it is spelled.
"""

from __future__ import annotations

from collections.abc import Callable

POWER_STATES: dict[str, str] = {
    "poweredOn": "Powered on", "poweredOff": "Powered off", "suspended": "Suspended",
    "standBy": "Standby",  # a host put to standby by DPM
    "unknown": "Unknown",
}
CONNECTION_STATES: dict[str, str] = {
    "connected": "Connected", "disconnected": "Disconnected", "notResponding": "Not responding",
}


def power_state(code: str | None) -> str | None:
    """'Powered on' for poweredOn; None (a table's "—") when vCenter did not report it."""
    return None if code is None else POWER_STATES.get(code, code)


def connection_state(code: str | None) -> str | None:
    """'Not responding' for notResponding; None (a table's "—") when vCenter did not report it."""
    return None if code is None else CONNECTION_STATES.get(code, code)


# How the cpu-mmu checks know whether a host ignores the per-VM CPU/MMU setting: the host says so
# (ESXi 6.7 and later report it), its version says so, or neither was collected.
IGNORES_BASIS: dict[str, str] = {"capability": "host's own report", "version": "ESXi version", "unknown": "not known"}


def ignores_basis(code: str | None) -> str | None:
    """'host's own report' for capability; None when there is no code."""
    return None if code is None else IGNORES_BASIS.get(code, code)


# What a licence's capacity counts (LicenseManagerLicenseInfo.costUnit), as the vSphere Client's
# licence view names it: "4 CPUs", "96 cores".
COST_UNITS: dict[str, str] = {
    "cpuPackage": "CPU", "cpuCore": "core", "vm": "VM", "server": "instance", "host": "host",
    "concurrentUser": "concurrent user",
}


def cost_unit(code: str | None) -> str | None:
    """'CPU' for cpuPackage, 'core' for cpuCore; None when the licence has no cost unit."""
    return None if not code else COST_UNITS.get(code, code)


def cost_units(code: str | None, count: int) -> str:
    """'4 CPUs', '1 core', '16 units' (no cost unit reported)."""
    unit = cost_unit(code) or "unit"
    return f"{count:,} {unit}" + ("" if count == 1 else "s")


# A licence pool's verdict on the 12-month average, in words (the codes are findings.json's).
VERDICTS: dict[str, str] = {
    "compliant": "compliant", "at_risk": "at risk", "non_compliant": "non-compliant", "not_evaluated": "not evaluated",
}


def verdict(code: str | None) -> str | None:
    """'at risk' for at_risk; None when there is no verdict."""
    return None if code is None else VERDICTS.get(code, code)


# A VM's CPU/MMU virtualization flags (config.flags.virtualExecUsage / virtualMmuUsage), each in
# words with the value PowerCLI sets beside it: "Hardware (hvOn)", "Software (off)". The vSphere
# Client shows the pair as one choice ("Hardware CPU and MMU"), which the checks name too.
CPU_SETTINGS: dict[str, str] = {"hvAuto": "Automatic", "hvOn": "Hardware", "hvOff": "Software"}
MMU_SETTINGS: dict[str, str] = {"automatic": "Automatic", "on": "Hardware", "off": "Software"}


def _flag(words: dict[str, str], code: str | None) -> str:
    if not code:
        return "Automatic (not set)"  # the API's default
    word = words.get(code)
    if word is None:
        return code
    return word if word.lower() == code else f"{word} ({code})"


def cpu_setting(code: str | None) -> str:
    """'Hardware (hvOn)'; 'Automatic (not set)' when the VM has no value."""
    return _flag(CPU_SETTINGS, code)


def mmu_setting(code: str | None) -> str:
    """'Hardware (on)', 'Automatic'; 'Automatic (not set)' when the VM has no value."""
    return _flag(MMU_SETTINGS, code)


# The kinds of object a finding is about (a check's object type), singular and plural.
OBJECT_TYPES: dict[str, tuple[str, str]] = {
    "vm": ("VM", "VMs"),
    "host": ("host", "hosts"),
    "datastore": ("datastore", "datastores"),
    "cluster": ("cluster", "clusters"),
    "disk": ("disk", "disks"),
    "snapshot": ("snapshot", "snapshots"),
    "license": ("license", "licenses"),
    "pool": ("vRAM pool", "vRAM pools"),
    "vcenter": ("vCenter", "vCenters"),
    "installation": ("ESXi host or vCenter", "ESXi hosts and vCenters"),  # the lifecycle checks look at both
    "check": ("check", "checks"),
    "pnic": ("physical NIC", "physical NICs"),
    "portgroup": ("port group", "port groups"),
    "switch": ("switch", "switches"),
}


def counted(n: int, singular: str, plural: str | None = None) -> str:
    """"1 snapshot", "3 snapshots", "1,200 VMs": a count with its noun, never "snapshot(s)"."""
    return f"{n:,} {singular if n == 1 else plural or singular + 's'}"


def object_nouns(code: str) -> tuple[str, str]:
    """('VM', 'VMs'), ('physical NIC', 'physical NICs'): an object type, singular and plural; a code
    not listed as it is, plural with an 's'."""
    return OBJECT_TYPES.get(code, (code, code + "s"))


def object_type(code: str | None) -> str | None:
    """'VM', 'vRAM pool', 'physical NIC' (a cell of an object type column)."""
    return None if code is None else object_nouns(code)[0]


# The products a build belongs to (lifecycle evidence), by their names.
PRODUCTS: dict[str, str] = {"esxi": "ESXi", "vcenter": "vCenter Server"}


def product(code: str | None) -> str | None:
    """'ESXi', 'vCenter Server'."""
    return None if code is None else PRODUCTS.get(code, code)


# The vSphere 5.0 vRAM entitlement table a pool was measured with, in words, with the value of
# [licensing] vram_table beside it (what an administrator types to choose the other one).
VRAM_TABLES: dict[str, str] = {
    "aug2011": "Revised entitlements of 3 August 2011 (aug2011)",
    "jul2011": "Original entitlements of 12 July 2011 (jul2011)",
}


def vram_table(code: str | None) -> str | None:
    """'Revised entitlements of 3 August 2011 (aug2011)' for aug2011; None when there is none."""
    return None if code is None else VRAM_TABLES.get(code, code)


# Where today's vRAM high-water of a pool was read: this snapshot's inventory, or a vRAM sample
# recorded earlier the same day that was higher.
HIGH_WATER_SOURCES: dict[str, str] = {
    "snapshot": "this collection's inventory",
    "history": "an earlier vRAM sample of the same day (higher than at collection)",
}


def high_water_source(code: str | None) -> str | None:
    """"this collection's inventory" for snapshot; None when there is none."""
    return None if code is None else HIGH_WATER_SOURCES.get(code, code)


# Evidence keys whose absent value has words of its own (the API's default), not "not set".
ABSENT_WORDS: dict[str, str] = {"virtual_exec_usage": cpu_setting(None), "virtual_mmu_usage": mmu_setting(None),
                                 # as the CPU/MMU mode counts table says it; the evidence gives the reason beside it
                                 "effective_mode": "Not determined",
                                 # a snapshot (or VM) the last run did not see: nothing to grow from
                                 "growth_since_last_run_gb": "no earlier size"}


# Evidence keys that hold a state code, and how a reader's format prints their value.
EVIDENCE_STATES: dict[str, Callable[[str], str | None]] = {
    "power_state": power_state, "vm_power_state": power_state, "connection_state": connection_state,
    "host_ignores_basis": ignores_basis, "cost_unit": cost_unit, "verdict": verdict,
    "virtual_exec_usage": cpu_setting, "virtual_mmu_usage": mmu_setting, "product": product,
    "vram_table": vram_table, "high_water_from": high_water_source,
}
# API fields used as evidence keys (the snapshot's and findings.json's spelling), by the name the
# vSphere Client gives them. VMX keys (ctkEnabled, sched.scsi0:0.throughputCap) are not here: they
# are what an administrator types, so they keep their spelling.
FIELD_WORDS: dict[str, str] = {"storageIOAllocation.limit": "Limit - IOPs"}
# And a field's special values, as the vSphere Client shows them (-1 = no limit).
_FIELD_VALUES: dict[str, dict[object, str]] = {"storageIOAllocation.limit": {-1: "Unlimited"}}


def field_value(key: str, value: object) -> str | None:
    """'Unlimited' for a Limit - IOPs of -1; None when the value has no words of its own."""
    words = _FIELD_VALUES.get(key)
    return None if words is None or isinstance(value, bool) or not isinstance(value, int) else words.get(value)


def host_not_readable(connection: str | None, what: str) -> str:
    """Why a host's data could not be read while it is not connected, in a sentence's middle:
    'host is not responding: option not readable'."""
    state = (connection_state(connection) or "").lower() or "in an unknown state"
    return f"host is {state}: {what} not readable"


# The words for a value that is absent, in every format: a setting or property with no value, and
# a list with no items (never a label followed by nothing, never "None" or "[]").
NOT_SET = "not set"
NO_ITEMS = "none"


def yes_no(value: bool) -> str:
    """A flag as the reports print it, in every format and sheet alike (rather than Excel's
    TRUE/FALSE in some and text in others; a filter offers "yes" and "no" as well)."""
    return "yes" if value else "no"


def in_sentence(words: str | None) -> str:
    """A state's words inside a sentence: 'Powered off' -> 'powered off'; 'in an unknown state'
    when there are none."""
    return words[:1].lower() + words[1:] if words else "in an unknown state"
