"""The service's long-lived parts, built once per app from the settings."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.engine import Engine

from provenance.tlog.log import TransparencyLog
from provenance.tlog.sql import SqlLogStore
from verifier_api.authority import Authority
from verifier_api.db import make_engine
from verifier_api.metrics import Metrics
from verifier_api.migrations import upgrade_database
from verifier_api.publisher import Publisher, load_publisher
from verifier_api.sequencer import LogSequencer
from verifier_api.settings import Settings


def utc_now() -> datetime:
    """The current time in UTC, whole seconds."""
    return datetime.now(UTC).replace(microsecond=0)


def unix_now() -> int:
    """The current Unix time in seconds."""
    return int(time.time())


@dataclass(frozen=True)
class Service:
    """Settings, database, publisher, authority, log and sequencer of one app."""

    settings: Settings
    engine: Engine
    publisher: Publisher
    authority: Authority
    store: SqlLogStore
    log: TransparencyLog
    sequencer: LogSequencer
    metrics: Metrics

    def close(self) -> None:
        """Stop the sequencer and release the database connections."""
        self.sequencer.close()
        self.engine.dispose()


def open_database(settings: Settings) -> Engine:
    """The engine for the settings' database, migrated to the latest revision."""
    engine = make_engine(settings.resolved_database_url)
    upgrade_database(engine)
    return engine


def build_service(settings: Settings) -> Service:
    """Load the publisher, migrate the database and wire the parts together.

    Raises:
        SettingsError: The home or its keys are unusable.
        LogError: The log store cannot be opened.
    """
    publisher = load_publisher(settings.home, settings.passphrase_bytes())
    engine = open_database(settings)
    authority = Authority(engine, publisher)
    authority.record_service_certificate(utc_now())
    authority.current_crl(utc_now())
    origin = publisher.settings.origin
    store = SqlLogStore(engine, origin)
    log = TransparencyLog(store, publisher.log_signer, origin, unix_now)
    metrics = Metrics()
    sequencer = LogSequencer(log, settings.sign_batch_max, metrics.log_batches.observe)
    return Service(settings, engine, publisher, authority, store, log, sequencer, metrics)
