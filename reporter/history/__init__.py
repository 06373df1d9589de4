"""vRAM history: samples per pool in a database, daily high-water and 12-month averages.

Public functions (the CLI and ``reporter.api`` call these):

- ``record_snapshot(cfg, snapshot, source="collect")`` — after every collect/run and every
  ``vcreport vram sample``: one row per vRAM pool (see ``reporter.domain.licensing.vram``) at the
  snapshot's collection time. Recording the same snapshot twice stores it once.
- ``load_for_report(cfg, snapshot) -> VramHistory`` — what checks (``ctx.history``) and
  renderers (``ReportContext.history``) receive.
- ``import_csv(cfg, path)`` / ``export_csv(cfg, out=None)`` — seed or back up the samples.

Shape of :class:`VramHistory` (plain data; no database handle):

``as_of``
    ``datetime.date``: the report's UTC day (the snapshot's ``collected_at``), never the clock.
``window_days``
    365.
``daily``
    ``pandas.DataFrame``, one row per pool and UTC day inside the 365-day window ending on
    ``as_of``, sorted by ``pool_id``, ``day``; columns:
    ``pool_id`` (str, e.g. ``"vc01/enterprise_plus"``), ``day`` (naive ``datetime64`` at 00:00
    UTC), ``high_water_gb`` (largest capped use that day), ``high_water_raw_gb`` (uncapped),
    ``entitled_gb`` (float, NaN where no vRAM entitlement applies), ``samples`` (int).
    Days without samples have no row (gaps stay gaps; a chart should not join across them).
``pools``
    ``dict[pool_id, PoolHistory]``: ``days_available``, ``first_day``, ``last_day``,
    ``avg_12m_gb``, ``today_high_water_gb``, ``peak_high_water_gb``, ``missing_days``,
    ``entitled_gb``, ``full_year``.
``source``
    the database URL without its password.

A chart "vRAM use vs entitlement over 12 months" plots, per pool, ``high_water_gb`` against
``day`` with ``entitled_gb`` as a step line and ``pools[p].avg_12m_gb`` as a horizontal line.
See ``derive.py`` for the day/gap/DST rules.
"""

from __future__ import annotations

import csv
import io
import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from reporter.config import Config
from reporter.core.fsutil import atomic_write_text
from reporter.core.model import Snapshot
from reporter.errors import HistoryError
from reporter.history.derive import WINDOW_DAYS, PoolHistory, daily_high_water, empty_samples, pool_stats
from reporter.history.store import Store, first_line, missing_sqlite_file, open_store, safe_url, utc_naive, vram_samples

log = logging.getLogger(__name__)

__all__ = [
    "HISTORY_FAILURES",
    "ImportResult",
    "PoolHistory",
    "VramHistory",
    "export_csv",
    "history_failure",
    "history_from_samples",
    "import_csv",
    "load_for_report",
    "open_history",
    "record_snapshot",
    "samples_for_snapshot",
]

DEFAULT_URL = "sqlite:///vcreport-history.db"


@dataclass(frozen=True, eq=False)
class VramHistory:
    as_of: date
    window_days: int
    daily: pd.DataFrame
    pools: dict[str, PoolHistory]
    source: str = ""

    def pool(self, pool_id: str) -> PoolHistory | None:
        return self.pools.get(pool_id)

    def series(self, pool_id: str) -> pd.DataFrame:
        return self.daily[self.daily["pool_id"] == pool_id].reset_index(drop=True)


def _url(cfg: Config) -> str:
    hist = getattr(cfg, "history", None)
    return hist.url if hist is not None else DEFAULT_URL


def open_history(cfg: Config, *, readonly: bool = False) -> Store:
    """``readonly``: for reading only, a database this process cannot write is opened read-only."""
    return open_store(_url(cfg), readonly=readonly)


