"""DSSE envelopes (secure-systems-lab/dsse protocol v1.0.2).

Signatures are always over ``PAE(payloadType, payload)``, never over the raw payload.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from provenance._records import quick_init
from provenance.codes import Code
from provenance.encoding import b64_field, b64encode, canonical_json, json_object
from provenance.errors import BundleFormatError
from provenance.keys import SigningKey, low_s_form, normalized_signature, strict_der_values

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


@quick_init
@dataclass(frozen=True)
class EnvelopeSignature:
    """One DSSE signature; ``keyid`` is an unauthenticated hint."""

    sig: bytes
    keyid: str = ""

    @property
    def der_values(self) -> tuple[int, int] | None:
        """:func:`~provenance.keys.strict_der_values` of ``sig``, read once per signature object
        (the signature step and the envelope hash both need them)."""
        memo = self.__dict__
        if "_der_values" not in memo:
            memo["_der_values"] = strict_der_values(self.sig)
        values: tuple[int, int] | None = memo["_der_values"]
        return values

    def normalized(self) -> bytes:
        """:func:`~provenance.keys.normalized_signature` of ``sig``."""
        values = self.der_values
        return normalized_signature(self.sig) if values is None else low_s_form(self.sig, values)

    def normalized_text(self) -> str:
        """The base64 of :meth:`normalized`: the text the envelope was read from when the
        signature is already in that form (canonical base64 is the one encoding of its bytes)."""
        normalized = self.normalized()
        text = self.__dict__.get("_text")
        return text if text is not None and normalized is self.sig else b64encode(normalized)


@quick_init
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
        if not (self.payload_type.isascii() and all(s.keyid.isascii() for s in self.signatures)):
            normalized = [EnvelopeSignature(s.normalized(), s.keyid) for s in self.signatures]
            document = self.to_json() | {"signatures": [_signature_to_json(s) for s in normalized]}
            return canonical_json(document)
        signatures = ",".join(
            "{"
            + (f'"keyid":{_ascii_json_string(s.keyid)},' if s.keyid else "")
            + f'"sig":"{s.normalized_text()}"}}'
            for s in self.signatures
        )
        payload = self.__dict__.get("_payload_text") or b64encode(self.payload)
        return (
            f'{{"payload":"{payload}",'
            f'"payloadType":{_ascii_json_string(self.payload_type)},'
            f'"signatures":[{signatures}]}}'
        ).encode("ascii")

    @classmethod
    def from_json(cls, obj: object, *, max_payload_bytes: int) -> Envelope:
        """Parse an envelope object strictly (canonical base64, no unknown fields).

        Raises:
            BundleFormatError: ``bundle.malformed`` or ``bundle.too_large``.
        """
        fields = json_object(obj, "dsseEnvelope", _ENVELOPE_FIELDS, _NONE, BundleFormatError)
        payload_text = fields["payload"]
        payload = b64_field(payload_text, "dsseEnvelope.payload", BundleFormatError)
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
        envelope = cls(payload, payload_type, tuple([_signature_from_json(s) for s in signatures]))
        envelope.__dict__["_payload_text"] = payload_text
        return envelope

    @classmethod
    def read(
        cls,
        payload: bytes,
        payload_text: str,
        payload_type: str,
        signatures: list[EnvelopeSignature],
    ) -> Envelope:
        """The envelope a parser read, ``payload_text`` being the canonical base64 of
        ``payload`` it decoded (kept for the envelope hash)."""
        envelope = cls(payload, payload_type, tuple(signatures))
        envelope.__dict__["_payload_text"] = payload_text
        return envelope


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
    return read_signature(
        b64_field(fields["sig"], "signature sig", BundleFormatError), fields["sig"], keyid
    )


def read_signature(sig: bytes, text: str, keyid: str) -> EnvelopeSignature:
    """The signature a parser read, ``text`` being the canonical base64 of ``sig`` it decoded
    (kept for the envelope hash)."""
    signature = EnvelopeSignature(sig, keyid)
    signature.__dict__["_text"] = text
    return signature


def _ascii_json_string(value: str) -> str:
    """The JSON string of the ASCII string ``value`` as ``json.dumps`` (and JCS) writes it:
    quoted as it is when nothing in it is escaped (printable, no quote or backslash)."""
    if value.isprintable() and '"' not in value and "\\" not in value:
        return f'"{value}"'
    return json.dumps(value, ensure_ascii=False)
