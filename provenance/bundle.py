"""The provenance bundle v1: one DSSE envelope, its verification material and its log entries.

Shaped like a Sigstore bundle v0.3 (see specs/bundle-v1.md). Parsing is strict: unknown media types,
versions and fields are refused, sizes are capped by :class:`BundleLimits`, and the envelope must
carry exactly one signature. Nothing in a bundle is trusted by being there: the Verifier checks it.
"""

from __future__ import annotations

import functools
import json
import re
import threading
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from provenance._records import quick_init
from provenance.codes import Code
from provenance.display import printable
from provenance.dsse import ENVELOPE_LIMITS, Envelope, EnvelopeSignature, read_signature
from provenance.encoding import (
    JSON_LIMITS,
    StrictDecodeError,
    TooLargeError,
    b64_field,
    b64decode_strict,
    b64encode,
    check_decoded,
    decode_json,
    json_object,
    loads_strict,
)
from provenance.errors import BundleFormatError
from provenance.identity.profile import load_certificate_der
from provenance.statement import STATEMENT_LIMITS
from provenance.tlog.entry import InclusionProof, TlogEntry, proof_hashes
from provenance.tlog.limits import TLOG_LIMITS

BUNDLE_MEDIA_TYPE = "application/vnd.provenance.bundle.v1+json"
_KEY_ID = re.compile(r"[0-9a-f]{64}")
_NONE: frozenset[str] = frozenset()
_BUNDLE_FIELDS = frozenset({"mediaType", "verificationMaterial", "dsseEnvelope"})
_MATERIAL_FIELDS = frozenset({"tlogEntries"})
_MATERIAL_OPTIONAL = frozenset({"x509CertificateChain", "publicKey"})
_HINT_FIELDS = frozenset({"hint"})
_CHAIN_FIELDS = frozenset({"certificates"})
_CERTIFICATE_FIELDS = frozenset({"rawBytes"})


@dataclass(frozen=True)
class BundleLimits:
    """Size caps applied while parsing a bundle."""

    max_bundle_bytes: int = 256 * 1024
    max_payload_bytes: int = STATEMENT_LIMITS.max_payload_bytes
    max_certificates: int = 4
    max_certificate_bytes: int = 16 * 1024
    max_tlog_entries: int = 4
    max_depth: int = 16


DEFAULT_LIMITS = BundleLimits()


@dataclass(frozen=True)
class DecodedBundle:
    """A bundle's JSON value as the caller's strict parse of a larger document decoded it.

    The :class:`~provenance.verify.verifier.Verifier` builds the :class:`Bundle` from it in its
    parse step (:meth:`Bundle.from_decoded`), with the same caps and findings as for bytes. The
    value must be made only of what a strict JSON parse produces (exact dicts with str keys,
    lists, str, int, float, bool, None; no tuple, no subclass): anything else is
    ``bundle.malformed``.
    """

    value: object


@functools.lru_cache(maxsize=64)
def _raw_bytes(certificate: x509.Certificate) -> str:
    """A certificate's DER in base64 (a service writes the same chain into every bundle)."""
    return b64encode(certificate.public_bytes(Encoding.DER))


