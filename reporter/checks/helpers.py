"""Helpers every check family may use: KB references and command-line quoting for the
remediation text (PowerShell for PowerCLI, POSIX shell for govc)."""

from __future__ import annotations

import shlex

from reporter.checks.base import Reference
from reporter.core.states import counted as counted  # the checks' messages count as the reports do


def kb(number: str, title: str) -> Reference:
    """A VMware KB by the number admins search for, linked to its Broadcom page."""
    return Reference(f"KB{number}", title, f"https://knowledge.broadcom.com/external/article?legacyId={number}")


def ps_quote(value: str) -> str:
    """A PowerShell single-quoted string literal (``'`` doubled)."""
    return "'" + value.replace("'", "''") + "'"


def sh_quote(value: str) -> str:
    """A POSIX shell word (for govc command lines)."""
    return shlex.quote(value)
