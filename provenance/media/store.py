"""The claim signer, read from a C2PA manifest store and proven by the toolkit itself.

c2pa-python reports the signer's common name, organization and serial number but not its
certificate, so the SANs a policy needs are read here: the manifest store is JUMBF (ISO/IEC
19566-5) boxes; the active manifest's ``c2pa.signature`` box holds a COSE_Sign1 (RFC 9052) whose
protected ``x5chain`` header (label 33) carries the DER certificates, leaf first.

Nothing read here is trusted because c2pa accepted it. The COSE headers are parsed strictly (no
repeated label, exactly one certificate chain, none in the unprotected header), and the COSE_Sign1
signature over the claim bytes of the same manifest is verified with the leaf's key here, so the
leaf returned is the key that signed this claim (specs/media-v1.md §5).
"""

from __future__ import annotations

import io
import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import cbor2
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from provenance.codes import Code
from provenance.display import printable
from provenance.errors import VerificationError
from provenance.identity.profile import load_certificate_der

COSE_ALG = 1
COSE_X5BAG, COSE_X5CHAIN, COSE_X5T, COSE_X5U = 32, 33, 34, 35
TEXT_X5CHAIN = "x5chain"
CHAIN_LABELS: tuple[int | str, ...] = (COSE_X5CHAIN, TEXT_X5CHAIN)
"""The labels c2pa reads a chain from: the IANA label 33 and the pre-registration text label."""
CERTIFICATE_LABELS = frozenset({COSE_X5BAG, COSE_X5CHAIN, COSE_X5T, COSE_X5U, TEXT_X5CHAIN})
SIGNATURE_BOX_LABEL = "c2pa.signature"
STORE_LABEL = "c2pa"
CLAIM_BOX_LABELS = ("c2pa.claim", "c2pa.claim.v2")


@dataclass(frozen=True)
class MediaLimits:
    """The caps of our own checks of a C2PA signature.

    Attributes:
        max_chain_certificates: Certificates in the COSE ``x5chain``.
        max_header_entries: Entries in a COSE header.
        max_timestamp_tokens: RFC 3161 time-stamp tokens in a signature.
    """

    max_chain_certificates: int = 8
    max_header_entries: int = 32
    max_timestamp_tokens: int = 4


MEDIA_LIMITS = MediaLimits()


MALFORMED = Code.MEDIA_SIGNATURE_MALFORMED
DUPLICATE = Code.MEDIA_SIGNATURE_HEADER_DUPLICATE
AMBIGUOUS = Code.MEDIA_SIGNATURE_X5CHAIN_AMBIGUOUS
UNPROTECTED = Code.MEDIA_SIGNATURE_X5CHAIN_UNPROTECTED
ALGORITHM = Code.MEDIA_SIGNATURE_ALGORITHM
INVALID = Code.MEDIA_SIGNATURE_INVALID
SIDECAR_MALFORMED = Code.MEDIA_MALFORMED

_HEADER = struct.Struct(">I4s")
_EXTENDED_LENGTH = struct.Struct(">Q")
_LABEL_PRESENT = 0x02
_DESCRIPTION_TYPE_BYTES = 16
_CBOR_MAP = 5
_CBOR_LENGTH_BYTES = {24: 1, 25: 2, 26: 4, 27: 8}


class ManifestStoreError(VerificationError):
    """The manifest store, the claim signature or its headers are malformed or do not verify."""

    default_code = MALFORMED


@dataclass(frozen=True)
class _Algorithm:
    name: str
    hash: hashes.HashAlgorithm | None
    kind: str
    curve: type[ec.EllipticCurve] | None = None


_ALGORITHMS = {
    -7: _Algorithm("ES256", hashes.SHA256(), "ecdsa", ec.SECP256R1),
    -35: _Algorithm("ES384", hashes.SHA384(), "ecdsa", ec.SECP384R1),
    -36: _Algorithm("ES512", hashes.SHA512(), "ecdsa", ec.SECP521R1),
    -37: _Algorithm("PS256", hashes.SHA256(), "pss"),
    -38: _Algorithm("PS384", hashes.SHA384(), "pss"),
    -39: _Algorithm("PS512", hashes.SHA512(), "pss"),
    -8: _Algorithm("EdDSA", None, "eddsa"),
}


_ECDSA = {
    algorithm.name: ec.ECDSA(algorithm.hash)
    for algorithm in _ALGORITHMS.values()
    if algorithm.kind == "ecdsa" and algorithm.hash is not None
}


@lru_cache(maxsize=1024)
def _public_key(certificate: x509.Certificate) -> Any:
    """The certificate's public key, parsed once per certificate (equal and hashed by DER)."""
    return certificate.public_key()


