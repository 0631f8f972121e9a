"""Model signature files: the Sigstore bundle v0.3 container (OMS) and the provenance bundle v1.

An unlogged model signature is an OMS bundle: ``application/vnd.dev.sigstore.bundle.v0.3+json`` with
``publicKey.hint`` (hex SHA-256 of the key's SubjectPublicKeyInfo PEM, as the reference writes it)
or ``x509CertificateChain`` (leaf first), ``tlogEntries: []``, and the DSSE envelope. A logged one
is a provenance bundle v1 carrying the same envelope and our log entries (specs/model-v1.md §5):
Sigstore's ``tlogEntries`` are Rekor entries, which ours are not. The ``sigstore`` method (a
``certificate`` with Rekor entries) is refused as ``bundle.unsupported``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from provenance.bundle import BUNDLE_MEDIA_TYPE, Bundle, BundleLimits, check_material
from provenance.codes import Code
from provenance.dsse import Envelope
from provenance.encoding import (
    StrictDecodeError,
    TooLargeError,
    b64_field,
    b64encode,
    json_object,
    loads_strict,
)
from provenance.errors import BundleFormatError
from provenance.identity.profile import load_certificate_der
from provenance.keys import VerifyingKey
from provenance.model.limits import MODEL_SIZE_LIMITS
from provenance.tlog.entry import TlogEntry

OMS_MEDIA_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json"
OMS_MEDIA_TYPES = frozenset(
    {OMS_MEDIA_TYPE, "application/vnd.dev.sigstore.bundle+json;version=0.3"}
)
HINT_HEX_CHARS = 64
MODEL_LIMITS = BundleLimits(
    max_bundle_bytes=MODEL_SIZE_LIMITS.max_signature_bytes,
    max_payload_bytes=MODEL_SIZE_LIMITS.max_payload_bytes,
    max_certificates=MODEL_SIZE_LIMITS.max_certificates,
)


class Container(StrEnum):
    """The signature file's format."""

    OMS = "oms"
    PROVENANCE = "provenance"


@dataclass(frozen=True)
class ModelBundle:
    """A parsed model signature; nothing in it is trusted by being there.

    Attributes:
        envelope: The DSSE envelope (exactly one signature).
        certificates: The X.509 chain, leaf first; empty for the key method.
        key_hint: ``publicKey.hint``: the OMS hint (SHA-256 of the SPKI PEM) or, in a provenance
            bundle, the key id (SHA-256 of the SPKI DER); None with certificates.
        tlog_entries: Our transparency log entries (provenance container only).
        container: Which format the file was in.
    """

    envelope: Envelope
    certificates: tuple[x509.Certificate, ...] = ()
    key_hint: str | None = None
    tlog_entries: tuple[TlogEntry, ...] = ()
    container: Container = Container.OMS

    def __post_init__(self) -> None:
        check_material(self.envelope, self.certificates, self.key_hint)

    def to_bytes(self) -> bytes:
        """The signature file: an OMS bundle, or a provenance bundle when it carries log entries."""
        if self.container is Container.PROVENANCE:
            return Bundle(
                self.envelope, self.certificates, self.key_hint, self.tlog_entries
            ).to_bytes()
        return (json.dumps(self._oms_json(), indent=2) + "\n").encode("utf-8")

    def _oms_json(self) -> dict[str, Any]:
        material: dict[str, Any] = {}
        if self.certificates:
            material["x509CertificateChain"] = {
                "certificates": [
                    {"rawBytes": b64encode(c.public_bytes(Encoding.DER))} for c in self.certificates
                ]
            }
        else:
            material["publicKey"] = {"hint": self.key_hint}
        material["tlogEntries"] = []
        signature = self.envelope.signatures[0]
        return {
            "mediaType": OMS_MEDIA_TYPE,
            "verificationMaterial": material,
            "dsseEnvelope": {
                "payload": b64encode(self.envelope.payload),
                "payloadType": self.envelope.payload_type,
                "signatures": [{"sig": b64encode(signature.sig), "keyid": signature.keyid}],
            },
        }


def oms_key_hint(key: VerifyingKey) -> str:
    """The OMS ``publicKey.hint``: lowercase hex SHA-256 of the key's SubjectPublicKeyInfo PEM."""
    return hashlib.sha256(key.to_pem()).hexdigest()


def read_model_bundle(data: bytes) -> ModelBundle:
    """Parse a model signature file strictly (OMS bundle v0.3 or provenance bundle v1).

    Raises:
        BundleFormatError: ``bundle.malformed``, ``bundle.too_large``, ``bundle.unsupported``
            (another media type, or the sigstore method) or ``envelope.signatures``.
    """
    cap = MODEL_SIZE_LIMITS.max_signature_bytes
    if len(data) > cap:
        raise BundleFormatError(
            f"bundle: expected at most {cap} bytes (model-v1 §8), found {len(data)}",
            code=Code.BUNDLE_TOO_LARGE,
        )
    try:
        obj = loads_strict(data, max_bytes=MODEL_SIZE_LIMITS.max_signature_bytes)
    except TooLargeError as exc:
        raise BundleFormatError(f"bundle: {exc}", code=Code.BUNDLE_TOO_LARGE) from exc
    except StrictDecodeError as exc:
        raise BundleFormatError(f"bundle: {exc}") from exc
    media_type = obj.get("mediaType") if isinstance(obj, dict) else None
    if media_type == BUNDLE_MEDIA_TYPE:
        bundle = Bundle.from_json(obj, MODEL_LIMITS)
        return ModelBundle(
            bundle.envelope,
            bundle.certificates,
            bundle.public_key_hint,
            bundle.tlog_entries,
            Container.PROVENANCE,
        )
    if isinstance(obj, dict) and media_type not in OMS_MEDIA_TYPES:
        raise BundleFormatError(
            f"unsupported bundle mediaType {media_type!r}; model signatures are "
            f"{OMS_MEDIA_TYPE} or {BUNDLE_MEDIA_TYPE}",
            code=Code.BUNDLE_UNSUPPORTED,
        )
    fields = json_object(
        obj,
        "bundle",
        {"mediaType", "verificationMaterial", "dsseEnvelope"},
        set(),
        BundleFormatError,
    )
    envelope = _envelope(fields["dsseEnvelope"])
    certificates, hint = _material(fields["verificationMaterial"])
    return ModelBundle(envelope, certificates, hint)


