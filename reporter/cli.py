"""``vcreport``: a thin click CLI over ``reporter.api``.

Every user mistake or environment failure becomes one line on stderr and a
non-zero exit code (2 = config/usage, 3 = partial collection, 1 = other).
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import json
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click

from reporter import __version__, api
from reporter.config import Config
from reporter.core.detail import Detail
from reporter.core.formats import DEFAULT_FORMATS, DEMO_FORMATS, Format
from reporter.core.gcpolicy import paused_gc
from reporter.errors import (
    CollectionIncomplete,
    ConfigError,
    HistoryError,
    HistoryUnavailable,
    ReporterError,
    Terminated,
)
from reporter.render.textsafe import isolate


def _fail(message: str, code: int) -> None:
    click.echo(f"vcreport: error: {message}", err=True)
    sys.exit(code)


def handle_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            with _signals_raise():
                return fn(*args, **kwargs)
        except ReporterError as exc:
            _fail(str(exc), exc.exit_code)
        except Terminated as exc:
            _fail("; ".join(["terminated", *map(str, exc.args)]), 128 + signal.SIGTERM)
        except KeyboardInterrupt as exc:
            _fail("; ".join(["interrupted", *map(str, exc.args)]), 130)
        except BrokenPipeError:  # "vcreport checks | head -1": the reader has gone, nothing to say (exit 1, as click)
            sys.exit(1)
        except OSError as exc:  # disk full, permission denied ... : say what, not where in the code
            _fail(f"{exc.filename or ''}{': ' if exc.filename else ''}{exc.strerror or exc}", 1)
        except click.exceptions.Exit:
            raise
        except Exception as exc:  # a bug, not a user mistake: still one line unless -vv asked for detail
            if logging.getLogger().isEnabledFor(logging.DEBUG):
                logging.getLogger("reporter").exception("internal error")
            _fail(f"internal error: {type(exc).__name__}: {exc} (run with -vv for a traceback)", 1)

    return wrapper


REPEAT_IGNORED_S = 2.0


_interrupted_at: list[float] = []  # when the first Ctrl-C / SIGTERM came (shared by the handlers below)


def _raise_once(signum: int, _frame: Any) -> None:
    """Ctrl-C raises KeyboardInterrupt and SIGTERM ``Terminated``, once: the clean-up then runs
    (temporary files removed, the open transaction rolled back) and the CLI exits 130 / 143 with
    one line. SIGTERM's default action killed the process where it stood (no line; a ``.*.tmp``
    left when it came during a write), and a second Ctrl-C (``timeout -s INT`` signals the process,
    then its group) cut the clean-up of the first short, sometimes with a traceback. A repeat
    within ``REPEAT_IGNORED_S`` is now ignored; a later one (someone who does not want to wait
    for the clean-up) ends the process at once. ``serve`` installs its own handlers."""
    if not _interrupted_at:
        _interrupted_at.append(time.monotonic())
        raise Terminated if signum == signal.SIGTERM else KeyboardInterrupt
    if time.monotonic() - _interrupted_at[0] > REPEAT_IGNORED_S:
        _exit_at_once("terminated" if signum == signal.SIGTERM else "interrupted", 128 + signum)


def _install_signal_handlers() -> dict[signal.Signals, Any]:
    """``_raise_once`` for SIGINT and SIGTERM, but a signal ignored from the start stays ignored
    (``nohup``, a background job of a script: Python leaves SIGINT ignored there too)."""
    previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    for s, handler in previous.items():
        if handler != signal.SIG_IGN:
            signal.signal(s, _raise_once)
    return previous


@contextlib.contextmanager
def _signals_raise() -> Iterator[None]:
    """``_raise_once`` for the command (the handlers there before come back after it: ``main``
    is callable from tests and other programs; ``entry`` keeps them to the end of the process)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _interrupted_at.clear()
    previous = _install_signal_handlers()
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def _exit_at_once(message: str, code: int) -> None:
    with contextlib.suppress(OSError):
        os.write(2, f"vcreport: error: {message}\n".encode())
    os._exit(code)


