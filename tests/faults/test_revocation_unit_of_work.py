"""Revoking a certificate and publishing the CRL that lists it are one unit of work (issue 16.8).

A failure between the two steps (here: building the CRL, after the revocation row was written)
leaves neither applied, on SQLite and on PostgreSQL (a fresh database, dropped afterwards). Before,
the revocation was committed in its own transaction and stayed recorded without its CRL.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography import x509
from sqlalchemy.engine import Engine

from provenance.identity import create_csr
from provenance.keys import KeyType, generate_key
from tests.integration.api.support import BASE_URL, PASSPHRASE, make_home, postgres_database
from verifier_api import crud
from verifier_api import stored_authority as authority_module
from verifier_api.db import make_engine
from verifier_api.migrations import upgrade_database
from verifier_api.publisher import load_publisher
from verifier_api.stored_authority import StoredAuthority

IDENTITY = f"{BASE_URL}/u/unit-of-work"


class CrlRefusedError(Exception):
    """The injected failure between recording the revocation and publishing its CRL."""


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_home(tmp_path_factory.mktemp("uow") / "home")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A migrated service database on each backend."""
    with ExitStack() as stack:
        if request.param == "postgres":
            url = stack.enter_context(postgres_database())
        else:
            url = f"sqlite:///{tmp_path / 'provenance.db'}"
        engine = make_engine(url)
        upgrade_database(engine)
        stack.callback(engine.dispose)
        yield engine


def _issued(authority: StoredAuthority, now: datetime) -> x509.Certificate:
    csr = create_csr(generate_key(KeyType.P256), "https://ignored.example/x")
    return authority.issue(csr, IDENTITY, 30, now)[0]


def _state(engine: Engine) -> tuple[list[int], int]:
    version = crud.read_crl_version(engine)
    assert version is not None
    return [entry.serial_number for entry in crud.revocations(engine)], version[0]


def test_a_failure_between_revoking_and_publishing_applies_neither(
    home: Path, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    authority = StoredAuthority(engine, load_publisher(home, PASSPHRASE.encode()))
    authority.refresh_crl(now)
    leaf = _issued(authority, now)
    before = _state(engine)

    def refused(*_: object, **__: object) -> x509.CertificateRevocationList:
        raise CrlRefusedError

    with monkeypatch.context() as patch:
        patch.setattr(authority_module, "build_crl", refused)
        with pytest.raises(CrlRefusedError):
            authority.revoke(leaf, x509.ReasonFlags.key_compromise, None, now)
    assert _state(engine) == before
    entry, crl = authority.revoke(leaf, x509.ReasonFlags.key_compromise, None, now)
    assert _state(engine) == ([leaf.serial_number], before[1] + 1)
    assert crl.crl_number == before[1] + 1
    listed = x509.load_der_x509_crl(crl.crl_der)
    assert listed.get_revoked_certificate_by_serial_number(entry.serial_number) is not None


def test_revoking_twice_is_a_conflict_that_publishes_nothing(home: Path, engine: Engine) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    authority = StoredAuthority(engine, load_publisher(home, PASSPHRASE.encode()))
    leaf = _issued(authority, now)
    authority.revoke(leaf, x509.ReasonFlags.superseded, None, now)
    after_first = _state(engine)
    with pytest.raises(crud.ConflictError):
        authority.revoke(leaf, x509.ReasonFlags.key_compromise, None, now)
    assert _state(engine) == after_first