def _envelope(obj: object) -> Envelope:
    """The DSSE envelope; a signature's ``keyid`` may be absent, empty or null (OMS schema)."""
    if isinstance(obj, dict) and isinstance(obj.get("signatures"), list):
        obj = {**obj, "signatures": [_without_null_keyid(s) for s in obj["signatures"]]}
    return Envelope.from_json(obj, max_payload_bytes=MODEL_SIZE_LIMITS.max_payload_bytes)


def _without_null_keyid(signature: object) -> object:
    if isinstance(signature, dict) and "keyid" in signature and signature["keyid"] is None:
        return {k: v for k, v in signature.items() if k != "keyid"}
    return signature


def _material(obj: object) -> tuple[tuple[x509.Certificate, ...], str | None]:
    fields = json_object(
        obj,
        "verificationMaterial",
        set(),
        {
            "publicKey",
            "x509CertificateChain",
            "certificate",
            "tlogEntries",
            "timestampVerificationData",
        },
        BundleFormatError,
    )
    _refuse_sigstore(fields)
    if ("publicKey" in fields) == ("x509CertificateChain" in fields):
        raise BundleFormatError(
            "verificationMaterial needs exactly one of publicKey (key method) or "
            "x509CertificateChain (certificate method)"
        )
    if "publicKey" in fields:
        return (), _hint(fields["publicKey"])
    return _certificates(fields["x509CertificateChain"]), None


def _refuse_sigstore(fields: dict[str, Any]) -> None:
    entries = fields.get("tlogEntries", [])
    if not isinstance(entries, list):
        raise BundleFormatError("verificationMaterial.tlogEntries must be a list")
    if "certificate" in fields and "tlogEntries" not in fields:
        raise BundleFormatError(
            "verificationMaterial.certificate (sigstore method) requires tlogEntries"
        )
    if "certificate" in fields or entries:
        raise BundleFormatError(
            "the sigstore signing method (Fulcio certificate and Rekor log entries) is not "
            "supported; sign with the key or certificate method",
            code=Code.BUNDLE_UNSUPPORTED,
        )
    timestamps = fields.get("timestampVerificationData")
    if timestamps is not None and timestamps not in ({}, {"rfc3161Timestamps": []}):
        raise BundleFormatError(
            "RFC 3161 timestamps (timestampVerificationData) are not supported",
            code=Code.BUNDLE_UNSUPPORTED,
        )


def _hint(obj: object) -> str:
    if isinstance(obj, dict) and "rawBytes" in obj and "hint" not in obj:
        raise BundleFormatError(
            "publicKey.rawBytes (the pre-1.0 OMS format) is not supported; re-sign with a "
            "current signer",
            code=Code.BUNDLE_UNSUPPORTED,
        )
    hint = json_object(obj, "publicKey", {"hint"}, set(), BundleFormatError)["hint"]
    if not isinstance(hint, str) or len(hint) != HINT_HEX_CHARS:
        raise BundleFormatError(f"publicKey.hint must be {HINT_HEX_CHARS} lowercase hex digits")
    try:
        if bytes.fromhex(hint).hex() != hint:
            raise ValueError(hint)
    except ValueError as exc:
        raise BundleFormatError(
            f"publicKey.hint must be {HINT_HEX_CHARS} lowercase hex digits"
        ) from exc
    return hint


def _certificates(obj: object) -> tuple[x509.Certificate, ...]:
    items = json_object(obj, "x509CertificateChain", {"certificates"}, set(), BundleFormatError)[
        "certificates"
    ]
    if not isinstance(items, list) or not 1 <= len(items) <= MODEL_SIZE_LIMITS.max_certificates:
        raise BundleFormatError(
            "x509CertificateChain.certificates must hold 1 to "
            f"{MODEL_SIZE_LIMITS.max_certificates} certificates"
        )
    return tuple(_certificate(item) for item in items)


def _certificate(obj: object) -> x509.Certificate:
    raw = json_object(obj, "certificate", {"rawBytes"}, set(), BundleFormatError)["rawBytes"]
    der = b64_field(raw, "certificate rawBytes", BundleFormatError)
    if len(der) > MODEL_LIMITS.max_certificate_bytes:
        raise BundleFormatError(
            f"certificate of {len(der)} bytes exceeds the cap of "
            f"{MODEL_LIMITS.max_certificate_bytes}",
            code=Code.BUNDLE_TOO_LARGE,
        )
    try:
        return load_certificate_der(der)
    except ValueError as exc:
        raise BundleFormatError(f"certificate is not DER X.509: {exc}") from exc
