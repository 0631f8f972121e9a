"""Write the test vectors of specs/vectors/ (run: make vectors).

Every vector is reproducible byte for byte: keys derive from fixed labels, signatures are
deterministic (RFC 6979 for P-256 and for certificates and CRLs, Ed25519 by construction), times
are fixed, and inside :func:`deterministic_pki` an authority's keys and the certificates' serial
numbers come from labels too, in the order the cases create them.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest.mock import patch

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from provenance.bundle import Bundle
from provenance.dsse import EnvelopeSignature
from provenance.encoding import b64encode
from provenance.identity.authority import (
    CertificateAuthority,
    authority_key_identifier,
    create_authority,
    issue_certificate,
)
from provenance.identity.crl import build_crl, revoke
from provenance.identity.profile import spki_sha256
from provenance.identity.trust import TrustRoot, export_trust_root
from provenance.keys import Ed25519SigningKey, KeyType, P256SigningKey, SigningKey
from provenance.sign import Signer
from provenance.statement import Author, ContentPredicate
from provenance.text import Canonicalization

OUT = Path(__file__).resolve().parents[1] / "specs" / "vectors" / "bundle-v1"
VERIFY_AT = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
CREATED = VERIFY_AT - timedelta(hours=1)
IDENTITY = "https://reviews.example/u/8841"
REVIEW = b"The desk lamp is sturdy and bright.\r\nFive stars, would buy again.  \r\n"
LABEL_PREFIX = "provenance-toolkit test vector"
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def label_key(label: str, kind: str) -> SigningKey:
    """A well-known TEST key derived from a public label (never use it for anything real)."""
    seed = hashlib.sha256(f"{LABEL_PREFIX} {label}".encode()).digest()
    if kind == "ed25519":
        return Ed25519SigningKey(seed)
    scalar = int.from_bytes(seed, "big") % (P256_ORDER - 1) + 1
    return P256SigningKey(ec.derive_private_key(scalar, ec.SECP256R1()))


@contextmanager
def deterministic_pki(family: str = "") -> Iterator[None]:
    """Authorities created inside get labelled keys (``<family>authority key 1``, ``2``, ...) and
    certificates labelled serial numbers (159 bits of ``SHA-256("... <family>serial <n>")``), in
    the order they are made."""
    keys = (label_key(f"{family}authority key {n}", "p256") for n in itertools.count(1))
    serials = (
        int.from_bytes(hashlib.sha256(f"{LABEL_PREFIX} {family}serial {n}".encode()).digest()[:20])
        >> 1
        for n in itertools.count(1)
    )

    def next_key(key_type: KeyType = KeyType.P256) -> SigningKey:
        assert key_type is KeyType.P256
        return next(keys)

    with (
        patch("provenance.identity.authority.generate_key", next_key),
        patch("cryptography.x509.random_serial_number", lambda: next(serials)),
    ):
        yield


@dataclass
class Vector:
    """One verification case."""

    name: str
    description: str
    bundle: str
    trust: TrustRoot
    content: bytes = REVIEW
    policy: dict[str, Any] = field(default_factory=dict)
    verified: bool = False
    codes: list[str] = field(default_factory=list)
    at: datetime = VERIFY_AT

    def to_json(self) -> dict[str, Any]:
        return {
            "description": self.description,
            "content": b64encode(self.content),
            "bundle": self.bundle,
            "trustRoot": json.loads(self.trust.to_json()),
            "policy": self.policy,
            "verificationTime": self.at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "expected": {"verified": self.verified, "failureCodes": self.codes},
        }


def predicate(profile: Canonicalization = Canonicalization.TEXT_V1) -> ContentPredicate:
    return ContentPredicate(
        content_type="text/plain",
        canonicalization=profile,
        created=CREATED,
        author=Author(IDENTITY, "Dana"),
        publisher="Reviews Example",
        claims={"verifiedPurchase": True},
    )


def text(bundle: Bundle) -> str:
    return bundle.to_bytes().decode()


def edit(bundle: Bundle, change: Callable[[dict[str, Any]], None]) -> str:
    document = bundle.to_json()
    change(document)
    return json.dumps(document, indent=2) + "\n"


def pinned_vectors() -> list[Vector]:
    ed, p256, stranger = (
        label_key("ed25519", "ed25519"),
        label_key("p256", "p256"),
        label_key("stranger", "p256"),
    )
    trust = TrustRoot(
        name="pinned test keys",
        pinned_keys=(("ed25519-author", ed.public_key), ("p256-author", p256.public_key)),
    )
    ed_bundle = Signer(ed).sign(REVIEW, "review.txt", predicate())
    p256_bundle = Signer(p256).sign(REVIEW, "review.txt", predicate(Canonicalization.NONE))
    flipped = ed_bundle.envelope.signatures[0].sig
    flipped_sig = bytes([flipped[0] ^ 1]) + flipped[1:]
    return [
        Vector(
            "01-ed25519-text",
            "Ed25519 pinned key, text-v1 profile",
            text(ed_bundle),
            trust,
            verified=True,
        ),
        Vector(
            "02-p256-exact-bytes",
            "P-256 pinned key, exact bytes",
            text(p256_bundle),
            trust,
            verified=True,
        ),
        Vector(
            "03-copy-pasted-text",
            "text-v1 survives LF endings and no trailing spaces",
            text(ed_bundle),
            trust,
            content=b"The desk lamp is sturdy and bright.\nFive stars, would buy again.\n",
            verified=True,
        ),
        Vector(
            "04-word-changed",
            "one word changed",
            text(ed_bundle),
            trust,
            content=REVIEW.replace(b"Five", b"Four"),
            codes=["digest.mismatch"],
        ),
        Vector(
            "05-exact-bytes-changed",
            "exact-bytes profile: a line ending changed",
            text(p256_bundle),
            trust,
            content=REVIEW.replace(b"\r\n", b"\n"),
            codes=["digest.mismatch"],
        ),
        Vector(
            "06-signature-flipped",
            "one bit of the signature flipped",
            text(
                replace(
                    ed_bundle,
                    envelope=replace(
                        ed_bundle.envelope,
                        signatures=(EnvelopeSignature(flipped_sig, ed.public_key.key_id),),
                    ),
                )
            ),
            trust,
            codes=["signature.invalid"],
        ),
        Vector(
            "07-key-not-pinned",
            "signed by a key the trust root does not pin",
            text(Signer(stranger).sign(REVIEW, "review.txt", predicate())),
            trust,
            codes=["key.untrusted"],
        ),
        Vector(
            "08-payload-type",
            "payloadType is not in-toto",
            edit(ed_bundle, lambda d: d["dsseEnvelope"].update(payloadType="application/json")),
            trust,
            codes=["envelope.payload_type"],
        ),
        Vector(
            "09-two-signatures",
            "two signatures in one envelope",
            edit(
                ed_bundle,
                lambda d: d["dsseEnvelope"].update(signatures=d["dsseEnvelope"]["signatures"] * 2),
            ),
            trust,
            codes=["envelope.signatures"],
        ),
        Vector(
            "10-other-media-type",
            "unknown bundle version",
            edit(
                ed_bundle, lambda d: d.update(mediaType="application/vnd.provenance.bundle.v2+json")
            ),
            trust,
            codes=["bundle.unsupported"],
        ),
        Vector(
            "11-unknown-field",
            "unknown field in the bundle",
            edit(ed_bundle, lambda d: d.update(note="hi")),
            trust,
            codes=["bundle.malformed"],
        ),
        Vector(
            "12-log-required",
            "trust root requires log inclusion, bundle has none",
            text(ed_bundle),
            replace(trust, require_log=True),
            codes=["log.missing"],
        ),
        *text_v1_vectors(ed, trust),
    ]


MARKS = "\u0345\u0315\u031b\u0301\u0300\u0316\u0327"
"""Combining marks of classes 240, 232, 216, 230, 230, 220, 202."""


def _marks(count: int) -> str:
    return "".join(MARKS[i % len(MARKS)] for i in range(count))


def text_v1_vectors(key: SigningKey, trust: TrustRoot) -> list[Vector]:
    """White space (Unicode White_Space only) and the Stream-Safe cap of text-v1 (bundle-v1 §4)."""
    plain = Signer(key).sign(b"Five stars.\n", "review.txt", predicate())
    review = Signer(key).sign(REVIEW, "review.txt", predicate())
    marked_text = ("e" + _marks(30) + "\n").encode()
    marked = Signer(key).sign(marked_text, "review.txt", predicate())
    white_space = "\t\v\f \x85\xa0\u1680\u2000\u200a\u2028\u2029\u202f\u205f\u3000"
    return [
        Vector(
            "40-text-unicode-white-space-stripped",
            "text-v1 strips Unicode White_Space at a line end",
            text(plain),
            trust,
            content=f"Five stars.{white_space}\n".encode(),
            verified=True,
        ),
        Vector(
            "41-text-information-separator-kept",
            "text-v1 keeps U+001F at a line end: not Unicode White_Space",
            text(plain),
            trust,
            content=b"Five stars.\x1f\n",
            codes=["digest.mismatch"],
        ),
        Vector(
            "42-text-30-non-starters",
            "text-v1 accepts 30 non-starters in a row",
            text(marked),
            trust,
            content=marked_text,
            verified=True,
        ),
        Vector(
            "43-text-31-non-starters",
            "text-v1 refuses 31 non-starters in a row (Stream-Safe Text Format)",
            text(marked),
            trust,
            content=("e" + _marks(31) + "\n").encode(),
            codes=["content.invalid"],
        ),
        Vector(
            "44-text-compatibility-non-starters",
            "non-starters are counted in NFKD: U+0344 is two",
            text(marked),
            trust,
            content=("e" + "\u0344" * 16 + "\n").encode(),
            codes=["content.invalid"],
        ),
        Vector(
            "45-policy-any-of",
            "JSON policy anyOf: one member holds",
            text(review),
            trust,
            policy={"anyOf": [{"identity": "nobody"}, {"identity": "ed25519-author"}]},
            verified=True,
        ),
        Vector(
            "47-policy-any-of-failed",
            "JSON policy anyOf: no member holds (one failure, code policy.any_of.failed)",
            text(review),
            trust,
            policy={
                "anyOf": [
                    {"identity": "nobody"},
                    {"identity": "ed25519-author", "requiredClaims": {"verifiedPurchase": False}},
                ]
            },
            codes=["policy.any_of.failed"],
        ),
        Vector(
            "46-policy-max-age-unproven",
            "maxAgeSeconds fails closed for an unlogged bundle",
            text(review),
            trust,
            policy={"maxAgeSeconds": 31536000},
            codes=["policy.age.unproven"],
        ),
    ]


def certificate_vectors() -> list[Vector]:
    new = create_authority("Reviews Example", now=VERIFY_AT - timedelta(days=30))
    authority = new.authority
    author = label_key("x509-author", "p256")
    chain = issue_certificate(
        authority, author.public_key, IDENTITY, now=CREATED - timedelta(days=1), days=30
    )
    bundle = Signer(author, chain).sign(REVIEW, "review.txt", predicate())
    revoked_author = label_key("x509-revoked-author", "p256")
    revoked_chain = issue_certificate(
        authority, revoked_author.public_key, IDENTITY, now=CREATED - timedelta(days=1), days=30
    )
    revoked_bundle = Signer(revoked_author, revoked_chain).sign(REVIEW, "review.txt", predicate())
    revoke(
        authority,
        revoked_chain[0],
        reason=x509.ReasonFlags.key_compromise,
        now=VERIFY_AT - timedelta(minutes=30),
    )
    trust = export_trust_root(
        authority, crl=build_crl(authority, now=VERIFY_AT - timedelta(minutes=20))
    )
    rogue = create_authority("Rogue Reviews", now=VERIFY_AT - timedelta(days=30)).authority
    rogue_chain = issue_certificate(
        rogue, author.public_key, IDENTITY, now=CREATED - timedelta(days=1)
    )
    rogue_bundle = Signer(author, rogue_chain).sign(REVIEW, "review.txt", predicate())
    who = {"identity": IDENTITY}
    return [
        Vector(
            "20-x509-identity",
            "certified author, identity required",
            text(bundle),
            trust,
            policy=who,
            verified=True,
        ),
        Vector(
            "21-x509-identity-and-claim",
            "identity, issuer pin (issuing CA key SHA-256) and claim required",
            text(bundle),
            trust,
            policy={
                "identity": IDENTITY,
                "issuer": spki_sha256(authority.issuing_certificate),
                "requiredClaims": {"verifiedPurchase": True},
            },
            verified=True,
        ),
        Vector(
            "22-x509-no-identity-policy",
            "certificate bundle verified without identity",
            text(bundle),
            trust,
            codes=["policy.identity.required"],
        ),
        Vector(
            "23-x509-wrong-identity",
            "another identity required",
            text(bundle),
            trust,
            policy={"identity": "https://reviews.example/u/1"},
            codes=["policy.identity.mismatch"],
        ),
        Vector(
            "24-x509-expired",
            "verified after the leaf expired",
            text(bundle),
            trust,
            policy=who,
            at=VERIFY_AT + timedelta(days=60),
            codes=["certificate.expired"],
        ),
        Vector(
            "25-x509-revoked",
            "leaf revoked (keyCompromise) before the verification time",
            text(revoked_bundle),
            trust,
            policy=who,
            codes=["certificate.revoked"],
        ),
        Vector(
            "26-x509-unknown-authority",
            "chain to another authority",
            text(rogue_bundle),
            trust,
            policy=who,
            codes=["certificate.untrusted"],
        ),
        Vector(
            "27-x509-claim-missing",
            "required claim absent",
            text(bundle),
            trust,
            policy={"identity": IDENTITY, "requiredClaims": {"aiGenerated": False}},
            codes=["policy.claim.missing"],
        ),
    ]


def pki_vectors() -> list[Vector]:
    """Issuer pins, CRL freshness, CRLs weaker than RFC 5280 and same-named authorities
    (identity-v1 §5.2, §6)."""
    first = create_authority("Reviews Example", now=VERIFY_AT - timedelta(days=30)).authority
    second = create_authority("Reviews Example", now=VERIFY_AT - timedelta(days=30)).authority
    author = label_key("x509-pki-author", "p256")
    chain = issue_certificate(
        first, author.public_key, IDENTITY, now=CREATED - timedelta(days=1), days=30
    )
    bundle = text(Signer(author, chain).sign(REVIEW, "review.txt", predicate()))
    fresh = build_crl(first, now=VERIFY_AT - timedelta(days=1))
    stale = build_crl(first, now=VERIFY_AT - timedelta(days=20))
    bare = export_trust_root(first, crl=None)
    both = replace(
        bare,
        roots=(first.root_certificate, second.root_certificate),
        intermediates=(first.issuing_certificate, second.issuing_certificate),
        crls=(build_crl(second, now=VERIFY_AT - timedelta(days=1)), fresh),
    )
    fresh_required = {"identity": IDENTITY, "requireFreshCrl": True}
    return [
        Vector(
            "28-x509-issuer-pin-mismatch",
            "issuer pinned to another authority's issuing CA key (same names)",
            bundle,
            both,
            policy={"identity": IDENTITY, "issuer": spki_sha256(second.issuing_certificate)},
            codes=["policy.issuer.mismatch"],
        ),
        Vector(
            "29-x509-same-named-authorities",
            "two authorities with identical names and their CRLs: each CRL applies to its own",
            bundle,
            both,
            policy={"identity": IDENTITY, "issuer": spki_sha256(first.root_certificate)},
            verified=True,
        ),
        Vector(
            "30-x509-crl-stale-advisory",
            "CRL 13 days past nextUpdate: advisory certificate.crl.stale, still verified",
            bundle,
            replace(bare, crls=(stale,)),
            policy={"identity": IDENTITY},
            verified=True,
        ),
        Vector(
            "31-x509-crl-stale-required",
            "CRL 13 days past nextUpdate with requireFreshCrl",
            bundle,
            replace(bare, crls=(stale,)),
            policy=fresh_required,
            codes=["certificate.crl.stale"],
        ),
        Vector(
            "32-x509-crl-missing-required",
            "trust root names a CRL location but holds no CRL, with requireFreshCrl",
            bundle,
            replace(bare, crl_locations=("https://reviews.example/v1/crl",)),
            policy=fresh_required,
            codes=["certificate.crl.missing"],
        ),
        Vector(
            "33-x509-crl-without-number",
            "CRL without a cRLNumber (RFC 5280 §5.2.3)",
            bundle,
            replace(bare, crls=(crl_without_number(first),)),
            policy={"identity": IDENTITY},
            codes=["certificate.crl.invalid"],
        ),
    ]


def crl_without_number(ca: CertificateAuthority) -> x509.CertificateRevocationList:
    this_update = VERIFY_AT - timedelta(days=1)
    return (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca.issuing_certificate.subject)
        .last_update(this_update)
        .next_update(this_update + timedelta(days=7))
        .add_extension(authority_key_identifier(ca.issuing_certificate), critical=False)
        .sign(ca.issuing_key.to_cryptography(), hashes.SHA256(), ecdsa_deterministic=True)
    )


def bundle_vectors() -> list[Vector]:
    """Every case of ``specs/vectors/bundle-v1``, in the order that labels their authorities."""
    # These modules import this one.
    from scripts.vector_cases import coverage_vectors  # noqa: PLC0415
    from scripts.vector_certificates import profile_vectors  # noqa: PLC0415

    with deterministic_pki():
        return [
            *pinned_vectors(),
            *certificate_vectors(),
            *pki_vectors(),
            *coverage_vectors(),
            *profile_vectors(),
        ]


def main() -> None:
    # These modules import this one.
    from scripts.vector_audit import write_audit_vectors  # noqa: PLC0415
    from scripts.vector_cases import write_armor_vectors  # noqa: PLC0415
    from scripts.vector_model import write_model_vectors  # noqa: PLC0415
    from scripts.vector_trust import write_trust_vectors  # noqa: PLC0415
    from scripts.vector_trust_root import write_trust_root_vectors  # noqa: PLC0415

    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("*.json"):
        old.unlink()
    vectors = bundle_vectors()
    for vector in vectors:
        (OUT / f"{vector.name}.json").write_text(json.dumps(vector.to_json(), indent=2) + "\n")
    print(
        f"wrote {len(vectors)} vectors to {OUT}, {write_armor_vectors()} armored documents,"
        f" {write_audit_vectors()} log audits, {write_model_vectors()} models,"
        f" {write_trust_vectors()} trust stores, {write_trust_root_vectors()} trust roots"
    )


if __name__ == "__main__":
    main()