@dataclass(frozen=True)
class ClaimSigner:
    """The proven signer of a manifest's claim.

    Attributes:
        chain: The x5chain, leaf first; the leaf's key verified the claim signature.
        unprotected: The COSE unprotected header (time-stamp tokens, pad, ...), unverified.
    """

    chain: tuple[x509.Certificate, ...]
    unprotected: dict[Any, Any]


def claim_signer(store: bytes, manifest_label: str) -> ClaimSigner:
    """The signer whose leaf key signed the claim of manifest ``manifest_label``.

    Raises:
        ManifestStoreError: ``media.signature.malformed`` (store, boxes, COSE structure or
            certificates unreadable, no chain), ``media.signature.header.duplicate`` (a label
            repeated within or across the headers), ``media.signature.x5chain.ambiguous`` (both
            chain labels), ``media.signature.x5chain.unprotected`` (certificate material in the
            unprotected header), ``media.signature.algorithm`` (unsupported, or not the leaf key's)
            or ``media.signature.invalid`` (the signature over the claim does not verify).
    """
    store_box = _child(store, STORE_LABEL, "manifest store")
    manifest = _superboxes(_child(store_box, manifest_label))
    claim = _claim(manifest, manifest_label)
    signature_box = _only(manifest, SIGNATURE_BOX_LABEL, "signature box")
    protected_bytes, protected, unprotected, signature = _cose_sign1(_cbor(signature_box))
    chain = _certificates(_chain_value(protected, unprotected))
    _verify(chain[0], protected, protected_bytes, claim, signature)
    return ClaimSigner(chain, dict(unprotected))


def check_sidecar(sidecar: bytes) -> None:
    """Refuse a ``.c2pa`` sidecar that is not exactly one top-level superbox labelled ``c2pa``.

    c2pa reads only a sidecar's first top-level box (checking its type, not its label) and ignores
    any bytes after it, so a second box, or a first one under another label, is a store c2pa never
    validated (specs/media-v1.md §3 step 1).

    Raises:
        ManifestStoreError: ``media.malformed``, naming what was found.
    """
    try:
        boxes = list(_boxes(sidecar))
    except ManifestStoreError as exc:
        raise ManifestStoreError(f"the sidecar: {exc.message}", code=SIDECAR_MALFORMED) from exc
    kind, body = boxes[0] if boxes else (b"", b"")
    label = _label(body) if kind == b"jumb" else None
    if len(boxes) != 1 or label != STORE_LABEL:
        first = printable(label) if label is not None else printable(kind.decode("latin-1"))
        raise ManifestStoreError(
            f"a sidecar must be one top-level superbox labelled {STORE_LABEL!r}, found "
            f"{len(boxes)} top-level box(es), the first {first!r}",
            code=SIDECAR_MALFORMED,
        )


def signer_chain(store: bytes, manifest_label: str) -> tuple[x509.Certificate, ...]:
    """The x5chain (leaf first) whose leaf key signed the claim of manifest ``manifest_label``.

    Raises:
        ManifestStoreError: As :func:`claim_signer`.
    """
    return claim_signer(store, manifest_label).chain


def c2pa_chain_value(
    protected: Sequence[tuple[Any, Any]], unprotected: Sequence[tuple[Any, Any]]
) -> Any:
    """The chain c2pa-rs 0.91 validates: the first protected entry labelled 33 or ``"x5chain"``,
    else the unprotected ``"x5chain"`` (its ``cert_chain_from_sign1``); None when there is none."""
    for label, value in protected:
        if label in CHAIN_LABELS:
            return value
    return next((value for label, value in unprotected if label == TEXT_X5CHAIN), None)


def _chain_value(protected: list[tuple[Any, Any]], unprotected: list[tuple[Any, Any]]) -> Any:
    labels = [label for label, _ in protected]
    material = sorted(str(label) for label, _ in unprotected if label in CERTIFICATE_LABELS)
    if material:
        raise ManifestStoreError(
            f"certificate material in the unprotected COSE header (labels {material}); the "
            "chain must be in the protected header only",
            code=UNPROTECTED,
        )
    if set(labels) & {label for label, _ in unprotected}:
        raise ManifestStoreError(
            "a COSE label appears in both the protected and the unprotected header", code=DUPLICATE
        )
    found = [label for label in labels if label in CHAIN_LABELS]
    if len(found) > 1:
        raise ManifestStoreError(
            'the protected COSE header carries a chain under both label 33 and "x5chain"; '
            "expected exactly one",
            code=AMBIGUOUS,
        )
    if not found:
        raise ManifestStoreError("the protected COSE header carries no x5chain (label 33)")
    value = dict(protected)[found[0]]
    if c2pa_chain_value(protected, unprotected) is not value:
        # Unreachable after the checks above; kept so that the chain read here is, by
        # construction, the one c2pa validated.
        raise ManifestStoreError("c2pa would validate another chain", code=AMBIGUOUS)
    return value


