"""Verification policies: what the caller requires of a verified signature.

A policy sees only facts the Verifier has already established (signer, statement, signing time).
Identities match SANs (or a pinned key's name) exactly, code point for code point: no case folding,
no Unicode normalization, never the certificate's CN. A bundle signed by a certificate needs a policy
that constrains identity, unless the caller names :class:`UnsafeAcceptAnyIdentity`.
"""

from __future__ import annotations

import json
import re
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

import re2

from provenance._records import quick_init
from provenance.codes import Code
from provenance.display import printable
from provenance.encoding import json_object
from provenance.errors import PolicyError
from provenance.identity.revocation import CRL_MISSING, CRL_STALE, RevocationReport
from provenance.statement import ClaimValue, Statement
from provenance.verify.result import SignerIdentity, SignerKind, TimeSource


@quick_init
@dataclass(frozen=True)
class VerifiedFacts:
    """What the earlier steps proved, handed to a policy."""

    signer: SignerIdentity
    statement: Statement
    signing_time: datetime
    time_source: TimeSource
    now: datetime
    revocation: RevocationReport | None = None


class Policy(ABC):
    """A requirement on verified facts."""

    constrains_identity: bool = False
    warnings: tuple[str, ...] = ()

    @abstractmethod
    def check(self, facts: VerifiedFacts) -> None:
        """Return None when satisfied.

        Raises:
            PolicyError: With a ``policy.*`` code naming expected and actual values.
        """


@dataclass(frozen=True)
class Identity(Policy):
    """The signer must carry exactly ``identity`` (and, when given, hold :class:`Issuer`'s pin)."""

    identity: str
    issuer: str | None = None
    constrains_identity = True

    def __post_init__(self) -> None:
        if self.issuer is not None:
            Issuer(self.issuer)

    def check(self, facts: VerifiedFacts) -> None:
        if self.identity not in facts.signer.identities:
            raise PolicyError(
                f"identity {self.identity!r} required; actual identities: "
                f"{list(facts.signer.identities)}",
                code=Code.POLICY_IDENTITY_MISMATCH,
            )
        if self.issuer is not None:
            Issuer(self.issuer).check(facts)


@dataclass(frozen=True)
class PolicyLimits:
    """The caps of policies and of their JSON form.

    Attributes:
        max_identity_pattern_chars: One identity pattern.
        pattern_engine_max_memory: RE2's program budget: a pattern whose program needs more is
            refused before it costs more than a few tens of milliseconds to build (an 8 MiB
            budget let one pattern take 1.4 s).
        max_identity_patterns: Identity patterns in one policy, ``anyOf`` members included:
            bounds the compile work of one request.
        max_age_seconds: The largest ``maxAgeSeconds`` (about a century); larger values
            overflow ``timedelta``.
        max_any_of_members: Members of one ``anyOf``.
        max_depth: A JSON policy nests ``anyOf`` at most this deep (the top-level object is
            depth 1).
        max_document_bytes: A policy document (``prov verify --policy``) or claim value.
    """

    max_identity_pattern_chars: int = 1024
    pattern_engine_max_memory: int = 1 << 20
    max_identity_patterns: int = 4
    max_age_seconds: int = 100 * 366 * 86400
    max_any_of_members: int = 16
    max_depth: int = 4
    max_document_bytes: int = 64 * 1024


POLICY_LIMITS = PolicyLimits()


class _Matcher(Protocol):
    """A compiled RE2 pattern (the part of ``re2._Regexp`` a policy uses)."""

    def fullmatch(self, text: str) -> object | None: ...


@dataclass(frozen=True)
class IdentityPattern(Policy):
    """Some identity of the signer must fully match the RE2 regular expression ``pattern``.

    Patterns run on RE2 (google-re2), in time linear in the identity's length: RE2 syntax has no
    backreferences or lookaround, so no pattern can backtrack. ``\\d``, ``\\w`` and ``\\s`` are ASCII.

    Raises:
        PolicyError: ``policy.malformed`` when the pattern is longer than
            ``POLICY_LIMITS.max_identity_pattern_chars``, is not RE2 syntax, or compiles to a
            program larger than ``POLICY_LIMITS.pattern_engine_max_memory``.
    """

    pattern: str
    constrains_identity = True
    _compiled: _Matcher = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_compiled", _compile_pattern(self.pattern))

    def check(self, facts: VerifiedFacts) -> None:
        if not any(_full_match(self._compiled, i) for i in facts.signer.identities):
            raise PolicyError(
                f"an identity matching /{printable(self.pattern)}/ required; actual identities: "
                f"{list(facts.signer.identities)}",
                code=Code.POLICY_IDENTITY_MISMATCH,
            )


