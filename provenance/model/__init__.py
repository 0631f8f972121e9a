"""Model provenance: OpenSSF Model Signing (OMS v1.0) bundles (specs/model-v1.md)."""

from __future__ import annotations

from provenance.model.container import ModelBundle, read_model_bundle
from provenance.model.limits import MODEL_SIZE_LIMITS, ModelLimits
from provenance.model.serialize import (
    DEFAULT_SHARD_SIZE,
    Manifest,
    ModelPathError,
    Serialization,
    check_relative,
    default_ignores,
    list_model,
    serialize_model,
    total_bytes,
)
from provenance.model.signing import ModelSigner
from provenance.model.statement import ModelStatement, parse_statement
from provenance.model.verify import FileReport, ModelVerification, ModelVerifier

__all__ = [
    "DEFAULT_SHARD_SIZE",
    "MODEL_SIZE_LIMITS",
    "FileReport",
    "Manifest",
    "ModelBundle",
    "ModelLimits",
    "ModelPathError",
    "ModelSigner",
    "ModelStatement",
    "ModelVerification",
    "ModelVerifier",
    "Serialization",
    "check_relative",
    "default_ignores",
    "list_model",
    "parse_statement",
    "read_model_bundle",
    "serialize_model",
    "total_bytes",
]