def _certificates(value: Any) -> tuple[x509.Certificate, ...]:
    items = [value] if isinstance(value, bytes) else value
    if (
        not isinstance(items, list)
        or not 0 < len(items) <= MEDIA_LIMITS.max_chain_certificates
        or not all(isinstance(item, bytes) for item in items)
    ):
        raise ManifestStoreError(
            "x5chain must be one DER certificate or an array of 1 to "
            f"{MEDIA_LIMITS.max_chain_certificates}, "
            f"found {type(value).__name__}"
        )
    try:
        return tuple(load_certificate_der(item) for item in items)
    except ValueError as exc:  # not DER X.509, or re-encoded outside its signed part
        raise ManifestStoreError(f"an x5chain certificate is not DER X.509: {exc}") from exc


def _verify(
    leaf: x509.Certificate,
    protected: list[tuple[Any, Any]],
    protected_bytes: bytes,
    claim: bytes,
    signature: bytes,
) -> None:
    alg = dict(protected).get(COSE_ALG)
    algorithm = _ALGORITHMS.get(alg) if isinstance(alg, int) and not isinstance(alg, bool) else None
    if algorithm is None:
        raise ManifestStoreError(
            f"COSE algorithm {alg!r} is not one of {sorted(a.name for a in _ALGORITHMS.values())}",
            code=ALGORITHM,
        )
    to_be_signed = cbor2.dumps(["Signature1", protected_bytes, b"", claim])
    try:
        key = _public_key(leaf)
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise ManifestStoreError(f"the leaf's public key cannot be read: {exc}") from exc
    try:
        _check_signature(algorithm, key, signature, to_be_signed)
    except InvalidSignature as exc:
        raise ManifestStoreError(
            f"the {algorithm.name} claim signature does not verify with the x5chain leaf's key",
            code=INVALID,
        ) from exc


def _check_signature(algorithm: _Algorithm, key: Any, signature: bytes, data: bytes) -> None:
    if algorithm.kind == "ecdsa" and isinstance(key, ec.EllipticCurvePublicKey):
        assert algorithm.curve is not None and algorithm.hash is not None
        size = (key.curve.key_size + 7) // 8
        if not isinstance(key.curve, algorithm.curve):
            raise _key_mismatch(algorithm, key)
        if len(signature) != 2 * size:
            raise InvalidSignature
        r, s = int.from_bytes(signature[:size]), int.from_bytes(signature[size:])
        key.verify(encode_dss_signature(r, s), data, _ECDSA[algorithm.name])
    elif algorithm.kind == "pss" and isinstance(key, rsa.RSAPublicKey):
        assert algorithm.hash is not None
        pss = padding.PSS(padding.MGF1(algorithm.hash), algorithm.hash.digest_size)
        key.verify(signature, data, pss, algorithm.hash)
    elif algorithm.kind == "eddsa" and isinstance(key, ed25519.Ed25519PublicKey):
        key.verify(signature, data)
    else:
        raise _key_mismatch(algorithm, key)


def _key_mismatch(algorithm: _Algorithm, key: Any) -> ManifestStoreError:
    return ManifestStoreError(
        f"COSE algorithm {algorithm.name} does not fit the leaf's {type(key).__name__}",
        code=ALGORITHM,
    )


def _cose_sign1(
    content: bytes,
) -> tuple[bytes, list[tuple[Any, Any]], list[tuple[Any, Any]], bytes]:
    """(protected bytes, protected entries, unprotected entries, signature), strictly."""
    stream = io.BytesIO(content)
    if stream.read(2) != bytes([0xD2, 0x84]):
        raise ManifestStoreError("the claim signature is not a tagged COSE_Sign1 array of four")
    decoder = cbor2.CBORDecoder(stream)
    protected_bytes = _decode(decoder, "the protected header")
    if not isinstance(protected_bytes, bytes):
        raise ManifestStoreError("the COSE protected header is not a byte string")
    unprotected = _map_entries(stream, "unprotected")
    payload = _decode(decoder, "the payload")
    signature = _decode(decoder, "the signature")
    if payload is not None or not isinstance(signature, bytes):
        raise ManifestStoreError("COSE_Sign1 needs a detached (nil) payload and a byte signature")
    if stream.read(1):
        raise ManifestStoreError("bytes follow the COSE_Sign1")
    inner = io.BytesIO(protected_bytes)
    protected = _map_entries(inner, "protected")
    if inner.read(1):
        raise ManifestStoreError("bytes follow the COSE protected header map")
    return protected_bytes, protected, unprotected, signature


