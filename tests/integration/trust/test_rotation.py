"""Trust over years: two publishers on loopback, rotations of the first one's signing key, issuing
CA and log key with signing in between, and a root-signed revocation of the retired issuing CA.

Every review signed before and after each rotation keeps verifying through the trust store
(without naming its publisher) once the store has updated; revoking the old issuing CA invalidates
only what that CA's certificates signed after the revocation.
"""

from __future__ import annotations

import json
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509

from provenance.identity import issue_certificate
from provenance.keys import KeyType, generate_key
from provenance.sign import Signer
from provenance.statement import Author, ContentPredicate
from provenance.text import Canonicalization
from provenance.trust_repository import TrustRepository
from provenance.trust_store import TrustStore
from provenance.verify.policy import Identity
from tests.integration.api.support import make_home
from tests.integration.trust.support import Publisher, prov, write_review


def _add(publisher: Publisher, name: str, store: Path) -> None:
    code, _, err = prov(
        "trust", "add", name, publisher.url, "--root", publisher.root_json, "--store", store
    )
    assert code == 0, err


def _verify_every_review(publishers: list[Publisher], store: Path, directory: Path) -> None:
    for publisher in publishers:
        for number, (text, bundle) in enumerate(publisher.signed):
            review = write_review(directory, f"{publisher.home.name}-{number}", text, bundle)
            code, _, err = prov(
                "verify", review, "--trust-store", store, "--identity", publisher.identity
            )
            assert code == 0, f"{publisher.name} review {number}: {err}"


def _trust_root_version(store: Path, name: str) -> int:
    code, out, _ = prov("trust", "list", "--store", store, "--json")
    assert code == 0
    (record,) = [r for r in json.loads(out) if r["name"] == name]
    version: int = record["trustRootVersion"]
    return version


def _rotate(publisher: Publisher, *command: str) -> None:
    code, _, err = prov(*command, "--home", publisher.home)
    assert code == 0, err
    publisher.restart()


def test_reviews_keep_verifying_through_key_ca_and_log_rotations(
    alpha: Publisher, beta: Publisher, store: Path, tmp_path: Path
) -> None:
    _add(alpha, "alpha", store)
    _add(beta, "beta", store)
    alpha.sign("Before any rotation.\n")
    beta.sign("Beta's review.\n")
    _verify_every_review([alpha, beta], store, tmp_path)
    versions = [_trust_root_version(store, "alpha")]
    rotations = (
        ("serve", "rotate-key"),
        ("ca", "rotate-issuing"),
        ("log", "rotate-key"),
    )
    for command in rotations:
        _rotate(alpha, *command)
        alpha.sign(f"After {' '.join(command)}.\n")
        beta.sign(f"Beta, meanwhile ({' '.join(command)}).\n")
        code, _, err = prov("trust", "update", "--store", store)
        assert code == 0, err
        versions.append(_trust_root_version(store, "alpha"))
        _verify_every_review([alpha, beta], store, tmp_path)
    assert versions == sorted(set(versions)), versions
    assert len(alpha.signed) == 4


def _sign_as_author(publisher: Publisher, key_chain: tuple, text: str) -> bytes:  # type: ignore[type-arg]
    key, chain = key_chain
    signer = Signer(key, chain, publisher.service.sequencer)
    predicate = ContentPredicate(
        content_type="text/plain",
        canonicalization=Canonicalization.TEXT_V1,
        created=datetime.now(UTC).replace(microsecond=0),
        author=Author("https://alpha-reviews.example/u/dana", "Dana"),
        publisher=publisher.name,
        claims={},
    )
    statement = signer.statement_for(text.encode(), "content", predicate)
    return signer.sign_statement(statement).to_bytes()


