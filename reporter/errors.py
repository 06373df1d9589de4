"""Typed errors. The CLI turns each into one line on stderr and its exit code."""

from __future__ import annotations


class Terminated(KeyboardInterrupt):
    """SIGTERM (``kill``, ``timeout``, a container stop) in a command other than ``serve``: raised in
    the main thread like Ctrl-C's KeyboardInterrupt, so that the same clean-up runs (temporary files
    removed, the transaction rolled back); the CLI then says "terminated" and exits 143 (128 + 15)."""


class ReporterError(Exception):
    """Base for errors a user can act on (never shown with a traceback)."""

    exit_code = 1


class ConfigError(ReporterError):
    exit_code = 2


class SnapshotFormatError(ReporterError):
    exit_code = 2


class UsageError(ReporterError):
    """A command was given something it cannot use (an unknown format, a directory for a file)."""

    exit_code = 2


class ConnectionFailed(ReporterError):
    """A vCenter could not be reached, refused the login, or failed TLS."""

    exit_code = 1


class CollectionIncomplete(ReporterError):
    """Some vCenters or object types could not be read; the snapshot was still written."""

    exit_code = 3


class HistoryError(ReporterError):
    exit_code = 1


class HistoryUnavailable(ReporterError):
    """The run's reports and email went out, but the history could not be read or written."""

    exit_code = 3


class RenderError(ReporterError):
    exit_code = 1


class DeliveryError(ReporterError):
    exit_code = 1


class VerificationFailed(ReporterError):
    exit_code = 4


class VerificationInputError(ReporterError):
    """``vcreport verify`` was given something it cannot check (no file, not a PDF, bad --trust)."""

    exit_code = 2
