"""What the software checks share: per-host readiness (computed once per run) and the KBs."""

from __future__ import annotations

from collections.abc import Iterator

from reporter.checks.base import CheckContext
from reporter.checks.software.settings import SoftwareSettings
from reporter.core.model import Host, VCenter
from reporter.domain.software import HostReadiness, upgrade_readiness

METHOD = "docs/methodology.md#host-software"


def hosts(ctx: CheckContext) -> Iterator[tuple[VCenter, Host]]:
    for vc in ctx.snapshot.vcenters.values():
        for host in sorted(vc.hosts.values(), key=lambda h: h.name):
            yield vc, host


def readiness(ctx: CheckContext) -> dict[tuple[str, str], HostReadiness]:
    """(vCenter uuid, host moid) -> readiness for the configured target release."""
    target = ctx.settings.get(SoftwareSettings).target_release

    def build() -> dict[tuple[str, str], HostReadiness]:
        return {(vc.instance_uuid, h.moid): upgrade_readiness(h.name, h.version, h.cpu_model, h.software, target)
                for vc, h in hosts(ctx)}

    return ctx.memo(("software.readiness", target), build)
