"""The publisher's TUF repository: versions, expiries and re-signing (python-tuf metadata)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from tuf.api.metadata import Metadata, Root, Timestamp

from provenance.identity.crl import build_crl
from provenance.keys import KeyType, generate_key
from provenance.trust_repository import (
    TIMESTAMP_LIFETIME,
    TrustRepository,
    TrustRepositoryError,
)
from tests.factories import authority_trust, make_authority

NOW = datetime(2026, 1, 1, tzinfo=UTC)
PASSPHRASE = b"correct horse battery"


@pytest.fixture
def repository(tmp_path: Path) -> TrustRepository:
    return TrustRepository.create(
        tmp_path / "tuf", root_key=generate_key(KeyType.P256), passphrase=PASSPHRASE, now=NOW
    )


def _timestamp(repository: TrustRepository) -> Timestamp:
    data = repository.metadata_file("timestamp.json")
    assert data is not None
    return Metadata[Timestamp].from_bytes(data).signed


def test_first_publish_signs_version_1_of_every_online_role(repository: TrustRepository) -> None:
    key = repository.load_online_key(PASSPHRASE)
    assert repository.publish(b'{"a": 1}\n', key, NOW)
    state = repository.state()
    assert (state.root_version, state.targets_version) == (1, 1)
    assert state.targets_expires == NOW + timedelta(days=7)
    assert _timestamp(repository).expires == NOW + TIMESTAMP_LIFETIME


def test_unchanged_trust_root_signs_nothing_until_the_timestamp_ages(
    repository: TrustRepository,
) -> None:
    key = repository.load_online_key(PASSPHRASE)
    repository.publish(b"one", key, NOW)
    assert not repository.publish(b"one", key, NOW + timedelta(hours=1))
    assert repository.publish(b"one", key, NOW + timedelta(hours=13))
    assert _timestamp(repository).version == 2
    assert repository.state().targets_version == 1


def test_expired_timestamp_is_re_signed_on_publish(repository: TrustRepository) -> None:
    key = repository.load_online_key(PASSPHRASE)
    repository.publish(b"one", key, NOW)
    later = NOW + timedelta(days=2)
    assert repository.publish(b"one", key, later)
    assert _timestamp(repository).expires == later + TIMESTAMP_LIFETIME


def test_changed_trust_root_is_a_new_targets_version(repository: TrustRepository) -> None:
    key = repository.load_online_key(PASSPHRASE)
    repository.publish(b"one", key, NOW)
    repository.publish(b"two", key, NOW)
    state = repository.state()
    assert state.targets_version == 2
    assert repository.target_file(f"{state.trust_root_sha256}.trust-root.json") == b"two"


def test_sign_root_refuses_a_key_that_is_not_the_root_key(repository: TrustRepository) -> None:
    with pytest.raises(TrustRepositoryError, match="not the root key"):
        repository.sign_root(generate_key(KeyType.P256), NOW)


def test_sign_root_with_a_new_root_key_is_signed_by_old_and_new(tmp_path: Path) -> None:
    old, new = generate_key(KeyType.P256), generate_key(KeyType.P256)
    repository = TrustRepository.create(
        tmp_path / "t", root_key=old, passphrase=PASSPHRASE, now=NOW
    )
    assert repository.sign_root(old, NOW, new_root_key=new) == 2
    version_1 = Metadata[Root].from_bytes(repository.root_bytes(1))
    version_2 = Metadata[Root].from_bytes(repository.root_bytes(2))
    version_1.verify_delegate(Root.type, version_2)
    version_2.verify_delegate(Root.type, version_2)


@pytest.mark.parametrize(
    "name", ["../settings.json", "online.key", "0.root.json", "root.json", ".lock", "1.root.json/"]
)
def test_only_metadata_names_are_served(repository: TrustRepository, name: str) -> None:
    assert repository.metadata_file(name) is None
    assert repository.target_file(name) is None


def test_online_key_must_be_the_one_the_root_names(repository: TrustRepository) -> None:
    from provenance.keys import write_private_key  # noqa: PLC0415

    (repository.directory / "online.key").unlink()
    write_private_key(repository.directory / "online.key", generate_key(KeyType.ED25519), None)
    with pytest.raises(TrustRepositoryError, match="not the key the root metadata names"):
        repository.load_online_key(None)


def _trust_roots_with_crls(count: int) -> list[bytes]:
    """``count`` exports of one authority's trust root, each with the next CRL number."""
    authority = make_authority()
    return [
        authority_trust(authority, crl=build_crl(authority, now=NOW)).to_json()
        for _ in range(count)
    ]


def test_trust_root_with_an_older_crl_is_not_published_over_a_newer_one(
    repository: TrustRepository,
) -> None:
    older, newer = _trust_roots_with_crls(2)
    key = repository.load_online_key(PASSPHRASE)
    repository.publish(newer, key, NOW)
    assert not repository.publish(older, key, NOW + timedelta(minutes=1))
    state = repository.state()
    assert state.targets_version == 1
    assert repository.target_file(f"{state.trust_root_sha256}.trust-root.json") == newer


def test_trust_root_with_a_newer_crl_replaces_an_older_one(repository: TrustRepository) -> None:
    older, newer = _trust_roots_with_crls(2)
    key = repository.load_online_key(PASSPHRASE)
    repository.publish(older, key, NOW)
    assert repository.publish(newer, key, NOW + timedelta(minutes=1))
    state = repository.state()
    assert state.targets_version == 2
    assert repository.target_file(f"{state.trust_root_sha256}.trust-root.json") == newer


def test_forced_publish_keeps_the_newer_crl(repository: TrustRepository) -> None:
    older, newer = _trust_roots_with_crls(2)
    key = repository.load_online_key(PASSPHRASE)
    repository.publish(newer, key, NOW)
    repository.publish(older, key, NOW, force=True)
    state = repository.state()
    assert repository.target_file(f"{state.trust_root_sha256}.trust-root.json") == newer
