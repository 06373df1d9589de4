"""What the lifecycle checks share: the products of a snapshot with their release labels."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date

from reporter.checks.base import CheckContext, Reference, object_id
from reporter.checks.helpers import kb
from reporter.core.model import VCenter
from reporter.domain.lifecycle import PRODUCT_NAMES, Product, ReleaseLabel, release_label

METHOD = "docs/methodology.md#build-lifecycle"
KB_ESXI_BUILDS = kb("2143832", "Build numbers and versions of VMware ESXi/ESX")
KB_VCENTER_BUILDS = kb("2143838", "Build numbers and versions of VMware vCenter Server")
LIFECYCLE_MATRIX = Reference(None, "Broadcom Product Lifecycle Matrix", "https://support.broadcom.com/web/ecx/productlifecycle")


@dataclass(frozen=True)
class Installed:
    """One ESXi host or vCenter with its version, build and release name."""

    vc: VCenter
    product: Product
    name: str
    object_id: str
    object_type: str
    version: str | None
    build: str | None
    label: ReleaseLabel

    @property
    def product_name(self) -> str:
        return PRODUCT_NAMES[self.product]


def installed(ctx: CheckContext) -> Iterator[Installed]:
    for vc in ctx.snapshot.vcenters.values():
        yield Installed(vc, "vcenter", vc.name, f"{vc.instance_uuid}/vcenter", "vcenter", vc.version, vc.build,
                        release_label("vcenter", vc.build, vc.version))
        for h in sorted(vc.hosts.values(), key=lambda h: h.name):
            yield Installed(vc, "esxi", h.name, object_id(vc, h.moid), "host", h.version, h.build,
                            release_label("esxi", h.build, h.version))


def today(ctx: CheckContext) -> date:
    """The UTC day the snapshot was taken: a report of an old snapshot says what was true then.
    UTC like the licensing verdict's days, whatever offset the snapshot's timestamp carries."""
    return ctx.snapshot.collected_at.astimezone(UTC).date()