def test_revoking_the_retired_issuing_ca_invalidates_only_later_signatures(
    alpha: Publisher, store: Path
) -> None:
    _add(alpha, "alpha", store)
    dana = "https://alpha-reviews.example/u/dana"
    author_key = generate_key(KeyType.P256)
    old_ca = alpha.service.publisher.authority
    chain = issue_certificate(old_ca, author_key.public_key, dana, now=datetime.now(UTC))
    before = _sign_as_author(alpha, (author_key, chain), "Signed before the revocation.\n")
    service_review = alpha.sign("The service, under the old CA.\n")
    _rotate(alpha, "ca", "rotate-issuing")
    time.sleep(1.1)  # log times are whole seconds: the revocation comes strictly later
    code, _, err = prov(
        "ca", "revoke-issuing", "--home", alpha.home,
        "--serial", f"{old_ca.issuing_certificate.serial_number:x}", "--reason", "keyCompromise",
    )  # fmt: skip
    assert code == 0, err
    alpha.restart()
    time.sleep(1.1)
    after = _sign_as_author(alpha, (author_key, chain), "Signed after the revocation.\n")
    code, _, err = prov("trust", "update", "alpha", "--store", store)
    assert code == 0, err

    trust_store = TrustStore(store)
    now = datetime.now(UTC)
    kept = trust_store.verify(b"Signed before the revocation.\n", before, Identity(dana), at=now)
    assert kept.result.verified, kept.result.failures
    service = json.dumps(service_review).encode()
    text = b"The service, under the old CA.\n"
    assert trust_store.verify(text, service, Identity(alpha.identity), at=now).result.verified
    refused = trust_store.verify(b"Signed after the revocation.\n", after, Identity(dana), at=now)
    assert not refused.result.verified
    assert refused.publisher == "alpha"
    assert [f.code for f in refused.result.failures] == ["certificate.revoked"]


def _home(tmp_path: Path) -> Path:
    return make_home(tmp_path / "home")


def test_revoke_issuing_refuses_the_current_issuing_ca(tmp_path: Path) -> None:
    home = _home(tmp_path)
    current = x509.load_pem_x509_certificate((home / "ca" / "issuing.pem").read_bytes())
    code, _, err = prov(
        "ca", "revoke-issuing", "--home", home, "--serial", f"{current.serial_number:x}"
    )
    assert code == 3
    assert "rotate it first" in err
    assert not (home / "retired" / "root.crl.pem").exists()


def test_rotate_issuing_refuses_a_key_that_is_not_the_root_key(tmp_path: Path) -> None:
    home = _home(tmp_path)
    other = tmp_path / "other.key"
    code, _, _ = prov("key", "generate", "--out", other)
    assert code == 0
    before = (home / "ca" / "issuing.pem").read_bytes()
    code, _, err = prov("ca", "rotate-issuing", "--home", home, "--root-key", other)
    assert code == 3
    assert "not the key of the root certificate" in err
    assert (home / "ca" / "issuing.pem").read_bytes() == before


def test_each_rotation_signs_a_new_trust_root_and_root_keys_sign_new_root_versions(
    tmp_path: Path,
) -> None:
    home = _home(tmp_path)
    repository = TrustRepository(home / "tuf")
    assert prov("serve", "rotate-key", "--home", home)[0] == 0
    first = repository.state()
    assert prov("ca", "rotate-issuing", "--home", home)[0] == 0
    second = repository.state()
    assert prov("log", "rotate-key", "--home", home)[0] == 0
    third = repository.state()
    assert first.targets_version < second.targets_version < third.targets_version
    assert (first.root_version, second.root_version, third.root_version) == (1, 2, 2)


def test_new_online_key_reaches_clients_through_a_new_root_version(
    alpha: Publisher, store: Path, tmp_path: Path
) -> None:
    _add(alpha, "alpha", store)
    alpha.sign("Before the online key changed.\n")
    old_online = (alpha.home / "tuf" / "online.key").read_bytes()
    _rotate(alpha, "serve", "sign-tuf-root", "--rotate-online-key")
    assert (alpha.home / "tuf" / "online.key").read_bytes() != old_online
    code, _, err = prov("trust", "update", "alpha", "--store", store)
    assert code == 0, err
    code, out, _ = prov("trust", "list", "--store", store, "--json")
    assert json.loads(out)[0]["rootVersion"] == 2
    _verify_every_review([alpha], store, tmp_path)


def test_init_tuf_adds_a_repository_to_a_home_made_without_one(tmp_path: Path) -> None:
    home = _home(tmp_path)
    shutil.rmtree(home / "tuf")
    code, _, err = prov("serve", "init-tuf", "--home", home)
    assert code == 0, err
    state = TrustRepository(home / "tuf").state()
    assert (state.root_version, state.targets_version) == (1, 1)
    code, _, err = prov("serve", "init-tuf", "--home", home)
    assert code == 3
    assert "holds a TUF repository already" in err
