"""`prov trust update` refuses what a hostile or broken server hands out (TUF via ngclient).

The "server" here is the publisher's URL serving a copy of its repository that the test altered:
an older version (rollback), a trust root edited after signing, metadata signed by a key the root
does not name, and expired metadata (freeze). Each is refused with one line and a status code, and
the store keeps the trust root of its last good update.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from tuf.api.metadata import Metadata, Timestamp

from provenance.keys import KeyType, generate_key
from provenance.trust_repository import TrustRepository, tuf_signer
from tests.integration.api.support import PASSPHRASE
from tests.integration.trust.support import TUF, Publisher, prov, served_publisher


@pytest.fixture
def alpha(tmp_path: Path) -> Iterator[Publisher]:
    with served_publisher(tmp_path / "homes", "Alpha Reviews") as publisher:
        yield publisher


@pytest.fixture
def store(alpha: Publisher, tmp_path: Path) -> Path:
    """A store that trusts alpha at its current version."""
    directory = tmp_path / "store"
    code, _, err = prov(
        "trust", "add", "alpha", alpha.url, "--root", alpha.root_json, "--store", directory
    )
    assert code == 0, err
    return directory


def _serve_copy(publisher: Publisher, directory: Path) -> None:
    """From now on the publisher's URL serves ``directory`` as its TUF repository, verbatim."""
    publisher.swap.app = Starlette(routes=[Mount(TUF, StaticFiles(directory=directory))])  # type: ignore[assignment]


def _copy(publisher: Publisher, target: Path) -> Path:
    shutil.copytree(publisher.home / "tuf", target)
    return target


def _update_refused(store: Path) -> str:
    before = (store / "publishers" / "alpha" / "trust-root.json").read_bytes()
    code, _, err = prov("trust", "update", "alpha", "--store", store)
    assert code == 1
    assert len(err.strip().splitlines()) == 1, err
    assert (store / "publishers" / "alpha" / "trust-root.json").read_bytes() == before
    return err


def _resign_timestamp(copy: Path, *, key_from_home: Path | None, expires: datetime) -> None:
    path = copy / "metadata" / "timestamp.json"
    metadata = Metadata[Timestamp].from_bytes(path.read_bytes())
    metadata.signed.version += 1
    metadata.signed.expires = expires.replace(microsecond=0)
    if key_from_home is None:
        key = generate_key(KeyType.ED25519)
    else:
        key = TrustRepository(key_from_home / "tuf").load_online_key(PASSPHRASE.encode())
    metadata.signatures.clear()
    metadata.sign(tuf_signer(key))
    path.write_bytes(metadata.to_bytes())


def test_update_refuses_a_rolled_back_trust_root_version(
    alpha: Publisher, store: Path, tmp_path: Path
) -> None:
    old = _copy(alpha, tmp_path / "version-1")
    alpha.service.authority.publish_crl(datetime.now(UTC))
    code, _, err = prov("trust", "update", "alpha", "--store", store)
    assert code == 0 and "trust root version 2" in err, err
    _serve_copy(alpha, old)
    err = _update_refused(store)
    assert "[trust.rollback]" in err


def test_update_refuses_a_trust_root_edited_on_the_server(
    alpha: Publisher, store: Path, tmp_path: Path
) -> None:
    copy = _copy(alpha, tmp_path / "edited")
    (target,) = (copy / "targets").iterdir()
    target.write_bytes(target.read_bytes().replace(b"Alpha Reviews", b"Alpha Reviewz"))
    _serve_copy(alpha, copy)
    err = _update_refused(store)
    assert "[trust.target.mismatch]" in err


def test_update_refuses_metadata_signed_by_a_key_not_in_the_root(
    alpha: Publisher, store: Path, tmp_path: Path
) -> None:
    copy = _copy(alpha, tmp_path / "foreign")
    _resign_timestamp(copy, key_from_home=None, expires=datetime.now(UTC) + timedelta(days=1))
    _serve_copy(alpha, copy)
    err = _update_refused(store)
    assert "[trust.signature]" in err


def test_update_refuses_expired_metadata_a_freeze(
    alpha: Publisher, store: Path, tmp_path: Path
) -> None:
    copy = _copy(alpha, tmp_path / "frozen")
    _resign_timestamp(
        copy, key_from_home=alpha.home, expires=datetime.now(UTC) - timedelta(minutes=1)
    )
    _serve_copy(alpha, copy)
    err = _update_refused(store)
    assert "[trust.expired]" in err
