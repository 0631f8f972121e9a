"""The verification options `prov verify` and `prov media verify` share, and the policy they make."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from cli.common import Exit, fail, read_file
from cli.render import print_json, print_verdict
from provenance.codes import Code
from provenance.encoding import StrictDecodeError, loads_strict
from provenance.errors import PolicyError
from provenance.present import DEFAULT_TRUST
from provenance.verify.policy import (
    MAX_AGE_SECONDS,
    AllOf,
    Identity,
    IdentityPattern,
    Issuer,
    MaxAge,
    Policy,
    RequireClaim,
    RequireFreshCrl,
    UnsafeAcceptAnyIdentity,
    policy_from_json,
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
    typer.Option(
        "--require-claim",
        help="Required claim NAME or NAME=VALUE (repeatable). VALUE is read as JSON when it is a "
        'JSON integer, true, false or a "quoted string", else it is the string as written: '
        'n=3 requires the integer 3, n=\'"3"\' the string "3".',
    ),
]
MaxAgeOption = Annotated[
    int | None,
    typer.Option(
        "--max-age",
        min=0,
        help="Maximum age of the signature in seconds, from a proven time (log or time-stamp); "
        "an unproven age fails (policy.age.unproven).",
    ),
]
PolicyFileOption = Annotated[
    Path | None,
    typer.Option(
        "--policy",
        help="A policy file in the JSON form of specs/identity-v1.md §6 (anyOf included); "
        "it must hold together with the other policy options.",
    ),
]
MAX_POLICY_FILE_BYTES = 64 * 1024
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
    max_age: int | None = None,
    policy_file: Path | None = None,
) -> Policy:
    """The policy the verify options ask for.

    A contradiction of options exits with the usage code; a policy the library refuses exits with
    the usage code and its status code (``policy.malformed``).
    """
    if unsafe_any_identity and (identity or identity_regex):
        fail("--unsafe-any-identity contradicts --identity/--identity-regex", Exit.USAGE)
    try:
        parts: list[Policy] = [Identity(identity)] if identity else []
        if identity_regex:
            parts.append(IdentityPattern(identity_regex))
        if issuer:
            parts.append(Issuer(issuer))
        parts.extend(parse_claim(pair) for pair in claims or [])
        if policy_file is not None:
            parts.append(_policy_file(policy_file))
    except PolicyError as exc:
        fail(f"{exc.code}: {exc.message}", Exit.USAGE)
    if max_age is not None:
        if max_age > MAX_AGE_SECONDS:
            fail(f"policy.malformed: --max-age is at most {MAX_AGE_SECONDS}", Exit.USAGE)
        parts.append(MaxAge(timedelta(seconds=max_age)))
    if unsafe_any_identity:
        parts.append(UnsafeAcceptAnyIdentity())
    if require_fresh_crl:
        parts.append(RequireFreshCrl())
    return AllOf(parts)


def claim_value(text: str) -> bool | int | str:
    """The claim value a ``NAME=VALUE`` option means (``prov sign --claim``, ``--require-claim``).

    VALUE is a JSON integer, ``true``, ``false`` or a JSON string when it parses as one (strict
    JSON); any other text is the string as written. So ``3`` is the integer 3, ``"3"`` the string
    "3", ``hello`` the string "hello".

    Raises:
        ValueError: VALUE is JSON of another type (a number with a fraction or exponent, ``null``,
            an array or an object).
    """
    try:
        value = loads_strict(text, max_bytes=MAX_POLICY_FILE_BYTES)
    except StrictDecodeError:
        return text
    if isinstance(value, bool | int | str):
        return value
    raise ValueError(
        f"claims are strings, booleans or integers; found {text!r} "
        "(quote it, as '\"...\"', for that text as a string)"
    )


def parse_claim(pair: str) -> RequireClaim:
    """``NAME`` (present with any value) or ``NAME=VALUE`` typed by :func:`claim_value`.

    Raises:
        PolicyError: ``policy.malformed`` for an empty name or a VALUE of another JSON type.
    """
    name, sep, text = pair.partition("=")
    if not name:
        raise PolicyError(
            f"--require-claim {pair!r}: the name is empty", code=Code.POLICY_MALFORMED
        )
    if not sep:
        return RequireClaim(name)
    try:
        return RequireClaim(name, claim_value(text))
    except ValueError as exc:
        raise PolicyError(f"--require-claim {name}: {exc}", code=Code.POLICY_MALFORMED) from exc


def _policy_file(path: Path) -> Policy:
    text = read_file(path, "policy file", MAX_POLICY_FILE_BYTES)
    try:
        document = loads_strict(text, max_bytes=MAX_POLICY_FILE_BYTES)
    except StrictDecodeError as exc:
        raise PolicyError(
            f"policy file {path}: not strict JSON: {exc}", code=Code.POLICY_MALFORMED
        ) from exc
    return policy_from_json(document)


def report(
    result: VerificationResult, subject: str, as_json: bool, trust: str = DEFAULT_TRUST
) -> NoReturn:
    """Print the result (JSON on stdout, or the verdict on stderr) and exit 0 or 1."""
    if as_json:
        print_json(result.to_json())
    else:
        print_verdict(result, subject, trust)
    raise typer.Exit(int(Exit.VERIFIED if result.verified else Exit.NOT_VERIFIED))
