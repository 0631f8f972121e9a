"""Conformance against independent implementations, both directions (issue 13 item 6).

prov signs, they verify: securesystemslib 1.6, in-toto 3.1, sigstore-python's DSSE code and
`openssl` check the envelopes of real prov bundles (P-256 pinned key, P-256 certificate, Ed25519).
They sign, prov verifies: envelopes those tools made over a prov statement, wrapped in a bundle,
go through the real Verifier and verify as they are. ECDSA signers other than prov do not
normalize S, so about half their signatures carry a high S: prov accepts them, and counts them in
their low-S form in the envelope hash (bundle-v1.md §6.2). The in-toto-attestation validator
accepts prov's statements.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sigstore.dsse as sigstore_dsse
from cryptography.hazmat.primitives import serialization
from google.protobuf import json_format
from in_toto.models.metadata import Envelope as InTotoEnvelope
from in_toto_attestation.v1 import statement_pb2
from in_toto_attestation.v1.statement import Statement as AttestationStatement
from securesystemslib.dsse import Envelope as SslibEnvelope
from securesystemslib.signer import CryptoSigner, SSlibKey

from provenance.bundle import Bundle
from provenance.dsse import INTOTO_PAYLOAD_TYPE, Envelope, EnvelopeSignature
from provenance.identity.trust import TrustRoot
from provenance.keys import (
    KeyType,
    SigningKey,
    generate_key,
    low_s_der,
)
from provenance.sign import Signer
from provenance.verify.policy import AllOf, Identity, Policy
from provenance.verify.result import VerificationResult
from provenance.verify.verifier import Verifier
from tests.factories import (
    IDENTITY,
    NOW,
    REVIEW,
    authority_trust,
    certified_author,
    make_authority,
    predicate,
)

SIGNATURES_PER_TOOL = 4


@dataclass(frozen=True)
class Case:
    """One way of signing: a key, its chain (empty for a pinned key), the trust root, a policy."""

    name: str
    key: SigningKey
    chain: tuple[Any, ...]
    trust: TrustRoot
    policy: Policy

    def bundle(self, envelope: Envelope) -> Bundle:
        """``envelope`` with this case's verification material."""
        if self.chain:
            return Bundle(envelope, certificates=self.chain)
        return Bundle(envelope, public_key_hint=self.key.public_key.key_id)

    def check(self, envelope: Envelope) -> VerificationResult:
        """The real Verifier's result for ``envelope`` over REVIEW."""
        return Verifier(self.trust).check(REVIEW, self.bundle(envelope), self.policy, at=NOW)

    def payload(self) -> bytes:
        """The prov statement for REVIEW (what every tool signs here)."""
        signer = Signer(self.key, self.chain)
        return signer.statement_for(REVIEW, "review.txt", predicate()).to_payload()

    def prov_envelope(self) -> Envelope:
        """The envelope of a bundle prov made."""
        return Signer(self.key, self.chain).sign(REVIEW, "review.txt", predicate()).envelope

    def sslib_key(self) -> SSlibKey:
        """The public key as securesystemslib sees it, under prov's key id."""
        public = self.key.to_cryptography().public_key()
        return SSlibKey.from_crypto(public, keyid=self.key.public_key.key_id)


def _pinned(key_type: KeyType) -> Case:
    key = generate_key(key_type)
    trust = TrustRoot(name="pinned", pinned_keys=(("dana", key.public_key),))
    return Case(f"{key_type.value}-pinned", key, (), trust, AllOf([]))


def _certified() -> Case:
    authority = make_authority()
    author = certified_author(authority)
    trust = authority_trust(authority)
    return Case("p256-certificate", author.key, tuple(author.chain), trust, Identity(IDENTITY))


CASES = [_pinned(KeyType.P256), _certified(), _pinned(KeyType.ED25519)]
P256_CASES = [case for case in CASES if case.key.key_type is KeyType.P256]


def _ids(case: Case) -> str:
    return case.name


# prov signs, they verify


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_securesystemslib_verifies_prov_envelopes(case: Case) -> None:
    envelope = SslibEnvelope.from_dict(case.prov_envelope().to_json())
    accepted = envelope.verify([case.sslib_key()], 1)
    assert list(accepted) == [case.key.public_key.key_id]


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_in_toto_verifies_prov_envelopes(case: Case) -> None:
    envelope = InTotoEnvelope.from_dict(case.prov_envelope().to_json())
    accepted = envelope.verify([case.sslib_key()], 1)
    assert list(accepted) == [case.key.public_key.key_id]


@pytest.mark.parametrize("case", P256_CASES, ids=_ids)
def test_sigstore_verifies_prov_envelopes(case: Case) -> None:
    envelope = sigstore_dsse.Envelope._from_json(json.dumps(case.prov_envelope().to_json()))
    public = case.key.to_cryptography().public_key()
    assert sigstore_dsse._verify(public, envelope) == case.payload()  # type: ignore[arg-type]


def _openssl(*args: str | Path) -> subprocess.CompletedProcess[bytes]:
    binary = shutil.which("openssl")
    if binary is None:
        pytest.skip("openssl is not installed")
    return subprocess.run([binary, *map(str, args)], capture_output=True, check=False)


def _public_pem(case: Case, tmp_path: Path) -> Path:
    path = tmp_path / "public.pem"
    path.write_bytes(case.key.public_key.to_pem())
    return path


