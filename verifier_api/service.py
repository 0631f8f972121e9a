"""The service's long-lived parts, built once per app from the settings."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import SQLAlchemyError

from provenance import LogError
from provenance.tlog import LogStore, SqlLogStore, TileCache, TransparencyLog
from verifier_api.crl_refresher import CrlRefresher
from verifier_api.db import make_engine
from verifier_api.distribution import TrustDistribution, open_distribution
from verifier_api.keycache import ApiKeyCache
from verifier_api.metrics import Metrics
from verifier_api.migrations import upgrade_database
from verifier_api.publisher import Publisher, load_publisher
from verifier_api.ratelimit import MemoryRateLimiter, RedisRateLimiter, open_rate_limiter
from verifier_api.sequencer import LogSequencer
from verifier_api.settings import Settings, SettingsError
from verifier_api.stored_authority import StoredAuthority

APPEND_POOL_SIZE = 2
"""Connections the append engine keeps: one sequencer appends at a time in a process."""


def utc_now() -> datetime:
    """The current time in UTC, whole seconds."""
    return datetime.now(UTC).replace(microsecond=0)


def unix_now() -> int:
    """The current Unix time in seconds."""
    return int(time.time())


@dataclass(frozen=True)
class Service:
    """Settings, database, publisher, authority, log, sequencer, key cache, rate limit and the
    CRL refresher (started by :meth:`start`, the app's lifespan).

    ``store`` is the log's storage port (:class:`LogStore`): the service builds an SQL store on
    its database, and any store that passes the contract (``tests/unit/tlog/
    test_store_contract.py``) serves the log routes as well.
    """

    settings: Settings
    engine: Engine
    publisher: Publisher
    authority: StoredAuthority
    store: LogStore
    log: TransparencyLog
    sequencer: LogSequencer
    metrics: Metrics
    keys: ApiKeyCache
    rate_limiter: MemoryRateLimiter | RedisRateLimiter
    crl_refresher: CrlRefresher
    distribution: TrustDistribution | None = None
    append_engine: Engine | None = None

    def start(self) -> None:
        """Start the background work: the CRL refresher."""
        self.crl_refresher.start()

    def close(self) -> None:
        """Stop the CRL refresher and the sequencer, and release the database and Redis
        connections."""
        self.crl_refresher.close()
        self.sequencer.close()
        self.engine.dispose()
        if self.append_engine is not None:
            self.append_engine.dispose()
        if isinstance(self.rate_limiter, RedisRateLimiter):
            self.rate_limiter.close()


def open_database(settings: Settings) -> Engine:
    """The engine for the settings' database, migrated to the latest revision.

    Raises:
        SettingsError: The database cannot be opened (see :func:`database_refused`).
    """
    engine = make_engine(settings.resolved_database_url)
    try:
        upgrade_database(engine)
    except SQLAlchemyError as exc:
        engine.dispose()
        raise database_refused(settings, exc) from exc
    return engine


def database_refused(settings: Settings, exc: Exception) -> SettingsError:
    """The start-up error of a database that is unreachable, read-only or full.

    It names the database (never its password) and the driver's reason only.
    """
    cause: BaseException = exc
    while cause.__cause__ is not None and not hasattr(cause, "orig"):
        cause = cause.__cause__
    reason = str(getattr(cause, "orig", None) or cause).splitlines()[0]
    url = make_url(settings.resolved_database_url).render_as_string(hide_password=True)
    return SettingsError(
        f"cannot open the database {url} for writing: {reason}"
        " (is it running, or is its directory read-only, full or missing?)"
    )


def build_service(settings: Settings) -> Service:
    """Load the publisher, migrate the database and wire the parts together.

    Raises:
        SettingsError: The home or its keys are unusable, or the database cannot be opened and
            written at start (unreachable, read-only or full).
    """
    publisher = load_publisher(settings.home, settings.passphrase_bytes())
    engine = open_database(settings)
    append_engine = _append_engine(engine)

    def dispose() -> None:
        engine.dispose()
        if append_engine is not None:
            append_engine.dispose()

    try:
        authority = StoredAuthority(engine, publisher, settings.crl_check_seconds)
        authority.record_service_certificate(utc_now())
        authority.refresh_crl(utc_now())
        origin = publisher.settings.origin
        store = SqlLogStore(engine, origin, append_engine)
    except (SQLAlchemyError, LogError) as exc:
        dispose()
        raise database_refused(settings, exc) from exc
    try:
        distribution = open_distribution(
            settings.home, settings.passphrase_bytes(), authority, utc_now()
        )
    except SettingsError:
        dispose()
        raise
    log = TransparencyLog(
        store,
        publisher.log_signer,
        origin,
        unix_now,
        tile_cache=TileCache(settings.log_tile_cache_tiles),
    )
    metrics = Metrics()
    sequencer = LogSequencer(log, settings.sign_batch_max, metrics.log_batches.observe)
    keys = ApiKeyCache(engine, settings.api_key_cache_seconds)
    limiter = open_rate_limiter(settings.redis_url)
    return Service(
        settings,
        engine,
        publisher,
        authority,
        store,
        log,
        sequencer,
        metrics,
        keys,
        limiter,
        CrlRefresher(authority, settings.crl_refresh_seconds, _wall_clock),
        distribution,
        append_engine,
    )


def _wall_clock() -> datetime:
    """:func:`utc_now`, looked up at each call (the CRL refresher's clock; tests move it)."""
    return utc_now()


def _append_engine(engine: Engine) -> Engine | None:
    """On PostgreSQL, an engine for the log's appends without the pre-ping round trip (the store
    retries an append whose connection it finds dead, see :class:`SqlLogStore`); a commit waits
    for each round trip, and under load each costs milliseconds. None on SQLite (no network)."""
    if engine.dialect.name != "postgresql":
        return None
    url = engine.url.render_as_string(hide_password=False)
    return make_engine(url, pre_ping=False, pool_size=APPEND_POOL_SIZE)
