"""Provenance Toolkit: sign content with attested identities and verify it offline.

The public face of the library. Verify a review::

    from provenance import AllOf, Identity, TrustRoot, Verifier

    trust = TrustRoot.from_json(open("trust-root.json", "rb").read())
    result = Verifier(trust).check(review_bytes, bundle_bytes, AllOf([Identity(who)]), at=now)
    print(result.verified, [f.code for f in result.failures])

Names load on first use (PEP 562), so ``import provenance`` stays cheap. Everything not listed in
``__all__`` here or in a subpackage's ``__all__`` (``provenance.identity``, ``provenance.tlog``,
``provenance.verify``, ``provenance.media``, ``provenance.model``) is internal.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from provenance.armor import ArmoredVerification, armor, check_armored
    from provenance.bundle import Bundle, BundleLimits
    from provenance.codes import Code
    from provenance.errors import ProvenanceError, VerificationError
    from provenance.identity.trust import TrustRoot
    from provenance.keys import (
        KeyType,
        SigningKey,
        VerifyingKey,
        generate_key,
        load_private_key,
        load_public_key,
    )
    from provenance.sign import Signer
    from provenance.statement import Author, ContentPredicate, Statement
    from provenance.text import Canonicalization
    from provenance.trust_store import TrustStore
    from provenance.verify.policy import (
        AllOf,
        AnyOf,
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
    from provenance.verify.result import Finding, SignerKind, TimeSource, VerificationResult
    from provenance.verify.verifier import Verifier

_FACE = {
    "ArmoredVerification": "provenance.armor",
    "armor": "provenance.armor",
    "check_armored": "provenance.armor",
    "Bundle": "provenance.bundle",
    "BundleLimits": "provenance.bundle",
    "Code": "provenance.codes",
    "ProvenanceError": "provenance.errors",
    "VerificationError": "provenance.errors",
    "TrustRoot": "provenance.identity.trust",
    "KeyType": "provenance.keys",
    "SigningKey": "provenance.keys",
    "VerifyingKey": "provenance.keys",
    "generate_key": "provenance.keys",
    "load_private_key": "provenance.keys",
    "load_public_key": "provenance.keys",
    "Signer": "provenance.sign",
    "Author": "provenance.statement",
    "ContentPredicate": "provenance.statement",
    "Statement": "provenance.statement",
    "Canonicalization": "provenance.text",
    "TrustStore": "provenance.trust_store",
    "AllOf": "provenance.verify.policy",
    "AnyOf": "provenance.verify.policy",
    "Identity": "provenance.verify.policy",
    "IdentityPattern": "provenance.verify.policy",
    "Issuer": "provenance.verify.policy",
    "MaxAge": "provenance.verify.policy",
    "Policy": "provenance.verify.policy",
    "RequireClaim": "provenance.verify.policy",
    "RequireFreshCrl": "provenance.verify.policy",
    "UnsafeAcceptAnyIdentity": "provenance.verify.policy",
    "policy_from_json": "provenance.verify.policy",
    "Finding": "provenance.verify.result",
    "SignerKind": "provenance.verify.result",
    "TimeSource": "provenance.verify.result",
    "VerificationResult": "provenance.verify.result",
    "Verifier": "provenance.verify.verifier",
}

__all__ = [
    "AllOf",
    "AnyOf",
    "ArmoredVerification",
    "Author",
    "Bundle",
    "BundleLimits",
    "Canonicalization",
    "Code",
    "ContentPredicate",
    "Finding",
    "Identity",
    "IdentityPattern",
    "Issuer",
    "KeyType",
    "MaxAge",
    "Policy",
    "ProvenanceError",
    "RequireClaim",
    "RequireFreshCrl",
    "Signer",
    "SignerKind",
    "SigningKey",
    "Statement",
    "TimeSource",
    "TrustRoot",
    "TrustStore",
    "UnsafeAcceptAnyIdentity",
    "VerificationError",
    "VerificationResult",
    "Verifier",
    "VerifyingKey",
    "__version__",
    "armor",
    "check_armored",
    "generate_key",
    "load_private_key",
    "load_public_key",
    "policy_from_json",
]


def __getattr__(name: str) -> Any:
    """Load a public name from the module that defines it, on first use."""
    module = _FACE.get(name)
    if module is None:
        raise AttributeError(f"module 'provenance' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
