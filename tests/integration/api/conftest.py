"""Fixtures: an app per backend (SQLite file, fresh PostgreSQL database) and keys per scope."""

from __future__ import annotations

from collections.abc import Generator, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr

from tests.integration.api.support import PASSPHRASE, make_home, postgres_database
from verifier_api import crud
from verifier_api.app import create_app
from verifier_api.scopes import Scope
from verifier_api.service import Service
from verifier_api.settings import Settings


@dataclass(frozen=True)
class Keys:
    """Full API keys by scope, and one revoked key."""

    verify: str
    log: str
    sign: str
    admin: str
    revoked: str

    def header(self, scope: str) -> dict[str, str]:
        """The Authorization header for the key named ``scope``."""
        return {"Authorization": f"Bearer {getattr(self, scope)}"}


@dataclass(frozen=True)
class Api:
    """An app under test with its client and keys."""

    app: FastAPI
    client: TestClient
    keys: Keys

    @property
    def service(self) -> Service:
        """The app's service parts."""
        service: Service = self.app.state.service
        return service


def make_keys(service: Service) -> Keys:
    """One key per scope and one revoked key."""
    now = datetime.now(UTC)
    full = {scope: crud.create_api_key(service.engine, "t", scope, now=now)[1] for scope in Scope}
    revoked_row, revoked = crud.create_api_key(service.engine, "old", Scope.ADMIN, now=now)
    crud.revoke_api_key(service.engine, revoked_row.id, now=now)
    return Keys(full[Scope.VERIFY], full[Scope.LOG], full[Scope.SIGN], full[Scope.ADMIN], revoked)


@pytest.fixture(scope="session")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One publisher home for the session (each app gets its own database)."""
    return make_home(tmp_path_factory.mktemp("publisher") / "home")


def open_api(home: Path, database_url: str, **limits: object) -> Generator[Api]:
    """Build an app on ``database_url`` and run it (lifespan included) while the caller uses it."""
    settings = Settings(
        home=home,
        database_url=database_url,
        passphrase=SecretStr(PASSPHRASE),
        **limits,  # type: ignore[arg-type]
    )
    app = create_app(settings)
    with TestClient(app) as client:
        yield Api(app, client, make_keys(app.state.service))


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def api(
    request: pytest.FixtureRequest, home: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Api]:
    """The app on SQLite and on PostgreSQL."""
    with ExitStack() as stack:
        if request.param == "postgres":
            url = stack.enter_context(postgres_database())
        else:
            url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'provenance.db'}"
        yield from open_api(home, url)
