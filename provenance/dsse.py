"""DSSE envelopes (secure-systems-lab/dsse protocol v1.0.2).

Signatures are always over ``PAE(payloadType, payload)``, never over the raw payload.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from provenance.codes import Code
from provenance.encoding import b64_field, b64encode, canonical_json, json_object
from provenance.errors import BundleFormatError
from provenance.keys import SigningKey, normalized_signature

INTOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json"


@dataclass(frozen=True)
class EnvelopeLimits:
    """The caps of a DSSE envelope (its size is the bundle's, :class:`BundleLimits`).

    Attributes:
        max_keyid_chars: A signature's ``keyid``.
    """

    max_keyid_chars: int = 128


ENVELOPE_LIMITS = EnvelopeLimits()

_NONE: frozenset[str] = frozenset()
_ENVELOPE_FIELDS = frozenset({"payload", "payloadType", "signatures"})
_SIGNATURE_FIELDS = frozenset({"sig"})
_SIGNATURE_OPTIONAL = frozenset({"keyid"})


def pae(payload_type: str, payload: bytes) -> bytes:
    """Pre-Authentication Encoding: ``DSSEv1 SP LEN(type) SP type SP LEN(body) SP body``."""
    type_bytes = payload_type.encode("utf-8")
    return b"DSSEv1 %d %s %d %s" % (len(type_bytes), type_bytes, len(payload), payload)


@dataclass(frozen=True)
class EnvelopeSignature:
    """One DSSE signature; ``keyid`` is an unauthenticated hint."""

    sig: bytes
    keyid: str = ""


@dataclass(frozen=True)
class Envelope:
    """A DSSE envelope."""

    payload: bytes
    payload_type: str
    signatures: tuple[EnvelopeSignature, ...]

    @property
    def pae(self) -> bytes:
        """The bytes every signature covers."""
        return pae(self.payload_type, self.payload)

    def to_json(self) -> dict[str, Any]:
        """The envelope as a JSON object (base64 payload and signatures)."""
        return {
            "payload": b64encode(self.payload),
            "payloadType": self.payload_type,
            "signatures": [_signature_to_json(s) for s in self.signatures],
        }

    def sha256(self) -> bytes:
        """SHA-256 of the envelope's RFC 8785 canonical JSON (what a log entry binds), each
        ECDSA signature counted in its low-S form (bundle-v1.md §6.2), so that the ``(r, n - s)``
        twin of a signature is the same envelope."""
        return hashlib.sha256(self.canonical_bytes()).digest()

    def signature_sha256(self) -> bytes:
        """SHA-256 identifying the signature itself: :meth:`sha256` of this envelope without key
        ids (payload type, payload and each signature in its low-S form). The unsigned ``keyid``
        is a hint anyone may add, change or drop; it does not make another signature."""
        bare = tuple(EnvelopeSignature(s.sig, "") for s in self.signatures)
        return Envelope(self.payload, self.payload_type, bare).sha256()

    def canonical_bytes(self) -> bytes:
        """The RFC 8785 canonical JSON that :meth:`sha256` hashes (signatures in low-S form).

        For ASCII strings (base64, and a payload type and key ids without other characters) it
        is written directly, keys in JCS order and strings escaped as JCS escapes them (as
        ``json.dumps`` does for ASCII); anything else goes through
        :func:`~provenance.encoding.canonical_json`.
        """
        normalized = [
            EnvelopeSignature(normalized_signature(s.sig), s.keyid) for s in self.signatures
        ]
        if not (self.payload_type.isascii() and all(s.keyid.isascii() for s in normalized)):
            document = self.to_json() | {"signatures": [_signature_to_json(s) for s in normalized]}
            return canonical_json(document)
        signatures = ",".join(
            "{"
            + (f'"keyid":{json.dumps(s.keyid, ensure_ascii=False)},' if s.keyid else "")
            + f'"sig":"{b64encode(s.sig)}"}}'
            for s in normalized
        )
        return (
            f'{{"payload":"{b64encode(self.payload)}",'
            f'"payloadType":{json.dumps(self.payload_type, ensure_ascii=False)},'
            f'"signatures":[{signatures}]}}'
        ).encode("ascii")

    @classmethod
    def from_json(cls, obj: object, *, max_payload_bytes: int) -> Envelope:
        """Parse an envelope object strictly (canonical base64, no unknown fields).

        Raises:
            BundleFormatError: ``bundle.malformed`` or ``bundle.too_large``.
        """
        fields = json_object(obj, "dsseEnvelope", _ENVELOPE_FIELDS, _NONE, BundleFormatError)
        payload = b64_field(fields["payload"], "dsseEnvelope.payload", BundleFormatError)
        if len(payload) > max_payload_bytes:
            raise BundleFormatError(
                f"payload of {len(payload)} bytes exceeds the cap of {max_payload_bytes}",
                code=Code.BUNDLE_TOO_LARGE,
            )
        payload_type = fields["payloadType"]
        if not isinstance(payload_type, str):
            raise BundleFormatError("dsseEnvelope.payloadType must be a string")
        signatures = fields["signatures"]
        if not isinstance(signatures, list):
            raise BundleFormatError("dsseEnvelope.signatures must be a list")
        return cls(payload, payload_type, tuple([_signature_from_json(s) for s in signatures]))


def sign_envelope(payload: bytes, payload_type: str, key: SigningKey, keyid: str = "") -> Envelope:
    """Sign ``PAE(payload_type, payload)`` with ``key`` and wrap it in an envelope."""
    signature = key.sign(pae(payload_type, payload))
    return Envelope(payload, payload_type, (EnvelopeSignature(signature, keyid),))


def _signature_to_json(signature: EnvelopeSignature) -> dict[str, str]:
    obj = {"sig": b64encode(signature.sig)}
    if signature.keyid:
        obj["keyid"] = signature.keyid
    return obj


def _signature_from_json(obj: object) -> EnvelopeSignature:
    fields = json_object(
        obj, "dsseEnvelope.signatures[]", _SIGNATURE_FIELDS, _SIGNATURE_OPTIONAL, BundleFormatError
    )
    keyid = fields.get("keyid", "")
    if not isinstance(keyid, str) or len(keyid) > ENVELOPE_LIMITS.max_keyid_chars:
        raise BundleFormatError(
            f"signature keyid must be a string of at most {ENVELOPE_LIMITS.max_keyid_chars}"
        )
    return EnvelopeSignature(b64_field(fields["sig"], "signature sig", BundleFormatError), keyid)
