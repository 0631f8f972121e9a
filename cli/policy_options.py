"""The verification options `prov verify` and `prov media verify` share, and the policy they make."""

from __future__ import annotations

from typing import Annotated, NoReturn

import typer

from cli.common import Exit, fail
from cli.render import print_json, print_verdict
from provenance.errors import ProvenanceError
from provenance.present import DEFAULT_TRUST
from provenance.verify.policy import (
    AllOf,
    Identity,
    IdentityPattern,
    Issuer,
    Policy,
    RequireClaim,
    RequireFreshCrl,
    UnsafeAcceptAnyIdentity,
)
from provenance.verify.result import VerificationResult

IdentityOption = Annotated[
    str | None, typer.Option("--identity", help="Required signer identity (exact SAN).")
]
IdentityRegexOption = Annotated[
    str | None,
    typer.Option(
        "--identity-regex",
        help="Required signer identity, as a full-match RE2 pattern (at most 1024 characters).",
    ),
]
IssuerOption = Annotated[
    str | None,
    typer.Option(
        "--issuer",
        help="Required CA on the chain, pinned by the SHA-256 of its key (SPKI) or certificate"
        " (64 hex digits; `prov ca init` prints them). Names are not accepted.",
    ),
]
RequireClaimOption = Annotated[
    list[str] | None,
    typer.Option("--require-claim", help="Required claim NAME or NAME=VALUE (repeatable)."),
]
RequireFreshCrlOption = Annotated[
    bool,
    typer.Option(
        "--require-fresh-crl",
        help="Fail unless a CRL of the leaf's issuer was checked and no CRL is past its"
        " nextUpdate (certificate.crl.missing, certificate.crl.stale).",
    ),
]
UnsafeAnyIdentityOption = Annotated[
    bool,
    typer.Option(
        "--unsafe-any-identity", help="Accept any identity the trust root certifies (unsafe)."
    ),
]


def build_policy(
    identity: str | None,
    identity_regex: str | None,
    issuer: str | None,
    claims: list[str] | None,
    unsafe_any_identity: bool,
    *,
    require_fresh_crl: bool = False,
) -> Policy:
    """The policy the verify options ask for; a bad option exits with the usage code."""
    if unsafe_any_identity and (identity or identity_regex):
        fail("--unsafe-any-identity contradicts --identity/--identity-regex", Exit.USAGE)
    try:
        parts: list[Policy] = [Identity(identity)] if identity else []
        if identity_regex:
            parts.append(IdentityPattern(identity_regex))
        if issuer:
            parts.append(Issuer(issuer))
        parts.extend(_claim(pair) for pair in claims or [])
    except ProvenanceError as exc:
        fail(str(exc), Exit.USAGE)
    if unsafe_any_identity:
        parts.append(UnsafeAcceptAnyIdentity())
    if require_fresh_crl:
        parts.append(RequireFreshCrl())
    return AllOf(parts)


def _claim(pair: str) -> RequireClaim:
    name, sep, value = pair.partition("=")
    return RequireClaim(name, {"true": True, "false": False}.get(value, value) if sep else None)


def report(
    result: VerificationResult, subject: str, as_json: bool, trust: str = DEFAULT_TRUST
) -> NoReturn:
    """Print the result (JSON on stdout, or the verdict on stderr) and exit 0 or 1."""
    if as_json:
        print_json(result.to_json())
    else:
        print_verdict(result, subject, trust)
    raise typer.Exit(int(Exit.VERIFIED if result.verified else Exit.NOT_VERIFIED))
