"""Rewriting the COSE_Sign1 of a C2PA manifest the way an attacker would, in place.

The claim signature box of a c2pa-made manifest holds a COSE_Sign1 whose unprotected header carries
a ``pad`` byte string, so a rewritten signature can be made exactly as long as the original: the
JUMBF box lengths and the hard binding's exclusion ranges stay valid. The attacker re-signs the
claim with its own real key (the protected header is signed, so editing it needs a new signature).
Nothing here uses the code under test: the JUMBF walk is its own.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from provenance.keys import SigningKey

COSE_SIGN1_TAG = 18
_HEADER = struct.Struct(">I4s")
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _boxes(data: bytes) -> Iterator[tuple[bytes, int, int]]:
    """(type, payload start, payload end) of each box in ``data`` (offsets relative to it)."""
    offset = 0
    while offset + _HEADER.size <= len(data):
        length, kind = _HEADER.unpack_from(data, offset)
        yield kind, offset + _HEADER.size, offset + length
        offset += length


def _label(data: bytes, start: int, end: int) -> str | None:
    for kind, body_start, body_end in _boxes(data[start:end]):
        if kind == b"jumd":
            body = data[start + body_start : start + body_end]
            return body[17 : body.index(b"\0", 17)].decode()
    return None


def _find(data: bytes, start: int, end: int, wanted: Callable[[str], bool]) -> tuple[int, int]:
    for kind, body_start, body_end in _boxes(data[start:end]):
        if kind == b"jumb":
            label = _label(data, start + body_start, start + body_end)
            if label is not None and wanted(label):
                return start + body_start, start + body_end
    raise AssertionError("box not found")


def _cbor_payload(data: bytes, start: int, end: int) -> tuple[int, int]:
    for kind, body_start, body_end in _boxes(data[start:end]):
        if kind == b"cbor":
            return start + body_start, start + body_end
    raise AssertionError("no cbor box")


def active_label(store: bytes) -> str:
    """The label of the last manifest of a store (the active one of a freshly signed asset)."""
    top_start, top_end = _find(store, 0, len(store), lambda label: label == "c2pa")
    labels = [
        _label(store, top_start + start, top_start + end)
        for kind, start, end in _boxes(store[top_start:top_end])
        if kind == b"jumb"
    ]
    last = labels[-1]
    assert last is not None
    return last


@dataclass(frozen=True)
class Signature:
    """The active manifest's claim bytes and COSE_Sign1, as they sit in a manifest store."""

    claim: bytes
    cose: bytes

    @classmethod
    def of_store(cls, store: bytes) -> Signature:
        """Read the last (active) manifest's claim and signature out of a JUMBF store."""
        top_start, top_end = _find(store, 0, len(store), lambda label: label == "c2pa")
        manifests = [
            (body_start + top_start, body_end + top_start)
            for kind, body_start, body_end in _boxes(store[top_start:top_end])
            if kind == b"jumb"
        ]
        start, end = manifests[-1]
        claim_box = _find(store, start, end, lambda label: label.startswith("c2pa.claim"))
        signature_box = _find(store, start, end, lambda label: label == "c2pa.signature")
        claim_start, claim_end = _cbor_payload(store, *claim_box)
        cose_start, cose_end = _cbor_payload(store, *signature_box)
        return cls(store[claim_start:claim_end], store[cose_start:cose_end])

    def parts(self) -> list[Any]:
        """[protected bytes, unprotected map, payload, signature] of the COSE_Sign1."""
        tagged = cbor2.loads(self.cose)
        assert tagged.tag == COSE_SIGN1_TAG
        return list(tagged.value)

    def protected(self) -> dict[Any, Any]:
        """The decoded protected header."""
        header: dict[Any, Any] = cbor2.loads(self.parts()[0])
        return header


def sig_structure(protected: bytes, claim: bytes) -> bytes:
    """RFC 9052 §4.4 Sig_structure for COSE_Sign1 with a detached payload (the claim)."""
    return cbor2.dumps(["Signature1", protected, b"", claim])


def rewrite(
    signature: Signature,
    key: SigningKey,
    *,
    protected: list[tuple[Any, Any]] | None = None,
    unprotected: dict[Any, Any] | None = None,
    stamp: Callable[[bytes, bytes], dict[Any, Any]] | None = None,
) -> bytes:
    """A new COSE_Sign1 with the given headers, signed by ``key``, as long as the original.

    ``protected`` is a list of (label, value) pairs in order, so that a label may repeat (CBOR
    maps built by hand); the pad of the unprotected header absorbs the length difference.
    ``stamp(protected bytes, new signature)`` returns extra unprotected entries (a time stamp).
    """
    original = signature.parts()
    protected_bytes = original[0] if protected is None else _map_bytes(protected)
    extra = dict(original[1]) if unprotected is None else dict(unprotected)
    extra.pop("pad", None)
    sig = es256(key, sig_structure(protected_bytes, signature.claim))
    if stamp is not None:
        extra.update(stamp(protected_bytes, sig))
    for pad_length in range(len(signature.cose), -1, -1):
        header = {**extra, "pad": bytes(pad_length)}
        cose = cbor2.dumps(cbor2.CBORTag(COSE_SIGN1_TAG, [protected_bytes, header, None, sig]))
        if len(cose) == len(signature.cose):
            return cose
    raise AssertionError("the rewritten signature does not fit the original's space")