def _compile_pattern(pattern: str) -> _Matcher:
    if len(pattern) > POLICY_LIMITS.max_identity_pattern_chars:
        raise PolicyError(
            f"identity patterns have at most {POLICY_LIMITS.max_identity_pattern_chars} "
            "characters; "
            f"found {len(pattern)}",
            code=Code.POLICY_MALFORMED,
        )
    options = re2.Options()
    options.log_errors = False
    options.max_mem = POLICY_LIMITS.pattern_engine_max_memory
    try:
        compiled: _Matcher = re2.compile(pattern, options)
    except (re2.error, UnicodeEncodeError) as exc:
        raise PolicyError(
            f"identity pattern {printable(pattern)!r} is not a regular expression in RE2 syntax: "
            f"{_engine_reason(exc)}",
            code=Code.POLICY_MALFORMED,
        ) from exc
    return compiled


def _engine_reason(exc: Exception) -> str:
    if isinstance(exc, UnicodeEncodeError):
        return "it is not encodable as UTF-8 (a lone surrogate)"
    reason = exc.args[0] if exc.args else exc
    return printable(
        reason.decode("utf-8", "replace") if isinstance(reason, bytes) else str(reason)
    )


def _full_match(compiled: _Matcher, identity: str) -> bool:
    try:
        return compiled.fullmatch(identity) is not None
    except UnicodeEncodeError:
        return False  # a lone surrogate matches no pattern


_ISSUER_PIN = re.compile(r"[0-9a-fA-F]{64}|[0-9a-fA-F]{2}(?::[0-9a-fA-F]{2}){31}")


@dataclass(frozen=True)
class Issuer(Policy):
    """The validated chain must pass through one CA, pinned by a SHA-256: of its SPKI or of its
    certificate (64 hex digits, or 32 colon-separated pairs as ``openssl x509 -fingerprint
    -sha256`` prints them). Any CA of the chain counts, the leaf's issuer up to the anchor. Names
    are for display: two authorities can carry the same names, never the same key.

    Raises:
        PolicyError: ``policy.malformed`` when ``issuer`` is not such a hash (a name, say).
    """

    issuer: str

    def __post_init__(self) -> None:
        if not isinstance(self.issuer, str) or not _ISSUER_PIN.fullmatch(self.issuer):
            raise PolicyError(
                "an issuer is pinned by the SHA-256 of its key (SPKI) or certificate, 64 hex"
                f" digits; found {self.issuer!r}",
                code=Code.POLICY_MALFORMED,
            )
        object.__setattr__(self, "issuer", self.issuer.replace(":", "").lower())

    def check(self, facts: VerifiedFacts) -> None:
        signer = facts.signer
        if self.issuer in signer.issuer_key_ids or self.issuer in signer.issuer_fingerprints:
            return
        chain = [
            f"{name} (key {key_id})"
            for name, key_id in zip(signer.issuer_chain, signer.issuer_key_ids, strict=False)
        ]
        raise PolicyError(
            f"a chain through the CA with SHA-256 {self.issuer} required; the chain's CAs:"
            f" {chain or 'none'}",
            code=Code.POLICY_ISSUER_MISMATCH,
        )


@dataclass(frozen=True)
class RequireClaim(Policy):
    """The statement must carry claim ``name`` (with ``value`` when one is given)."""

    name: str
    value: ClaimValue | None = None

    def check(self, facts: VerifiedFacts) -> None:
        claims = facts.statement.predicate.claims
        if self.name not in claims:
            raise PolicyError(
                f"claim {self.name!r} required; claims present: {sorted(claims)}",
                code=Code.POLICY_CLAIM_MISSING,
            )
        actual = claims[self.name]
        if self.value is not None and (
            actual != self.value or type(actual) is not type(self.value)
        ):
            raise PolicyError(
                f"claim {self.name!r} must be {_json(self.value)}; actual {_json(actual)}",
                code=Code.POLICY_CLAIM_MISMATCH,
            )


PROVEN_TIME_SOURCES = frozenset({TimeSource.LOG, TimeSource.TIMESTAMP})
"""Signing times a verifier can bound: a log's integrated time, a trusted C2PA time-stamp."""


