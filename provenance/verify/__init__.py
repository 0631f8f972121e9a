"""Verification: the ``Verifier`` (the step table of ``specs/verification.md``), policies, results.

Names load on first use, so the face never forms an import cycle with the modules behind it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from provenance._face import lazy_names

if TYPE_CHECKING:
    from provenance.verify.policy import (
        POLICY_LIMITS,
        AllOf,
        AnyOf,
        Identity,
        IdentityPattern,
        Issuer,
        MaxAge,
        Policy,
        PolicyLimits,
        RequireClaim,
        RequireFreshCrl,
        UnsafeAcceptAnyIdentity,
        count_identity_patterns,
        policy_from_json,
    )
    from provenance.verify.result import (
        Finding,
        SignerIdentity,
        SignerKind,
        TimeSource,
        VerificationResult,
    )
    from provenance.verify.verifier import Verifier, refused_bundle

_FACE = {
    "AllOf": "provenance.verify.policy",
    "AnyOf": "provenance.verify.policy",
    "Identity": "provenance.verify.policy",
    "IdentityPattern": "provenance.verify.policy",
    "Issuer": "provenance.verify.policy",
    "MaxAge": "provenance.verify.policy",
    "POLICY_LIMITS": "provenance.verify.policy",
    "Policy": "provenance.verify.policy",
    "PolicyLimits": "provenance.verify.policy",
    "RequireClaim": "provenance.verify.policy",
    "RequireFreshCrl": "provenance.verify.policy",
    "UnsafeAcceptAnyIdentity": "provenance.verify.policy",
    "count_identity_patterns": "provenance.verify.policy",
    "policy_from_json": "provenance.verify.policy",
    "Finding": "provenance.verify.result",
    "SignerIdentity": "provenance.verify.result",
    "SignerKind": "provenance.verify.result",
    "TimeSource": "provenance.verify.result",
    "VerificationResult": "provenance.verify.result",
    "Verifier": "provenance.verify.verifier",
    "refused_bundle": "provenance.verify.verifier",
}

__all__ = [
    "POLICY_LIMITS",
    "AllOf",
    "AnyOf",
    "Finding",
    "Identity",
    "IdentityPattern",
    "Issuer",
    "MaxAge",
    "Policy",
    "PolicyLimits",
    "RequireClaim",
    "RequireFreshCrl",
    "SignerIdentity",
    "SignerKind",
    "TimeSource",
    "UnsafeAcceptAnyIdentity",
    "VerificationResult",
    "Verifier",
    "count_identity_patterns",
    "policy_from_json",
    "refused_bundle",
]


__getattr__ = lazy_names(__name__, _FACE)
