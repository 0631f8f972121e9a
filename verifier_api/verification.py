"""The service's one verification path, for ``/v1/verify``, ``/v1/verify/batch``,
``/v1/verify/media`` and the pages.

Each verification reads the clock once, takes this publisher's trust root at that moment, checks
a bundle parsed once, and is counted once (``provenance_verifications_total``). The policy comes
from the library's one builder (:func:`provenance.verify.policy.policy_from_json`), or is the
service's default (``api-v1.md`` "Default policy"): any identity this publisher certifies, named
loudly in the result's warnings.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar

from provenance import (
    Bundle,
    BundleFormatError,
    DecodedBundle,
    Policy,
    TrustRoot,
    UnsafeAcceptAnyIdentity,
    VerificationResult,
    Verifier,
    policy_from_json,
)
from provenance.trust_store import TrustStore, TrustStoreError, chain_anchored, vouches
from provenance.verify import refused_bundle
from verifier_api.service import Service, utc_now

DEFAULT_POLICY: Policy = UnsafeAcceptAnyIdentity()
"""The policy of a request without one: any signer this publisher's own authority certified (its
signing service and the authors it certified), never another publisher of the trust store."""


class Verdict(Protocol):
    """What a verification answers: at least whether it verified."""

    @property
    def verified(self) -> bool:
        """Whether it verified."""
        ...


V = TypeVar("V", bound=Verdict)


@dataclass(frozen=True)
class Moment:
    """The one clock reading of a verification and this publisher's trust root at it."""

    at: datetime
    trust: TrustRoot
    verifier: Verifier


@dataclass(frozen=True)
class BundleVerdict:
    """A bundle's verification, and the trust-store publisher that vouched when not this one."""

    result: VerificationResult
    publisher: str | None = None

    @property
    def verified(self) -> bool:
        """Whether the bundle verified."""
        return self.result.verified

    def to_json(self) -> dict[str, Any]:
        """The ``/v1/verify`` answer: the result, with ``publisher`` when another one vouched."""
        answer = self.result.to_json()
        return answer if self.publisher is None else {**answer, "publisher": self.publisher}


def request_policy(document: object | None) -> Policy | None:
    """The policy of a request's JSON policy document (None: the request gave none).

    Raises:
        PolicyError: ``policy.malformed``, see :func:`policy_from_json`.
    """
    return None if document is None else policy_from_json(document)


def verified(service: Service, check: Callable[[Moment], V]) -> V:
    """Run ``check`` at one clock reading against this publisher's trust root, and count it."""
    now = utc_now()
    trust, verifier = service.authority.trust_root()
    return _counted(service, check(Moment(now, trust, verifier)))


def _counted(service: Service, outcome: V) -> V:
    service.metrics.verifications.labels(str(outcome.verified).lower()).inc()
    return outcome


def verify_bundle(
    service: Service, content: bytes, bundle: bytes | DecodedBundle, policy: Policy | None
) -> BundleVerdict:
    """Verify ``content`` against ``bundle``, parsed once, under ``policy`` (None: the default).

    This publisher's trust root comes first, and its verdict is final when it vouches for the
    signer (its anchors validate the chain at any time, or it pins the key); with a policy given
    and a trust store set, any other bundle goes to the store's publishers that vouch for it.
    """
    parsed = parse_bundle(bundle)
    return verified(service, lambda moment: _check(service, moment, content, parsed, policy))


def verify_bundle_held(
    service: Service, content: bytes, bundle: DecodedBundle, policy: Policy | None
) -> BundleVerdict | None:
    """:func:`verify_bundle` when nothing in it can wait on I/O, so that it may run on the event
    loop: this publisher's trust root is held in memory
    (:meth:`~verifier_api.stored_authority.StoredAuthority.held_trust_root`) and no trust store
    can be read (none is set, or no policy was given). Else None, having done and counted
    nothing."""
    if policy is not None and service.settings.trust_store is not None:
        return None
    held = service.authority.held_trust_root()
    if held is None:
        return None
    moment = Moment(utc_now(), *held)
    return _counted(service, _check(service, moment, content, parse_bundle(bundle), policy))


def parse_bundle(bundle: bytes | DecodedBundle) -> Bundle | BundleFormatError:
    """The bundle, parsed once with the library's caps, or why it was refused."""
    try:
        if isinstance(bundle, bytes):
            return Bundle.from_bytes(bundle)
        return Bundle.from_decoded(bundle.value)
    except BundleFormatError as exc:
        return exc


def _check(
    service: Service,
    moment: Moment,
    content: bytes,
    bundle: Bundle | BundleFormatError,
    policy: Policy | None,
) -> BundleVerdict:
    chosen = DEFAULT_POLICY if policy is None else policy
    if isinstance(bundle, BundleFormatError):
        return BundleVerdict(refused_bundle(bundle, chosen))
    result = moment.verifier.check(content, bundle, chosen, at=moment.at)
    store = service.settings.trust_store
    if policy is None or store is None or _own(result, bundle, moment):
        return BundleVerdict(result)
    try:
        other = TrustStore(store).verify(content, bundle, policy, at=moment.at)
    except TrustStoreError:
        return BundleVerdict(result)
    return BundleVerdict(other.result, other.publisher)


def _own(result: VerificationResult, bundle: Bundle, moment: Moment) -> bool:
    """Whether this publisher vouches for the bundle's signer: then its verdict is final, and no
    publisher of the trust store (which may republish this one's anchors without its CRL or log
    requirement) is asked."""
    return result.verified or chain_anchored(result) or vouches(bundle, moment.trust, moment.at)
