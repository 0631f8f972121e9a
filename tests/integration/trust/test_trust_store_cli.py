"""`prov trust add/update/list` and `prov verify --publisher` against publishers on loopback."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from provenance.identity import issue_certificate
from provenance.keys import KeyType, generate_key
from provenance.sign import Signer
from provenance.statement import Author, ContentPredicate
from provenance.text import Canonicalization
from provenance.trust_store import EXPIRED, TrustStore, TrustStoreError
from provenance.verify.policy import Identity
from tests.integration.trust.support import Publisher, prov, write_review


def _add(publisher: Publisher, name: str, store: Path) -> None:
    code, _, err = prov(
        "trust", "add", name, publisher.url, "--root", publisher.root_json, "--store", store
    )
    assert code == 0, err


def test_trust_add_list_and_verify_with_the_named_publisher(
    alpha: Publisher, store: Path, tmp_path: Path
) -> None:
    _add(alpha, "alpha", store)
    code, out, _ = prov("trust", "list", "--store", store)
    assert code == 0
    assert out.startswith(f"alpha\t{alpha.url}\tversion 1\texpires ")
    text = "Sturdy lamp.\n"
    review = write_review(tmp_path, "r", text, alpha.sign(text))
    code, _, err = prov(
        "verify",
        review,
        "--publisher",
        "alpha",
        "--trust-store",
        store,
        "--identity",
        alpha.identity,
    )
    assert code == 0, err
    assert "(publisher alpha)" in err


def test_trust_add_with_root_sha256_checks_the_fetched_root(alpha: Publisher, store: Path) -> None:
    digest = hashlib.sha256(alpha.root_json.read_bytes()).hexdigest()
    wrong = hashlib.sha256(b"another root").hexdigest()
    code, _, err = prov(
        "trust", "add", "alpha", alpha.url, "--root-sha256", wrong, "--store", store
    )
    assert code == 1
    assert "[trust.root.mismatch]" in err and wrong in err
    assert not (store / "publishers" / "alpha").exists()
    code, _, err = prov(
        "trust", "add", "alpha", alpha.url, "--root-sha256", digest, "--store", store
    )
    assert code == 0, err


def test_trust_add_without_a_root_is_refused_no_trust_on_first_use(
    alpha: Publisher, store: Path
) -> None:
    code, _, err = prov("trust", "add", "alpha", alpha.url, "--store", store)
    assert code == 2
    assert "give exactly one of --root ROOT_JSON or --root-sha256 HEX" in err


def test_trust_add_refuses_plain_http_to_a_non_loopback_host(alpha: Publisher, store: Path) -> None:
    code, _, err = prov(
        "trust",
        "add",
        "alpha",
        "http://reviews.example",
        "--root",
        alpha.root_json,
        "--store",
        store,
    )
    assert code == 2
    assert "[trust.store.invalid]" in err


def test_trust_update_picks_up_a_new_trust_root_version(alpha: Publisher, store: Path) -> None:
    _add(alpha, "alpha", store)
    alpha.service.authority.publish_crl(datetime.now(UTC))
    code, _, err = prov("trust", "update", "alpha", "--store", store)
    assert code == 0, err
    assert "trust root version 2" in err


def test_verify_with_an_expired_trust_root_asks_for_an_update(
    alpha: Publisher, store: Path
) -> None:
    _add(alpha, "alpha", store)
    later = datetime.now(UTC) + timedelta(days=8)
    with pytest.raises(TrustStoreError) as caught:
        TrustStore(store).trust_root("alpha", now=later)
    assert caught.value.code == EXPIRED
    assert "prov trust update alpha" in caught.value.message


def test_verify_finds_the_publisher_without_being_told(
    alpha: Publisher, beta: Publisher, store: Path, tmp_path: Path
) -> None:
    _add(alpha, "alpha", store)
    _add(beta, "beta", store)
    for publisher, name in ((alpha, "alpha"), (beta, "beta")):
        text = f"A review for {name}.\n"
        review = write_review(tmp_path, name, text, publisher.sign(text))
        code, _, err = prov(
            "verify", review, "--trust-store", store, "--identity", publisher.identity
        )
        assert code == 0, err
        assert f"(publisher {name})" in err


def test_verify_through_the_store_still_requires_an_identity(
    alpha: Publisher, store: Path, tmp_path: Path
) -> None:
    _add(alpha, "alpha", store)
    text = "No identity asked.\n"
    review = write_review(tmp_path, "r", text, alpha.sign(text))
    code, _, err = prov("verify", review, "--trust-store", store)
    assert code == 1
    assert "policy.identity.required" in err


def test_verify_with_a_store_lacking_the_publisher_says_so(
    alpha: Publisher, beta: Publisher, store: Path, tmp_path: Path
) -> None:
    _add(beta, "beta", store)
    text = "Signed by alpha.\n"
    review = write_review(tmp_path, "r", text, alpha.sign(text))
    code, _, err = prov("verify", review, "--trust-store", store, "--identity", alpha.identity)
    assert code == 1
    assert "[trust.publisher.none]" in err


def test_discovery_names_the_publisher_whose_anchors_certify_a_bundle_logged_elsewhere(
    alpha: Publisher, beta: Publisher, store: Path
) -> None:
    _add(alpha, "alpha", store)
    _add(beta, "beta", store)
    dana = "https://alpha-reviews.example/u/dana"
    key = generate_key(KeyType.P256)
    chain = issue_certificate(
        alpha.service.publisher.authority, key.public_key, dana, now=datetime.now(UTC)
    )
    signer = Signer(key, chain, beta.service.sequencer)
    predicate = ContentPredicate(
        content_type="text/plain",
        canonicalization=Canonicalization.TEXT_V1,
        created=datetime.now(UTC).replace(microsecond=0),
        author=Author(dana, "Dana"),
        publisher=alpha.name,
        claims={},
    )
    text = b"Certified by alpha, logged at beta.\n"
    bundle = signer.sign_statement(signer.statement_for(text, "content", predicate)).to_bytes()
    found = TrustStore(store).verify(text, bundle, Identity(dana), at=datetime.now(UTC))
    assert found.publisher == "alpha"
    assert [f.code for f in found.result.failures] == ["log.untrusted"]


def test_verify_json_through_the_store_names_the_publisher(
    alpha: Publisher, store: Path, tmp_path: Path
) -> None:
    _add(alpha, "alpha", store)
    text = "In JSON.\n"
    review = write_review(tmp_path, "r", text, alpha.sign(text))
    code, out, _ = prov(
        "verify", review, "--trust-store", store, "--identity", alpha.identity, "--json"
    )
    assert code == 0
    answer = json.loads(out)
    assert answer["verified"] is True
    assert answer["publisher"] == "alpha"