@dataclass(frozen=True)
class MaxAge(Policy):
    """The signature must be proven at most ``age`` old at the verification time.

    The age is ``now`` minus the proven signing time: the log's integrated time, or a trusted C2PA
    time-stamp for media. Without a proven time the age is unknown and the policy fails closed
    (``policy.age.unproven``): an unlogged bundle is judged at the verification time, which would
    make every signature 0 seconds old, and the signed ``created`` claim is the signer's word.

    Raises:
        PolicyError: From ``check``: ``policy.age.unproven`` or ``policy.age.exceeded``.
    """

    age: timedelta

    def check(self, facts: VerifiedFacts) -> None:
        if facts.time_source not in PROVEN_TIME_SOURCES:
            raise PolicyError(
                f"a signature at most {self.age} old required; its age is not proven (time from "
                f"{facts.time_source.value}: no log entry or trusted time-stamp)",
                code=Code.POLICY_AGE_UNPROVEN,
            )
        actual = facts.now - facts.signing_time
        if actual > self.age:
            raise PolicyError(
                f"signature at most {self.age} old required; it is {actual} old "
                f"(time from {facts.time_source.value})",
                code=Code.POLICY_AGE_EXCEEDED,
            )


@dataclass(frozen=True)
class RequireFreshCrl(Policy):
    """A certificate signer's revocation must be known: a CRL of the CA that issued the leaf was
    checked, and no CRL checked is past its nextUpdate. Pinned keys have nothing to revoke."""

    def check(self, facts: VerifiedFacts) -> None:
        if facts.signer.kind is SignerKind.PINNED_KEY:
            return
        report = facts.revocation
        if report is None or facts.signer.issuer not in report.checked:
            raise PolicyError(
                f"a CRL of the leaf's issuer {facts.signer.issuer!r} is required; the trust root"
                " holds none, so revocation was not checked",
                code=CRL_MISSING,
            )
        if report.stale:
            raise PolicyError(
                f"fresh CRLs are required; stale: {list(report.stale)}", code=CRL_STALE
            )


class AllOf(Policy):
    """Every policy must hold."""

    def __init__(self, policies: Sequence[Policy]) -> None:
        self.policies = tuple(policies)
        self.constrains_identity = any(p.constrains_identity for p in self.policies)
        self.warnings = tuple(w for p in self.policies for w in p.warnings)

    def check(self, facts: VerifiedFacts) -> None:
        for policy in self.policies:
            policy.check(facts)


class AnyOf(Policy):
    """At least one policy must hold; the error lists why each failed."""

    def __init__(self, policies: Sequence[Policy]) -> None:
        if not policies:
            raise ValueError("AnyOf needs at least one policy")
        self.policies = tuple(policies)
        self.constrains_identity = all(p.constrains_identity for p in self.policies)
        self.warnings = tuple(w for p in self.policies for w in p.warnings)

    def check(self, facts: VerifiedFacts) -> None:
        errors: list[PolicyError] = []
        for policy in self.policies:
            try:
                policy.check(facts)
            except PolicyError as exc:
                errors.append(exc)
            else:
                return
        codes = {Code(e.code) for e in errors}
        raise PolicyError(
            "no alternative holds: " + "; ".join(e.message for e in errors),
            code=codes.pop() if len(codes) == 1 else Code.POLICY_ANY_OF_FAILED,
        )


class UnsafeAcceptAnyIdentity(Policy):
    """Accepts any signer the trust root vouches for. Loudly unsafe: anyone the CA certified passes."""

    constrains_identity = True
    warnings = (
        "UNSAFE: no identity was required; any signer certified by the trust root is accepted",
    )

    def check(self, facts: VerifiedFacts) -> None:
        return None


def _json(value: ClaimValue) -> str:
    """A claim value as JSON (``true``, ``"yes"``), as it is signed, never Python's ``True``."""
    return json.dumps(value, ensure_ascii=False)


def check_certified(policy: Policy, facts: VerifiedFacts) -> None:
    """Apply ``policy`` to a certificate signer: an identity requirement is mandatory.

    Raises:
        PolicyError: ``policy.identity.required`` when ``policy`` does not constrain the identity,
            else whatever ``policy.check`` raises.
    """
    if not policy.constrains_identity:
        raise PolicyError(
            "a certificate-signed signature needs an identity requirement (or an explicit "
            "accept-any-identity policy: --unsafe-any-identity on the command line); the "
            f"certificate names {list(facts.signer.identities)}",
            code=Code.POLICY_IDENTITY_REQUIRED,
        )
    policy.check(facts)


POLICY_FIELDS = {
    "identity",
    "identityRegex",
    "issuer",
    "requiredClaims",
    "maxAgeSeconds",
    "unsafeAnyIdentity",
    "requireFreshCrl",
    "anyOf",
}


