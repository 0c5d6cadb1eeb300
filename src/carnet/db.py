"""Database foundations: engine and session factories, declarative Base, id and time types."""

from __future__ import annotations

import contextlib
import fcntl
import os
import select
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from sqlalchemy import Connection, DateTime, Engine, MetaData, create_engine, event, make_url
from sqlalchemy.exc import DisconnectionError, OperationalError, SQLAlchemyError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import LargeBinary, TypeDecorator

from carnet import clock

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


_id_lock = threading.Lock()
_id_state = [0, 0]  # last millisecond, counter within it


def new_id() -> uuid.UUID:
    """A time-ordered UUID (version 7, RFC 9562) so that primary-key indexes stay local.
    Within one process ids are strictly increasing: a 12-bit counter orders those made in the
    same millisecond (method 1 of RFC 9562 §6.2)."""
    with _id_lock:
        ms = max(time.time_ns() // 1_000_000, _id_state[0])
        if ms == _id_state[0]:
            _id_state[1] += 1
            if _id_state[1] > 0xFFF:
                ms, _id_state[1] = ms + 1, 0
        else:
            _id_state[1] = 0
        _id_state[0] = ms
        counter = _id_state[1]
    value = (ms & 0xFFFF_FFFF_FFFF) << 80
    value |= 0x7 << 76
    value |= counter << 64
    value |= 0b10 << 62
    value |= int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)
    return uuid.UUID(int=value)


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use carnet.clock.now()")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UtcDateTime()}


class IdMixin:
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)


class CreatedMixin:
    created_at: Mapped[datetime] = mapped_column(default=clock.now)


def make_engine(
    url: str, *, single_writer: bool = False, read_only: bool = False, **kwargs: Any
) -> Engine:
    """Create an engine. SQLite gets WAL, foreign keys, a busy timeout and write transactions
    that take the lock up front (every request writes an audit row, so reads write too).

    ``single_writer`` (the server's choice on SQLite): one pooled connection, so that threads
    queue in the pool (woken at once) instead of in SQLite's busy handler (which sleeps); and
    across worker processes, a write transaction first takes an exclusive ``flock`` on a file
    beside the database (``<db>-writer.lock``), held until the connection goes back to the
    pool: the next process is woken by the kernel as it is released (``WriterLock``), where
    SQLite's busy handler would sleep up to 100 ms between tries (seconds of p99 with two
    workers).

    ``read_only`` (a command that only reads, e.g. ``carnet documents verify``): on SQLite its
    transactions are plain reads of a WAL snapshot, which never hold the writer — the server
    goes on writing during a read of any length — and writing is refused (``query_only``)."""
    if url.startswith("sqlite"):
        _make_parent_dir(url)
        connect_args = {"check_same_thread": False, "timeout": 30}
        queue_file = writer_lock_file(url) if single_writer else None
        if single_writer and not _in_memory(url):
            kwargs.setdefault("pool_size", 1)
            kwargs.setdefault("max_overflow", 0)
            kwargs.setdefault("pool_timeout", 60)
        engine = create_engine(url, connect_args=connect_args, **kwargs)
        if queue_file is not None:
            _queue_writers(engine, queue_file)

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # let SQLAlchemy drive BEGIN (savepoints work)
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            if read_only:
                cursor.execute("PRAGMA query_only=ON")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

        return engine
    pooled = "poolclass" not in kwargs
    if pooled:
        kwargs.setdefault("pool_size", 20)
        kwargs.setdefault("max_overflow", 20)
    kwargs["connect_args"] = {**PG_CONNECT_ARGS, **kwargs.get("connect_args", {})}
    engine = create_engine(url, **kwargs)  # PostgreSQL (psycopg)
    if pooled and not kwargs.get("pool_pre_ping"):
        _check_on_checkout(engine)
    _wait_briefly_for_locks(engine)
    return engine


# libpq's limits on a database that stops answering: a transaction on the event loop (decision
# 10) blocks its worker while it waits, so a dead host or network must fail it in seconds, not
# in TCP's quarter of an hour. A URL's own parameters (or connect_args) take precedence.
PG_CONNECT_ARGS: dict[str, Any] = {
    "connect_timeout": 10,  # seconds to open a connection
    "keepalives": 1,
    "keepalives_idle": 30,
    "keepalives_interval": 10,
    "keepalives_count": 3,
    "tcp_user_timeout": 30_000,  # ms a sent request may stay unacknowledged
}

