"""``vcreport``: a thin click CLI over ``reporter.api``.

Every user mistake or environment failure becomes one line on stderr and a
non-zero exit code (2 = config/usage, 3 = partial collection, 1 = other).
"""

from __future__ import annotations

import functools
import json
import logging
import sys
from pathlib import Path
from typing import Any, Callable

import click

from . import __version__, api
from .errors import CollectionIncomplete, ReporterError


def _fail(message: str, code: int) -> None:
    click.echo(f"vcreport: error: {message}", err=True)
    sys.exit(code)


def handle_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ReporterError as exc:
            _fail(str(exc), exc.exit_code)
        except KeyboardInterrupt:
            _fail("interrupted", 130)
        except OSError as exc:  # disk full, permission denied ... : say what, not where in the code
            _fail(f"{exc.filename or ''}{': ' if exc.filename else ''}{exc.strerror or exc}", 1)

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="vcreport")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
def main(verbose: int) -> None:
    """Reports on vCenter licensing, snapshots/CBT, CPU/MMU mode and storage I/O settings."""
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


config_option = click.option(
    "--config", "config_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
    help="TOML configuration file.",
)
insecure_option = click.option(
    "--insecure", is_flag=True, help="Do not verify vCenter TLS certificates (explicit opt-out; default verifies).",
)
keys_option = click.option(
    "--show-license-keys", is_flag=True, default=None, help="Show full license keys instead of masked ones.",
)
formats_option = click.option(
    "--format", "formats", default=None,
    help="Comma-separated formats: html,pdf,pdfa,xlsx,csv,json (default from config, else html,json).",
)


@main.group("config")
def config_group() -> None:
    """Configuration commands."""


@config_group.command("check")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@handle_errors
def config_check(file: Path) -> None:
    """Validate FILE without connecting to anything."""
    cfg = api.load_config(file)
    click.echo(f"{file}: OK ({len(cfg.vcenter)} vCenter(s), output dir {cfg.output.dir})")


@main.command("checks")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable list.")
@handle_errors
def checks_cmd(as_json: bool) -> None:
    """List the registered checks."""
    items = api.list_checks()
    if as_json:
        click.echo(json.dumps(items, indent=2))
        return
    for c in items:
        refs = ", ".join(r for r in c["references"] if r)
        click.echo(f"{c['id']:<9} {c['severity']:<8} {c['family']:<10} {c['title']}" + (f"  [{refs}]" if refs else ""))


@main.command("collect")
@config_option
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Snapshot file to write (.json or .json.gz).")
@insecure_option
@handle_errors
def collect_cmd(config_path: Path, out: Path, insecure: bool) -> None:
    """Collect from the configured vCenters into a snapshot file."""
    cfg = api.load_config(config_path)
    snap = api.collect(cfg, insecure=insecure)
    api.save_snapshot(snap, out)
    _record_history(cfg, snap)
    click.echo(f"wrote {out}: {len(snap.vcenters)} vCenter(s), {snap.vm_count()} VMs")
    if snap.collection_errors:
        for err in snap.collection_errors:
            click.echo(f"vcreport: warning: {err.vcenter}: {err.stage}: {err.message}", err=True)
        raise CollectionIncomplete(f"collection incomplete: {len(snap.collection_errors)} error(s); snapshot written to {out}")


def _record_history(cfg: Any, snap: Any) -> None:
    if cfg.history is None:
        return
    try:
        from .history import record_snapshot
    except ImportError:
        return
    record_snapshot(cfg, snap)


@main.command("report")
@click.argument("snapshot", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Config for thresholds, waivers and history (optional).")
@formats_option
@keys_option
@handle_errors
def report_cmd(snapshot: Path, out: Path, config_path: Path | None, formats: str | None, show_license_keys: bool | None) -> None:
    """Run the checks on SNAPSHOT and write reports into --out."""
    cfg = api.load_config(config_path) if config_path else None
    res = api.report(snapshot, out, formats=formats, cfg=cfg, show_license_keys=show_license_keys)
    _print_summary(res)


@main.command("demo")
@click.option("--out", "out", default="demo-report", show_default=True, type=click.Path(file_okay=False, path_type=Path))
@formats_option
@handle_errors
def demo_cmd(out: Path, formats: str | None) -> None:
    """Report on the bundled sample snapshot (no vCenter needed)."""
    res = api.demo(out, formats=formats)
    _print_summary(res)


def _print_summary(res: api.ReportOutput) -> None:
    counts = res.results.counts()
    checked = sum(r.checked for r in res.results.checks)
    sev = ", ".join(f"{n} {s}" for s, n in reversed(list(counts.items())) if n)
    click.echo(f"{len(res.results.checks)} checks, {checked} objects checked: {sev or 'no open findings'}")
    for f in res.files:
        click.echo(f"  {f}")


if __name__ == "__main__":  # pragma: no cover
    main()