def es256(key: SigningKey, data: bytes) -> bytes:
    """A COSE ES256 signature (``r || s``, 32 bytes each) made with pyca/cryptography."""
    private = key.to_cryptography()
    assert isinstance(private, ec.EllipticCurvePrivateKey)
    r, s = decode_dss_signature(private.sign(data, ec.ECDSA(hashes.SHA256())))
    return r.to_bytes(32) + s.to_bytes(32)


def _map_bytes(pairs: list[tuple[Any, Any]]) -> bytes:
    """A CBOR map with the pairs in order (duplicates allowed: cbor2 would merge them)."""
    assert len(pairs) < 24
    return bytes([0xA0 + len(pairs)]) + b"".join(
        cbor2.dumps(label) + cbor2.dumps(value) for label, value in pairs
    )


def replace_in_asset(asset: bytes, old: bytes, new: bytes) -> bytes:
    """``asset`` with the signature bytes swapped (same length); PNG chunk CRCs recomputed."""
    assert len(old) == len(new) and asset.count(old) == 1
    edited = asset.replace(old, new)
    return _fix_png_crcs(edited) if edited.startswith(_PNG_SIGNATURE) else edited


def _fix_png_crcs(png: bytes) -> bytes:
    out = bytearray(png)
    offset = len(_PNG_SIGNATURE)
    while offset + 8 <= len(out):
        (length,) = struct.unpack_from(">I", out, offset)
        body = bytes(out[offset + 4 : offset + 8 + length])
        struct.pack_into(">I", out, offset + 8 + length, zlib.crc32(body))
        offset += 12 + length
    return bytes(out)


def self_made_time_stamp(
    key: SigningKey, chain: list[Any], protected: bytes, signature: bytes, gen_time: Any
) -> dict[str, Any]:
    """A ``sigTst2`` entry: an RFC 3161 TimeStampToken over the C2PA v2 countersignature data,
    signed with ``key`` (an author's, not a TSA's) and dated ``gen_time``."""
    import hashlib  # noqa: PLC0415

    from asn1crypto import algos, cms, core, tsp  # noqa: PLC0415
    from asn1crypto import x509 as asn1_x509  # noqa: PLC0415
    from cryptography.hazmat.primitives.serialization import Encoding  # noqa: PLC0415

    payload = cbor2.dumps(signature)
    to_stamp = cbor2.dumps(["CounterSignature", protected, b"", payload])
    sha256 = algos.DigestAlgorithm({"algorithm": "sha256"})
    info = tsp.TSTInfo(
        {
            "version": "v1",
            "policy": "1.2.3.4",
            "message_imprint": {
                "hash_algorithm": sha256,
                "hashed_message": hashlib.sha256(to_stamp).digest(),
            },
            "serial_number": 1,
            "gen_time": gen_time,
        }
    ).dump()
    certificates = [asn1_x509.Certificate.load(cert.public_bytes(Encoding.DER)) for cert in chain]
    attributes = cms.CMSAttributes(
        [
            cms.CMSAttribute({"type": "content_type", "values": ["tst_info"]}),
            cms.CMSAttribute({"type": "message_digest", "values": [hashlib.sha256(info).digest()]}),
        ]
    )
    private = key.to_cryptography()
    assert isinstance(private, ec.EllipticCurvePrivateKey)
    der_signature = private.sign(attributes.dump(), ec.ECDSA(hashes.SHA256()))
    signer = cms.SignerInfo(
        {
            "version": "v1",
            "sid": cms.SignerIdentifier(
                {
                    "issuer_and_serial_number": {
                        "issuer": certificates[0].issuer,
                        "serial_number": certificates[0].serial_number,
                    }
                }
            ),
            "digest_algorithm": sha256,
            "signed_attrs": attributes,
            "signature_algorithm": algos.SignedDigestAlgorithm({"algorithm": "sha256_ecdsa"}),
            "signature": der_signature,
        }
    )
    signed_data = cms.SignedData(
        {
            "version": "v3",
            "digest_algorithms": [sha256],
            "encap_content_info": {
                "content_type": "tst_info",
                "content": core.ParsableOctetString(info),
            },
            "certificates": certificates,
            "signer_infos": [signer],
        }
    )
    token = cms.ContentInfo({"content_type": "signed_data", "content": signed_data}).dump()
    return {"sigTst2": {"tstTokens": [{"val": token}]}}