@quick_init
@dataclass(frozen=True)
class Bundle:
    """A parsed bundle.

    Attributes:
        envelope: The DSSE envelope (exactly one signature).
        certificates: The X.509 chain, leaf first; empty when a pinned key signed.
        public_key_hint: The key id (hex SHA-256 of the SPKI DER) of a pinned key, else None.
        tlog_entries: Transparency log entries for this envelope.
    """

    envelope: Envelope
    certificates: tuple[x509.Certificate, ...] = ()
    public_key_hint: str | None = None
    tlog_entries: tuple[TlogEntry, ...] = ()

    def __post_init__(self) -> None:
        check_material(self.envelope, self.certificates, self.public_key_hint)
        if len(self.tlog_entries) > 1:
            _check_one_entry_per_log(self.tlog_entries)

    def to_json(self) -> dict[str, Any]:
        """The bundle as a JSON object."""
        material: dict[str, Any] = {"tlogEntries": [e.to_json() for e in self.tlog_entries]}
        if self.certificates:
            material["x509CertificateChain"] = {
                "certificates": [{"rawBytes": _raw_bytes(c)} for c in self.certificates]
            }
        else:
            material["publicKey"] = {"hint": self.public_key_hint}
        return {
            "mediaType": BUNDLE_MEDIA_TYPE,
            "verificationMaterial": material,
            "dsseEnvelope": self.envelope.to_json(),
        }

    def to_bytes(self) -> bytes:
        """The bundle as indented UTF-8 JSON with a final newline."""
        return (json.dumps(self.to_json(), indent=2, ensure_ascii=False) + "\n").encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes, limits: BundleLimits = DEFAULT_LIMITS) -> Bundle:
        """Parse a bundle strictly.

        Raises:
            BundleFormatError: ``bundle.malformed`` (including a missing or non-string
                ``mediaType``), ``bundle.too_large``, ``bundle.unsupported`` (a string
                ``mediaType`` other than v1's) or ``envelope.signatures``.
        """
        if type(data) is bytes and len(data) <= limits.max_bundle_bytes:
            bundle = _read_fast(data, limits)
            if bundle is not None:
                return bundle
        try:
            obj = loads_strict(data, max_bytes=limits.max_bundle_bytes, max_depth=limits.max_depth)
        except TooLargeError as exc:
            raise BundleFormatError(f"bundle: {exc}", code=Code.BUNDLE_TOO_LARGE) from exc
        except StrictDecodeError as exc:
            raise BundleFormatError(f"bundle: {exc}") from exc
        return cls.from_json(obj, limits)

    @classmethod
    def from_decoded(cls, value: object, limits: BundleLimits = DEFAULT_LIMITS) -> Bundle:
        """Build a bundle from a value a strict parse of a larger document decoded (a request
        body), held to the caps :meth:`from_bytes` applies (on its compact JSON form).

        Raises:
            BundleFormatError: As :meth:`from_bytes`; ``bundle.malformed`` also for a value not
                made only of what a strict JSON parse produces (a tuple, a subclass of dict, list,
                str, int or float, a non-str key, NaN, an integer beyond +-(2**53-1)), checked
                first (:func:`~provenance.encoding.check_decoded`).
        """
        try:
            check_decoded(value, max_bytes=limits.max_bundle_bytes, max_depth=limits.max_depth)
        except TooLargeError as exc:
            raise BundleFormatError(f"bundle: {exc}", code=Code.BUNDLE_TOO_LARGE) from exc
        except StrictDecodeError as exc:
            raise BundleFormatError(f"bundle: {exc}") from exc
        return cls.from_json(value, limits)

    @classmethod
    def from_json(cls, obj: object, limits: BundleLimits = DEFAULT_LIMITS) -> Bundle:
        """Build a bundle from a parsed JSON object (see :meth:`from_bytes`)."""
        media_type = obj.get("mediaType") if isinstance(obj, dict) else None
        if isinstance(media_type, str) and media_type != BUNDLE_MEDIA_TYPE:
            raise BundleFormatError(
                f"unsupported bundle mediaType {media_type!r}; "
                f"this verifier reads {BUNDLE_MEDIA_TYPE}",
                code=Code.BUNDLE_UNSUPPORTED,
            )
        fields = json_object(obj, "bundle", _BUNDLE_FIELDS, _NONE, BundleFormatError)
        if not isinstance(media_type, str):
            raise BundleFormatError(
                f"bundle mediaType must be a string, found {type(media_type).__name__}"
            )
        envelope = Envelope.from_json(
            fields["dsseEnvelope"], max_payload_bytes=limits.max_payload_bytes
        )
        return _with_material(envelope, fields["verificationMaterial"], limits)


_ABSENT = object()
"""A field not in the document (a present ``null`` is read, and refused, as a wrong type)."""


def _with_material(envelope: Envelope, obj: object, limits: BundleLimits) -> Bundle:
    fields = json_object(
        obj, "verificationMaterial", _MATERIAL_FIELDS, _MATERIAL_OPTIONAL, BundleFormatError
    )
    entries = fields["tlogEntries"]
    if not isinstance(entries, list) or len(entries) > limits.max_tlog_entries:
        raise BundleFormatError(
            f"tlogEntries must be a list of at most {limits.max_tlog_entries} entries"
        )
    hint = _public_key_hint(fields["publicKey"]) if "publicKey" in fields else None
    chain = fields.get("x509CertificateChain", _ABSENT)
    certificates = _certificates(chain, limits) if chain is not _ABSENT else ()
    return Bundle(
        envelope=envelope,
        certificates=certificates,
        public_key_hint=hint,
        tlog_entries=tuple([TlogEntry.from_json(e) for e in entries]),
    )


