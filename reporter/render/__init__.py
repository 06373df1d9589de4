"""Output formats: one interface (``base.Renderer``), one plugin module per format.

A renderer takes a ``ReportContext`` (plain data: snapshot, check results, tables, delta
against the previous run) and writes files into a directory. License keys are masked in the
context before any renderer sees it, unless the user asked to show them.
"""

from reporter.render.base import (
    Delta,
    Renderer,
    ReportContext,
    available_formats,
    get_renderer,
    register,
    sha256_file,
)

__all__ = ["Delta", "Renderer", "ReportContext", "available_formats", "get_renderer", "register", "sha256_file"]