def _openssl_verify(case: Case, signature: bytes, data: bytes, tmp_path: Path) -> bool:
    (tmp_path / "data").write_bytes(data)
    (tmp_path / "sig").write_bytes(signature)
    public = _public_pem(case, tmp_path)
    if case.key.key_type is KeyType.P256:
        done = _openssl(
            "dgst", "-sha256", "-verify", public, "-signature", tmp_path / "sig", tmp_path / "data"
        )
    else:
        done = _openssl(
            "pkeyutl",
            "-verify",
            "-pubin",
            "-inkey",
            public,
            "-rawin",
            "-in",
            tmp_path / "data",
            "-sigfile",
            tmp_path / "sig",
        )
    return done.returncode == 0


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_openssl_verifies_prov_signatures_over_pae(case: Case, tmp_path: Path) -> None:
    envelope = case.prov_envelope()
    assert _openssl_verify(case, envelope.signatures[0].sig, envelope.pae, tmp_path)
    assert not _openssl_verify(case, envelope.signatures[0].sig, envelope.payload, tmp_path)


# they sign, prov verifies


def _sslib_signer(case: Case) -> CryptoSigner:
    return CryptoSigner(case.key.to_cryptography(), case.sslib_key())


def _by_securesystemslib(case: Case) -> dict[str, Any]:
    envelope = SslibEnvelope(case.payload(), INTOTO_PAYLOAD_TYPE, {})
    envelope.sign(_sslib_signer(case))
    document: dict[str, Any] = envelope.to_dict()
    return document


def _by_in_toto(case: Case) -> dict[str, Any]:
    envelope = InTotoEnvelope(
        payload=case.payload(), payload_type=INTOTO_PAYLOAD_TYPE, signatures={}
    )
    envelope.create_signature(_sslib_signer(case))
    document: dict[str, Any] = envelope.to_dict()
    return document


def _by_sigstore(case: Case) -> dict[str, Any]:
    private = case.key.to_cryptography()
    envelope = sigstore_dsse._sign(private, sigstore_dsse.Statement(case.payload()))  # type: ignore[arg-type]
    document: dict[str, Any] = json.loads(envelope.to_json())
    return document


def _by_openssl(case: Case, tmp_path: Path) -> dict[str, Any]:
    payload = case.payload()
    private = tmp_path / "private.pem"
    private.write_bytes(case.key.to_pem())
    pae_file, sig_file = tmp_path / "pae", tmp_path / "sig"
    pae_file.write_bytes(Envelope(payload, INTOTO_PAYLOAD_TYPE, ()).pae)
    if case.key.key_type is KeyType.P256:
        done = _openssl("dgst", "-sha256", "-sign", private, "-out", sig_file, pae_file)
    else:
        command = ("pkeyutl", "-sign", "-inkey", private, "-rawin", "-in", pae_file)
        done = _openssl(*command, "-out", sig_file)
    assert done.returncode == 0, done.stderr
    signature = {"sig": base64.b64encode(sig_file.read_bytes()).decode()}
    return {
        "payload": base64.b64encode(payload).decode(),
        "payloadType": INTOTO_PAYLOAD_TYPE,
        "signatures": [signature | {"keyid": case.key.public_key.key_id}],
    }


def _assert_prov_accepts(case: Case, document: dict[str, Any]) -> None:
    """prov verifies the foreign envelope exactly as the tool made it, with either S; a high-S
    signature has the envelope hash of its low-S twin (bundle-v1.md §6.2)."""
    envelope = Envelope.from_json(document, max_payload_bytes=64 * 1024)
    result = case.check(envelope)
    assert result.verified, result.failures
    signature = envelope.signatures[0]
    if case.key.key_type is KeyType.P256:
        low = EnvelopeSignature(low_s_der(signature.sig), signature.keyid)
        normalized = Envelope(envelope.payload, envelope.payload_type, (low,))
        assert normalized.sha256() == envelope.sha256()


FOREIGN_SIGNERS: dict[str, Callable[[Case], dict[str, Any]]] = {
    "securesystemslib": _by_securesystemslib,
    "in-toto": _by_in_toto,
}


@pytest.mark.parametrize("tool", sorted(FOREIGN_SIGNERS))
@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_prov_verifies_envelopes_signed_by(tool: str, case: Case) -> None:
    for _ in range(SIGNATURES_PER_TOOL):
        document = FOREIGN_SIGNERS[tool](case)
        assert document["signatures"][0]["keyid"] == case.key.public_key.key_id
        _assert_prov_accepts(case, document)


@pytest.mark.parametrize("case", P256_CASES, ids=_ids)
def test_prov_verifies_envelopes_signed_by_sigstore(case: Case) -> None:
    for _ in range(SIGNATURES_PER_TOOL):
        document = _by_sigstore(case)
        assert "keyid" not in document["signatures"][0]
        _assert_prov_accepts(case, document)


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_prov_verifies_signatures_made_by_openssl(case: Case, tmp_path: Path) -> None:
    for _ in range(SIGNATURES_PER_TOOL):
        _assert_prov_accepts(case, _by_openssl(case, tmp_path))


# keyid and statements


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_every_prov_signature_carries_the_key_id_of_its_signing_key(case: Case) -> None:
    public = case.key.public_key
    spki = (
        case.key.to_cryptography()
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    assert public.spki_der == spki
    assert [s.keyid for s in case.prov_envelope().signatures] == [public.key_id]


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_in_toto_attestation_validator_accepts_prov_statements(case: Case) -> None:
    proto = json_format.Parse(case.prov_envelope().payload, statement_pb2.Statement())
    AttestationStatement.copy_from_pb(proto).validate()


@pytest.mark.parametrize("case", P256_CASES, ids=_ids)
def test_sigstore_statement_model_accepts_prov_statements(case: Case) -> None:
    statement = sigstore_dsse.Statement(case.prov_envelope().payload)
    assert statement._contents == case.payload()
