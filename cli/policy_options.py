"""The verification options `prov verify`, `prov media verify` and `prov model verify` share, and
the policy they make: the options become the library's JSON policy form and the library's one
builder (:func:`provenance.verify.policy.policy_from_json`) makes the policy, as for the API and the
web page. Nothing here prints or exits: a refused policy raises :class:`PolicyError` and the
command reports it (:func:`cli.common.load_policy`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

from provenance import (
    AllOf,
    ClaimValue,
    Code,
    Policy,
    PolicyError,
    RequireClaim,
    StrictDecodeError,
    loads_strict,
    policy_from_json,
)
from provenance.verify import POLICY_LIMITS

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


@dataclass(frozen=True)
class PolicyOptions:
    """The policy options of one command line, as given.

    Attributes:
        identity: ``--identity``.
        identity_regex: ``--identity-regex``.
        issuer: ``--issuer``.
        claims: ``--require-claim`` values, in order.
        unsafe_any_identity: ``--unsafe-any-identity``.
        require_fresh_crl: ``--require-fresh-crl``.
        max_age: ``--max-age`` in seconds.
        policy_file: ``--policy``.
    """

    identity: str | None = None
    identity_regex: str | None = None
    issuer: str | None = None
    claims: tuple[str, ...] = ()
    unsafe_any_identity: bool = False
    require_fresh_crl: bool = False
    max_age: int | None = None
    policy_file: Path | None = None

    def to_json(self) -> dict[str, object]:
        """The options in the library's JSON policy form (``identity-v1.md`` §6), less the file.

        Raises:
            PolicyError: ``policy.malformed`` for ``--unsafe-any-identity`` with an identity, an
                empty claim name, a claim VALUE of another JSON type or a claim required twice.
        """
        if self.unsafe_any_identity and (self.identity or self.identity_regex):
            raise _malformed("--unsafe-any-identity contradicts --identity/--identity-regex")
        document: dict[str, object] = {
            name: value
            for name, value in (
                ("identity", self.identity),
                ("identityRegex", self.identity_regex),
                ("issuer", self.issuer),
                ("maxAgeSeconds", self.max_age),
            )
            if value is not None and value != ""
        }
        if self.claims:
            document["requiredClaims"] = _required_claims(self.claims)
        if self.require_fresh_crl:
            document["requireFreshCrl"] = True
        if self.unsafe_any_identity:
            document["unsafeAnyIdentity"] = True
        return document


def build_policy(options: PolicyOptions, policy_document: object = None) -> Policy:
    """The policy the options ask for, built by the library's one builder (:func:`policy_from_json`):
    the options' JSON form and, when given, the policy file's document must both hold.

    Raises:
        PolicyError: ``policy.malformed``, see :meth:`PolicyOptions.to_json` and
            :func:`policy_from_json`.
    """
    parts = [policy_from_json(options.to_json())]
    if policy_document is not None:
        parts.append(policy_from_json(policy_document))
    return AllOf(parts)


def policy_document(path: Path, data: bytes) -> object:
    """The JSON document of the policy file ``path`` holding ``data``.

    Raises:
        PolicyError: ``policy.malformed`` when it is not strict JSON.
    """
    try:
        return loads_strict(data, max_bytes=POLICY_LIMITS.max_document_bytes)
    except StrictDecodeError as exc:
        raise _malformed(f"policy file {path}: not strict JSON: {exc}") from exc


def _required_claims(pairs: tuple[str, ...]) -> dict[str, ClaimValue | None]:
    required: dict[str, ClaimValue | None] = {}
    for pair in pairs:
        name, value = claim_requirement(pair)
        if name in required and _typed(required[name]) != _typed(value):
            raise _malformed(f"--require-claim {name} is required with two values")
        required[name] = value
    return required


def _typed(value: ClaimValue | None) -> tuple[type, ClaimValue | None]:
    return type(value), value


def _malformed(message: str) -> PolicyError:
    return PolicyError(message, code=Code.POLICY_MALFORMED)


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
        value = loads_strict(text, max_bytes=POLICY_LIMITS.max_document_bytes)
    except StrictDecodeError:
        return text
    if isinstance(value, bool | int | str):
        return value
    raise ValueError(
        f"claims are strings, booleans or integers; found {text!r} "
        "(quote it, as '\"...\"', for that text as a string)"
    )


def claim_requirement(pair: str) -> tuple[str, ClaimValue | None]:
    """``NAME`` (present with any value: None) or ``NAME=VALUE`` typed by :func:`claim_value`.

    Raises:
        PolicyError: ``policy.malformed`` for an empty name or a VALUE of another JSON type.
    """
    name, sep, text = pair.partition("=")
    if not name:
        raise _malformed(f"--require-claim {pair!r}: the name is empty")
    if not sep:
        return name, None
    try:
        return name, claim_value(text)
    except ValueError as exc:
        raise _malformed(f"--require-claim {name}: {exc}") from exc


def parse_claim(pair: str) -> RequireClaim:
    """The :class:`RequireClaim` of one ``--require-claim`` value (:func:`claim_requirement`).

    Raises:
        PolicyError: ``policy.malformed``, as :func:`claim_requirement`.
    """
    name, value = claim_requirement(pair)
    return RequireClaim(name) if value is None else RequireClaim(name, value)
