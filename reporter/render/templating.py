"""The Jinja2 environment every HTML-based format (HTML, PDF, PDF/A, email) renders with.

Templates live in the top-level ``templates/`` directory of the source tree and are
installed as the package ``reporter.templates`` (see ``pyproject.toml``); they are found
through ``importlib.resources``. Autoescaping is always on.
"""

from __future__ import annotations

import functools
import logging
from datetime import UTC, datetime
from typing import Any

from jinja2 import BytecodeCache, Environment, FileSystemBytecodeCache, PackageLoader, StrictUndefined, select_autoescape
from jinja2.bccache import Bucket
from markupsafe import Markup, escape

from reporter.core import states
from reporter.render.cells import format_datetime, is_numeric, scalar_text, text_cell
from reporter.render.evidence import flat
from reporter.render.licensing_view import licensing_lines
from reporter.render.print_columns import evidence_colgroup, print_colgroup
from reporter.render.sheet_text import sheet_title
from reporter.render.textsafe import NAME_LIMIT, balanced, names_isolated, shorten, text_limit
from reporter.render.view import evidence_items

EVIDENCE_LIMIT = 400  # characters of one evidence value in HTML/PDF (the full value: XLSX, findings.json)

log = logging.getLogger(__name__)


class _QuietBytecodeCache(FileSystemBytecodeCache):
    """Jinja's own on-disk cache of compiled templates (keyed by the template's name and the
    checksum of its source, so an upgraded template is compiled again), in the directory Jinja
    makes for this user and checks to be this user's alone (mode 0700). A cache it cannot read
    or write is only a slower report: never a failed one."""

    def load_bytecode(self, bucket: Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except Exception as exc:  # unreadable, truncated (pickle, marshal), from another version: compile
            log.debug("template cache entry not used: %s", exc)
            bucket.reset()

    def dump_bytecode(self, bucket: Bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError as exc:  # read-only or full file system
            log.debug("template cache not written: %s", exc)


def _bytecode_cache() -> BytecodeCache | None:
    try:
        return _QuietBytecodeCache()
    except (OSError, RuntimeError) as exc:  # no temporary directory that is safely this user's
        log.debug("templates are compiled without a cache: %s", exc)
        return None


@functools.lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("reporter.templates", "."),
        # Every template is escaped, whatever its extension (.j2, .svg.j2, email ...).
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.do"],
        # Compiling the report templates takes ~0.5 s of CPU; loading them compiled, ~0.01 s.
        bytecode_cache=_bytecode_cache(),
    )
    env.filters.update(
        dt=format_datetime,
        num=format_number,
        gb=format_gb,
        evidence=format_evidence_value,
        plural=states.counted,
        cell=format_cell,
        w3c=format_w3c,
        sheet_title=sheet_title,  # "vram_pools" -> "vRAM Pools", the XLSX tab a note points to
        name=format_name,
        message=format_message,
        isolated=format_isolated,
    )
    env.tests["numeric"] = is_numeric
    env.globals["evidence_items"] = evidence_items
    env.globals["licensing_lines"] = licensing_lines
    env.globals["print_colgroup"] = print_colgroup
    env.globals["evidence_colgroup"] = evidence_colgroup
    return env


def precompile() -> None:
    """Load every template of the package now, compiled (from the cache when it has them): the
    HTML renderers' ``prepare``. Jinja would otherwise compile an included template the first
    time a render reaches it, in the middle of the report."""
    env = environment()
    for name in env.list_templates(filter_func=_is_template):
        env.get_template(name)


def _is_template(name: str) -> bool:
    return not name.startswith("__") and "/" not in name  # not the package's __init__.py or __pycache__/


def _bdi(text: str, title: str | None = None) -> Markup:
    """A user-controlled string isolated from the text around it (``<bdi>``, bidi controls balanced)."""
    attr = Markup(' title="{}"').format(title) if title else Markup("")
    return Markup("<bdi{}>{}</bdi>").format(attr, balanced(text))


def format_name(value: Any, limit: int = NAME_LIMIT) -> Markup:
    """An object name in HTML/PDF: isolated, at most ``limit`` characters, the full name as a tooltip."""
    text = "" if value is None else str(value)
    short = shorten(text, limit)
    return _bdi(short, title=text if short != text else None)


def _names_of(f: Any) -> list[str]:
    """The names in a finding's texts; a sentence in its evidence (a reason, a fix) is not one, so
    a message that quotes it prints it whole."""
    return [f.object_name, f.vcenter] + [v for v in f.evidence.values()
                                         if isinstance(v, str) and text_limit(v) == NAME_LIMIT]


def format_message(f: Any) -> Markup:
    """A finding's message with the names in it (object, vCenter, text evidence) isolated and shortened."""
    return format_isolated(f.message, f, NAME_LIMIT)


def format_isolated(text: str, f: Any, limit: int | None = None) -> Markup:
    """Any text about finding ``f`` (its fix steps) with ``f``'s names isolated; ``limit`` None keeps
    them whole (a PowerCLI/govc command must name the VM exactly)."""
    return Markup(names_isolated(text, _names_of(f), limit=limit, wrap=lambda n: str(_bdi(n)),
                                 escape=lambda s: str(escape(s))))


def render_template(name: str, **context: Any) -> str:
    return environment().get_template(name).render(**context)


def format_number(value: Any, digits: int = 0) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        return f"{value:,.{digits}f}" if digits or isinstance(value, float) else f"{value:,}"
    return str(value)


def format_gb(value: float | int | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value:,.{digits}f} GB"


def format_w3c(value: datetime) -> str:
    """The W3C date-time form PDF metadata wants (``2026-11-23T06:00:00Z``)."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def format_cell(value: Any) -> str | Markup:
    """A table cell: text isolated, a name at most ``NAME_LIMIT`` characters (full text as a tooltip,
    and in XLSX/CSV), a sentence whole (``textsafe.text_limit``); anything else as
    ``cells.scalar_text`` prints it."""
    if isinstance(value, str):
        value = text_cell(value)
        return format_name(value, text_limit(value))
    return scalar_text(value)


def format_evidence_value(value: Any) -> Markup:
    """An evidence value in HTML/PDF: short text with labels (never JSON), isolated, at most
    ``EVIDENCE_LIMIT`` characters."""
    return _bdi(shorten(evidence_text(value), EVIDENCE_LIMIT))


def evidence_text(value: Any) -> str:
    """Evidence values as short text, structures as 'label: value' (never JSON)."""
    return flat(value, "")