def samples_for_snapshot(snapshot: Snapshot, cfg: Config | None = None, source: str = "collect") -> list[dict[str, Any]]:
    """One sample per vRAM pool of ``snapshot`` (pure; what ``record_snapshot`` stores)."""
    from reporter.config.settings import Settings
    from reporter.domain.licensing import analyze

    analysis = analyze(snapshot, Settings.from_config(cfg))
    ts = utc_naive(snapshot.collected_at)
    rows = []
    for p in analysis.pools:
        reported = p.reported.used_gb if p.reported else None
        rows.append({
            "ts": ts, "pool_id": p.id, "vcenter": ",".join(p.vcenters), "edition": p.edition,
            "used_gb_raw": p.used_raw_gb, "used_gb_capped": p.used_gb, "entitled_gb": p.entitled_gb,
            "source": source, "vram_applies": p.vram_applies, "vcenter_reported_gb": reported,
        })
    return rows


def _insert_new(store: Store, rows: list[dict[str, Any]]) -> int:
    """Insert rows whose (pool_id, ts) is not stored yet; returns how many were new.

    Safe with many writers at once (per-vCenter jobs sharing one PostgreSQL): the unique
    (pool_id, ts) index decides and ``ON CONFLICT DO NOTHING`` skips what another writer
    stored. Rows go in (pool_id, ts) order so that two transactions with overlapping batches
    take their row locks in the same order and cannot deadlock.
    """
    if not rows:
        return 0
    rows = sorted(rows, key=lambda r: (r["pool_id"], r["ts"]))
    with store.write() as conn:
        dialect = conn.dialect.name
        if dialect == "postgresql":
            from sqlalchemy.dialects import postgresql

            # Count what this statement inserted: counting the table before and after would
            # also count the rows other writers committed meanwhile.
            stmt = (postgresql.insert(vram_samples).on_conflict_do_nothing(index_elements=["pool_id", "ts"])
                    .returning(vram_samples.c.id))
            return len(conn.execute(stmt, rows).all())
        if dialect == "sqlite":
            from sqlalchemy.dialects import sqlite

            # BEGIN IMMEDIATE holds the database's write lock, so before/after is exact here (and
            # needs no RETURNING, which SQLite before 3.35 lacks).
            before = conn.execute(select(func.count()).select_from(vram_samples)).scalar_one()
            conn.execute(sqlite.insert(vram_samples).on_conflict_do_nothing(index_elements=["pool_id", "ts"]), rows)
            return int(conn.execute(select(func.count()).select_from(vram_samples)).scalar_one() - before)
        added = 0  # pragma: no cover - other databases: one row at a time
        for row in rows:  # pragma: no cover
            try:
                with conn.begin_nested():
                    conn.execute(insert(vram_samples).values(**row))
                added += 1
            except IntegrityError:
                pass
        return added  # pragma: no cover


HISTORY_FAILURES: tuple[type[BaseException], ...] = (HistoryError, SQLAlchemyError, OSError)


def history_failure(cfg: Any, exc: BaseException) -> str:
    """One line for a history database that could not be opened, read or written (no password)."""
    if isinstance(exc, HistoryError):
        return str(exc)  # one line already (store.first_line)
    url = _url(cfg)
    detail = first_line(getattr(exc, "orig", None) or exc).replace(url, safe_url(url))[:300]
    return f"[history] url {safe_url(url)}: {detail}"


def record_snapshot(cfg: Config, snapshot: Snapshot, source: str = "collect") -> int:
    """Store one sample per pool at the snapshot's collection time; returns rows added
    (0 when the config has no ``[history]``: nothing is recorded then)."""
    if cfg.history is None:
        return 0
    rows = samples_for_snapshot(snapshot, cfg, source)
    n = _insert_new(open_history(cfg), rows)
    log.info("history: recorded %d of %d pool sample(s) at %s", n, len(rows), snapshot.collected_at.isoformat())
    return n


