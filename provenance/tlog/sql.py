"""A SQL :class:`~provenance.tlog.store.LogStore` on SQLite or PostgreSQL (SQLModel tables).

Tables (all prefixed ``tlog_``, registered on ``SQLModel.metadata`` so a migration includes them):
``tlog_state`` (one row per log: size, root hash, latest checkpoint), ``tlog_tiles``,
``tlog_entry_bundles`` and ``tlog_checkpoints`` (every committed checkpoint). Several processes may
append to one database: each append runs in one transaction that first takes the log's state row
with ``SELECT ... FOR UPDATE`` (PostgreSQL) or opens with ``BEGIN IMMEDIATE`` (SQLite), so appends
are serialized by the database and the tree never forks. A restart rebuilds nothing.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, ClassVar

from sqlalchemy import (
    BigInteger,
    Column,
    Integer,
    LargeBinary,
    Table,
    Text,
    and_,
    insert,
    literal,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError
from sqlmodel import Field, SQLModel

from provenance.errors import LogError
from provenance.tlog.store import Admit, LogState, LogWrite, Sequencer
from provenance.tlog.tiles import TILE_HEIGHT, TILE_WIDTH


class TlogStateRow(SQLModel, table=True):
    """The state of one log; the row appends lock. ``checkpoint`` is empty until the first append."""

    __tablename__: ClassVar[Any] = "tlog_state"

    log: str = Field(primary_key=True, max_length=255)
    size: int = Field(sa_column=Column(BigInteger, nullable=False))
    root_hash: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    checkpoint: str = Field(sa_column=Column(Text, nullable=False))


class TlogTileRow(SQLModel, table=True):
    """A hash tile (full, or the widest partial so far)."""

    __tablename__: ClassVar[Any] = "tlog_tiles"

    log: str = Field(primary_key=True, max_length=255)
    level: int = Field(sa_column=Column(Integer, primary_key=True))
    tile_index: int = Field(sa_column=Column(BigInteger, primary_key=True))
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class TlogEntryBundleRow(SQLModel, table=True):
    """An entry bundle (full, or the widest partial so far)."""

    __tablename__: ClassVar[Any] = "tlog_entry_bundles"

    log: str = Field(primary_key=True, max_length=255)
    bundle_index: int = Field(sa_column=Column(BigInteger, primary_key=True))
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class TlogCheckpointRow(SQLModel, table=True):
    """A committed signed checkpoint, by tree size."""

    __tablename__: ClassVar[Any] = "tlog_checkpoints"

    log: str = Field(primary_key=True, max_length=255)
    size: int = Field(sa_column=Column(BigInteger, primary_key=True))
    checkpoint: str = Field(sa_column=Column(Text, nullable=False))


def _table(model: type[SQLModel]) -> Table:
    table: Table = model.__table__  # type: ignore[attr-defined]
    return table


STATE = _table(TlogStateRow)
TILES = _table(TlogTileRow)
BUNDLES = _table(TlogEntryBundleRow)
CHECKPOINTS = _table(TlogCheckpointRow)
TLOG_TABLES: tuple[Table, ...] = (STATE, TILES, BUNDLES, CHECKPOINTS)
"""The log's tables, for ``metadata.create_all(tables=...)`` or a migration."""


def create_tlog_tables(engine: Engine) -> None:
    """Create the ``tlog_`` tables that do not exist yet (for tests and the embedded default)."""
    SQLModel.metadata.create_all(engine, tables=list(TLOG_TABLES))


BUNDLE_LEVEL = -1
"""The level column of the entry bundle's row in :func:`_read_right_edge` (tiles' levels are >= 0)."""