def _public_key_hint(obj: object) -> str:
    hint = json_object(obj, "publicKey", _HINT_FIELDS, _NONE, BundleFormatError)["hint"]
    if not isinstance(hint, str) or not _KEY_ID.fullmatch(hint):
        raise BundleFormatError("publicKey.hint must be a key id of 64 lowercase hex digits")
    return hint


def _certificates(obj: object, limits: BundleLimits) -> tuple[x509.Certificate, ...]:
    items = json_object(obj, "x509CertificateChain", _CHAIN_FIELDS, _NONE, BundleFormatError)[
        "certificates"
    ]
    if not isinstance(items, list) or not 1 <= len(items) <= limits.max_certificates:
        raise BundleFormatError(
            f"x509CertificateChain.certificates must hold 1 to {limits.max_certificates} certificates"
        )
    return tuple([_certificate(item, limits) for item in items])


def _certificate(obj: object, limits: BundleLimits) -> x509.Certificate:
    raw = json_object(obj, "certificate", _CERTIFICATE_FIELDS, _NONE, BundleFormatError)["rawBytes"]
    known = _PARSED_CERTIFICATES.get(raw) if isinstance(raw, str) else None
    if known is not None:
        size, certificate = known
        _check_certificate_size(size, limits)
        return certificate
    der = b64_field(raw, "certificate rawBytes", BundleFormatError)
    _check_certificate_size(len(der), limits)
    try:
        certificate = load_certificate_der(der)
    except ValueError as exc:
        raise BundleFormatError(f"certificate is not DER X.509: {exc}") from exc
    _PARSED_CERTIFICATES.put(raw, (len(der), certificate))
    return certificate


def _check_certificate_size(size: int, limits: BundleLimits) -> None:
    if size > limits.max_certificate_bytes:
        raise BundleFormatError(
            f"certificate of {size} bytes exceeds the cap of {limits.max_certificate_bytes}",
            code=Code.BUNDLE_TOO_LARGE,
        )


