"""Attacks on model signatures: hostile statements signed by a trusted key, edited bundles, the
sigstore method smuggled in, files injected next to a signed model, and the log rules."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from provenance.dsse import INTOTO_PAYLOAD_TYPE, pae
from provenance.errors import KeyFormatError
from provenance.keys import P256_ORDER, KeyType, generate_key
from provenance.model import ModelSigner, Serialization, default_ignores, serialize_model
from provenance.model.container import oms_key_hint
from provenance.model.serialize import root_digest
from provenance.model.signing import sign_der
from provenance.model.verify import ModelVerifier
from provenance.verify.policy import Identity
from tests.adversarial.attack import logged_trust, transparency_log
from tests.factories import NOW
from tests.model_support import (
    AUTHOR,
    CERT_TRUST,
    KEY,
    TRUST,
    codes,
    make_model,
    sign_model,
    verify_model,
)


def _resign(data: bytes, edit_statement: Any) -> bytes:
    """Edit the signed statement, then sign it again with the trusted key (a hostile signer)."""
    bundle = json.loads(data)
    statement = json.loads(base64.b64decode(bundle["dsseEnvelope"]["payload"]))
    edit_statement(statement)
    payload = rfc8785.dumps(statement)
    signature = sign_der(KEY, pae(INTOTO_PAYLOAD_TYPE, payload))
    bundle["dsseEnvelope"]["payload"] = base64.b64encode(payload).decode()
    bundle["dsseEnvelope"]["signatures"][0]["sig"] = base64.b64encode(signature).decode()
    return json.dumps(bundle).encode()


def _fix_subject(statement: dict[str, Any]) -> None:
    digests = (bytes.fromhex(r["digest"]) for r in statement["predicate"]["resources"])
    statement["subject"][0]["digest"]["sha256"] = root_digest(digests)


@pytest.fixture
def model(tmp_path: Path) -> Path:
    return make_model(tmp_path / "model")


def test_good_signature_verifies_with_every_step(model: Path) -> None:
    outcome = verify_model(model, sign_model(model))
    assert outcome.verified, outcome.result.findings
    assert codes(outcome)[-1] == "digest.ok"


def test_resource_name_escaping_the_model_is_malformed_even_when_signed(model: Path) -> None:
    (model.parent / "outside.txt").write_text("secret\n")

    def escape(statement: dict[str, Any]) -> None:
        statement["predicate"]["resources"][0]["name"] = "../outside.txt"
        _fix_subject(statement)

    outcome = verify_model(model, _resign(sign_model(model), escape))
    assert codes(outcome) == ["statement.malformed"]
    assert "../outside.txt" in outcome.result.findings[0].message


@pytest.mark.parametrize("name", ["/etc/passwd", "a//b", "./a.txt", "a\\b", "weights/"])
def test_non_canonical_resource_names_are_malformed(model: Path, name: str) -> None:
    def rename(statement: dict[str, Any]) -> None:
        statement["predicate"]["resources"][0]["name"] = name
        _fix_subject(statement)

    assert codes(verify_model(model, _resign(sign_model(model), rename))) == ["statement.malformed"]


def test_resource_listed_twice_is_malformed(model: Path) -> None:
    def duplicate(statement: dict[str, Any]) -> None:
        resources = statement["predicate"]["resources"]
        resources.append(dict(resources[0]))
        _fix_subject(statement)

    assert codes(verify_model(model, _resign(sign_model(model), duplicate))) == [
        "statement.malformed"
    ]


def test_subject_digest_that_does_not_cover_the_resources_is_malformed(model: Path) -> None:
    def drop(statement: dict[str, Any]) -> None:
        statement["predicate"]["resources"].pop()

    outcome = verify_model(model, _resign(sign_model(model), drop))
    assert codes(outcome) == ["statement.malformed"]
    assert "subject digest" in outcome.result.findings[0].message


def test_unknown_hash_type_is_unsupported(model: Path) -> None:
    def blake3(statement: dict[str, Any]) -> None:
        statement["predicate"]["serialization"]["hash_type"] = "blake3"

    assert codes(verify_model(model, _resign(sign_model(model), blake3))) == [
        "statement.unsupported"
    ]


def test_edited_digest_without_the_key_breaks_the_signature(model: Path) -> None:
    bundle = json.loads(sign_model(model))
    statement = json.loads(base64.b64decode(bundle["dsseEnvelope"]["payload"]))
    statement["predicate"]["resources"][0]["digest"] = "00" * 32
    _fix_subject(statement)
    bundle["dsseEnvelope"]["payload"] = base64.b64encode(rfc8785.dumps(statement)).decode()
    outcome = verify_model(model, json.dumps(bundle).encode())
    assert codes(outcome)[-1] == "signature.invalid"
    assert outcome.files is None


def test_forged_ignore_paths_never_hide_a_file_because_hashing_needs_a_verified_signer(
    model: Path,
) -> None:
    data = sign_model(model)
    (model / "weights" / "backdoor.bin").write_bytes(b"\xcc")
    bundle = json.loads(data)
    statement = json.loads(base64.b64decode(bundle["dsseEnvelope"]["payload"]))
    statement["predicate"]["serialization"]["ignore_paths"].append("weights/backdoor.bin")
    bundle["dsseEnvelope"]["payload"] = base64.b64encode(rfc8785.dumps(statement)).decode()
    assert codes(verify_model(model, json.dumps(bundle).encode()))[-1] == "signature.invalid"
    assert codes(verify_model(model, data))[-1] == "model.file.extra"


def test_trailing_byte_after_the_der_signature_is_invalid(model: Path) -> None:
    bundle = json.loads(sign_model(model))
    signature = base64.b64decode(bundle["dsseEnvelope"]["signatures"][0]["sig"]) + b"\x00"
    bundle["dsseEnvelope"]["signatures"][0]["sig"] = base64.b64encode(signature).decode()
    outcome = verify_model(model, json.dumps(bundle).encode())
    assert codes(outcome)[-1] == "signature.invalid"


def test_p1363_signature_is_not_accepted_for_an_oms_bundle(model: Path) -> None:
    bundle = json.loads(sign_model(model))
    payload = base64.b64decode(bundle["dsseEnvelope"]["payload"])
    raw = KEY.sign_p1363(pae(INTOTO_PAYLOAD_TYPE, payload))
    bundle["dsseEnvelope"]["signatures"][0]["sig"] = base64.b64encode(raw).decode()
    assert codes(verify_model(model, json.dumps(bundle).encode()))[-1] == "signature.invalid"


def _high_s(signature: bytes) -> bytes:
    r, s = decode_dss_signature(signature)
    return encode_dss_signature(r, P256_ORDER - s)


def test_high_s_signature_verifies_in_an_oms_bundle_as_the_reference_signs_them(
    model: Path,
) -> None:
    bundle = json.loads(sign_model(model))
    signature = base64.b64decode(bundle["dsseEnvelope"]["signatures"][0]["sig"])
    bundle["dsseEnvelope"]["signatures"][0]["sig"] = base64.b64encode(_high_s(signature)).decode()
    assert verify_model(model, json.dumps(bundle).encode()).verified


def test_high_s_twin_of_our_logged_bundle_is_the_same_logged_envelope(model: Path) -> None:
    bundle = json.loads(_logged(model))
    signature = base64.b64decode(bundle["dsseEnvelope"]["signatures"][0]["sig"])
    bundle["dsseEnvelope"]["signatures"][0]["sig"] = base64.b64encode(_high_s(signature)).decode()
    outcome = verify_model(model, json.dumps(bundle).encode(), logged_trust(TRUST))
    assert outcome.verified, codes(outcome)


def test_hint_of_an_unpinned_key_is_untrusted(model: Path) -> None:
    stranger = generate_key(KeyType.P256)
    outcome = verify_model(model, sign_model(model, stranger))
    assert codes(outcome)[-1] == "key.untrusted"


def test_keyid_naming_another_key_is_a_key_mismatch(model: Path) -> None:
    bundle = json.loads(sign_model(model))
    bundle["dsseEnvelope"]["signatures"][0]["keyid"] = "ab" * 32
    assert codes(verify_model(model, json.dumps(bundle).encode()))[-1] == "key.mismatch"


def test_null_keyid_is_accepted_as_the_oms_schema_requires(model: Path) -> None:
    bundle = json.loads(sign_model(model))
    bundle["dsseEnvelope"]["signatures"][0]["keyid"] = None
    assert verify_model(model, json.dumps(bundle).encode()).verified


def test_second_signature_is_refused(model: Path) -> None:
    bundle = json.loads(sign_model(model))
    bundle["dsseEnvelope"]["signatures"].append(bundle["dsseEnvelope"]["signatures"][0])
    assert codes(verify_model(model, json.dumps(bundle).encode())) == ["envelope.signatures"]


def test_rekor_entries_next_to_a_key_are_the_unsupported_sigstore_method(model: Path) -> None:
    bundle = json.loads(sign_model(model))
    bundle["verificationMaterial"]["tlogEntries"] = [{"logIndex": "1"}]
    outcome = verify_model(model, json.dumps(bundle).encode())
    assert codes(outcome) == ["bundle.unsupported"]


def test_rfc3161_timestamps_are_unsupported(model: Path) -> None:
    bundle = json.loads(sign_model(model))
    bundle["verificationMaterial"]["timestampVerificationData"] = {
        "rfc3161Timestamps": [{"signedTimestamp": "AA=="}]
    }
    assert codes(verify_model(model, json.dumps(bundle).encode())) == ["bundle.unsupported"]


def test_unknown_field_in_the_container_is_malformed(model: Path) -> None:
    bundle = json.loads(sign_model(model))
    bundle["messageSignature"] = {}
    assert codes(verify_model(model, json.dumps(bundle).encode())) == ["bundle.malformed"]


def test_signature_of_another_model_names_the_differing_files(model: Path, tmp_path: Path) -> None:
    other = make_model(tmp_path / "other")
    (other / "config.json").write_text('{"layers": 3}\n')
    outcome = verify_model(model, sign_model(other))
    assert codes(outcome)[-1] == "model.file.changed"
    assert outcome.files is not None and outcome.files.changed == ("config.json",)


def test_symlink_planted_in_a_signed_model_is_reported(model: Path) -> None:
    data = sign_model(model)
    (model / "weights" / "link.bin").symlink_to("/etc/hostname")
    outcome = verify_model(model, data)
    assert [f.code for f in outcome.result.failures] == ["model.path.unsupported"]
    assert "weights/link.bin" in outcome.result.failures[0].message


def test_shards_detect_a_file_that_grew(model: Path) -> None:
    data = sign_model(model, shard_size=1000)
    with (model / "weights" / "part-1.bin").open("ab") as handle:
        handle.write(b"\x01")
    outcome = verify_model(model, data)
    assert [f.code for f in outcome.result.failures] == ["model.file.changed"]
    assert outcome.files is not None and outcome.files.changed == ("weights/part-1.bin",)


def test_shards_report_an_added_empty_file_by_name(model: Path) -> None:
    data = sign_model(model, shard_size=1000)
    (model / "weights" / "__init__.py").write_bytes(b"")
    outcome = verify_model(model, data)
    assert [f.code for f in outcome.result.failures] == ["model.file.extra"]
    assert outcome.files is not None and outcome.files.extra == ("weights/__init__.py",)
    assert "weights/__init__.py: in the model, but not signed" in outcome.result.failures[0].message


def test_shards_report_a_removed_empty_file_by_name(model: Path) -> None:
    (model / "py.typed").write_bytes(b"")
    data = sign_model(model, shard_size=1000)
    assert verify_model(model, data).verified
    (model / "py.typed").unlink()
    outcome = verify_model(model, data)
    assert [f.code for f in outcome.result.failures] == ["model.file.missing"]
    assert outcome.files is not None and outcome.files.missing == ("py.typed",)


def test_shards_report_a_signed_empty_file_that_gained_content(model: Path) -> None:
    (model / "py.typed").write_bytes(b"")
    data = sign_model(model, shard_size=1000)
    (model / "py.typed").write_bytes(b"partial\n")
    outcome = verify_model(model, data, ignore_unsigned_files=True)
    assert [f.code for f in outcome.result.failures] == ["model.file.changed"]
    assert outcome.files is not None and outcome.files.changed == ("py.typed",)


def test_shards_list_an_empty_file_as_one_zero_length_shard(model: Path) -> None:
    (model / "py.typed").write_bytes(b"")
    manifest = serialize_model(model, Serialization(method="shards", shard_size=1000))
    empty = [r for r in manifest.resources if r.path == "py.typed"]
    assert [(r.name, r.digest) for r in empty] == [("py.typed:0:0", hashlib.sha256().digest())]


@pytest.mark.parametrize(
    ("extra", "digest"),
    [
        ("py.typed:0:0", hashlib.sha256(b"x").hexdigest()),
        ("weights/part-1.bin:0:0", hashlib.sha256().hexdigest()),
        ("py.typed:5:5", hashlib.sha256().hexdigest()),
    ],
)
def test_zero_length_shard_other_than_an_empty_files_only_one_is_malformed(
    model: Path, extra: str, digest: str
) -> None:
    def add(statement: dict[str, Any]) -> None:
        resources = statement["predicate"]["resources"]
        resources.append({"name": extra, "digest": digest, "algorithm": "sha256"})
        _fix_subject(statement)

    outcome = verify_model(model, _resign(sign_model(model, shard_size=1000), add))
    assert codes(outcome) == ["statement.malformed"]


def test_reference_shard_algorithm_name_and_float_shard_size_are_accepted(model: Path) -> None:
    def as_reference(statement: dict[str, Any]) -> None:
        serialization = statement["predicate"]["serialization"]
        serialization["shard_size"] = 1000.0
        for resource in statement["predicate"]["resources"]:
            resource["algorithm"] = "sha256-sharded-1000"

    data = _resign(sign_model(model, shard_size=1000), as_reference)
    assert verify_model(model, data).verified


def test_certificate_signature_verifies_and_names_the_identity(model: Path) -> None:
    outcome = verify_model(model, sign_model(model, AUTHOR.key, AUTHOR.chain), CERT_TRUST)
    assert outcome.verified, outcome.result.findings
    assert outcome.result.signer is not None
    assert outcome.result.signer.identities == ("https://models.example/alice",)


def test_certificate_signature_checked_after_the_leaf_expired_fails(model: Path) -> None:
    data = sign_model(model, AUTHOR.key, AUTHOR.chain)
    later = NOW.replace(year=NOW.year + 1)
    outcome = ModelVerifier(CERT_TRUST).verify(
        model, data, Identity("https://models.example/alice"), at=later, ignore_paths=["model.sig"]
    )
    assert codes(outcome)[-1] == "certificate.expired"


def _logged(model: Path) -> bytes:
    serialization = Serialization(ignore_paths=default_ignores(["model.sig"]))
    manifest = serialize_model(model, serialization)
    data = ModelSigner(KEY, log=transparency_log()).sign(manifest).to_bytes()
    (model / "model.sig").write_bytes(data)
    return data


def test_logged_model_signature_is_a_provenance_bundle_whose_log_proof_verifies(
    model: Path,
) -> None:
    data = _logged(model)
    assert json.loads(data)["mediaType"] == "application/vnd.provenance.bundle.v1+json"
    outcome = verify_model(model, data, logged_trust(TRUST))
    assert outcome.verified, outcome.result.findings
    assert outcome.result.log_proofs


def test_unlogged_oms_bundle_fails_when_the_trust_root_requires_the_log(model: Path) -> None:
    assert codes(verify_model(model, sign_model(model), logged_trust(TRUST)))[-1] == "log.missing"


def test_log_entry_moved_onto_another_models_signature_is_an_entry_mismatch(
    model: Path, tmp_path: Path
) -> None:
    logged = json.loads(_logged(model))
    other = make_model(tmp_path / "other")
    (other / "config.json").write_text("{}\n")
    other_logged = json.loads(_logged(other))
    other_logged["verificationMaterial"]["tlogEntries"] = logged["verificationMaterial"][
        "tlogEntries"
    ]
    outcome = verify_model(other, json.dumps(other_logged).encode(), logged_trust(TRUST))
    assert codes(outcome)[-1] == "log.entry.mismatch"


def test_oms_hint_is_the_sha256_of_the_public_key_pem() -> None:
    assert oms_key_hint(KEY.public_key) == hashlib.sha256(KEY.public_key.to_pem()).hexdigest()
    assert oms_key_hint(KEY.public_key) != KEY.public_key.key_id


def test_ed25519_key_cannot_sign_a_model() -> None:
    with pytest.raises(KeyFormatError, match="P-256"):
        ModelSigner(generate_key(KeyType.ED25519))


def test_unpinned_trust_root_does_not_accept_the_pinned_key_of_another_root(model: Path) -> None:
    other_trust = replace(TRUST, pinned_keys=(("bob", generate_key().public_key),))
    assert codes(verify_model(model, sign_model(model), other_trust))[-1] == "key.untrusted"


def test_log_time_after_the_verification_time_is_refused_as_for_every_bundle(
    model: Path,
) -> None:
    serialization = Serialization(ignore_paths=default_ignores(["model.sig"]))
    log = transparency_log(at=NOW + timedelta(days=1))
    data = ModelSigner(KEY, log=log).sign(serialize_model(model, serialization)).to_bytes()
    assert codes(verify_model(model, data, logged_trust(TRUST)))[-1] == "log.entry.future"
