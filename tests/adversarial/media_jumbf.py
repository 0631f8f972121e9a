"""JUMBF splicing for the sidecar forgery tests, independent of the code under test."""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta

import cbor2
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from provenance.identity import create_authority
from provenance.identity.authority import issue_certificate
from provenance.keys import KeyType, SigningKey, generate_key
from tests.media_samples import tiny_png

_HEADER = struct.Struct(">I4s")
MANIFEST_PARTS = ("c2pa.assertions", "c2pa.claim.v2", "c2pa.signature")


def boxes(data: bytes) -> list[tuple[bytes, bytes]]:
    """(type, body) of each box in ``data``."""
    out, offset = [], 0
    while offset < len(data):
        length, kind = _HEADER.unpack_from(data, offset)
        out.append((kind, data[offset + 8 : offset + length]))
        offset += length
    return out


def box(kind: bytes, body: bytes) -> bytes:
    """A box of ``kind`` around ``body``."""
    return _HEADER.pack(8 + len(body), kind) + body


@dataclass(frozen=True)
class Superbox:
    """A JUMBF superbox: description (uuid, toggles, label, rest) and raw child boxes."""

    uuid: bytes
    toggles: int
    label: str
    rest: bytes
    children: tuple[bytes, ...]

    @classmethod
    def parse(cls, raw: bytes) -> Superbox:
        ((kind, body),) = boxes(raw)
        assert kind == b"jumb"
        items = boxes(body)
        assert items[0][0] == b"jumd"
        jumd = items[0][1]
        end = jumd.index(b"\0", 17)
        children = tuple(box(k, b) for k, b in items[1:])
        return cls(jumd[:16], jumd[16], jumd[17:end].decode(), jumd[end + 1 :], children)

    def child(self, label: str) -> Superbox:
        found = [Superbox.parse(c) for c in self.children if c[4:8] == b"jumb"]
        (only,) = [s for s in found if s.label == label]
        return only

    def build(self, label: str | None = None, children: tuple[bytes, ...] | None = None) -> bytes:
        jumd = (
            self.uuid + bytes([self.toggles]) + (label or self.label).encode() + b"\0" + self.rest
        )
        kids = self.children if children is None else children
        return box(b"jumb", box(b"jumd", jumd) + b"".join(kids))


def only_manifest(store: bytes) -> tuple[Superbox, Superbox]:
    """(the c2pa store superbox, its one manifest) of a freshly signed store."""
    top = Superbox.parse(store)
    (manifest,) = [Superbox.parse(c) for c in top.children]
    return top, manifest


def second_store_forgery(attacker_store: bytes, victim_store: bytes) -> bytes:
    """The attacker's store relabelled (c2pa reads only this first box), then a box labelled
    ``c2pa`` whose manifest (the attacker's label) holds the victim's claim and signature."""
    top, manifest = only_manifest(attacker_store)
    _, victim = only_manifest(victim_store)
    parts = tuple(victim.child(label).build() for label in MANIFEST_PARTS)
    return top.build(label="xxxx") + top.build(children=(manifest.build(children=parts),))


def store_leaf(store: bytes) -> x509.Certificate:
    """The x5chain leaf of a freshly signed store's one manifest."""
    _, manifest = only_manifest(store)
    cose = manifest.child("c2pa.signature").children[0][8:]
    chain = cbor2.loads(cbor2.loads(cose).value[0])[33]
    return x509.load_der_x509_certificate(chain[0] if isinstance(chain, list) else chain)


@dataclass(frozen=True)
class Impostor:
    """An attacker's own CA-issued, C2PA-profile-clean leaf with a chosen serial number."""

    key: SigningKey
    chain: list[x509.Certificate]


def impostor(serial: int, now: datetime) -> Impostor:
    """A key and chain from the attacker's own CA (in no trust root) whose leaf carries ``serial``
    (the victim leaf's serial number, which is public)."""
    evil = create_authority("Evil CA", now=now - timedelta(days=3)).authority
    key = generate_key(KeyType.P256)
    chain = issue_certificate(
        evil, key.public_key, "https://evil.example/me", now=now - timedelta(days=1), days=30
    )
    leaf = chain[0]
    builder = (
        x509.CertificateBuilder()
        .subject_name(leaf.subject)
        .issuer_name(leaf.issuer)
        .public_key(leaf.public_key())
        .serial_number(serial)
        .not_valid_before(leaf.not_valid_before_utc)
        .not_valid_after(leaf.not_valid_after_utc)
    )
    for extension in leaf.extensions:
        builder = builder.add_extension(extension.value, critical=extension.critical)
    signer = evil.issuing_key.to_cryptography()
    return Impostor(key, [builder.sign(signer, hashes.SHA256()), *chain[1:]])


def attacker_png() -> bytes:
    """A picture that is not the victim's (a PNG text chunk before IEND)."""
    png = tiny_png()
    body = b"Comment\0made by the attacker, not the victim"
    chunk = struct.pack(">I", len(body)) + b"tEXt" + body
    chunk += struct.pack(">I", zlib.crc32(b"tEXt" + body))
    return png[:-12] + chunk + png[-12:]