class _ParsedCertificates:
    """Certificates parsed from their exact base64 text (an author's and the CAs' recur in every
    bundle), least recently used first out. Only certificates that parsed are kept."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: dict[str, tuple[int, x509.Certificate]] = {}
        self._lock = threading.Lock()

    def get(self, raw: str) -> tuple[int, x509.Certificate] | None:
        with self._lock:
            found = self._items.pop(raw, None)
            if found is not None:
                self._items[raw] = found
            return found

    def put(self, raw: str, parsed: tuple[int, x509.Certificate]) -> None:
        with self._lock:
            self._items[raw] = parsed
            while len(self._items) > self._size:
                del self._items[next(iter(self._items))]


PARSED_CERTIFICATE_CACHE_SIZE = 1024
_PARSED_CERTIFICATES = _ParsedCertificates(PARSED_CERTIFICATE_CACHE_SIZE)


def _check_one_entry_per_log(entries: tuple[TlogEntry, ...]) -> None:
    """Each log at most once: another entry of the same log would prove nothing more, and
    counted it would report the signature in more logs than hold it.

    Raises:
        BundleFormatError: ``bundle.malformed`` naming the repeated log.
    """
    seen: set[str] = set()
    for entry in entries:
        if entry.origin in seen:
            raise BundleFormatError(
                f"tlogEntries hold log {printable(entry.origin)} twice; expected one entry per log"
            )
        seen.add(entry.origin)


def check_material(
    envelope: Envelope, certificates: tuple[x509.Certificate, ...], key_hint: str | None
) -> None:
    """The rule every signature container keeps: certificates or a key hint, one signature.

    Raises:
        BundleFormatError: ``bundle.malformed`` for both or neither of certificates and a key
            hint; ``envelope.signatures`` for an envelope without exactly one signature.
    """
    if bool(certificates) == (key_hint is not None):
        raise BundleFormatError(
            "verificationMaterial needs exactly one of x509CertificateChain or publicKey"
        )
    if len(envelope.signatures) != 1:
        raise BundleFormatError(
            f"the envelope must carry exactly one signature, found {len(envelope.signatures)}",
            code=Code.ENVELOPE_SIGNATURES,
        )


# --- the common bundle in one pass --------------------------------------------------------------

_FAST_DEPTH = 6
"""The deepest nesting of a bundle of :func:`_read_fast`'s shape (a proof's hashes)."""
_SIGNATURE_ONLY = frozenset({"sig"})
_SIGNATURE_AND_KEYID = frozenset({"sig", "keyid"})
_WITH_CHAIN = frozenset({"tlogEntries", "x509CertificateChain"})
_WITH_KEY = frozenset({"tlogEntries", "publicKey"})
_ENVELOPE_FIELDS = frozenset({"payload", "payloadType", "signatures"})
_TLOG_ENTRY_FIELDS = frozenset(
    {"logId", "logIndex", "integratedTime", "leafHash", "inclusionProof"}
)
_PROOF_FIELDS = frozenset({"logIndex", "treeSize", "rootHash", "hashes", "checkpoint"})
_LOG_ID_FIELDS = frozenset({"origin"})
_CHECKPOINT_FIELDS = frozenset({"envelope"})
_ENTRY_PAIRS = 12
"""Key-value pairs of one ``tlogEntries[]`` item: 5 of its own, 1 of ``logId``, 5 of its proof
and 1 of the checkpoint."""


def _read_fast(data: bytes, limits: BundleLimits) -> Bundle | None:
    """:meth:`Bundle.from_bytes` of a bundle of the common shape (exactly the fields of a bundle
    with one signature, a certificate chain or key hint, all values of their JSON types), read
    by :func:`~provenance.encoding.decode_json` and checked in one pass; None for any other document, which the general path then
    reads (with its errors). It never refuses: what it returns the general path returns too.

    What :func:`~provenance.encoding.loads_strict` checks besides the decoder.s own checks (strict
    UTF-8, RFC 8259, no lone surrogate, no NaN) holds here without a scan of its own: every value
    has its exact type (an integer literal beyond 64 bits reads as a float, refused), the nesting
    is the shape's (at most ``_FAST_DEPTH``), and no key is repeated. A colon of the text either
    separates a pair or stands in a string, where it is itself or ``\\u003a`` escaped; a pair
    dropped as a duplicate leaves at least its colon in the text. So the text holds exactly as
    many colons as the shape's pairs plus those of its strings only when no pair was dropped,
    unless an escaped colon makes up for it. An escaped colon decodes to a colon, which only the
    strings counted here may hold (keys are exact, base64 and hex strings are checked): when
    they hold none there is none, else the text must hold no ``\\u`` escape at all.
    """
    if limits.max_depth < _FAST_DEPTH:
        return None
    try:
        obj = decode_json(data)
    except ValueError:
        return None
    if type(obj) is not dict or obj.keys() != _BUNDLE_FIELDS:
        return None
    if obj["mediaType"] != BUNDLE_MEDIA_TYPE:
        return None
    read = _envelope_fast(obj["dsseEnvelope"], limits)
    material = _material_fast(obj["verificationMaterial"], limits) if read else None
    if read is None or material is None:
        return None
    envelope, pairs, in_strings = read
    certificates, hint, entries, material_pairs, material_colons = material
    in_strings += material_colons
    if in_strings and b"\\u" in data:
        return None  # an escaped colon may hide a duplicate key: the general path reads it
    if data.count(b":") != 3 + pairs + material_pairs + in_strings:  # 3: the bundle's pairs
        return None
    return Bundle(envelope, certificates, hint, entries)


_Material = tuple[tuple[x509.Certificate, ...], str | None, tuple[TlogEntry, ...], int, int]


def _material_fast(material: object, limits: BundleLimits) -> _Material | None:
    """The certificates, key hint and log entries of :func:`_read_fast`, with the pairs and the
    colons of the strings of their text."""
    if type(material) is not dict:
        return None
    keys = material.keys()
    if keys not in (_WITH_CHAIN, _WITH_KEY):
        return None
    entries = material["tlogEntries"]
    if type(entries) is not list or len(entries) > limits.max_tlog_entries:
        return None
    certificates: tuple[x509.Certificate, ...] = ()
    hint = None
    if keys == _WITH_CHAIN:
        certificates = _certificates_fast(material["x509CertificateChain"], limits)
        if not certificates:
            return None
    else:
        key = material["publicKey"]
        if type(key) is not dict or key.keys() != _HINT_FIELDS:
            return None
        hint = key["hint"]
        if type(hint) is not str or not _KEY_ID.fullmatch(hint):
            return None
    tlog_entries = []
    colons = 0
    for item in entries:
        entry = _tlog_entry_fast(item)
        if entry is None:
            return None
        tlog_entries.append(entry)
        colons += entry.origin.count(":") + entry.inclusion_proof.checkpoint.count(":")
    # 2 pairs of the material, 1 of the chain and 1 per certificate or 1 of the key
    pairs = 3 + len(certificates) + _ENTRY_PAIRS * len(tlog_entries)
    return certificates, hint, tuple(tlog_entries), pairs, colons


def _envelope_fast(document: object, limits: BundleLimits) -> tuple[Envelope, int, int] | None:
    """The envelope of :func:`_read_fast` (one signature), its pairs and the colons of its
    strings."""
    if type(document) is not dict or document.keys() != _ENVELOPE_FIELDS:
        return None
    payload_text, payload_type = document["payload"], document["payloadType"]
    signatures = document["signatures"]
    if type(payload_type) is not str or type(signatures) is not list or len(signatures) != 1:
        return None
    item = signatures[0]
    if type(item) is not dict:
        return None
    fields = item.keys()
    keyid = item.get("keyid", "")
    if fields not in (_SIGNATURE_ONLY, _SIGNATURE_AND_KEYID) or (
        type(keyid) is not str or len(keyid) > ENVELOPE_LIMITS.max_keyid_chars
    ):
        return None
    sig_text = item["sig"]
    if type(payload_text) is not str or type(sig_text) is not str:
        return None
    try:
        payload = b64decode_strict(payload_text)
        sig = b64decode_strict(sig_text)
    except StrictDecodeError:
        return None
    if len(payload) > limits.max_payload_bytes:
        return None
    signature: EnvelopeSignature = read_signature(sig, sig_text, keyid)
    envelope = Envelope.read(payload, payload_text, payload_type, [signature])
    return envelope, 3 + len(fields), payload_type.count(":") + keyid.count(":")


def _certificates_fast(chain: object, limits: BundleLimits) -> tuple[x509.Certificate, ...]:
    """The chain of :func:`_read_fast`, or () for any other shape or a certificate that does not
    parse (the general path then reads it)."""
    if type(chain) is not dict or chain.keys() != _CHAIN_FIELDS:
        return ()
    items = chain["certificates"]
    if type(items) is not list or not 1 <= len(items) <= limits.max_certificates:
        return ()
    certificates = []
    for item in items:
        if type(item) is not dict or item.keys() != _CERTIFICATE_FIELDS:
            return ()
        raw = item["rawBytes"]
        if type(raw) is not str:
            return ()
        known = _PARSED_CERTIFICATES.get(raw)
        if known is None:
            try:
                certificates.append(_certificate(item, limits))
            except BundleFormatError:
                return ()
            continue
        size, certificate = known
        if size > limits.max_certificate_bytes:
            return ()
        certificates.append(certificate)
    return tuple(certificates)


def _tlog_entry_fast(item: object) -> TlogEntry | None:
    """:meth:`TlogEntry.from_json` of a well-formed entry, else None."""
    if type(item) is not dict or item.keys() != _TLOG_ENTRY_FIELDS:
        return None
    log_id, proof = item["logId"], item["inclusionProof"]
    if type(log_id) is not dict or log_id.keys() != _LOG_ID_FIELDS:
        return None
    if type(proof) is not dict or proof.keys() != _PROOF_FIELDS:
        return None
    origin, checkpoint = log_id["origin"], proof["checkpoint"]
    if type(origin) is not str or not origin:
        return None
    if type(checkpoint) is not dict or checkpoint.keys() != _CHECKPOINT_FIELDS:
        return None
    note = checkpoint["envelope"]
    if type(note) is not str or (
        len(note) > _SURELY_SHORT_NOTE and len(note.encode("utf-8")) > TLOG_LIMITS.max_note_bytes
    ):
        return None
    index, time = item["logIndex"], item["integratedTime"]
    cap = JSON_LIMITS.max_exact_integer
    proof_index, size = proof["logIndex"], proof["treeSize"]
    if not (
        type(index) is int
        and type(time) is int
        and type(proof_index) is int
        and type(size) is int
        and 0 <= index <= cap
        and 0 <= time <= cap
        and 0 <= proof_index <= cap
        and 0 <= size <= cap
    ):
        return None
    hashes = proof["hashes"]
    if type(hashes) is not list or len(hashes) > TLOG_LIMITS.max_proof_hashes:
        return None
    try:
        leaf_hash, root_hash, *path = proof_hashes([item["leafHash"], proof["rootHash"], *hashes])
    except ValueError:
        return None
    return TlogEntry(
        origin,
        index,
        time,
        leaf_hash,
        InclusionProof(proof_index, size, root_hash, tuple(path), note),
    )


_SURELY_SHORT_NOTE = TLOG_LIMITS.max_note_bytes // 4
"""A note of at most this many characters is within its cap in UTF-8 (4 bytes a character)."""
