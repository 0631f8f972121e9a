"""Size caps live in one frozen limits object per concern, in the module that owns the concern
(issue 16.2); their values are the caps the specs and the other tests state."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import pytest

from cli.common import CLI_LIMITS
from provenance.armor import DEFAULT_ARMOR_LIMITS
from provenance.bundle import DEFAULT_LIMITS
from provenance.dsse import ENVELOPE_LIMITS
from provenance.encoding import JSON_LIMITS
from provenance.identity.profile import IDENTITY_LIMITS
from provenance.media.store import MEDIA_LIMITS
from provenance.model.container import MODEL_LIMITS
from provenance.model.limits import MODEL_SIZE_LIMITS
from provenance.statement import STATEMENT_LIMITS
from provenance.text import TEXT_LIMITS
from provenance.tlog.limits import TLOG_LIMITS
from provenance.trust_repository import TUF_LIMITS
from provenance.verify.policy import POLICY_LIMITS
from verifier_api.settings import HTTP_LIMITS

ROOT = Path(__file__).resolve().parents[2]
KIB, MIB = 1024, 1024 * 1024
LIMITS: dict[str, Any] = {
    "json": JSON_LIMITS,
    "statement": STATEMENT_LIMITS,
    "envelope": ENVELOPE_LIMITS,
    "bundle": DEFAULT_LIMITS,
    "armor": DEFAULT_ARMOR_LIMITS,
    "text": TEXT_LIMITS,
    "tlog": TLOG_LIMITS,
    "identity": IDENTITY_LIMITS,
    "tuf": TUF_LIMITS,
    "model": MODEL_SIZE_LIMITS,
    "model bundle": MODEL_LIMITS,
    "media": MEDIA_LIMITS,
    "policy": POLICY_LIMITS,
    "http": HTTP_LIMITS,
    "cli": CLI_LIMITS,
}
EXPECTED: dict[str, dict[str, int]] = {
    "json": {"max_depth": 32, "max_integer_digits": 40, "max_exact_integer": 2**53 - 1},
    "statement": {
        "max_payload_bytes": 64 * KIB,
        "max_claims": 64,
        "max_ingredients": 64,
        "max_text_chars": 1024,
    },
    "envelope": {"max_keyid_chars": 128},
    "bundle": {
        "max_bundle_bytes": 256 * KIB,
        "max_payload_bytes": 64 * KIB,
        "max_certificates": 4,
        "max_certificate_bytes": 16 * KIB,
        "max_tlog_entries": 4,
        "max_depth": 16,
    },
    "armor": {
        "max_document_bytes": MIB,
        "max_line_chars": 16 * KIB,
        "max_blocks": 32,
        "max_bundle_chars": 256 * KIB,
    },
    "text": {"max_line_chars": MIB, "max_non_starter_run": 30},
    "tlog": {
        "max_tree_size": 2**64 - 1,
        "max_entry_bytes": 0xFFFF,
        "max_proof_hashes": 64,
        "max_note_bytes": 64 * KIB,
        "max_note_signatures": 100,
        "max_batch": 4096,
        "max_skew_seconds": 300,
        "max_audit_size": 2**32,
    },
    "identity": {
        "max_intermediates": 2,
        "max_leaf_days": 825,
        "max_common_name_chars": 64,
        "max_identity_chars": 512,
        "max_csr_bytes": 64 * KIB,
        "max_authority_name_chars": 48,
        "max_state_bytes": 64 * MIB,
        "max_trust_root_bytes": MIB,
        "max_trust_root_name_chars": 128,
    },
    "tuf": {"max_metadata_bytes": 512 * KIB},
    "model": {
        "max_payload_bytes": 4 * MIB,
        "max_resources": 16_384,
        "max_ignore_paths": 1024,
        "max_name_chars": 4096,
        "max_signature_bytes": 6 * MIB,
        "max_certificates": 8,
        "max_file_findings": 200,
        "max_workers": 32,
    },
    "model bundle": {
        "max_bundle_bytes": 6 * MIB,
        "max_payload_bytes": 4 * MIB,
        "max_certificates": 8,
        "max_certificate_bytes": 16 * KIB,
        "max_tlog_entries": 4,
        "max_depth": 16,
    },
    "media": {"max_chain_certificates": 8, "max_header_entries": 32, "max_timestamp_tokens": 4},
    "policy": {
        "max_identity_pattern_chars": 1024,
        "pattern_engine_max_memory": MIB,
        "max_identity_patterns": 4,
        "max_age_seconds": 100 * 366 * 86400,
        "max_any_of_members": 16,
        "max_depth": 4,
        "max_document_bytes": 64 * KIB,
    },
    "http": {
        "max_request_depth": 32,
        "max_validation_messages": 5,
        "max_cached_keys": 10_000,
        "max_tracked_keys": 100_000,
        "max_form_json_bytes": 16 * KIB,
        "max_home_settings_bytes": 64 * KIB,
        "max_listed_reviews": 50,
        "max_review_file_bytes": 2 * MIB,
        "max_batch_identity_patterns": 8,
        "max_inline_verify_bytes": 64 * KIB,
        "max_inline_parse_bytes": 64 * KIB,
    },
    "cli": {
        "max_input_file_bytes": 16 * MIB,
        "max_bundle_file_bytes": MIB,
        "max_sidecar_bytes": 16 * MIB,
        "max_unsigned_lines_shown": 20,
        "max_service_answer_bytes": MIB,
        "max_api_key_file_bytes": 4 * KIB,
        "max_fetch_bytes": 256 * 0x10001,
    },
}
ALLOWED_CONSTANTS = {
    "provenance/keys.py": {"P256_MAX_DER_SIGNATURE_BYTES"},  # the DER size of P-256, a fact
}


@pytest.mark.parametrize("concern", sorted(LIMITS))
def test_each_concern_has_one_frozen_limits_object_with_the_stated_caps(concern: str) -> None:
    limits = LIMITS[concern]
    assert dataclasses.asdict(limits) == EXPECTED[concern]
    field = dataclasses.fields(limits)[0].name
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(limits, field, 1)


def test_no_module_level_max_constants_remain() -> None:
    pattern = re.compile(r"^_?[A-Z0-9_]*MAX_[A-Z0-9_]* =", re.M)
    found = {}
    for package in ("provenance", "verifier_api", "cli"):
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            names = {m.group(0).rstrip(" =") for m in pattern.finditer(path.read_text())}
            names -= ALLOWED_CONSTANTS.get(relative, set())
            if names:
                found[relative] = sorted(names)
    assert found == {}
