"""Logging authors' bundles: ``POST /v1/log/entries``.

Authors certified by this publisher (``POST /v1/certificates``) sign offline; their bundles carry
no log entry, and the published trust root requires one (``requireLog``). An author submits the
bundle here: the service verifies it fully against its own trust root (signature, chain at the
current time, revocation; the log is not required yet), appends its leaf through the sequencer
(the durable path of ``/v1/sign``: the answer comes only after the commit) and returns the bundle
with its log entry. One signature (payload, payload type, signature in low-S form, and signer;
not the unsigned ``keyid``) is logged once: a second submission gets the first one's entry,
proven up to the current checkpoint. The signing service's own signatures are logged when
``/v1/sign`` makes them and are never logged here.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime, timedelta

from provenance import (
    Bundle,
    Code,
    LogError,
    UnsafeAcceptAnyIdentity,
    VerificationResult,
    Verifier,
    verifying_key_from_cryptography,
)
from provenance.identity import certificate_twins, load_certificate_der
from provenance.tlog import TlogEntry, signer_binding
from verifier_api import crud, sequencer
from verifier_api.errors import ApiError
from verifier_api.models import LogSubmission
from verifier_api.sequencer import SUBMIT_TIMEOUT_SECONDS, ClaimLostError
from verifier_api.service import Service

STALE_CLAIM = timedelta(seconds=2 * SUBMIT_TIMEOUT_SECONDS)
"""A claim without an index this old belongs to a request that died: another may take it over."""
PENDING_RETRY_SECONDS = 1
SIGNED_BY_SERVICE = "log.signed_by_service"
CERTIFICATE_CONFLICT = "log.certificate_conflict"


@dataclass(frozen=True)
class LoggedBundle:
    """The bundle with its entry in this log, and whether this submission appended it."""

    bundle: Bundle
    log_index: int
    appended: bool


def refusal(result: VerificationResult) -> ApiError | None:
    """The 422 for a bundle this service will not log, None for one it will.

    Every step but the digest must pass (the service logs a signature, it does not see the
    content): a bad signature, an untrusted or expired chain, a revoked certificate or a log entry
    that does not verify is refused with its verification code.
    """
    for finding in result.findings:
        if not finding.ok and finding.step != "digest":
            return ApiError(422, finding.code, f"the bundle is not logged: {finding.message}")
    if not any(f.step == "policy" for f in result.findings):
        return ApiError(422, Code.BUNDLE_MALFORMED, "the bundle is not logged: it did not verify")
    return None


def check_for_log(service: Service, bundle: Bundle, now: datetime) -> VerificationResult:
    """Verify ``bundle`` against this publisher's trust root without requiring the log.

    Raises:
        ApiError: 422 with the verification code of the first failed step (digest aside).
    """
    trust, _ = service.authority.trust_root()
    verifier = Verifier(dataclasses.replace(trust, require_log=False))
    result = verifier.check(b"", bundle, UnsafeAcceptAnyIdentity(), at=now)
    error = refusal(result)
    if error is not None:
        raise error
    return result


def submit_bundle(service: Service, bundle: Bundle, now: datetime) -> LoggedBundle:
    """Log a verified author's bundle once and return it with its entry.

    Raises:
        ApiError: 422 (the bundle does not verify; ``log.signed_by_service`` for a signature of
            this signing service without its entry), 409 ``log.pending`` (the same signature is
            being logged by another request right now, or one took this request's claim over
            while its entry waited, or it was logged under another certificate of its key while
            its entry waited: a retry gets ``log.certificate_conflict``), 409
            ``log.certificate_conflict`` (it is logged under another certificate of its key).
        LogError: The log did not commit the entry (503 ``log.unavailable``).
    """
    result = check_for_log(service, bundle, now)
    if result.log_proofs:  # it carries a verified entry of a log this trust root trusts
        return LoggedBundle(bundle, result.log_proofs[0].index, appended=False)
    _refuse_service_signature(service, result)
    if not bundle.certificates:
        raise ApiError(422, Code.KEY_UNTRUSTED, "the bundle is not logged: it names no certificate")
    bundle = _as_issued(service, bundle)
    signature_hex = bundle.envelope.signature_sha256().hex()
    bundle = _as_claimed_twin(service, bundle, signature_hex)
    key = verifying_key_from_cryptography(bundle.certificates[0].public_key())
    signer_sha256, certificate_der = signer_binding(bundle.certificates, key)
    signer_hex = signer_sha256.hex()
    existing = _claim(service, signature_hex, signer_hex, now)
    if existing is not None:
        index, keyid = existing
        entry = service.log.tlog_entry_for(index)
        return LoggedBundle(_with_entry(_with_keyid(bundle, keyid), entry), index, appended=False)
    claim = crud.Claim(signature_hex, signer_hex, now, bundle.envelope.signatures[0].keyid)
    _refuse_other_certificate(service, claim)
    logged = service.sequencer.enqueue(
        bundle.envelope.sha256(), signer_sha256, certificate_der, claim
    )
    try:
        entry = logged.result(timeout=sequencer.SUBMIT_TIMEOUT_SECONDS)
    except TimeoutError as exc:
        logged.add_done_callback(_settle_later(service, claim))
        raise LogError(
            "the log has not committed the entry yet; retry later to get its entry"
        ) from exc
    except ClaimLostError as exc:
        crud.release_submission(service.engine, claim)  # if still its own: nothing was logged
        raise _pending() from exc
    except LogError:
        crud.release_submission(service.engine, claim)
        raise
    return LoggedBundle(_with_entry(bundle, entry), entry.log_index, appended=True)


def _settle_later(service: Service, claim: crud.Claim) -> Callable[[Future[TlogEntry]], None]:
    """What settles the claim of an entry still queued when its request stopped waiting: no
    claim once its batch failed or left it out (nothing of it was logged), so that a retry logs it
    or is refused. A committed entry settled its claim in its own transaction (a retry gets that
    entry, never a second one with a later log time), and a claim taken over is its new holder's
    (the release deletes only this request's own claim without an index)."""

    def settle(logged: Future[TlogEntry]) -> None:
        if isinstance(logged.exception(), LogError):
            crud.release_submission(service.engine, claim)

    return settle


def _as_issued(service: Service, bundle: Bundle) -> Bundle:
    """The bundle with its leaf as this publisher's CA issued it, when the bundle carries a twin
    of that certificate: the same TBS under the other valid encoding of the CA's ECDSA signature
    (S or n - S), which anyone can make. The log binds the leaf's DER, so a twin logged first
    would take the signature's one entry from the certificate the CA issued. A leaf this service
    has no record of (issued offline) is logged as submitted."""
    leaf = bundle.certificates[0]
    issued = crud.issued_certificate(service.engine, leaf.serial_number)
    if issued is None or issued == leaf:
        return bundle
    if issued.tbs_certificate_bytes != leaf.tbs_certificate_bytes:
        return bundle  # another certificate under this serial: verified, so logged as it is
    return dataclasses.replace(bundle, certificates=(issued, *bundle.certificates[1:]))


def _as_claimed_twin(service: Service, bundle: Bundle, signature_hex: str) -> Bundle:
    """The bundle with its leaf's twin (see :func:`certificate_twins`) when this signature was
    claimed under that twin: the two are one certificate, so the submission is a repeat of that
    claim (a leaf issued offline has no record for :func:`_as_issued` to restore)."""
    twins = {
        hashlib.sha256(der).hexdigest(): der for der in certificate_twins(bundle.certificates[0])
    }
    found = crud.submission_under_any(service.engine, signature_hex, list(twins))
    if found is None:
        return bundle
    twin = load_certificate_der(twins[found.signer_sha256])
    return dataclasses.replace(bundle, certificates=(twin, *bundle.certificates[1:]))


def _refuse_service_signature(service: Service, result: VerificationResult) -> None:
    """Refuse a signature of this signing service: ``/v1/sign`` logged every one it returned, so
    one without its entry was stripped of it, and a second entry would give it a fresh log time
    (a stale signature passing ``maxAgeSeconds``).

    Raises:
        ApiError: 422 ``log.signed_by_service``.
    """
    if result.signer is not None and service.publisher.service_identity in result.signer.identities:
        raise ApiError(
            422,
            SIGNED_BY_SERVICE,
            "the bundle is not logged: the signing service signed it, and every signature it "
            "makes is logged when it signs; use the bundle /v1/sign returned, with its log entry",
        )


def _claim(
    service: Service, signature_hex: str, signer_hex: str, now: datetime
) -> tuple[int, str] | None:
    """None when this request is to append the leaf, else the index it was logged at already and
    the keyid of the envelope logged there.

    Raises:
        ApiError: 409 ``log.pending`` while another request appends it.
    """
    found = crud.claim_submission(service.engine, signature_hex, signer_hex, now=now)
    if found is None:
        return None
    if found.log_index is not None:
        return found.log_index, found.keyid
    if _stale(found, now) and crud.take_over_submission(service.engine, found, now=now):
        return None
    raise _pending()


def _refuse_other_certificate(service: Service, claim: crud.Claim) -> None:
    """Drop this request's claim when the signature was submitted under another certificate of
    its key (checked after claiming, so that of two such requests at once neither appends; a
    claim without an index left by a request that died does not count).

    Raises:
        ApiError: 409 ``log.certificate_conflict`` (logged under the other certificate: another
            entry would give it a fresh log time), 409 ``log.pending`` (being logged).
    """
    other = crud.other_certificate_submission(
        service.engine, claim.signature_sha256, claim.signer_sha256
    )
    if other is None or (other.log_index is None and _stale(other, claim.claimed_at)):
        return
    crud.release_submission(service.engine, claim)
    if other.log_index is None:
        raise _pending()
    raise ApiError(
        409,
        CERTIFICATE_CONFLICT,
        f"the bundle is not logged: this signature is logged at index {other.log_index} under "
        "another certificate of its key; submit it with that certificate to get its entry",
    )


def _pending() -> ApiError:
    return ApiError(
        409,
        "log.pending",
        "another request is logging this signature now; retry to get its entry",
        {"Retry-After": str(PENDING_RETRY_SECONDS)},
    )


def _stale(claim: LogSubmission, now: datetime) -> bool:
    return now - crud.utc(claim.claimed_at) > STALE_CLAIM


def _with_keyid(bundle: Bundle, keyid: str) -> Bundle:
    """The bundle whose one signature carries ``keyid``: the envelope the first entry binds (the
    leaf's envelope hash covers the keyid; low and high S hash alike)."""
    signature = dataclasses.replace(bundle.envelope.signatures[0], keyid=keyid)
    envelope = dataclasses.replace(bundle.envelope, signatures=(signature,))
    return dataclasses.replace(bundle, envelope=envelope)


def _with_entry(bundle: Bundle, entry: TlogEntry) -> Bundle:
    return dataclasses.replace(bundle, tlog_entries=(entry,))