# A pooled connection idle longer than this is pinged before use (one round trip); one used more
# recently is only checked for what the server sent it meanwhile (no round trip).
IDLE_PING_SECONDS = 30.0
_IDLE_SINCE = "carnet.idle_since"


def _check_on_checkout(engine: Engine) -> None:
    """What ``pool_pre_ping`` would do, without its round trip on every checkout (one more
    round trip per request on the hot path, decision 10). A connection the server closed (a
    restart, an administrator's ``pg_terminate_backend``) has been sent its goodbye and an
    end of stream: its socket reads ready while it sits unused in the pool, which a zero-timeout
    ``poll`` sees. A connection dropped silently on the way (a firewall's idle timeout) shows
    nothing: one idle past ``IDLE_PING_SECONDS`` is pinged. Either failure discards it, and the
    pool takes another (SQLAlchemy's ``DisconnectionError``); a connection lost while in use
    fails its request, and SQLAlchemy then renews the whole pool."""

    @event.listens_for(engine, "checkin")
    def _idle(_dbapi_connection: Any, record: Any) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _check(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.pop(_IDLE_SINCE, None)
        if since is None:
            return  # just connected
        try:
            socket = dbapi_connection.fileno()
        except Exception:  # the driver knows it is closed
            raise DisconnectionError() from None
        try:
            told = _has_news(socket)
        except (OSError, ValueError):
            told = True  # cannot tell: ask the server
        if told or time.monotonic() - since > IDLE_PING_SECONDS:
            try:
                engine.dialect.do_ping(dbapi_connection)  # what pool_pre_ping sends
                dbapi_connection.rollback()
            except Exception:  # whatever the driver raises, it is unusable
                raise DisconnectionError() from None


def _has_news(socket: int) -> bool:
    """Whether the server sent an idle connection something (a goodbye, an end of stream), without
    waiting. ``poll``, not ``select``, which refuses descriptors past 1023."""
    poller = select.poll()
    poller.register(socket, select.POLLIN | select.POLLERR | select.POLLHUP)
    return bool(poller.poll(0))


_LOCK_TIMEOUT = "carnet.lock_timeout"  # what the connection's lock_timeout is: None, the default
_LOCK_TIMEOUT_SENT = "carnet.lock_timeout_sent"  # set in the open transaction
_UNKNOWN = "unknown"


def _wait_briefly_for_locks(engine: Engine) -> None:
    """On PostgreSQL, ``waiting_briefly`` bounds a transaction's waits for locks (an audit
    chain's head, a row another request is changing): ``lock_timeout`` is set on the connection
    when what the transaction needs differs from what it has (a committed ``SET`` outlives its
    transaction, so under load it is sent once per connection; the server's default is put
    back for a transaction that may wait), and a lock not granted within it raises
    ``WriterBusyForNow`` instead of PostgreSQL's error. The transaction is then in error: its
    caller rolls it back and runs the block again where waiting is harmless."""

    @event.listens_for(engine, "begin")
    def _set(conn: Any) -> None:
        brief = _brief_wait.get()
        wanted = f"{max(1, round(brief * 1000))}ms" if brief is not None else None  # 0: none
        info = conn.connection.info
        if info.get(_LOCK_TIMEOUT) != wanted:
            conn.exec_driver_sql(
                f"SET lock_timeout = '{wanted}'" if wanted else "SET lock_timeout TO DEFAULT"
            )
            info[_LOCK_TIMEOUT] = wanted
            info[_LOCK_TIMEOUT_SENT] = True

    @event.listens_for(engine, "rollback")
    def _unknown(conn: Any) -> None:
        if not conn.invalidated and conn.connection.info.pop(_LOCK_TIMEOUT_SENT, False):
            conn.connection.info[_LOCK_TIMEOUT] = _UNKNOWN  # the SET went with the transaction

    @event.listens_for(engine, "commit")
    def _committed(conn: Any) -> None:
        if not conn.invalidated:
            conn.connection.info.pop(_LOCK_TIMEOUT_SENT, None)
        _end_brief_wait()

    @event.listens_for(engine, "handle_error")
    def _busy(context: Any) -> None:
        conn = context.connection
        if conn is not None and not conn.invalidated and not context.is_disconnect:
            # A failed statement, or a failed COMMIT (its "commit" event came before it): what
            # the server kept of a SET is not sure, so the next transaction sends it again.
            with contextlib.suppress(SQLAlchemyError):
                conn.connection.info[_LOCK_TIMEOUT] = _UNKNOWN
        sqlstate = getattr(context.original_exception, "sqlstate", None)  # psycopg 3
        if sqlstate == LOCK_NOT_AVAILABLE and _brief_wait.get() is not None:
            raise WriterBusyForNow("a lock stayed busy") from context.original_exception


LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's lock_timeout


_WRITER_LOCK = "carnet.writer_lock"


def _in_memory(url: str) -> bool:
    return ":memory:" in url or url == "sqlite://"


def writer_lock_file(url: str) -> Path | None:
    """Where a ``single_writer`` engine on ``url`` queues its writers: beside a SQLite database
    file; None for PostgreSQL and for SQLite in memory."""
    if not url.startswith("sqlite") or _in_memory(url):
        return None
    database = make_url(url).database
    if not database or database.startswith("file:"):
        return None
    return Path(f"{database}-writer.lock")


def _queue_writers(engine: Engine, path: Path) -> None:
    """Writers of several processes queue on an ``flock`` (see ``make_engine``). Registered
    before the ``BEGIN IMMEDIATE`` listener, so the lock is taken first."""

    @event.listens_for(engine, "connect")
    def _open(_dbapi_connection: Any, record: Any) -> None:
        record.info[_WRITER_LOCK] = WriterLock(path)

    @event.listens_for(engine, "close")
    def _close(_dbapi_connection: Any, record: Any) -> None:
        lock = record.info.pop(_WRITER_LOCK, None)
        if lock is not None:
            lock.close()

    @event.listens_for(engine, "begin")
    def _take(conn: Any) -> None:
        lock = conn.connection.info[_WRITER_LOCK]
        if lock.held:
            return
        brief = _brief_wait.get()
        if brief is None:
            lock.take(WRITER_WAIT_SECONDS)
            return
        try:
            lock.take(brief)
        except WriterBusy:
            raise WriterBusyForNow() from None

    @event.listens_for(engine, "commit")
    def _committed(_conn: Any) -> None:
        _end_brief_wait()

    @event.listens_for(engine, "checkin")
    def _release(_dbapi_connection: Any, record: Any) -> None:
        lock = record.info.get(_WRITER_LOCK)
        if lock is not None:
            lock.release()


WRITER_WAIT_SECONDS = 30.0  # as SQLite's own busy timeout: then the request fails
_brief_wait: ContextVar[float | None] = ContextVar("carnet_brief_writer_wait", default=None)


def _end_brief_wait() -> None:
    if _brief_wait.get() is not None:  # the block's later transactions wait as long as needed
        _brief_wait.set(None)


@contextmanager
def waiting_briefly(seconds: float) -> Iterator[None]:
    """Within the block, until one commits, a transaction waits at most ``seconds`` for a lock,
    then raises ``WriterBusyForNow``: on SQLite for another process's writer lock, before its
    first statement; on PostgreSQL for any lock a statement needs (``lock_timeout``). Nothing of
    the block was committed (a refusal's trail comes after a rollback), and the caller rolls
    back and runs the block again where a long wait holds nothing else up (an event loop's
    transactions, decisions 8 and 10). Once one has committed, the others wait as usual."""
    token = _brief_wait.set(seconds)
    try:
        yield
    finally:
        _brief_wait.reset(token)


class WriterBusy(OperationalError):
    """Another worker kept the database's writer lock longer than ``WRITER_WAIT_SECONDS``."""

    def __init__(self, reason: str = "the database's writer stayed busy") -> None:
        super().__init__("BEGIN", None, Exception(reason))


class WriterBusyForNow(WriterBusy):
    """A lock did not come within ``waiting_briefly``'s wait (SQLite's writer lock: the
    transaction did not begin; a PostgreSQL lock: the transaction is in error, to roll back)."""


class WriterLock:
    """One connection's exclusive ``flock`` on the writer-lock file, taken within a time limit.

    flock(2) has no time limit, and polling it left the single writer idle between a release
    and the next try. So a free lock is taken at once, and a held one is waited for by a helper
    thread blocked in flock(2), which the kernel wakes the moment the lock is released, while
    the caller waits at most ``seconds`` for it: a worker stuck inside a transaction cannot hang
    the others for ever (``WriterBusy``). A wait given up leaves the helper blocked; when the
    lock comes, it hands it to a caller waiting again by then, or lets it go at once."""

    def __init__(self, path: Path) -> None:
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        self.held = False
        self._state = threading.Lock()  # guards what follows, and the helper's hand-over
        self._granted = threading.Event()
        self._asked = threading.Semaphore(0)
        self._helper: threading.Thread | None = None
        self._waiting = False  # the helper is blocked in flock(2)
        self._wanted = False  # a caller waits for the helper's lock
        self._failed: OSError | None = None  # the helper's flock(2) failed, for that caller
        self._closed = False

    def take(self, seconds: float) -> None:
        """Take the lock, or raise ``WriterBusy`` after ``seconds``."""
        with self._state:
            if not self._waiting:  # (while the helper waits, a try here would share its lock)
                try:
                    fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    self.held = True
                    return
                except BlockingIOError:
                    self._wait_in_helper()
            self._wanted = True
            self._granted.clear()
        try:
            self._granted.wait(seconds)
        except BaseException:  # interrupted: whatever the helper gets must not stay held
            with self._state:
                self._wanted = False
                if self._granted.is_set() and self._failed is None:
                    fcntl.flock(self.fd, fcntl.LOCK_UN)
                self._failed = None
            raise
        with self._state:  # (handed over, perhaps just after the wait gave up)
            failed, self._failed = self._failed, None
            if not self._granted.is_set() or failed is not None:
                self._wanted = False
                raise WriterBusy()  # the time ran out, or the helper's flock(2) failed
        self.held = True

    def _wait_in_helper(self) -> None:
        self._waiting = True
        if self._helper is None:
            self._helper = threading.Thread(
                target=self._help, name="carnet-writer-lock", daemon=True
            )
            self._helper.start()
        self._asked.release()

    def _help(self) -> None:
        while True:
            self._asked.acquire()
            with self._state:
                if self._closed:  # (closed after asking for a wait: the descriptor is ours)
                    if self._waiting:
                        self._waiting = False
                        os.close(self.fd)
                    return
            failed: OSError | None = None
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX)  # blocks until the lock is released
            except OSError as error:
                failed = error
            with self._state:
                self._waiting = False
                if self._wanted:  # the lock, or the failure (WriterBusy at once), to the caller
                    self._wanted, self._failed = False, failed
                    self._granted.set()
                elif failed is None:  # the caller gave up
                    fcntl.flock(self.fd, fcntl.LOCK_UN)
                if self._closed:
                    os.close(self.fd)
                    return

    def release(self) -> None:
        if self.held:
            self.held = False
            fcntl.flock(self.fd, fcntl.LOCK_UN)

    def close(self) -> None:
        """Close the descriptor (which releases the lock); if the helper is blocked on it, the
        helper closes it once flock(2) returns."""
        with self._state:
            self._closed, self.held = True, False
            if self._waiting:
                return
            if self._helper is not None:
                self._asked.release()  # let the helper end
        os.close(self.fd)


