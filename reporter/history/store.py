"""The history database: SQLAlchemy 2 Core, SQLite by default, any SQLAlchemy URL allowed.

Schema changes are **named migrations** recorded in ``schema_migrations`` (sqlite-utils
style): each runs once, in the order listed in ``MIGRATIONS``, all pending ones in one
transaction (a failed migration leaves the database as it was); a database made by an older
version is brought up to date the first time this version opens it.

Concurrency: every write is one transaction. On SQLite the database runs in WAL mode with a
busy timeout, and write transactions start with ``BEGIN IMMEDIATE`` so two processes
(a ``vram sample`` every few minutes and a weekly ``run``) queue for the write lock instead of
failing half-way. On PostgreSQL migrations take a transaction-level advisory lock.
"""

from __future__ import annotations

import atexit
import logging
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    event,
    insert,
    inspect,
    select,
    text,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.engine.url import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError

from reporter.core.fsutil import create_private_file
from reporter.errors import HistoryError

log = logging.getLogger(__name__)

BUSY_TIMEOUT_S = 60
ADVISORY_LOCK_ID = 0x76637270  # "vcrp"

# -- the current schema (what queries use) -------------------------------------------------

metadata = MetaData()

schema_migrations = Table(
    "schema_migrations", metadata,
    Column("name", String(200), primary_key=True),
    Column("applied_at", DateTime(timezone=False), nullable=False),
)

vram_samples = Table(
    "vram_samples", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ts", DateTime(timezone=False), nullable=False),  # UTC, stored naive
    Column("pool_id", String(200), nullable=False),
    Column("vcenter", String(200), nullable=True),  # vCenter label(s) of the pool's scope
    Column("edition", String(100), nullable=True),
    Column("used_gb_raw", Float, nullable=False),
    Column("used_gb_capped", Float, nullable=False),
    Column("entitled_gb", Float, nullable=True),  # None: no vRAM entitlement applies
    # added by 0002:
    Column("source", String(16), nullable=False, server_default="collect"),  # collect | sample | import
    Column("vram_applies", Boolean, nullable=True),
    Column("vcenter_reported_gb", Float, nullable=True),
)


# -- migrations ------------------------------------------------------------------------------

def _m0001_vram_samples(conn: Connection) -> None:
    conn.execute(text(
        "CREATE TABLE vram_samples ("
        " id INTEGER NOT NULL PRIMARY KEY" + (" AUTOINCREMENT" if conn.dialect.name == "sqlite" else "") + ","
        " ts TIMESTAMP NOT NULL,"
        " pool_id VARCHAR(200) NOT NULL,"
        " vcenter VARCHAR(200),"
        " edition VARCHAR(100),"
        " used_gb_raw FLOAT NOT NULL,"
        " used_gb_capped FLOAT NOT NULL,"
        " entitled_gb FLOAT)"
    ) if conn.dialect.name == "sqlite" else text(
        "CREATE TABLE vram_samples ("
        " id SERIAL PRIMARY KEY,"
        " ts TIMESTAMP NOT NULL,"
        " pool_id VARCHAR(200) NOT NULL,"
        " vcenter VARCHAR(200),"
        " edition VARCHAR(100),"
        " used_gb_raw DOUBLE PRECISION NOT NULL,"
        " used_gb_capped DOUBLE PRECISION NOT NULL,"
        " entitled_gb DOUBLE PRECISION)"
    ))
    conn.execute(text("CREATE INDEX ix_vram_samples_pool_ts ON vram_samples (pool_id, ts)"))


def _m0002_source_and_unique(conn: Connection) -> None:
    """Where a sample came from, whether vRAM applied, vCenter's own figure; one sample per
    pool and instant (re-recording a snapshot or re-importing a file is then a no-op)."""
    flt = "FLOAT" if conn.dialect.name == "sqlite" else "DOUBLE PRECISION"
    conn.execute(text("ALTER TABLE vram_samples ADD COLUMN source VARCHAR(16) NOT NULL DEFAULT 'collect'"))
    conn.execute(text("ALTER TABLE vram_samples ADD COLUMN vram_applies BOOLEAN"))
    conn.execute(text(f"ALTER TABLE vram_samples ADD COLUMN vcenter_reported_gb {flt}"))
    # Older versions could store the same (pool, instant) twice: keep the first.
    conn.execute(text(
        "DELETE FROM vram_samples WHERE id NOT IN (SELECT MIN(id) FROM vram_samples GROUP BY pool_id, ts)"
    ))
    conn.execute(text("CREATE UNIQUE INDEX ux_vram_samples_pool_ts ON vram_samples (pool_id, ts)"))


