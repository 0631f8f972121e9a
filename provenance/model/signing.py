"""Sign a model: manifest -> OMS statement -> DSSE envelope (ECDSA DER) -> signature file.

OMS signatures are ECDSA P-256 / SHA-256 in ASN.1 DER (what the reference writes and verifies), with
``keyid`` empty. Verification accepts only strict DER (no trailing bytes, minimal integers); a high
S only in OMS bundles, whose reference signer does not normalize it.
"""

from __future__ import annotations

from collections.abc import Sequence

from cryptography import x509

from provenance.dsse import INTOTO_PAYLOAD_TYPE, Envelope, EnvelopeSignature, pae
from provenance.errors import KeyFormatError, SignatureInvalidError
from provenance.keys import (
    P256_COORDINATE_BYTES,
    KeyType,
    P256VerifyingKey,
    SigningKey,
    VerifyingKey,
    ecdsa_der_values,
)
from provenance.model.container import Container, ModelBundle, oms_key_hint
from provenance.model.serialize import Manifest
from provenance.model.statement import statement_payload
from provenance.sign import LogSubmitter, check_leaf_key
from provenance.tlog.entry import signer_binding


def sign_der(key: SigningKey, data: bytes) -> bytes:
    """ECDSA P-256 / SHA-256 over ``data``: DER, RFC 6979 deterministic, low S (provenance.keys).

    Raises:
        KeyFormatError: ``key`` is not a P-256 key.
    """
    if key.key_type is not KeyType.P256:
        raise KeyFormatError(
            f"OMS model signatures are ECDSA; key {key.public_key.key_id} is {key.key_type.value}, "
            "use a P-256 key"
        )
    return key.sign(data)


def verify_der(key: VerifyingKey, signature: bytes, data: bytes, *, allow_high_s: bool) -> None:
    """Check a strict-DER ECDSA P-256 / SHA-256 signature.

    Args:
        key: The verifying key (P-256).
        signature: The DER ``ECDSA-Sig-Value``.
        data: The signed bytes (the PAE).
        allow_high_s: Accept ``s > n/2``: the reference implementation signs with random nonces
            and does not normalize S, so OMS bundles need it; our own bundles are low-S.

    Raises:
        SignatureInvalidError: Not a P-256 key, not strict DER, a high S when not allowed, or the
            signature does not verify.
    """
    if not isinstance(key, P256VerifyingKey):
        raise SignatureInvalidError(
            f"OMS model signatures are ECDSA P-256; key {key.key_id} is {key.key_type.value}"
        )
    if not allow_high_s:
        key.verify(signature, data)
        return
    r, s = ecdsa_der_values(signature)
    if max(r, s) >= 1 << (8 * P256_COORDINATE_BYTES):
        raise SignatureInvalidError("P-256 signature values r and s must lie in [1, n-1]")
    key.verify_p1363(
        r.to_bytes(P256_COORDINATE_BYTES, "big") + s.to_bytes(P256_COORDINATE_BYTES, "big"), data
    )


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
        check_leaf_key(key, chain)
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
