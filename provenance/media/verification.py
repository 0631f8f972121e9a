"""Verify media: c2pa's validation mapped onto the project's result model (specs/media-v1.md).

Steps, in order: parse (fatal), manifest, ingredients, certificate (fatal), policy (fatal). The
media verifies only when all five ran and every finding is ok.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, BinaryIO

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from provenance.codes import Code
from provenance.errors import MediaError, PolicyError, VerificationError
from provenance.identity.chain import ValidatedChain, validate_chain
from provenance.identity.profile import describe
from provenance.identity.revocation import RevocationReport, check_revocation
from provenance.identity.trust import TrustRoot
from provenance.media.assertion import read_content_assertion
from provenance.media.engine import Reading, read_with_c2pa
from provenance.media.findings import (
    CLAIM_SIGNATURE_FAILURE,
    STEP_CERTIFICATE,
    STEP_LOG,
    STEP_PARSE,
    STEP_POLICY,
    STEP_REVOCATION,
    STEPS,
    credential_findings,
    has_trusted_timestamp,
    ingredient_findings,
    manifest_findings,
)
from provenance.media.profile import MEDIA_PROFILE
from provenance.media.store import ClaimSigner, ManifestStoreError, claim_signer
from provenance.media.timestamp import usable_time_stamp
from provenance.statement import Author, ContentPredicate, Statement, format_time
from provenance.text import Canonicalization
from provenance.verify.policy import Policy, VerifiedFacts, check_certified
from provenance.verify.result import (
    Finding,
    SignerIdentity,
    SignerKind,
    TimeSource,
    VerificationResult,
)

_CHUNK_BYTES = 1024 * 1024
SIGNER_MISMATCH = Code.MEDIA_SIGNATURE_SIGNER_MISMATCH


@dataclass
class _Run:
    at: datetime
    sha256: str
    mime_type: str
    reading: Reading | None = None
    author: str | None = None
    claims: dict[str, Any] = field(default_factory=dict)
    signer: SignerIdentity | None = None
    chain: ValidatedChain | None = None
    revocation: RevocationReport | None = None
    checked_at: datetime | None = None
    time_source: TimeSource | None = None


def verify_media(
    source: BinaryIO | bytes,
    mime_type: str,
    trust: TrustRoot,
    policy: Policy,
    *,
    at: datetime,
    sidecar: bytes | None = None,
) -> VerificationResult:
    """Verify an asset's C2PA manifest against ``trust`` and ``policy``; never raises for bad media.

    Args:
        source: The asset's bytes or a seekable binary stream.
        mime_type: Its MIME type (or extension), e.g. ``image/png``.
        trust: The trust root: its roots are the only trust anchors, its CRLs apply, and
            ``requireLog`` fails media (which is never logged) with ``log.missing``.
        policy: The caller's requirements; identities match the signer certificate's SANs.
        at: The verification time (timezone-aware).
        sidecar: A ``.c2pa`` manifest store to verify the asset with, instead of an embedded one.

    Returns:
        The result: one finding per C2PA failure (code ``c2pa.<C2PA code>``) or per step passed
        (``specs/media-v1.md`` §3). When the claim signature does not verify, the certificate step
        only reports c2pa's credential failures and establishes no signer, and neither revocation
        nor policy runs.
    """
    if at.tzinfo is None:
        raise ValueError("verification time must be timezone-aware")
    stream = io.BytesIO(source) if isinstance(source, bytes) else source
    run = _Run(at.astimezone(UTC), _sha256(stream), mime_type)
    findings = _parse(run, stream, trust, sidecar)
    if findings[0].ok:
        findings += _checks(run, trust, policy)
    return _result(run, findings, policy)


def _checks(run: _Run, trust: TrustRoot, policy: Policy) -> list[Finding]:
    reading = _reading(run)
    manifest = manifest_findings(reading.results, reading.state)
    findings = manifest + ingredient_findings(reading.results)
    log = _log(trust)
    findings.append(log)
    if not log.ok:
        return findings
    signature_ok = not any(f.code.startswith(CLAIM_SIGNATURE_FAILURE) for f in manifest)
    if not signature_ok:
        return findings + credential_findings(reading.results)
    certificate = _certificate(run, trust)
    findings += certificate
    if all(f.ok for f in certificate):
        findings += [*_revocation(run, trust), _policy(run, policy)]
    return findings


def _parse(run: _Run, stream: BinaryIO, trust: TrustRoot, sidecar: bytes | None) -> list[Finding]:
    try:
        run.reading = read_with_c2pa(stream, run.mime_type, anchors=trust.roots, sidecar=sidecar)
        content = read_content_assertion(run.reading.active_manifest)
    except VerificationError as exc:
        return [Finding(STEP_PARSE, exc.code, False, exc.message)]
    except MediaError as exc:
        return [Finding(STEP_PARSE, Code.MEDIA_ASSERTION_MALFORMED, False, str(exc))]
    if content is not None:
        run.author, run.claims = content
    count = len(run.reading.report.get("manifests") or {})
    return [
        Finding(
            STEP_PARSE,
            f"{STEP_PARSE}.ok",
            True,
            f"{count} C2PA manifest(s), active {run.reading.active_label}",
        )
    ]


def _log(trust: TrustRoot) -> Finding:
    if trust.media_requires_log:
        return Finding(
            STEP_LOG,
            Code.LOG_MISSING,
            False,
            f"trust root {trust.name!r} requires log inclusion; C2PA media carries no log proof",
        )
    exempt = (
        f"trust root {trust.name!r} logs bundles but does not require media to be logged; "
        if trust.require_log
        else ""
    )
    return Finding(
        STEP_LOG,
        f"{STEP_LOG}.ok",
        True,
        f"{exempt}not logged: certificates are checked at a trusted C2PA time stamp, else the "
        "verification time",
    )


def _certificate(run: _Run, trust: TrustRoot) -> list[Finding]:
    reading = _reading(run)
    failures = credential_findings(reading.results)
    if failures:
        return failures
    try:
        signer = claim_signer(reading.store, reading.active_label)
        chain = signer.chain
        _check_reported_leaf(chain[0], reading.active_manifest)
        moment = _signing_time(run, signer)
        validated = validate_chain(chain, trust, moment, MEDIA_PROFILE)
    except VerificationError as exc:
        return [Finding(STEP_CERTIFICATE, exc.code, False, exc.message)]
    except ValueError as exc:
        return [Finding(STEP_CERTIFICATE, Code.CERTIFICATE_MALFORMED, False, str(exc))]
    run.chain = validated
    run.signer = SignerIdentity(
        SignerKind.CERTIFICATE,
        validated.identities,
        _key_id(validated.leaf),
        validated.issuer,
        validated.issuer_subjects,
        validated.issuer_key_ids,
        validated.issuer_fingerprints,
    )
    return [
        Finding(
            STEP_CERTIFICATE,
            f"{STEP_CERTIFICATE}.ok",
            True,
            f"{describe(validated.leaf)} signed the claim; chain to "
            f"{validated.issuer_subjects[-1]} valid at {format_time(moment)}",
        )
    ]


def _check_reported_leaf(leaf: x509.Certificate, manifest: dict[str, Any]) -> None:
    info = manifest.get("signature_info") or {}
    reported = str(info.get("cert_serial_number", ""))
    if reported != str(leaf.serial_number):
        raise ManifestStoreError(
            f"the x5chain leaf (serial {leaf.serial_number}) is not the certificate c2pa "
            f"reported (serial {reported or 'none'})",
            code=SIGNER_MISMATCH,
        )


def _signing_time(run: _Run, signer: ClaimSigner) -> datetime:
    """A trusted C2PA time stamp's time, else the verification time (recorded in ``run``).

    Trusted: c2pa validated it, and every end-entity certificate of its tokens is a time-stamping
    certificate only (:mod:`provenance.media.timestamp`).
    """
    reading = _reading(run)
    stamped = (reading.active_manifest.get("signature_info") or {}).get("time")
    if (
        has_trusted_timestamp(reading.results)
        and isinstance(stamped, str)
        and usable_time_stamp(signer.unprotected)
    ):
        moment, source = datetime.fromisoformat(stamped).astimezone(UTC), TimeSource.TIMESTAMP
    else:
        moment, source = run.at, TimeSource.VERIFICATION
    run.checked_at, run.time_source = moment, source
    return moment


def _revocation(run: _Run, trust: TrustRoot) -> list[Finding]:
    """``revocation.ok`` then the advisory stale/missing CRL findings, as for bundles."""
    assert run.chain is not None and run.checked_at is not None
    try:
        run.revocation = check_revocation(run.chain, trust, signing_time=run.checked_at, now=run.at)
    except VerificationError as exc:
        return [Finding(STEP_REVOCATION, exc.code, False, exc.message)]
    passed = Finding(
        STEP_REVOCATION,
        f"{STEP_REVOCATION}.ok",
        True,
        f"not revoked for a signature at {format_time(run.checked_at)}",
    )
    notices = [
        Finding(STEP_REVOCATION, code, True, message) for code, message in run.revocation.notices
    ]
    return [passed, *notices]


def _policy(run: _Run, policy: Policy) -> Finding:
    assert run.signer is not None and run.checked_at is not None
    facts = VerifiedFacts(
        run.signer,
        _statement(run),
        run.checked_at,
        run.time_source or TimeSource.VERIFICATION,
        run.at,
        run.revocation,
    )
    try:
        check_certified(policy, facts)
    except PolicyError as exc:
        return Finding(STEP_POLICY, exc.code, False, exc.message)
    return Finding(STEP_POLICY, f"{STEP_POLICY}.ok", True, "policy satisfied")


def _statement(run: _Run) -> Statement:
    """The verified facts as a statement: subject = the asset, predicate = the content assertion."""
    reading = _reading(run)
    predicate = ContentPredicate(
        content_type=run.mime_type,
        canonicalization=Canonicalization.NONE,
        created=run.checked_at or run.at,
        author=Author(run.author) if run.author else None,
        claims=run.claims,
    )
    title = reading.active_manifest.get("title")
    return Statement(title if isinstance(title, str) else "media", run.sha256, predicate)


def _result(run: _Run, findings: list[Finding], policy: Policy) -> VerificationResult:
    verified = {f.step for f in findings} == set(STEPS) and all(f.ok for f in findings)
    trusted_signer = run.signer is not None
    return VerificationResult(
        verified=verified,
        findings=tuple(findings),
        signer=run.signer,
        statement=_statement(run) if trusted_signer else None,
        certificate_checked_at=run.checked_at if run.chain else None,
        time_source=run.time_source,
        warnings=policy.warnings
        + tuple(f"{f.code}: {f.message}" for f in findings if f.ok and f.code != f"{f.step}.ok"),
    )


def inspect_media(
    source: BinaryIO | bytes, mime_type: str, *, sidecar: bytes | None = None
) -> dict[str, Any]:
    """What the manifest store says, WITHOUT trusting any of it (no trust anchors configured).

    Raises:
        MediaReadError: ``media.unsupported``, ``media.unsigned`` or ``media.malformed``.
    """
    stream = io.BytesIO(source) if isinstance(source, bytes) else source
    reading = read_with_c2pa(stream, mime_type, anchors=(), sidecar=sidecar)
    return {
        "unverified": True,
        "validationState": reading.state,
        "activeManifest": reading.active_label,
        "manifests": reading.report.get("manifests") or {},
        "validationResults": reading.results,
    }


def _reading(run: _Run) -> Reading:
    assert run.reading is not None
    return run.reading


def _key_id(leaf: x509.Certificate) -> str:
    spki = leaf.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(spki).hexdigest()


def _sha256(stream: BinaryIO) -> str:
    start = stream.tell()
    digest = hashlib.sha256()
    while chunk := stream.read(_CHUNK_BYTES):
        digest.update(chunk)
    stream.seek(start)
    return digest.hexdigest()