Migration = Callable[[Connection], None]

MIGRATIONS: list[tuple[str, Migration]] = [
    ("0001_vram_samples", _m0001_vram_samples),
    ("0002_sample_source_and_unique", _m0002_source_and_unique),
]


# -- engine ------------------------------------------------------------------------------------

@dataclass
class Store:
    url: str
    engine: Engine
    migrated: bool = False

    readonly: bool = False  # opened read-only (SQLite): not migrated, nothing can be written

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One write transaction (BEGIN IMMEDIATE on SQLite)."""
        try:
            with self.engine.connect() as conn:
                conn = conn.execution_options(vcreport_immediate=True)
                with conn.begin():
                    yield conn
        except DBAPIError as exc:  # OperationalError, and DatabaseError: "file is not a database"
            raise _history_error(self.url, exc) from None

    @contextmanager
    def read(self) -> Iterator[Connection]:
        try:
            with self.engine.connect() as conn, conn.begin():
                yield conn
        except DBAPIError as exc:  # OperationalError, and DatabaseError: "file is not a database"
            raise _history_error(self.url, exc) from None

    def applied(self) -> list[str]:
        with self.read() as conn:
            return [r[0] for r in conn.execute(select(schema_migrations.c.name).order_by(schema_migrations.c.name))]


class HistoryReadOnly(HistoryError):
    """The database (or its directory) cannot be written by this process."""


SQLITE_READONLY = 8
PG_INSUFFICIENT_PRIVILEGE = "42501"  # a role granted SELECT only: "permission denied", "must be owner"


def _history_error(url: str, exc: DBAPIError) -> HistoryError:
    readonly = getattr(exc.orig, "sqlite_errorcode", 0) & 0xFF == SQLITE_READONLY or \
        "readonly database" in str(exc.orig) or getattr(exc.orig, "pgcode", None) == PG_INSUFFICIENT_PRIVILEGE
    return (HistoryReadOnly if readonly else HistoryError)(f"history database {safe_url(url)}: {first_line(exc.orig)}")


def first_line(error: object) -> str:
    """A driver's error without the hint lines some add ("Is the server running on that host …"):
    errors are one line."""
    return (str(error).splitlines() or [type(error).__name__])[0]


def safe_url(url: str) -> str:
    """The URL without its password, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<invalid URL>"


def _sqlite_setup(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (below)
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_S * 1000}")
        cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA synchronous = NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get("vcreport_immediate", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


_stores: dict[str, Store] = {}
_stores_lock = threading.Lock()
_closing_registered: list[int] = []  # the process that registered the close at exit


def _close_at_exit() -> None:
    """Every connection closed when the command ends (the CLI ends with ``os._exit`` after the
    ``atexit`` handlers): SQLite folds the write-ahead log back into the database file as its last
    connection closes, so the ``.db`` file alone holds every sample (a copy of it for an auditor,
    a backup of that one file). Not in a forked child, whose connections are the parent's."""
    if _closing_registered and _closing_registered[0] == os.getpid():
        dispose_all()


def _register_close() -> None:
    if not _closing_registered:
        _closing_registered.append(os.getpid())
        atexit.register(_close_at_exit)


def open_store(url: str, *, migrate: bool = True, readonly: bool = False) -> Store:
    """The store for ``url`` (engines are kept per URL for the process), migrated to the
    current schema.

    ``readonly`` (a command that only reads: ``history export``, a report's 12-month figures):
    a SQLite database this process cannot write (an auditor's read-only copy, another user's
    file) is then opened read-only instead, and not migrated; its schema must be current."""
    with _stores_lock:
        store = _stores.get(url)
        if store is None:
            store = Store(url=url, engine=_create_engine(url))
            _stores[url] = store
            _register_close()
    if migrate and not store.migrated:
        try:
            run_migrations(store)
        except HistoryReadOnly as exc:
            if not readonly:
                raise
            db_file = _sqlite_file(make_url(url))
            if db_file is None:  # a server's role that may only read: it reads a current schema
                raise (_cannot_migrate(store, "is read-only for this role") or exc) from None
            return _open_readonly(url, db_file)
        store.migrated = True
    return store


def _open_readonly(url: str, db_file: Path) -> Store:
    with _stores_lock:
        store = _stores.get(f"{url}#readonly")
        if store is None:
            store = Store(url=url, engine=_readonly_engine(db_file), readonly=True)
            _stores[f"{url}#readonly"] = store
    if not store.migrated:
        error = _cannot_migrate(store, "is read-only")
        if error is not None:
            raise error
        store.migrated = True
    return store


def _cannot_migrate(store: Store, why: str) -> HistoryReadOnly | None:
    """The one line for a database this process may read but not migrate, whose schema is older
    than this version's; None when its schema is current."""
    with store.read() as conn:
        names = inspect(conn).get_table_names()
        applied = {r[0] for r in conn.execute(select(schema_migrations.c.name))} \
            if "schema_migrations" in names else set()
    pending = [name for name, _ in MIGRATIONS if name not in applied]
    if not pending:
        return None
    return HistoryReadOnly(f"history database {safe_url(store.url)} {why} and its schema needs "
                           f"migrating ({', '.join(pending)}): open it once with write access")


def _readonly_engine(db_file: Path) -> Engine:
    """SQLite's ``mode=ro``. A WAL database also needs its ``-shm`` file, which a read-only
    directory cannot get: then, and only when no ``-wal`` holds commits the file lacks, the file
    is read as ``immutable`` (no locks, no shared memory)."""
    uri = db_file.expanduser().resolve().as_uri()
    wal = Path(f"{db_file}-wal")

    def connect() -> sqlite3.Connection:
        conn = sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_S, check_same_thread=False)
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            return conn
        except sqlite3.OperationalError:
            conn.close()
            if wal.exists() and wal.stat().st_size > 0:
                raise
        return sqlite3.connect(f"{uri}?mode=ro&immutable=1", uri=True, check_same_thread=False)

    engine = create_engine("sqlite://", creator=connect, future=True)

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # BEGIN below: as the read-write engine

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN")

    return engine