def _read_samples(store: Store, start: datetime, end: datetime) -> pd.DataFrame:
    cols = [vram_samples.c.ts, vram_samples.c.pool_id, vram_samples.c.edition, vram_samples.c.used_gb_raw,
            vram_samples.c.used_gb_capped, vram_samples.c.entitled_gb]
    with store.read() as conn:
        result = conn.execute(select(*cols).where(vram_samples.c.ts >= start, vram_samples.c.ts <= end)
                              .order_by(vram_samples.c.pool_id, vram_samples.c.ts))
        rows = result.fetchall()
    if not rows:
        return empty_samples()
    df = pd.DataFrame(rows, columns=["ts", "pool_id", "edition", "used_gb_raw", "used_gb_capped", "entitled_gb"])
    df["ts"] = pd.to_datetime(df["ts"]).dt.tz_localize("UTC")
    df["entitled_gb"] = pd.to_numeric(df["entitled_gb"], errors="coerce")
    return df


def history_from_samples(samples: pd.DataFrame, as_of: date, *, window_days: int = WINDOW_DAYS,
                         source: str = "") -> VramHistory:
    """Derive the report data from raw samples (columns ts, pool_id, used_gb_raw,
    used_gb_capped, entitled_gb; ts as UTC). Pure: tests build history with this."""
    daily = daily_high_water(samples)
    start = pd.Timestamp(as_of - timedelta(days=window_days - 1))
    daily = daily[(daily["day"] >= start) & (daily["day"] <= pd.Timestamp(as_of))].reset_index(drop=True)
    return VramHistory(as_of=as_of, window_days=window_days, daily=daily,
                       pools=pool_stats(daily, as_of, window_days), source=source)


def load_for_report(cfg: Config, snapshot: Snapshot) -> VramHistory:
    """The history as of the snapshot's day, including the snapshot's own readings (so
    "today's high-water" is right even when this snapshot was never recorded)."""
    as_of = snapshot.collected_at.astimezone(UTC).date()
    start = datetime.combine(as_of - timedelta(days=WINDOW_DAYS - 1), time(0, 0))
    end = utc_naive(snapshot.collected_at)
    url = _url(cfg)
    if missing_sqlite_file(url) is not None:  # nothing recorded yet: read nothing, create nothing
        df = empty_samples()
    else:
        df = _read_samples(open_history(cfg, readonly=True), start, end)
    current = pd.DataFrame(samples_for_snapshot(snapshot, cfg, "collect"))
    if not current.empty:
        current = current[["ts", "pool_id", "edition", "used_gb_raw", "used_gb_capped", "entitled_gb"]].copy()
        current["ts"] = pd.to_datetime(current["ts"]).dt.tz_localize("UTC")
        current["entitled_gb"] = pd.to_numeric(current["entitled_gb"], errors="coerce")
        if not df.empty:
            have = set(zip(df["pool_id"], df["ts"], strict=False))
            current = current[[(p, t) not in have for p, t in zip(current["pool_id"], current["ts"], strict=False)]]
        df = pd.concat([d for d in (df, current) if not d.empty], ignore_index=True) if not current.empty else df
    return history_from_samples(df, as_of, source=safe_url(url))


# -- CSV import / export -------------------------------------------------------------------------

@dataclass
class ImportResult:
    rows: int
    inserted: int
    pools: list[str] = field(default_factory=list)

    @property
    def skipped(self) -> int:
        return self.rows - self.inserted


EXPORT_COLUMNS = ["timestamp", "pool", "vcenter", "edition", "used_gb_raw", "used_gb_capped", "entitled_gb", "source"]


def _parse_when(value: str, line: int, path: str) -> datetime:
    text = value.strip()
    try:
        if len(text) == 10:  # a date: that UTC day, 00:00
            return datetime.combine(date.fromisoformat(text), time(0, 0))
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise HistoryError(f"{path}:{line}: not a date or ISO timestamp: {value!r}") from None
    return utc_naive(dt)  # naive timestamps are taken as UTC


def _parse_gb(value: str | None, column: str, line: int, path: str, required: bool) -> float | None:
    if value is None or value.strip() == "":
        if required:
            raise HistoryError(f"{path}:{line}: {column} is empty")
        return None
    try:
        gb = float(value)
    except ValueError:
        raise HistoryError(f"{path}:{line}: {column} is not a number: {value!r}") from None
    if gb < 0 or math.isnan(gb):
        raise HistoryError(f"{path}:{line}: {column} must be a number >= 0, got {value!r}")
    return gb


