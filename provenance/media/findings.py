"""C2PA validation results mapped onto findings (specs/media-v1.md §4).

Every C2PA failure becomes one failed finding whose code is the C2PA code, verbatim, behind the
prefix ``c2pa.`` (``assertion.dataHash.mismatch`` becomes ``c2pa.assertion.dataHash.mismatch``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from provenance.verify.result import Finding

C2PA_PREFIX = "c2pa."
TRUSTED_STATE = "Trusted"
VALID_STATE = "Valid"
CREDENTIAL_PREFIX = "signingCredential."
TRUSTED_TIMESTAMP = "timeStamp.trusted"
CLAIM_SIGNATURE_FAILURE = "c2pa.claimSignature."
STATE_PREFIX = "c2pa.state."

STEP_PARSE = "parse"
STEP_MANIFEST = "manifest"
STEP_INGREDIENTS = "ingredients"
STEP_LOG = "log"
STEP_CERTIFICATE = "certificate"
STEP_REVOCATION = "revocation"
STEP_POLICY = "policy"
STEPS = (
    STEP_PARSE,
    STEP_MANIFEST,
    STEP_INGREDIENTS,
    STEP_LOG,
    STEP_CERTIFICATE,
    STEP_REVOCATION,
    STEP_POLICY,
)


def manifest_findings(
    results: Mapping[str, Any], state: str, expected: str = TRUSTED_STATE
) -> list[Finding]:
    """Failures of the active manifest other than its signing credential's.

    A state other than ``expected`` with no failure code anywhere still fails, as
    ``c2pa.state.<state>``, so that no result verifies unless c2pa says ``expected``:
    ``Trusted``, or ``Valid`` when c2pa was asked not to verify the signer's trust.
    """
    failures = [
        _finding(STEP_MANIFEST, item, "")
        for item in _status(results.get("activeManifest"), "failure")
        if not str(item.get("code", "")).startswith(CREDENTIAL_PREFIX)
    ]
    if failures:
        return failures
    if state != expected and not credential_findings(results) and not _ingredient_items(results):
        return [
            Finding(
                STEP_MANIFEST,
                f"{STATE_PREFIX}{state.lower()}",
                False,
                f"C2PA validation state is {state!r}, not {expected!r}",
            )
        ]
    return [
        Finding(STEP_MANIFEST, f"{STEP_MANIFEST}.ok", True, "claim signature and bindings verify")
    ]


def ingredient_findings(results: Mapping[str, Any]) -> list[Finding]:
    """Failures inside ingredients (``ingredientDeltas``), each naming its ingredient."""
    found = [
        _finding(STEP_INGREDIENTS, item, f"ingredient {uri}: ")
        for uri, item in _ingredient_items(results)
    ]
    return found or [
        Finding(STEP_INGREDIENTS, f"{STEP_INGREDIENTS}.ok", True, "no ingredient failures")
    ]


def credential_findings(results: Mapping[str, Any]) -> list[Finding]:
    """Failures of the active manifest's signing credential (``signingCredential.*``)."""
    return [
        _finding(STEP_CERTIFICATE, item, "")
        for item in _status(results.get("activeManifest"), "failure")
        if str(item.get("code", "")).startswith(CREDENTIAL_PREFIX)
    ]


def has_trusted_timestamp(results: Mapping[str, Any], active_label: str) -> bool:
    """Whether c2pa validated the time stamp of the active manifest's claim signature (the
    ``timeStamp.trusted`` entry must name that signature box) against a trusted TSA."""
    signature = f"self#jumbf=/c2pa/{active_label}/c2pa.signature"
    return any(
        item.get("code") == TRUSTED_TIMESTAMP and item.get("url") == signature
        for item in _status(results.get("activeManifest"), "success")
    )


def _ingredient_items(results: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    items: list[tuple[str, Mapping[str, Any]]] = []
    for delta in results.get("ingredientDeltas") or []:
        if not isinstance(delta, dict):
            continue
        uri = str(delta.get("ingredientAssertionURI", "?"))
        items.extend((uri, item) for item in _status(delta.get("validationDeltas"), "failure"))
    return items


def _status(section: object, kind: str) -> list[Mapping[str, Any]]:
    if not isinstance(section, dict):
        return []
    return [item for item in section.get(kind) or [] if isinstance(item, dict)]


def _finding(step: str, item: Mapping[str, Any], context: str) -> Finding:
    code = str(item.get("code", "unknown"))
    explanation = str(item.get("explanation", "")).strip() or code
    where = f" ({item['url']})" if item.get("url") else ""
    return Finding(step, C2PA_PREFIX + code, False, f"{context}{explanation}{where}")
