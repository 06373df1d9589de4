"""Build and support-lifecycle checks (family "lifecycle", ids LC-NNN): release names, end of
general support, version skew, known bad builds. docs/methodology.md#build-lifecycle."""

from reporter.checks.base import Family

FAMILY = Family(id="lifecycle", title="Builds and support lifecycle", order=90)