class utf8_bytes(FunctionElement[bytes]):  # a SQL function, named as one
    """A text column read as its UTF-8 bytes, as stored: no decoding into ``str`` on the way
    out, for text that goes out as it is (stored JSON in a response body)."""

    type = LargeBinary()
    inherit_cache = True


@compiles(utf8_bytes, "sqlite")
def _utf8_bytes_sqlite(element: utf8_bytes, compiler: Any, **kw: Any) -> str:
    return f"CAST({compiler.process(element.clauses, **kw)} AS BLOB)"  # SQLite stores UTF-8


@compiles(utf8_bytes, "postgresql")
def _utf8_bytes_postgresql(element: utf8_bytes, compiler: Any, **kw: Any) -> str:
    # convert_to, not a cast: text::bytea would read backslashes as escapes
    return f"convert_to({compiler.process(element.clauses, **kw)}, 'UTF8')"


def _make_parent_dir(url: str) -> None:
    """A fresh checkout has no ``var/``: create the SQLite file's folder on first use."""
    path = make_url(url).database
    if path and path != ":memory:" and not path.startswith("file:"):
        Path(path).parent.mkdir(parents=True, exist_ok=True)


def make_session_factory(engine: Engine, settings: Any, **info: Any) -> sessionmaker[Session]:
    """Sessions carry the settings (and the other boundaries, e.g. ``blobs``, the document
    store) in ``session.info`` so that services need no globals."""
    return sessionmaker(
        bind=engine, expire_on_commit=False, autoflush=True, info={"settings": settings, **info}
    )


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A plain transaction: commit on success, roll back on error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def settings_of(session: Session) -> Any:
    """The Settings the session factory was built with (see ``app.create_app``)."""
    return session.info["settings"]


def core(session: Session) -> Connection:
    """The session's connection, for the constant Core statements of the hot paths (the access
    decision's lookup, the audit rows, the document search): what the session holds is flushed
    first, as ``session.execute`` would, and each statement then skips the ORM's own work
    (about 60 µs a statement, a third of a document search)."""
    session.flush()
    return session.connection()