def policy_from_json(obj: object, *, depth: int = 1) -> Policy:
    """Build a policy from its JSON form (the API, ``prov verify --policy`` and the test vectors).

    The form is ``{"identity"?, "identityRegex"?, "issuer"?, "requiredClaims"?: {name:
    value|null}, "maxAgeSeconds"?, "requireFreshCrl"?: true, "unsafeAnyIdentity"?: bool,
    "anyOf"?: [policy, ...]}``; all given parts must hold (an :class:`AllOf`); ``anyOf`` holds
    when one of its 1 to ``POLICY_LIMITS.max_any_of_members`` member policies (objects of this
    same form) holds, nested at most ``POLICY_LIMITS.max_depth`` deep.

    Raises:
        PolicyError: ``policy.malformed`` for an unknown field, a value of the wrong type, a
            ``maxAgeSeconds`` past ``POLICY_LIMITS.max_age_seconds``, or a part the policy classes
            refuse (a bad identity pattern or issuer pin).
    """
    if depth == 1 and count_identity_patterns(obj) > POLICY_LIMITS.max_identity_patterns:
        raise _malformed(
            f"a policy holds at most {POLICY_LIMITS.max_identity_patterns} identity patterns"
        )
    fields = json_object(obj, "policy", set(), POLICY_FIELDS, _malformed)
    parts: list[Policy] = []
    for name, kind in (
        ("identity", Identity),
        ("identityRegex", IdentityPattern),
        ("issuer", Issuer),
    ):
        if name in fields:
            parts.append(kind(_string(fields[name], name)))
    parts.extend(_claims(fields.get("requiredClaims", {})))
    parts.extend(_flags(fields))
    if "anyOf" in fields:
        parts.append(_any_of(fields["anyOf"], depth))
    return AllOf(parts)


def _flags(fields: dict[str, object]) -> list[Policy]:
    parts: list[Policy] = []
    if "maxAgeSeconds" in fields:
        seconds = fields["maxAgeSeconds"]
        if not isinstance(seconds, int) or isinstance(seconds, bool) or seconds < 0:
            raise _malformed("policy.maxAgeSeconds must be a non-negative integer")
        if seconds > POLICY_LIMITS.max_age_seconds:
            raise _malformed(
                f"policy.maxAgeSeconds is at most {POLICY_LIMITS.max_age_seconds}; found {seconds}"
            )
        parts.append(MaxAge(timedelta(seconds=seconds)))
    if "requireFreshCrl" in fields:
        if fields["requireFreshCrl"] is not True:
            raise _malformed("policy.requireFreshCrl must be true when present")
        parts.append(RequireFreshCrl())
    if "unsafeAnyIdentity" in fields:
        if not isinstance(fields["unsafeAnyIdentity"], bool):
            raise _malformed("policy.unsafeAnyIdentity must be a boolean")
        if fields["unsafeAnyIdentity"]:
            parts.append(UnsafeAcceptAnyIdentity())
    return parts


def _any_of(value: object, depth: int) -> Policy:
    if depth >= POLICY_LIMITS.max_depth:
        raise _malformed(f"policy.anyOf nests at most {POLICY_LIMITS.max_depth} policies deep")
    if not isinstance(value, list) or not 1 <= len(value) <= POLICY_LIMITS.max_any_of_members:
        raise _malformed(
            f"policy.anyOf must be a list of 1 to {POLICY_LIMITS.max_any_of_members} policy objects"
        )
    return AnyOf([policy_from_json(member, depth=depth + 1) for member in value])


def _malformed(message: str) -> PolicyError:
    return PolicyError(message, code=Code.POLICY_MALFORMED)


def _string(value: object, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise _malformed(f"policy.{what} must be a non-empty string")
    return value


def _claims(obj: object) -> list[Policy]:
    if not isinstance(obj, dict):
        raise _malformed("policy.requiredClaims must be an object")
    parts: list[Policy] = []
    for name, value in obj.items():
        if value is not None and not isinstance(value, str | bool | int):
            raise _malformed(
                f"policy.requiredClaims.{name} must be a string, boolean, integer or null"
            )
        parts.append(RequireClaim(name, value))
    return parts


def count_identity_patterns(obj: object) -> int:
    """How many ``identityRegex`` fields the JSON policy ``obj`` holds, however deep, counted
    before anything is compiled (also by callers that bound the patterns of several policies)."""
    if isinstance(obj, list):
        return sum(count_identity_patterns(item) for item in obj)
    if not isinstance(obj, dict):
        return 0
    return int("identityRegex" in obj) + sum(count_identity_patterns(v) for v in obj.values())