def parse_csv(text: str, path: str = "<csv>") -> list[dict[str, Any]]:
    """Rows of ``date,pool,used_gb,entitled_gb`` (the import format), or of the export format
    (``timestamp,pool,vcenter,edition,used_gb_raw,used_gb_capped,entitled_gb,source``).
    Dates are UTC days; timestamps with an offset are converted to UTC, without one taken as UTC."""
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames is None:
        raise HistoryError(f"{path}: empty file (expected a header: date,pool,used_gb,entitled_gb)")
    fields = {f.strip().lower(): f for f in reader.fieldnames if f}
    when_col = fields.get("date") or fields.get("timestamp")
    used_col = fields.get("used_gb") or fields.get("used_gb_capped")
    if not when_col or "pool" not in fields or not used_col:
        raise HistoryError(f"{path}: header must name date (or timestamp), pool and used_gb; got {', '.join(reader.fieldnames)}")
    out = []
    for i, row in enumerate(reader, start=2):
        if not any((v or "").strip() for v in row.values()):
            continue
        pool = (row.get(fields["pool"]) or "").strip()
        if not pool:
            raise HistoryError(f"{path}:{i}: pool is empty")
        used = _parse_gb(row.get(used_col), "used_gb", i, path, True)
        raw = _parse_gb(row.get(fields["used_gb_raw"]), "used_gb_raw", i, path, False) if "used_gb_raw" in fields else None
        ent = _parse_gb(row.get(fields["entitled_gb"]), "entitled_gb", i, path, False) if "entitled_gb" in fields else None
        edition = (row.get(fields["edition"]) or "").strip() if "edition" in fields else ""
        vcenter = (row.get(fields["vcenter"]) or "").strip() if "vcenter" in fields else ""
        out.append({
            "ts": _parse_when(row.get(when_col) or "", i, path), "pool_id": pool,
            "vcenter": vcenter or pool.rsplit("/", 1)[0], "edition": edition or (pool.rsplit("/", 1)[1] if "/" in pool else None),
            "used_gb_raw": raw if raw is not None else used, "used_gb_capped": used, "entitled_gb": ent,
            "source": "import", "vram_applies": ent is not None, "vcenter_reported_gb": None,
        })
    return out


def import_csv(cfg: Config, path: str | Path) -> ImportResult:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise HistoryError(f"{p}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise HistoryError(f"{p}: cannot read: {exc}") from None
    rows = parse_csv(text, str(p))
    inserted = _insert_new(open_history(cfg), rows)
    return ImportResult(rows=len(rows), inserted=inserted, pools=sorted({r["pool_id"] for r in rows}))


def _fmt(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return repr(round(v, 4))
    return str(v)


def export_rows(cfg: Config, pools: Iterable[str] | None = None) -> list[list[str]]:
    store = open_history(cfg, readonly=True)
    c = vram_samples.c
    q = select(c.ts, c.pool_id, c.vcenter, c.edition, c.used_gb_raw, c.used_gb_capped, c.entitled_gb, c.source)
    wanted = list(pools or [])
    if wanted:
        q = q.where(c.pool_id.in_(wanted))
    with store.read() as conn:
        result = conn.execute(q.order_by(c.pool_id, c.ts)).fetchall()
    out = []
    for ts, pool, vc, ed, raw, capped, ent, src in result:
        stamp = ts.replace(tzinfo=UTC).isoformat().replace("+00:00", "Z")
        out.append([stamp, pool, vc or "", ed or "", _fmt(raw), _fmt(capped), _fmt(ent), src or ""])
    return out


def export_csv(cfg: Config, out: str | Path | None = None, pools: Iterable[str] | None = None) -> tuple[str, int]:
    """All samples as CSV (``EXPORT_COLUMNS``); written atomically to ``out`` when given.
    Returns (csv text, row count)."""
    rows = export_rows(cfg, pools)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(EXPORT_COLUMNS)
    w.writerows(rows)
    text = buf.getvalue()
    if out is not None:
        atomic_write_text(out, text)
    return text, len(rows)
