"""The signer's certificate chain, read from a C2PA manifest store.

c2pa-python reports the signer's common name, organization and serial number but not its
certificate, so the SANs a policy needs are read here: the manifest store is JUMBF (ISO/IEC
19566-5) boxes; the active manifest's ``c2pa.signature`` box holds a COSE_Sign1 (RFC 9052) whose
``x5chain`` header (label 33) carries the DER certificates, leaf first. Nothing read here is trusted
by itself: c2pa has verified the signature with this chain, and the caller checks that the leaf is
the certificate c2pa reported.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator, Sequence
from typing import Any

import cbor2
from cryptography import x509

from provenance.errors import MediaError

COSE_SIGN1_TAG = 18
COSE_X5CHAIN = 33
SIGNATURE_BOX_LABEL = "c2pa.signature"
_HEADER = struct.Struct(">I4s")
_EXTENDED_LENGTH = struct.Struct(">Q")
_LABEL_PRESENT = 0x02
_DESCRIPTION_TYPE_BYTES = 16
MAX_CHAIN_CERTIFICATES = 8


class ManifestStoreError(MediaError):
    """The manifest store or its signature cannot be parsed."""


def signer_chain(store: bytes, manifest_label: str) -> tuple[x509.Certificate, ...]:
    """The x5chain (leaf first) of manifest ``manifest_label`` in the JUMBF manifest ``store``.

    Raises:
        ManifestStoreError: The store, the manifest, its signature box or the COSE structure is
            missing or malformed.
    """
    store_box = _child(store, "c2pa", "manifest store")
    manifest = _child(store_box, manifest_label, f"manifest {manifest_label}")
    signature_box = _child(manifest, SIGNATURE_BOX_LABEL, "signature box")
    content = next((body for kind, body in _boxes(signature_box) if kind == b"cbor"), None)
    if content is None:
        raise ManifestStoreError(f"manifest {manifest_label}: the signature box holds no CBOR")
    return _x5chain(_cose_sign1(content))


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


def _child(container: bytes, label: str, what: str) -> bytes:
    for kind, body in _boxes(container):
        if kind == b"jumb" and _label(body) == label:
            return body
    raise ManifestStoreError(f"the {what} ({label!r}) is not in the manifest store")


def _cose_sign1(content: bytes) -> Sequence[Any]:
    try:
        decoded = cbor2.loads(content)
    except (cbor2.CBORDecodeError, ValueError, OverflowError) as exc:
        raise ManifestStoreError(f"the claim signature is not CBOR: {exc}") from exc
    value = decoded.value if isinstance(decoded, cbor2.CBORTag) else decoded
    if isinstance(decoded, cbor2.CBORTag) and decoded.tag != COSE_SIGN1_TAG:
        raise ManifestStoreError(f"the claim signature has CBOR tag {decoded.tag}, not COSE_Sign1")
    if not isinstance(value, list | tuple) or len(value) != 4:
        raise ManifestStoreError("the claim signature is not a COSE_Sign1 array of four")
    return value


def _x5chain(cose: Sequence[Any]) -> tuple[x509.Certificate, ...]:
    protected, unprotected = cose[0], cose[1]
    headers: dict[Any, Any] = {}
    if isinstance(unprotected, dict):
        headers.update(unprotected)
    if isinstance(protected, bytes) and protected:
        try:
            decoded = cbor2.loads(protected)
        except (cbor2.CBORDecodeError, ValueError, OverflowError) as exc:
            raise ManifestStoreError(f"the COSE protected header is not CBOR: {exc}") from exc
        if isinstance(decoded, dict):
            headers.update(decoded)
    chain = headers.get(COSE_X5CHAIN, headers.get("x5chain"))
    items = [chain] if isinstance(chain, bytes) else chain
    if not isinstance(items, list | tuple) or not items or len(items) > MAX_CHAIN_CERTIFICATES:
        raise ManifestStoreError("the COSE header carries no usable x5chain")
    try:
        return tuple(x509.load_der_x509_certificate(item) for item in items)
    except (TypeError, ValueError) as exc:
        raise ManifestStoreError(f"an x5chain certificate is not DER X.509: {exc}") from exc