def missing_sqlite_file(url: str) -> Path | None:
    """The database file of a SQLite ``url`` when it does not exist yet (None otherwise: another
    database, an in-memory one, or a file that is there). A command that only reads history then
    reads none, rather than leave an empty database behind in the user's directory."""
    try:
        path = _sqlite_file(make_url(url))
    except ArgumentError:
        return None  # open_store says what is wrong with it
    return None if path is None or path.exists() else path


def _sqlite_file(parsed: URL) -> Path | None:
    """The database file a SQLite URL names; None for other databases, in-memory and ``file:`` URIs."""
    db = parsed.database
    if parsed.get_backend_name() != "sqlite" or not db or db == ":memory:" or db.startswith("file:"):
        return None
    return Path(db).expanduser()


def _create_engine(url: str) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise HistoryError(f"[history] url is not a database URL: {url!r}") from None
    kwargs: dict[str, Any] = {"future": True}
    if parsed.get_backend_name() == "sqlite":
        db_file = _sqlite_file(parsed)
        if db_file is not None:
            try:
                create_private_file(db_file)  # 0600 by default: it holds licence figures
            except IsADirectoryError:
                pass  # sqlite says "unable to open database file", with the URL
            except OSError as exc:
                raise HistoryError(f"[history] url {safe_url(url)}: cannot create the database file: "
                                   f"{exc.strerror or exc}") from None
        kwargs["connect_args"] = {"timeout": BUSY_TIMEOUT_S}
    try:
        engine = create_engine(url, **kwargs)
    except (NoSuchModuleError, ImportError) as exc:
        raise HistoryError(f"[history] url {safe_url(url)}: database driver not available ({exc})") from None
    except SQLAlchemyError as exc:
        raise HistoryError(f"[history] url {safe_url(url)}: {exc}") from None
    if engine.dialect.name == "sqlite":
        _sqlite_setup(engine)
    return engine


def dispose_all() -> None:
    """Close every pooled connection (tests; after a fork)."""
    with _stores_lock:
        for s in _stores.values():
            s.engine.dispose()
        _stores.clear()


def run_migrations(store: Store, upto: str | None = None) -> list[str]:
    """Apply the migrations not yet recorded; returns the names applied now. ``upto`` stops
    after that migration (tests build an older database with it)."""
    done_now: list[str] = []
    with store.write() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": ADVISORY_LOCK_ID})
        schema_migrations.create(conn, checkfirst=True)
        applied = {r[0] for r in conn.execute(select(schema_migrations.c.name))}
        for name, fn in MIGRATIONS:
            if name not in applied:
                log.info("history: applying migration %s", name)
                fn(conn)
                conn.execute(insert(schema_migrations).values(name=name, applied_at=utc_naive(datetime.now(UTC))))
                done_now.append(name)
            if upto is not None and name == upto:
                break
    return done_now


def utc_naive(dt: datetime) -> datetime:
    """Timestamps are stored as naive UTC (portable across SQLite and PostgreSQL)."""
    if dt.tzinfo is None:
        return dt
    return dt.astimezone(UTC).replace(tzinfo=None)
