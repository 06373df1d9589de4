"""Settings of the sioc family (``[thresholds.sioc]`` in the config)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from reporter.checks.sioc import FAMILY
from reporter.config.settings import FamilySettings, register_settings


@register_settings(FAMILY.id)
class SiocSettings(FamilySettings):
    default_congestion_threshold_ms: int = Field(
        default=30, ge=5, le=100,
        description=(
            "SIOC's default manual congestion threshold (docs/methodology.md#sioc; vSphere Resource Management "
            "guide, 'Set Storage I/O Control Threshold Value'). Shown next to every threshold."
        ),
    )
    ssd_threshold_range_ms: tuple[int, int] = Field(
        default=(10, 15),
        description=(
            "Manual congestion threshold range that fits SSD/flash datastores (info.vmfs.ssd = true). "
            "10-15 ms is the SSD recommendation in 'Learning PowerCLI' (Packt, 2nd ed., 'Configuring "
            "Storage I/O Control'); vSphere 5.1 added the automatic (percent-of-peak) mode because the fixed "
            "30 ms default did not suit every device type. At 30 ms a flash device is long past saturation "
            "before SIOC acts. A community recommendation, not a VMware number: adjust per array."
        ),
    )
    hdd_threshold_range_ms: tuple[int, int] = Field(
        default=(20, 50),
        description=(
            "Manual congestion threshold range for spinning-disk datastores (info.vmfs.ssd = false). The "
            "vSphere Resource Management guide: for Fibre Channel disks a value below 20 ms could lower peak "
            "throughput, and above 50 ms allows very high latency without significant throughput gain. "
            "Datastores whose media type is unknown (NFS, vVols) are held to the union of both ranges."
        ),
    )
    busy_vm_count: int = Field(
        default=4, ge=2,
        description=(
            "'SIOC disabled on a shared datastore' is reported when at least this many powered-on VMs use "
            "the datastore. SIOC can only redistribute I/O among VMs that compete on one datastore "
            "(docs/methodology.md#sioc), so it needs at least 2; the default of 4 is a site heuristic (the API "
            "has no per-VM load figure in the snapshot), not a VMware number."
        ),
    )
    starvation_min_iops: int = Field(
        default=50, ge=1,
        description=(
            "An enforced IOPS cap below this is reported as starving the VM (boot, patching, paging and "
            "log writes stall). Site heuristic, no VMware figure; raise it for database or VDI hosts."
        ),
    )
    starvation_min_mbps: float = Field(
        default=2.0, gt=0,
        description="An enforced bandwidth cap below this many MB/s (1 MB = 1024 KB) is reported as starving the VM.",
    )
    iops_unit_base: Literal[1000, 1024] = Field(
        default=1000,
        description=(
            "Value of the K/M/G prefixes in IOps units (2KIOps = 2000 IOPS). No VMware document states it; "
            "an operation count has no binary-prefix convention (see reporter/iocaps.py)."
        ),
    )
    bandwidth_unit_base: Literal[1000, 1024] = Field(
        default=1024,
        description=(
            "Value of the K/M/G prefixes in Bps units (1MBps = 1048576 bytes/s). The vSphere 5.0 Resource "
            "Management guide converts '10MB per second with 64KB IOs' into 160 IOPS, i.e. MB = 1024 KB."
        ),
    )
    typical_io_size_kb: int = Field(
        default=64, ge=4, le=1024,
        description=(
            "I/O size used to convert a bandwidth cap into an IOPS figure in remediation text (vSphere 5.0 "
            "Resource Management guide: 'to restrict a backup application with 64KB IOs to 10MB per "
            "second, set a limit of 160 IOPS')."
        ),
    )
    include_templates: bool = Field(
        default=False,
        description="Also evaluate templates (clones inherit their disk caps).",
    )

    @field_validator("ssd_threshold_range_ms", "hdd_threshold_range_ms")
    @classmethod
    def _range_ordered(cls, value: tuple[int, int]) -> tuple[int, int]:
        low, high = value
        if not 5 <= low <= high <= 100:
            raise ValueError("must be [low, high] with 5 <= low <= high <= 100 (the API's manual range)")
        return value
