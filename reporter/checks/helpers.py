"""Helpers every check family may use: KB references and command-line quoting for the
remediation text (PowerShell for PowerCLI, POSIX shell for govc)."""

from __future__ import annotations

import shlex

from reporter.checks.base import Reference


def kb(number: str, title: str) -> Reference:
    """A VMware KB by the number admins search for, linked to its Broadcom page."""
    return Reference(f"KB{number}", title, f"https://knowledge.broadcom.com/external/article?legacyId={number}")


def counted(n: int, singular: str, plural: str | None = None) -> str:
    """"1 snapshot", "3 snapshots": the count with its noun, never "snapshot(s)"."""
    return f"{n:,} {singular if n == 1 else plural or singular + 's'}"


def ps_quote(value: str) -> str:
    """A PowerShell single-quoted string literal (``'`` doubled)."""
    return "'" + value.replace("'", "''") + "'"


def sh_quote(value: str) -> str:
    """A POSIX shell word (for govc command lines)."""
    return shlex.quote(value)