def _map_entries(stream: io.BytesIO, which: str) -> list[tuple[Any, Any]]:
    """The entries of the CBOR map at the stream's position, refusing repeated labels."""
    first = stream.read(1)
    if not first or first[0] >> 5 != _CBOR_MAP or first[0] & 0x1F not in range(28):
        raise ManifestStoreError(f"the COSE {which} header is not a definite-length CBOR map")
    count = first[0] & 0x1F
    if count in _CBOR_LENGTH_BYTES:
        count = int.from_bytes(stream.read(_CBOR_LENGTH_BYTES[count]))
    if count > MEDIA_LIMITS.max_header_entries:
        raise ManifestStoreError(
            f"the COSE {which} header has {count} entries, more than "
            f"{MEDIA_LIMITS.max_header_entries}"
        )
    decoder = cbor2.CBORDecoder(stream)
    entries: list[tuple[Any, Any]] = []
    for _ in range(count):
        label = _decode(decoder, f"a {which} header label")
        if isinstance(label, bool) or not isinstance(label, int | str):
            raise ManifestStoreError(f"a COSE {which} header label is {type(label).__name__}")
        if label in (seen := [known for known, _ in entries]):
            raise ManifestStoreError(
                f"label {label!r} appears {seen.count(label) + 1} times in the COSE {which} header",
                code=DUPLICATE,
            )
        entries.append((label, _decode(decoder, f"the {which} header value of {label!r}")))
    return entries


def _decode(decoder: cbor2.CBORDecoder, what: str) -> Any:
    try:
        return decoder.decode()
    except (cbor2.CBORDecodeError, ValueError, OverflowError, EOFError) as exc:
        raise ManifestStoreError(f"{what} is not CBOR: {exc}") from exc


def _claim(manifest: list[tuple[str | None, bytes]], manifest_label: str) -> bytes:
    found = [body for label, body in manifest if label in CLAIM_BOX_LABELS]
    if len(found) != 1:
        raise ManifestStoreError(
            f"manifest {printable(manifest_label)} holds {len(found)} claim boxes; expected one"
        )
    return _cbor(found[0])


def _cbor(superbox: bytes) -> bytes:
    found = [body for kind, body in _boxes(superbox) if kind == b"cbor"]
    if len(found) != 1:
        label = printable(_label(superbox) or "unlabelled")
        raise ManifestStoreError(f"a {label} box holds {len(found)} CBOR boxes, not one")
    return found[0]


def _boxes(data: bytes) -> Iterator[tuple[bytes, bytes]]:
    offset = 0
    while offset < len(data):
        if offset + _HEADER.size > len(data):
            raise ManifestStoreError(f"truncated JUMBF box header at offset {offset}")
        length, kind = _HEADER.unpack_from(data, offset)
        header = _HEADER.size
        if length == 1:
            if offset + header + _EXTENDED_LENGTH.size > len(data):
                raise ManifestStoreError(f"truncated JUMBF box length at offset {offset}")
            (length,) = _EXTENDED_LENGTH.unpack_from(data, offset + header)
            header += _EXTENDED_LENGTH.size
        elif length == 0:
            length = len(data) - offset
        if length < header or offset + length > len(data):
            raise ManifestStoreError(f"JUMBF box at offset {offset} has a bad length {length}")
        yield kind, data[offset + header : offset + length]
        offset += length


def _label(superbox: bytes) -> str | None:
    for kind, body in _boxes(superbox):
        if kind != b"jumd" or len(body) <= _DESCRIPTION_TYPE_BYTES:
            return None
        if not body[_DESCRIPTION_TYPE_BYTES] & _LABEL_PRESENT:
            return None
        start = _DESCRIPTION_TYPE_BYTES + 1
        end = body.find(b"\0", start)
        return body[start:end].decode("utf-8", "replace") if end >= 0 else None
    return None


def _superboxes(container: bytes) -> list[tuple[str | None, bytes]]:
    """(label, body) of each superbox in ``container``, read once for several look-ups."""
    return [(_label(body), body) for kind, body in _boxes(container) if kind == b"jumb"]


def _child(container: bytes, label: str, what: str | None = None) -> bytes:
    """The one superbox labelled ``label`` in ``container`` (``what`` names it; by default
    ``manifest <label>``)."""
    return _only(_superboxes(container), label, what)


def _only(superboxes: list[tuple[str | None, bytes]], label: str, what: str | None) -> bytes:
    found = [body for known, body in superboxes if known == label]
    if len(found) != 1:
        what = what or f"manifest {printable(label)}"
        raise ManifestStoreError(
            f"the {what} ({printable(label)!r}) appears {len(found)} times in the manifest store,"
            " not once"
        )
    return found[0]
