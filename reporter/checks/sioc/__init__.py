"""Storage I/O Control and per-disk I/O caps (KB1038241).

Datastore checks ``SIOC-001``…``SIOC-004`` look at ``iormConfiguration``; disk-cap
checks ``IOCAP-001``…``IOCAP-009`` evaluate each VM x datastore with
:mod:`reporter.domain.iocaps` under the disk scheduler of the host the VM runs on.
``tables`` contributes the per-datastore and per-VM x datastore report tables.
"""

from reporter.checks.base import Family

FAMILY = Family(id="sioc", title="Storage I/O Control and disk I/O caps", order=60)
