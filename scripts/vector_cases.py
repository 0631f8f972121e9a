"""Vectors that give every status code of specs/verification.md at least one case (issue 19).

Bundle cases join ``specs/vectors/bundle-v1`` (numbers 50 and up); armored documents go to
``specs/vectors/armor-v1``. Keys and times are fixed, so a run reproduces the bytes, except
certificate cases, whose authority is fresh on each run (their outcomes do not change).
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from provenance.armor import armor_text
from provenance.bundle import Bundle
from provenance.dsse import INTOTO_PAYLOAD_TYPE, sign_envelope
from provenance.encoding import b64encode
from provenance.identity.authority import create_authority, issue_certificate
from provenance.identity.crl import build_crl
from provenance.identity.trust import TrustRoot, export_trust_root
from provenance.keys import Ed25519SigningKey, SigningKey
from provenance.sign import Signer
from provenance.text import Canonicalization
from provenance.tlog.log import TransparencyLog
from provenance.tlog.note import NoteSigner
from provenance.tlog.store import MemoryStore
from scripts.make_vectors import (
    CREATED,
    IDENTITY,
    REVIEW,
    VERIFY_AT,
    Vector,
    edit,
    label_key,
    predicate,
    text,
)

ARMOR_OUT = Path(__file__).resolve().parents[1] / "specs" / "vectors" / "armor-v1"
ORIGIN = "log.vectors.example"


def _log_signer(label: str = "log") -> NoteSigner:
    seed = hashlib.sha256(f"provenance-toolkit test vector {label}".encode()).digest()
    return NoteSigner(ORIGIN, Ed25519SigningKey(seed))


def _log(at: datetime = CREATED) -> TransparencyLog:
    return TransparencyLog(MemoryStore(), _log_signer(), ORIGIN, lambda: int(at.timestamp()))


def _pinned() -> tuple[SigningKey, TrustRoot]:
    key = label_key("coverage-author", "ed25519")
    return key, TrustRoot(
        name="coverage test key", pinned_keys=(("coverage-author", key.public_key),)
    )


def _signed_payload(key: SigningKey, payload: bytes) -> Bundle:
    bundle = Signer(key).sign(REVIEW, "review.txt", predicate())
    envelope = sign_envelope(payload, INTOTO_PAYLOAD_TYPE, key, key.public_key.key_id)
    return replace(bundle, envelope=envelope)


def parse_and_signature_vectors() -> list[Vector]:
    key, trust = _pinned()
    bundle = Signer(key).sign(REVIEW, "review.txt", predicate())
    statement = json.loads(bundle.envelope.payload)
    return [
        Vector(
            "50-bundle-too-large",
            "a bundle over 256 KiB (white space padding), refused before parsing",
            text(bundle) + " " * (256 * 1024),
            trust,
            codes=["bundle.too_large"],
        ),
        Vector(
            "51-statement-not-json",
            "a validly signed payload that is not JSON",
            text(_signed_payload(key, b"not a statement")),
            trust,
            codes=["statement.malformed"],
        ),
        Vector(
            "52-statement-other-type",
            "a validly signed statement of another predicate type",
            text(_signed_payload(key, json.dumps(statement | {"predicateType": "x"}).encode())),
            trust,
            codes=["statement.unsupported"],
        ),
        Vector(
            "53-content-not-utf8",
            "text-v1 content that is not UTF-8",
            text(bundle),
            trust,
            content=b"The desk lamp \xff\n",
            codes=["content.invalid"],
        ),
        Vector(
            "54-keyid-of-another-key",
            "the signature's keyid names another key than the pinned one that verifies it",
            edit(bundle, lambda d: d["dsseEnvelope"]["signatures"][0].update(keyid="ab" * 32)),
            trust,
            codes=["key.mismatch"],
        ),
        Vector(
            "55-claim-other-value",
            "a required claim with another value",
            text(bundle),
            trust,
            policy={"requiredClaims": {"verifiedPurchase": False}},
            codes=["policy.claim.mismatch"],
        ),
        Vector(
            "57-policy-unknown-field",
            "a policy with a field the JSON form does not define: no step runs",
            text(bundle),
            trust,
            policy={"identity": IDENTITY, "identityPattern": ".*"},
            codes=["policy.malformed"],
        ),
        Vector(
            "56-age-unproven",
            "a maximum age without a proven signing time (no log entry)",
            text(bundle),
            trust,
            policy={"maxAgeSeconds": 3600},
            codes=["policy.age.unproven"],
        ),
    ]


def log_vectors() -> list[Vector]:
    key, pinned = _pinned()
    log = _log()
    Signer(key, (), log).sign(b"An earlier review.\n", "earlier.txt", predicate())
    bundle = Signer(key, (), log).sign(REVIEW, "review.txt", predicate())
    trust = replace(pinned, log_keys=(_log_signer().verifier.key_string,), require_log=True)
    impostor = NoteSigner(ORIGIN, Ed25519SigningKey(bytes(32)))

    def proof(d: dict[str, Any]) -> dict[str, Any]:
        entry: dict[str, Any] = d["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]
        return entry

    def flip_hash(d: dict[str, Any]) -> None:
        hashes = proof(d)["hashes"]
        raw = bytearray(base64.b64decode(hashes[0]))
        raw[0] ^= 1
        hashes[0] = base64.b64encode(bytes(raw)).decode()

    def garble_checkpoint(d: dict[str, Any]) -> None:
        proof(d)["checkpoint"]["envelope"] = "not a checkpoint\n"

    def later(d: dict[str, Any]) -> None:
        d["verificationMaterial"]["tlogEntries"][0]["integratedTime"] += 1

    return [
        Vector(
            "60-logged", "logged, the log key in the trust root", text(bundle), trust, verified=True
        ),
        Vector(
            "61-log-not-trusted",
            "logged in a log the trust root does not name",
            text(bundle),
            replace(pinned, require_log=True),
            codes=["log.untrusted"],
        ),
        Vector(
            "62-log-time-edited",
            "the entry's integratedTime edited (the leaf no longer matches)",
            edit(bundle, later),
            trust,
            codes=["log.entry.mismatch"],
        ),
        Vector(
            "63-log-proof-hash-flipped",
            "one bit of an inclusion proof hash flipped",
            edit(bundle, flip_hash),
            trust,
            codes=["log.proof.invalid"],
        ),
        Vector(
            "64-log-checkpoint-garbled",
            "the checkpoint is not a signed note",
            edit(bundle, garble_checkpoint),
            trust,
            codes=["log.checkpoint.invalid"],
        ),
        Vector(
            "65-log-key-of-an-impostor",
            "the trust root names the origin with another key",
            text(bundle),
            replace(trust, log_keys=(impostor.verifier.key_string,)),
            codes=["log.checkpoint.unsigned"],
        ),
        Vector(
            "66-log-entry-from-the-future",
            "verified a day before the log says it integrated the entry",
            text(bundle),
            trust,
            at=CREATED - timedelta(days=1),
            codes=["log.entry.future"],
        ),
        Vector(
            "67-age-exceeded",
            "logged an hour before the verification time, at most 60 s old allowed",
            text(bundle),
            trust,
            policy={"maxAgeSeconds": 60},
            codes=["policy.age.exceeded"],
        ),
        Vector(
            "68-age-within",
            "logged an hour before the verification time, at most 2 h old allowed",
            text(bundle),
            trust,
            policy={"maxAgeSeconds": 7200},
            verified=True,
        ),
    ]


def certificate_vectors() -> list[Vector]:
    authority = create_authority("Coverage Example", now=VERIFY_AT - timedelta(days=30)).authority
    author = label_key("coverage-x509-author", "p256")
    chain = issue_certificate(
        authority, author.public_key, IDENTITY, now=CREATED - timedelta(days=1), days=30
    )
    bundle = Signer(author, chain).sign(REVIEW, "review.txt", predicate())
    trust = export_trust_root(
        authority, crl=build_crl(authority, now=VERIFY_AT - timedelta(hours=1))
    )
    who = {"identity": IDENTITY}

    def repeat_leaf(d: dict[str, Any]) -> None:
        certificates = d["verificationMaterial"]["x509CertificateChain"]["certificates"]
        certificates.insert(1, certificates[0])

    return [
        Vector(
            "70-x509-not-yet-valid",
            "verified (unlogged) two days before the leaf's notBefore",
            text(bundle),
            trust,
            policy=who,
            at=CREATED - timedelta(days=3),
            codes=["certificate.not_yet_valid"],
        ),
        Vector(
            "71-x509-leaf-repeated",
            "the bundle repeats its leaf certificate",
            edit(bundle, repeat_leaf),
            trust,
            policy=who,
            codes=["certificate.chain.extra"],
        ),
    ]


def coverage_vectors() -> list[Vector]:
    """Every bundle case of this module."""
    return parse_and_signature_vectors() + log_vectors() + certificate_vectors()


def armor_vectors() -> list[dict[str, Any]]:
    """Armored documents with their trust root and expected verdict (armor-v1 §6, §7)."""
    key, trust = _pinned()
    review = "The desk lamp is sturdy and bright.\nFive stars.\n"
    bundle = Signer(key).sign(review.encode(), "review.txt", predicate())
    exact = Signer(key).sign(review.encode(), "review.txt", predicate(Canonicalization.NONE))
    good = armor_text(review, bundle)
    cases = [
        ("01-verified", "one signed block", good, "verified", []),
        (
            "02-copy-pasted",
            "CRLF line ends and trailing spaces",
            good.replace("\n", "  \r\n"),
            "verified",
            [],
        ),
        (
            "03-word-changed",
            "a word of the signed text changed",
            good.replace("sturdy", "flimsy"),
            "not-verified",
            ["digest.mismatch"],
        ),
        (
            "04-partly-signed",
            "text after the block",
            good + "P.S. unsigned.\n",
            "partly-signed",
            ["armor.partly_signed"],
        ),
        ("05-missing", "no signed block", review, "not-verified", ["armor.missing"]),
        (
            "06-quoted-marker",
            "the BEGIN marker mid-line is text, not a block",
            "I quote -----BEGIN PROVENANCE SIGNED TEXT----- here.\n",
            "not-verified",
            ["armor.missing"],
        ),
        (
            "07-header",
            "an unknown armor header",
            good.replace("Profile: text-v1", "Hash: SHA256"),
            "not-verified",
            ["armor.header"],
        ),
        (
            "08-injection",
            "a BEGIN line inside the signed text",
            good.replace("Five stars.\n", "Five stars.\n-----BEGIN PROVENANCE SIGNED TEXT-----\n"),
            "not-verified",
            ["armor.injection"],
        ),
        (
            "09-unescaped-dash",
            "a text line starting with '-' that is not dash-escaped",
            good.replace("Five stars.", "-Five stars."),
            "not-verified",
            ["armor.malformed"],
        ),
        (
            "10-line-too-long",
            "a line over 16384 characters",
            good + "x" * 16385 + "\n",
            "not-verified",
            ["armor.too_large"],
        ),
        (
            "11-profile-none",
            "a block whose bundle signs exact bytes, not text-v1",
            _force_armor(review, exact),
            "not-verified",
            ["armor.profile"],
        ),
        (
            "12-indented-begin",
            "an indented BEGIN line is text, so the BUNDLE line after it is a stray armor line",
            "  " + good,
            "not-verified",
            ["armor.malformed"],
        ),
        (
            "13-trailing-unicode-white-space",
            "armor lines end in U+00A0, U+2003 and U+3000: Unicode White_Space, removed",
            good.replace("-----\n", "-----\xa0\u2003\u3000\n"),
            "verified",
            [],
        ),
        (
            "14-information-separator-after-end",
            "the END line ends in U+001F, which is not white space: no END line (str.rstrip() "
            "would remove it and verify)",
            good.replace("-----END PROVENANCE BUNDLE-----", "-----END PROVENANCE BUNDLE-----\x1f"),
            "not-verified",
            ["armor.malformed"],
        ),
        (
            "15-information-separator-outside",
            "U+001C on a line after the block is unsigned text, not white space (str.isspace() "
            "would call it white space and verify)",
            good + "\x1c\n",
            "partly-signed",
            ["armor.partly_signed"],
        ),
    ]
    return [
        {
            "name": name,
            "description": description,
            "document": b64encode(document.encode("utf-8")),
            "trustRoot": json.loads(trust.to_json()),
            "policy": {},
            "verificationTime": VERIFY_AT.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "expected": {"verdict": verdict, "failureCodes": codes},
        }
        for name, description, document, verdict, codes in cases
    ]


def _force_armor(review: str, bundle: Bundle) -> str:
    """An armored block around ``bundle`` that ``armor_text()`` would refuse to write."""
    encoded = b64encode(json.dumps(bundle.to_json(), separators=(",", ":")).encode())
    lines = [encoded[i : i + 64] for i in range(0, len(encoded), 64)]
    head = "-----BEGIN PROVENANCE SIGNED TEXT-----\nProfile: text-v1\n\n"
    body = review + "-----BEGIN PROVENANCE BUNDLE-----\n"
    return head + body + "\n".join(lines) + "\n-----END PROVENANCE BUNDLE-----\n"


def write_armor_vectors() -> int:
    """Write ``specs/vectors/armor-v1``; returns the number of cases."""
    ARMOR_OUT.mkdir(parents=True, exist_ok=True)
    for old in ARMOR_OUT.glob("*.json"):
        old.unlink()
    cases = armor_vectors()
    for case in cases:
        name = case.pop("name")
        (ARMOR_OUT / f"{name}.json").write_text(json.dumps(case, indent=2) + "\n")
    return len(cases)