class _OneLineErrors(click.Group):
    """click's own errors (a directory given for a file, an unreadable file, a missing option,
    an unknown command) in one line, as every other error: "vcreport: error: … (see … --help)"
    instead of the usage text, a hint line, a blank line and "Error: …"."""

    def main(self, args: Any = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        prog_name = prog_name or "vcreport"  # "python -m reporter.cli" is vcreport too, in its messages
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        try:
            rv = super().main(args, prog_name, complete_var, False, **extra)
        except click.exceptions.NoArgsIsHelpError as exc:  # bare "vcreport": the help is the answer
            exc.show()
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            message = " ".join(exc.format_message().split())
            ctx = getattr(exc, "ctx", None)
            hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
            _fail(f"{message}{hint}", exc.exit_code)
        except click.Abort:  # Ctrl-C while click reads the arguments or a prompt
            _fail("interrupted", 130)
        # Not standalone, click returns the exit code of a ctx.exit (--help, --version) or the
        # command's own return value (None): exit as standalone click would.
        sys.exit(rv if type(rv) is int else 0)


@click.group(cls=_OneLineErrors, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="vcreport")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
def main(verbose: int) -> None:
    """Reports on vCenter licensing, snapshots/CBT, CPU/MMU mode and storage I/O settings."""
    level = logging.WARNING - 10 * min(verbose, 2)
    handler = logging.StreamHandler()
    # At the default verbosity a warning reads like the command's other lines ("vcreport: warning: …");
    # -v / -vv (and serve, a service) log with the time and the logger's name.
    handler.setFormatter(_LONG_LOG if verbose else _ShortLog())
    logging.basicConfig(level=level, handlers=[handler])


_LONG_LOG = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")


class _ShortLog(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        first = (record.getMessage().splitlines() or [""])[0]  # one line, as every error line
        return f"vcreport: {record.levelname.lower()}: {first}"


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
def formats_option(default_text: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return click.option(
        "--format", "formats", default=None,
        help=f"Comma-separated formats: {','.join(Format)} ({default_text}).",
    )


REPORT_FORMATS_DEFAULT = f"default from config, else {','.join(DEFAULT_FORMATS)}"
DEMO_FORMATS_DEFAULT = f"default {','.join(DEMO_FORMATS)}"

detail_option = click.option(
    "--detail", "detail", default=None, type=click.Choice(["summary", "standard", "full"]),
    help="summary: the executive page and the finding groups; standard: groups with up to 50 objects; "
         "full: every object (default from [output] detail, else standard).",
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
    # Automatic GC stays off until the snapshot is gone (reporter.core.gcpolicy): the collector
    # frees its pages' cycles itself, and re-enabling it while the snapshot is alive starts a full
    # collection that only scans the snapshot (~0.5 s of CPU at 10,000 VMs).
    with paused_gc():
        _collect_to(cfg, out, insecure)


def _collect_to(cfg: Config, out: Path, insecure: bool) -> None:
    snap = api.collect(cfg, insecure=insecure)
    api.save_snapshot(snap, out)
    try:
        api.record_history(cfg, snap)
    except HistoryError as exc:  # the snapshot is there: say so, so that nobody collects it again
        raise HistoryError(f"{exc}; the snapshot was written to {out}, but not recorded in the history") from None
    except KeyboardInterrupt as exc:  # Ctrl-C or SIGTERM while recording: the same news
        raise type(exc)(f"the snapshot was written to {out}, but not recorded in the history") from None
    click.echo(f"wrote {out}: {len(snap.vcenters)} vCenter(s), {snap.vm_count()} VMs")
    for vc in snap.vcenters.values():
        for note in vc.collection_notes:
            click.echo(f"vcreport: note: {vc.name}: {isolate(note)}", err=True)
    if snap.collection_errors:
        for err in snap.collection_errors:
            click.echo(f"vcreport: warning: {err.vcenter}: {err.stage}: {isolate(err.message)}", err=True)
        raise CollectionIncomplete(f"collection incomplete: {len(snap.collection_errors)} error(s); snapshot written to {out}")


@main.command("report")
@click.argument("snapshots", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Config for thresholds, waivers and history (optional).")
@formats_option(REPORT_FORMATS_DEFAULT)
@keys_option
@detail_option
@handle_errors
def report_cmd(snapshots: tuple[Path, ...], out: Path, config_path: Path | None, formats: str | None,
               show_license_keys: bool | None, detail: str | None) -> None:
    """Run the checks on SNAPSHOTS and write one report into --out.

    Several snapshot files (or a directory of them, or a quoted glob pattern), e.g. one per
    vCenter from separate collection jobs, are merged into one report.
    """
    cfg = api.load_config(config_path) if config_path else None
    res = api.report(list(snapshots), out, formats=formats, cfg=cfg, show_license_keys=show_license_keys, detail=detail)
    _print_summary(res)
    if res.context.history_error:  # as `run`: the reports are there, without the 12-month figures
        raise HistoryUnavailable(f"history not available ({res.context.history_error}); reports written without "
                                 "the 12-month figures")


@main.command("demo")
@click.option("--out", "out", default="demo-report", show_default=True, type=click.Path(file_okay=False, path_type=Path))
@formats_option(DEMO_FORMATS_DEFAULT)
@detail_option
@handle_errors
def demo_cmd(out: Path, formats: str | None, detail: str | None) -> None:
    """Report on the bundled sample snapshot (no vCenter needed)."""
    res = api.demo(out, formats=formats, detail=detail)
    _print_summary(res)


def _print_summary(res: api.ReportOutput) -> None:
    counts = res.results.counts()
    snap = res.context.snapshot
    vcs = snap.vcenters.values()
    waived = sum(1 for f in res.results.findings if f.status.value == "waived")
    sev = ", ".join(f"{n} {s}" for s, n in reversed(list(counts.items())) if n)
    click.echo(f"{len(snap.vcenters)} vCenter(s), {snap.vm_count()} VMs, {sum(len(v.hosts) for v in vcs)} hosts, "
               f"{sum(len(v.datastores) for v in vcs)} datastores; {len(res.results.checks)} checks: "
               f"{sev + ' open' if sev else 'no open findings'}" + (f", {waived} waived" if waived else ""))
    if res.context.delta is not None:
        click.echo(f"since the last run: {res.context.delta.counts_text}")
    shown: set[Path] = set()
    for f in res.files:
        if f.parent.name == "csv":  # one line for the per-sheet CSV directory, not one per file
            if f.parent not in shown:
                shown.add(f.parent)
                n = sum(1 for x in res.files if x.parent == f.parent)
                click.echo(f"  {f.parent}/ ({n} CSV files)")
            continue
        click.echo(f"  {f}")


# -- licensing: plan, vram sample, history ---------------------------------------------------------

@main.command("plan")
# No dir_okay=False: the loader says "is a directory" in one line (click would print its usage).
@click.argument("snapshot", type=click.Path(path_type=Path))
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Config for the vRAM table, Linked Mode groups and history (optional).")
@click.option("--scenario", "scenario_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Scenario TOML file (a saved plan); options below add to it.")
@click.option("--pool", default=None,
              help="Pool to plan for: its id (e.g. vc01/enterprise_plus, the report's Pool ID column) or its name "
                   "(e.g. 'vc01 · vSphere Enterprise Plus', any case).")
@click.option("--add-vms", type=click.IntRange(min=1), default=None, help="Add N powered-on VMs ...")
@click.option("--vm-memory-gb", type=click.FloatRange(min=0, min_open=True), default=None, help="... of G GB each.")
@click.option("--power-off", "power_off", multiple=True, metavar="PATTERN",
              help="Power off VMs whose name matches PATTERN (shell wildcards; repeatable).")
@click.option("--edition", default=None, help="Switch the pool to this vSphere 5 edition (e.g. enterprise_plus).")
@click.option("--add-cpu-licenses", type=click.IntRange(min=1), default=None, help="Add N CPU licenses to the pool.")
@click.option("--per-core", is_flag=True, help="Show the pool under per-core subscription licensing.")
@click.option("--vram-table", type=click.Choice(["aug2011", "jul2011"]), default=None,
              help="vRAM entitlement table for the scenario (default from config: aug2011).")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the plan as FILE.html or FILE.xlsx.")
@click.option("--json", "as_json", is_flag=True,
              help="Print the pool verdicts (current and scenario) as JSON, as in summary.json, instead of the table.")
@keys_option
@handle_errors
def plan_cmd(snapshot: Path, config_path: Path | None, scenario_path: Path | None, pool: str | None,
             add_vms: int | None, vm_memory_gb: float | None, power_off: tuple[str, ...], edition: str | None,
             add_cpu_licenses: int | None, per_core: bool, vram_table: str | None, out: Path | None,
             as_json: bool, show_license_keys: bool | None) -> None:
    """What-if license planning on SNAPSHOT: prints current vs scenario per vRAM pool."""
    if (add_vms is None) != (vm_memory_gb is None):
        raise ConfigError("--add-vms and --vm-memory-gb go together")
    if out is not None and out.suffix.lower() not in (".html", ".htm", ".xlsx"):
        raise ConfigError(f"{out}: plan output must end in .html or .xlsx")
    cfg = api.load_config(config_path) if config_path else None
    vms = [{"count": add_vms, "memory_gb": vm_memory_gb}] if add_vms is not None else []
    result = api.plan(snapshot, cfg, scenario=scenario_path, pool=pool, add_vms=vms, power_off=list(power_off),
                      edition=edition, add_cpu_licenses=add_cpu_licenses or 0, per_core=per_core,
                      vram_table=vram_table)
    show = bool(show_license_keys) if show_license_keys is not None else bool(cfg and cfg.output.show_license_keys)
    if as_json:
        click.echo(api.plan_json(result), nl=False)
    else:
        click.echo(api.plan_text(result, show_license_keys=show), nl=False)
    if out is not None:
        # With --json, stdout stays pure JSON.
        click.echo(f"wrote {api.write_plan(result, out, show_license_keys=show)}", err=as_json)


@main.group("vram")
def vram_group() -> None:
    """vRAM sampling."""


@vram_group.command("sample")
@config_option
@insecure_option
@click.option("--full", is_flag=True, help="Read every VM again instead of only the changes since the last sample.")
@handle_errors
def vram_sample_cmd(config_path: Path, insecure: bool, full: bool) -> None:
    """Take a light vRAM sample from every vCenter and record it in the history."""
    import time

    cfg = api.load_config(config_path)
    if cfg.history is None:
        raise ConfigError(f"{config_path}: vram sample records into the history: add a [history] section")
    t0 = time.perf_counter()
    snap = api.sample_vram(cfg, insecure=insecure, incremental=not full)
    t1 = time.perf_counter()
    added = api.record_history(cfg, snap, source="sample")
    click.echo(f"sampled {len(snap.vcenters)} vCenter(s), {snap.vm_count()} VMs in {t1 - t0:.2f} s; "
               f"recorded {added} pool sample(s)")
    for err in snap.collection_errors:
        click.echo(f"vcreport: warning: {err.vcenter}: {err.stage}: {err.message}", err=True)


@main.group("history")
def history_group() -> None:
    """vRAM history: import past samples, export all samples."""


def _history_cfg(config_path: Path) -> Config:
    cfg = api.load_config(config_path)
    if cfg.history is None:
        raise ConfigError(f"{config_path}: no [history] section (set [history] url)")
    return cfg


@history_group.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@config_option
@handle_errors
def history_import_cmd(file: Path, config_path: Path) -> None:
    """Load samples from FILE.csv (columns: date,pool,used_gb,entitled_gb)."""
    res = api.history_import(_history_cfg(config_path), file)
    click.echo(f"imported {res.inserted} of {res.rows} row(s) from {file} ({res.skipped} already present) "
               f"for {len(res.pools)} pool(s)")


@history_group.command("export")
@config_option
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="CSV file to write (default: standard output).")
@handle_errors
def history_export_cmd(config_path: Path, out: Path | None) -> None:
    """Write every stored sample as CSV."""
    text, n = api.history_export(_history_cfg(config_path), out)
    if out is None:
        click.echo(text, nl=False)
    else:
        click.echo(f"wrote {n} sample(s) to {out}")


@main.command("verify")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--trust", "trust", multiple=True, type=click.Path(dir_okay=False, path_type=Path),
              help="CA certificate (PEM/DER) the signer must chain to (repeatable; adds to [audit] trust_files).")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Config whose [audit] trust_files are trusted roots (optional).")
@click.option("--snapshot", "snapshot", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also check this snapshot file against the source-snapshot SHA-256 printed in FILE.")
@click.option("--allow-unsigned", is_flag=True, help="Accept an unsigned file: check only its embedded evidence.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable result on standard output.")
@handle_errors
def verify_cmd(file: Path, trust: tuple[Path, ...], config_path: Path | None, snapshot: Path | None,
               allow_unsigned: bool, as_json: bool) -> None:
    """Check an audit-evidence PDF: signature, chain, timestamp, attachments (exit 4 when invalid)."""
    if logging.getLogger().getEffectiveLevel() >= logging.WARNING:
        # pypdf and pyHanko log what they tolerate in a file at WARNING; the checks report what matters.
        for name in ("pypdf", "pyhanko", "pyhanko_certvalidator"):
            logging.getLogger(name).setLevel(logging.CRITICAL)
    cfg = api.load_config(config_path) if config_path else None
    report = api.verify(file, snapshot, trust=trust, cfg=cfg, allow_unsigned=allow_unsigned)
    if as_json:
        click.echo(json.dumps(report.to_json(), indent=2))
    else:
        for line in report.lines():
            click.echo(line)
        click.echo(report.verdict())
    if not report.valid:
        click.echo(f"vcreport: verify failed: {report.failure_line()}", err=True)
        sys.exit(4)


@main.command("run")
@config_option
@insecure_option
@detail_option
@click.option("--no-send", "no_send", is_flag=True,
              help="Do not send the email: write it as report.eml in [output] dir (needs [email]).")
@handle_errors
def run_cmd(config_path: Path, insecure: bool, detail: str | None, no_send: bool) -> None:
    """Collect, record history, write the reports into [output] dir and email them (exit 3 if partial)."""
    cfg = api.load_config(config_path)
    if detail is not None:
        cfg = cfg.model_copy(update={"output": cfg.output.model_copy(update={"detail": Detail(detail)})})
    outcome = api.run(cfg, insecure=insecure, send=not no_send)
    click.echo(outcome.summary_line())
    if outcome.changes is not None:
        click.echo(f"since the last run: {outcome.changes}")
    for f in outcome.files:
        click.echo(f"  {f}")
    if outcome.partial:
        raise CollectionIncomplete(f"collection incomplete: {outcome.collection_errors} error(s); reports written anyway")
    if outcome.history_error:
        raise HistoryUnavailable(f"history not available ({outcome.history_error}); reports written"
                                 + (" and emailed" if outcome.emailed else "") + " without the 12-month figures")


@main.command("serve")
@config_option
@handle_errors
def serve_cmd(config_path: Path) -> None:
    """Run forever: weekly report, vRAM samples, daily maintenance ([schedule]); SIGTERM stops cleanly."""
    cfg = api.load_config(config_path)
    if logging.getLogger().getEffectiveLevel() > logging.INFO:
        logging.getLogger("reporter").setLevel(logging.INFO)  # a service logs each run
    for handler in logging.getLogger().handlers:
        handler.setFormatter(_LONG_LOG)  # a service's log: with the time of each line
    api.serve(cfg)


def entry() -> None:
    """The ``vcreport`` command: ``main``, then an exit that skips the interpreter's teardown.

    A run ends holding millions of small objects (the snapshot, the findings, the report
    context); freeing them one by one at exit took 0.3 s after a collect and 1.4 s after a
    ``run`` of 10,000 VMs, time an admin waits for nothing. So the process ends the way the
    interpreter would, minus the freeing: its non-daemon threads are joined, the ``atexit``
    handlers run (log handlers flush, forked children are reaped), stdout and stderr are
    flushed, then ``os._exit`` with the exit code. ``main`` itself stays callable (tests, other
    programs) with the normal exit."""
    _install_signal_handlers()  # to the end: a repeated Ctrl-C while the process exits is ignored too
    try:
        main()  # click ends by raising SystemExit, with the exit code
        code: object = 0
    except SystemExit as exc:
        code = exc.code
    if code is not None and not isinstance(code, int):  # sys.exit("message"): printed, exit 1
        print(code, file=sys.stderr)
        code = 1
    _exit_now(code or 0)


# After Ctrl-C or SIGTERM, how long the exit waits for the command's other threads (a read or a
# logout in flight) before it ends without them: an interrupted command never hangs on its way out.
INTERRUPTED_JOIN_S = 3.0


def _exit_now(code: int) -> None:
    current = threading.current_thread()
    deadline = time.monotonic() + INTERRUPTED_JOIN_S if _interrupted_at else None
    for thread in threading.enumerate():
        if thread is not current and not thread.daemon:
            thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (vcreport … | head): nothing more to say
            pass
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    entry()