class _ConnectionSource:
    """Reads tiles and bundles inside the append transaction.

    The first read fetches the whole right edge of the locked tree (the partial tile of each
    level and the last entry bundle: what an append and the new root read) in one query, so an
    append after another process's reads it in one round trip, holding the log's lock, instead
    of one per tile; anything else is read on its own.
    """

    def __init__(self, connection: Connection, log: str, size: int) -> None:
        self._connection = connection
        self._log = log
        self._size = size
        self._edge: tuple[dict[tuple[int, int], bytes], dict[int, bytes]] | None = None

    def read_tile(self, level: int, index: int) -> bytes | None:
        tiles, _ = self._right_edge()
        if (level, index) in tiles:
            return tiles[level, index]
        return _read_tile(self._connection, self._log, level, index)

    def read_entry_bundle(self, index: int) -> bytes | None:
        _, bundles = self._right_edge()
        if index in bundles:
            return bundles[index]
        return _read_bundle(self._connection, self._log, index)

    def _right_edge(self) -> tuple[dict[tuple[int, int], bytes], dict[int, bytes]]:
        if self._edge is None:
            self._edge = _read_right_edge(self._connection, self._log, self._size)
        return self._edge


def _read_right_edge(
    connection: Connection, log: str, size: int
) -> tuple[dict[tuple[int, int], bytes], dict[int, bytes]]:
    """The stored right-edge tiles and last entry bundle of the tree of ``size``, in one query."""
    if not size:
        return {}, {}
    wanted, level, stored = [], 0, size
    while stored:
        wanted.append(
            and_(TILES.c.level == level, TILES.c.tile_index == (stored - 1) // TILE_WIDTH)
        )
        level, stored = level + 1, stored >> TILE_HEIGHT
    last_bundle = (size - 1) // TILE_WIDTH
    query = union_all(
        select(TILES.c.level, TILES.c.tile_index, TILES.c.data).where(
            TILES.c.log == log, or_(*wanted)
        ),
        select(literal(BUNDLE_LEVEL), BUNDLES.c.bundle_index, BUNDLES.c.data).where(
            BUNDLES.c.log == log, BUNDLES.c.bundle_index == last_bundle
        ),
    )
    tiles: dict[tuple[int, int], bytes] = {}
    bundles: dict[int, bytes] = {}
    for row_level, index, data in connection.execute(query):
        if row_level == BUNDLE_LEVEL:
            bundles[index] = bytes(data)
        else:
            tiles[row_level, index] = bytes(data)
    return tiles, bundles


def _read_tile(connection: Connection, log: str, level: int, index: int) -> bytes | None:
    query = select(TILES.c.data).where(
        TILES.c.log == log, TILES.c.level == level, TILES.c.tile_index == index
    )
    data: bytes | None = connection.execute(query).scalar_one_or_none()
    return None if data is None else bytes(data)


def _read_bundle(connection: Connection, log: str, index: int) -> bytes | None:
    query = select(BUNDLES.c.data).where(BUNDLES.c.log == log, BUNDLES.c.bundle_index == index)
    data: bytes | None = connection.execute(query).scalar_one_or_none()
    return None if data is None else bytes(data)


def _upsert(connection: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows``, replacing the ``data`` of those whose key exists, in one statement
    (``INSERT ... ON CONFLICT DO UPDATE``: PostgreSQL and SQLite 3.24+)."""
    if not rows:
        return
    keys = [column.name for column in table.primary_key.columns]
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table).values(rows)
    connection.execute(
        statement.on_conflict_do_update(index_elements=keys, set_={"data": statement.excluded.data})
    )


_POSTGRES_WRITE = """
WITH tiles AS (
    INSERT INTO tlog_tiles (log, level, tile_index, data)
    SELECT %(log)s, level, tile_index, data FROM unnest(
        %(levels)s::integer[], %(tile_indices)s::bigint[], %(tiles)b::bytea[]
    ) AS t (level, tile_index, data)
    ON CONFLICT (log, level, tile_index) DO UPDATE SET data = excluded.data
), bundles AS (
    INSERT INTO tlog_entry_bundles (log, bundle_index, data)
    SELECT %(log)s, bundle_index, data FROM unnest(
        %(bundle_indices)s::bigint[], %(bundles)b::bytea[]
    ) AS b (bundle_index, data)
    ON CONFLICT (log, bundle_index) DO UPDATE SET data = excluded.data
), checkpoint AS (
    INSERT INTO tlog_checkpoints (log, size, checkpoint) VALUES (%(log)s, %(size)s, %(checkpoint)s)
)
UPDATE tlog_state SET size = %(size)s, root_hash = %(root_hash)s, checkpoint = %(checkpoint)s
WHERE log = %(log)s
"""
"""An append's whole write on PostgreSQL in one statement (one round trip instead of four): the
tiles and entry bundles upserted from arrays, the checkpoint inserted, the state updated. Its text
never changes, so psycopg prepares it once; the byte arrays go in binary (``%b``: psycopg's text
form escapes every byte in Python, ~6 ms for a full bundle)."""


def _postgres_write(connection: Connection, log: str, write: LogWrite) -> None:
    tiles, bundles, state = write.tiles, write.entry_bundles, write.state
    connection.exec_driver_sql(
        _POSTGRES_WRITE,
        {
            "log": log,
            "levels": [level for level, _ in tiles],
            "tile_indices": [index for _, index in tiles],
            "tiles": list(tiles.values()),
            "bundle_indices": list(bundles),
            "bundles": list(bundles.values()),
            "size": state.size,
            "root_hash": state.root_hash,
            "checkpoint": state.checkpoint,
        },
    )


class SqlLogStore:
    """A :class:`~provenance.tlog.store.LogStore` in SQL tables, for the log named ``log``.

    Args:
        engine: A SQLAlchemy engine on SQLite or PostgreSQL; the ``tlog_`` tables must exist
            (see :func:`create_tlog_tables`).
        log: The log's name (its origin); several logs may share the tables.
        append_engine: The engine appends use (default ``engine``), e.g. one on the same database
            without ``pool_pre_ping``: an append whose first statement finds its pooled
            connection dead (nothing of it was sent) is retried once on a fresh connection, so
            the ping's round trip before each append is not needed.

    Raises:
        LogError: The database cannot be reached or the tables are missing.
    """

    def __init__(self, engine: Engine, log: str, append_engine: Engine | None = None) -> None:
        self._engine = engine
        self._append_engine = append_engine or engine
        self._log = log
        self._sqlite = engine.dialect.name == "sqlite"
        self._postgres = engine.dialect.name == "postgresql"
        self._state_query = select(STATE).where(STATE.c.log == log)
        self._lock_query = (
            self._state_query if self._sqlite else self._state_query.with_for_update()
        )
        self._ensure_state_row()

    def _ensure_state_row(self) -> None:
        try:
            with self._engine.begin() as connection:
                if connection.execute(select(STATE.c.log).where(STATE.c.log == self._log)).first():
                    return
                connection.execute(
                    insert(STATE).values(log=self._log, size=0, root_hash=b"", checkpoint="")
                )
        except IntegrityError:
            return  # another process created it first
        except SQLAlchemyError as exc:
            raise LogError(f"cannot open the log store: {exc}") from exc

    def _reading(self) -> Connection:
        """A connection for one read: a single SELECT is its own consistent snapshot, so it runs
        in autocommit (no BEGIN and no ROLLBACK round trip around it)."""
        return self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")

    def read_tile(self, level: int, index: int) -> bytes | None:
        """The stored tile, or None."""
        with self._reading() as connection:
            return _read_tile(connection, self._log, level, index)

    def read_tiles(self, coordinates: Collection[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        """The stored tiles among ``coordinates``, in one query."""
        if not coordinates:
            return {}
        wanted = [
            and_(TILES.c.level == level, TILES.c.tile_index == index)
            for level, index in coordinates
        ]
        query = select(TILES.c.level, TILES.c.tile_index, TILES.c.data).where(
            TILES.c.log == self._log, or_(*wanted)
        )
        with self._reading() as connection:
            rows = connection.execute(query).all()
        return {(row.level, row.tile_index): bytes(row.data) for row in rows}

    def read_entry_bundle(self, index: int) -> bytes | None:
        """The stored entry bundle, or None."""
        with self._reading() as connection:
            return _read_bundle(connection, self._log, index)

    def read_state(self) -> LogState | None:
        """The latest committed state, or None before the first append."""
        with self._reading() as connection:
            row = connection.execute(self._state_query).first()
        if row is None or not row.checkpoint:
            return None
        return LogState(row.size, bytes(row.root_hash), row.checkpoint)

    def read_checkpoint(self, size: int) -> str | None:
        """The checkpoint committed for ``size``, or None."""
        query = select(CHECKPOINTS.c.checkpoint).where(
            CHECKPOINTS.c.log == self._log, CHECKPOINTS.c.size == size
        )
        with self._reading() as connection:
            note: str | None = connection.execute(query).scalar_one_or_none()
        return note

    def append(self, sequencer: Sequencer, admit: Admit | None = None) -> LogState:
        """Run ``sequencer`` holding the log's lock and commit its write in the same transaction.

        ``admit``, when given, runs first in that transaction with its ``Connection`` (what it
        writes commits with the append, or not at all); an append without it sends nothing more.
        A commit whose answer is lost is looked up (:meth:`_committed`): an append that did
        commit is returned as committed.

        Raises:
            LogError: The transaction failed and nothing was committed, or the database could
                not be asked, after a lost commit answer, whether it was.
        """
        try:
            for last in (False, True):
                with self._append_engine.connect() as connection:
                    try:
                        state = self._lock_state(connection)
                    except DBAPIError as exc:
                        if last or not exc.connection_invalidated:
                            raise
                        continue  # it died idle in the pool and nothing was sent: once more
                    size = state.size if state else 0
                    if admit is not None:
                        admit(connection, size)
                    write = sequencer(_ConnectionSource(connection, self._log, size), state)
                    self._write(connection, write)
                    self._commit(connection, write.state)
                    return write.state
        except SQLAlchemyError as exc:
            raise LogError(f"the log store did not commit the append: {exc}") from exc
        raise LogError("the log store did not commit the append: no live connection")

    def _commit(self, connection: Connection, state: LogState) -> None:
        """Commit the append of ``state``; a commit whose answer did not come back (the connection
        failed once it was sent) is looked up before it is reported as failed.

        Raises:
            DBAPIError: The append did not commit, or whether it did cannot be told.
        """
        try:
            connection.commit()
        except DBAPIError:
            if not self._committed(state):
                raise

    def _committed(self, state: LogState) -> bool:
        """Whether the log holds ``state``'s checkpoint, read under the log's lock: the lock
        waits until the transaction that may have committed it has ended, and the checkpoint of
        its size is that note exactly when that append committed (another append of that size
        would sign another tree)."""
        query = select(CHECKPOINTS.c.checkpoint).where(
            CHECKPOINTS.c.log == self._log, CHECKPOINTS.c.size == state.size
        )
        try:
            with self._append_engine.connect() as connection:
                self._lock_state(connection)
                found = connection.execute(query).scalar_one_or_none()
                connection.rollback()
        except SQLAlchemyError:
            return False
        return found == state.checkpoint

    def _lock_state(self, connection: Connection) -> LogState | None:
        if self._sqlite:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        row = connection.execute(self._lock_query).one()
        if not row.checkpoint:
            return None
        return LogState(row.size, bytes(row.root_hash), row.checkpoint)

    def _write(self, connection: Connection, write: LogWrite) -> None:
        log = self._log
        if self._postgres:
            _postgres_write(connection, log, write)
            return
        tile_rows = [
            {"log": log, "level": level, "tile_index": index, "data": data}
            for (level, index), data in write.tiles.items()
        ]
        _upsert(connection, TILES, tile_rows)
        bundle_rows = [
            {"log": log, "bundle_index": index, "data": data}
            for index, data in write.entry_bundles.items()
        ]
        _upsert(connection, BUNDLES, bundle_rows)
        state = write.state
        connection.execute(
            insert(CHECKPOINTS).values(log=log, size=state.size, checkpoint=state.checkpoint)
        )
        connection.execute(
            update(STATE)
            .where(STATE.c.log == log)
            .values(size=state.size, root_hash=state.root_hash, checkpoint=state.checkpoint)
        )
