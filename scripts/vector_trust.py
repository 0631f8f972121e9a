"""Trust store vectors (``specs/trust-distribution-v1.md`` §7): the publishers of a store as their
last successful update left them (name, trust root, expiry of the targets metadata that signed
it), a bundle, and which publisher verifies it, or ``trust.expired`` / ``trust.publisher.none``.

Authorities come from :func:`scripts.make_vectors.deterministic_pki` (family ``trust ``), so a run
reproduces the bytes.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from provenance.encoding import b64encode
from provenance.identity.authority import CertificateAuthority, create_authority, issue_certificate
from provenance.identity.crl import build_crl
from provenance.identity.trust import TrustRoot, export_trust_root
from provenance.sign import Signer
from scripts.make_vectors import (
    CREATED,
    IDENTITY,
    REVIEW,
    VERIFY_AT,
    deterministic_pki,
    label_key,
    predicate,
    text,
)

TRUST_OUT = Path(__file__).resolve().parents[1] / "specs" / "vectors" / "trust-distribution-v1"
CURRENT = VERIFY_AT + timedelta(days=3)
EXPIRED = VERIFY_AT - timedelta(hours=1)


def _time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _authority(name: str) -> CertificateAuthority:
    return create_authority(name, now=VERIFY_AT - timedelta(days=30)).authority


def _bundle(authority: CertificateAuthority, label: str) -> str:
    author = label_key(label, "p256")
    chain = issue_certificate(
        authority, author.public_key, IDENTITY, now=CREATED - timedelta(days=1), days=30
    )
    return text(Signer(author, chain).sign(REVIEW, "review.txt", predicate()))


def _publisher(name: str, trust: TrustRoot, expires: datetime) -> dict[str, Any]:
    return {"name": name, "expires": _time(expires), "trustRoot": json.loads(trust.to_json())}


def trust_cases() -> list[dict[str, Any]]:
    """The trust store vectors, each a JSON object of ``trust-distribution-v1.md`` §7."""
    with deterministic_pki("trust "):
        alpha, beta, rogue = _authority("Alpha"), _authority("Beta"), _authority("Rogue")
        roots = {
            name: export_trust_root(ca, crl=build_crl(ca, now=VERIFY_AT - timedelta(hours=2)))
            for name, ca in (("alpha", alpha), ("beta", beta))
        }
        by_alpha, by_beta = _bundle(alpha, "trust-alpha-author"), _bundle(beta, "trust-beta-author")
        by_rogue = _bundle(rogue, "trust-rogue-author")
    both = [_publisher(n, roots[n], CURRENT) for n in ("alpha", "beta")]
    beta_expired = [_publisher("alpha", roots["alpha"], CURRENT)]
    beta_expired.append(_publisher("beta", roots["beta"], EXPIRED))
    who = {"identity": IDENTITY}
    cases = [
        ("01-discovered", "found by discovery: beta anchors the chain", both, None, by_beta, who,
         "beta", []),
        ("02-named", "verified against the named publisher", both, "alpha", by_alpha, who,
         "alpha", []),
        ("03-named-other-authority", "the named publisher does not anchor the chain", both,
         "alpha", by_beta, who, "alpha", ["certificate.untrusted"]),
        ("04-anchored-but-failing", "discovery: alpha anchors the chain but the identity "
         "differs; alpha's failure is the result", both, None, by_alpha,
         {"identity": "https://reviews.example/u/1"}, "alpha", ["policy.identity.mismatch"]),
        ("05-no-publisher", "discovery: no publisher anchors the chain", both, None, by_rogue,
         who, None, ["trust.publisher.none"]),
        ("06-named-expired", "the named publisher's targets metadata expired an hour before the "
         "verification time", beta_expired, "beta", by_beta, who, None, ["trust.expired"]),
        ("07-expired-voucher", "the expired publisher alone anchors the chain: discovery does "
         "not skip it but fails closed, as no other publisher may answer for its signers and an "
         "expired trust root is never used", beta_expired, None, by_beta, who, None,
         ["trust.expired"]),
    ]  # fmt: skip
    return [
        {
            "name": name,
            "description": description,
            "publishers": publishers,
            "publisher": named,
            "content": b64encode(REVIEW),
            "bundle": bundle,
            "policy": policy,
            "verificationTime": _time(VERIFY_AT),
            "expected": {"verified": not codes, "publisher": found, "failureCodes": codes},
        }
        for name, description, publishers, named, bundle, policy, found, codes in cases
    ]


def write_trust_vectors() -> int:
    """Write ``specs/vectors/trust-distribution-v1``; returns the number of cases."""
    TRUST_OUT.mkdir(parents=True, exist_ok=True)
    for old in TRUST_OUT.glob("*.json"):
        old.unlink()
    cases = trust_cases()
    for case in cases:
        name = case.pop("name")
        (TRUST_OUT / f"{name}.json").write_text(json.dumps(case, indent=2) + "\n")
    return len(cases)
