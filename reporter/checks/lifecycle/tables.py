"""Detail table of the lifecycle family: every ESXi host and vCenter with its release name and
support dates."""

from __future__ import annotations

from reporter.checks.base import CheckContext
from reporter.checks.lifecycle import FAMILY
from reporter.checks.lifecycle.common import installed, today
from reporter.checks.lifecycle.settings import LifecycleSettings
from reporter.checks.tables import Scalar, Table, register_tables
from reporter.domain.lifecycle import lifecycle_status

SUMMARY_ROW_LIMIT = 200


@register_tables(FAMILY.id)
def lifecycle_tables(ctx: CheckContext) -> list[Table]:
    days = ctx.settings.get(LifecycleSettings).eogs_warning_days
    on = today(ctx)
    rows: list[list[Scalar]] = []
    for item in installed(ctx):
        status = lifecycle_status(item.product, item.version, on, days)
        if status is None:
            state = "release not in the lifecycle table"
        elif status.past_general_support:
            state = "past End of General Support"
        elif status.within_warning:
            state = f"End of General Support in {status.days_to_end_of_general_support} days"
        else:
            state = "supported"
        rows.append([item.vc.name, item.product_name, item.name, item.version, item.build, item.label.text,
                     status.end_of_general_support.isoformat() if status else None,
                     status.end_of_technical_guidance.isoformat() if status else None, state])
    return [Table(
        id="builds", family=FAMILY.id, title="Builds, release names and support dates",
        columns=["vCenter", "Product", "Name", "Version", "Build", "Release", "End of General Support",
                 "End of Technical Guidance", "Status"],
        rows=rows,
        note="Release names from Broadcom's build-number articles (KB2143832, KB2143838); dates as of the snapshot. "
             "docs/methodology.md#build-lifecycle",
        in_summary=len(rows) <= SUMMARY_ROW_LIMIT,
    )]
