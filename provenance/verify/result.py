"""The verification result model shared by the library, the CLI, the service and the web page."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from provenance._records import quick_init
from provenance.statement import ClaimValue, Statement, format_time


class TimeSource(StrEnum):
    """Where the time a certificate was checked at came from."""

    LOG = "log"
    TIMESTAMP = "timestamp"
    VERIFICATION = "verification"


class SignerKind(StrEnum):
    """How the signer is identified."""

    PINNED_KEY = "pinned-key"
    CERTIFICATE = "certificate"


@dataclass(frozen=True, init=False)
class Finding:
    """The outcome of one verification step; ``code`` is a stable status code."""

    step: str
    code: str
    ok: bool
    message: str

    def __init__(self, step: str, code: str, ok: bool, message: str) -> None:
        # The __init__ a frozen dataclass generates sets each field through object.__setattr__;
        # a verification makes a finding per step, so this writes the instance dictionary, as
        # that does, at once (a test holds the two alike).
        fields = self.__dict__
        fields["step"] = step
        fields["code"] = code
        fields["ok"] = ok
        fields["message"] = message

    def to_json(self) -> dict[str, Any]:
        """The finding as a JSON object."""
        return {"step": self.step, "code": self.code, "ok": self.ok, "message": self.message}


@quick_init
@dataclass(frozen=True)
class SignerIdentity:
    """Who signed: SAN identities of a certificate, or the trust root's name of a pinned key.

    ``issuer`` and ``issuer_chain`` are names, for display only. ``issuer_key_ids`` (SHA-256 of each
    chain CA's SPKI) and ``issuer_fingerprints`` (SHA-256 of each CA certificate), in the order of
    ``issuer_chain``, are what an issuer pin matches.
    """

    kind: SignerKind
    identities: tuple[str, ...]
    key_id: str
    issuer: str | None = None
    issuer_chain: tuple[str, ...] = ()
    issuer_key_ids: tuple[str, ...] = ()
    issuer_fingerprints: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The signer as a JSON object."""
        return {
            "kind": self.kind.value,
            "identities": list(self.identities),
            "keyId": self.key_id,
            "issuer": self.issuer,
            "issuerChain": list(self.issuer_chain),
            "issuerKeyIds": list(self.issuer_key_ids),
            "issuerFingerprints": list(self.issuer_fingerprints),
        }


@quick_init
@dataclass(frozen=True)
class LogProof:
    """A verified transparency log inclusion."""

    origin: str
    index: int
    integrated_time: datetime

    def to_json(self) -> dict[str, Any]:
        """The proof summary as a JSON object."""
        return {
            "origin": self.origin,
            "index": self.index,
            "integratedTime": format_time(self.integrated_time),
        }


@quick_init
@dataclass(frozen=True)
class VerificationResult:
    """Everything a verification established, one finding per step that ran.

    ``verified`` is true only when every finding is ok. Facts (signer, statement, log) are set only
    once the step that establishes them succeeded; they are never taken from an unverified bundle.
    """

    verified: bool
    findings: tuple[Finding, ...]
    signer: SignerIdentity | None = None
    statement: Statement | None = None
    certificate_checked_at: datetime | None = None
    time_source: TimeSource | None = None
    log_proofs: tuple[LogProof, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def claims(self) -> Mapping[str, ClaimValue]:
        """The signed claims, or an empty mapping when no statement was verified."""
        if self.statement is None:
            return MappingProxyType({})
        return self.statement.predicate.claims

    @property
    def failures(self) -> tuple[Finding, ...]:
        """The findings that failed."""
        return tuple(f for f in self.findings if not f.ok)

    def to_json(self) -> dict[str, Any]:
        """The result as the JSON document the CLI's --json, the API and the web page share."""
        return {
            "verified": self.verified,
            "findings": [f.to_json() for f in self.findings],
            "signer": self.signer.to_json() if self.signer else None,
            "claims": dict(self.claims),
            "statement": _statement_summary(self.statement),
            "certificateCheckedAt": (
                format_time(self.certificate_checked_at) if self.certificate_checked_at else None
            ),
            "timeSource": self.time_source.value if self.time_source else None,
            "logEntries": [p.to_json() for p in self.log_proofs],
            "warnings": list(self.warnings),
        }


def _statement_summary(statement: Statement | None) -> dict[str, Any] | None:
    if statement is None:
        return None
    predicate = statement.to_json()["predicate"]
    return {"subject": statement.to_json()["subject"], **predicate}
