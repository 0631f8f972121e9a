"""Sign a model: manifest -> OMS statement -> DSSE envelope (ECDSA DER) -> signature file.

OMS signatures are ECDSA P-256 / SHA-256 in ASN.1 DER (what the reference writes and verifies), with
``keyid`` empty. Verification accepts only canonical DER (no trailing bytes, minimal integers), so
one signature has one encoding.
"""

from __future__ import annotations

from collections.abc import Sequence

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from cryptography.hazmat.primitives.serialization import load_der_public_key

from provenance.dsse import INTOTO_PAYLOAD_TYPE, Envelope, EnvelopeSignature, pae
from provenance.errors import KeyFormatError, SignatureInvalidError
from provenance.keys import KeyType, SigningKey, VerifyingKey, verifying_key_from_cryptography
from provenance.model.container import Container, ModelBundle, oms_key_hint
from provenance.model.serialize import Manifest
from provenance.model.statement import statement_payload
from provenance.sign import LogSubmitter
from provenance.tlog.entry import signer_binding


def sign_der(key: SigningKey, data: bytes) -> bytes:
    """ECDSA P-256 / SHA-256 over ``data``, ASN.1 DER encoded.

    Raises:
        KeyFormatError: ``key`` is not a P-256 key.
    """
    if key.key_type is not KeyType.P256:
        raise KeyFormatError(
            f"OMS model signatures are ECDSA; key {key.public_key.key_id} is {key.key_type.value}, "
            "use a P-256 key"
        )
    private = key.to_cryptography()
    assert isinstance(private, ec.EllipticCurvePrivateKey)
    return private.sign(data, ec.ECDSA(hashes.SHA256(), deterministic_signing=True))


def verify_der(key: VerifyingKey, signature: bytes, data: bytes) -> None:
    """Check a canonical-DER ECDSA P-256 / SHA-256 signature.

    Raises:
        SignatureInvalidError: Not a P-256 key, not canonical DER, or the signature does not verify.
    """
    public = load_der_public_key(key.spki_der)
    if not isinstance(public, ec.EllipticCurvePublicKey) or key.key_type is not KeyType.P256:
        raise SignatureInvalidError(
            f"OMS model signatures are ECDSA P-256; key {key.key_id} is {key.key_type.value}"
        )
    try:
        r, s = decode_dss_signature(signature)
    except ValueError as exc:
        raise SignatureInvalidError(
            f"the signature is not an ASN.1 DER ECDSA value: {exc}"
        ) from exc
    if encode_dss_signature(r, s) != signature:
        raise SignatureInvalidError("the ECDSA signature is not in canonical DER")
    try:
        public.verify(signature, data, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature as exc:
        raise SignatureInvalidError(
            f"the model signature does not verify for key {key.key_id}"
        ) from exc


class ModelSigner:
    """Signs model manifests with one P-256 key, optionally certified, optionally logged.

    Args:
        key: The private key (P-256).
        chain: The certificate chain, leaf first (the certificate method); empty for the key method.
        log: Where to log each signature; a logged signature is a provenance bundle.

    Raises:
        KeyFormatError: The key is not P-256, or not the leaf certificate's key.
    """

    def __init__(
        self,
        key: SigningKey,
        chain: Sequence[x509.Certificate] = (),
        log: LogSubmitter | None = None,
    ) -> None:
        if key.key_type is not KeyType.P256:
            raise KeyFormatError(
                f"OMS model signatures are ECDSA; key {key.public_key.key_id} is "
                f"{key.key_type.value}, use a P-256 key"
            )
        if chain and verifying_key_from_cryptography(chain[0].public_key()) != key.public_key:
            raise KeyFormatError(
                f"the private key (id {key.public_key.key_id}) is not the key of the leaf "
                f"certificate {chain[0].subject.rfc4514_string()}"
            )
        self._key = key
        self._chain = tuple(chain)
        self._log = log

    def sign(self, manifest: Manifest) -> ModelBundle:
        """Sign ``manifest`` and return its signature (OMS, or provenance when logged)."""
        payload = statement_payload(manifest)
        signature = sign_der(self._key, pae(INTOTO_PAYLOAD_TYPE, payload))
        envelope = Envelope(payload, INTOTO_PAYLOAD_TYPE, (EnvelopeSignature(signature, ""),))
        if self._log is None:
            hint = None if self._chain else oms_key_hint(self._key.public_key)
            return ModelBundle(envelope, self._chain, hint)
        signer_sha256, certificate_der = signer_binding(self._chain, self._key.public_key)
        entry = self._log.submit(envelope.sha256(), signer_sha256, certificate_der)
        hint = None if self._chain else self._key.public_key.key_id
        return ModelBundle(envelope, self._chain, hint, (entry,), Container.PROVENANCE)
