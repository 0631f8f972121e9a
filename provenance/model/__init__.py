"""Model provenance: OpenSSF Model Signing (OMS v1.0) bundles (specs/model-v1.md)."""

from __future__ import annotations

from provenance.model.container import ModelBundle, read_model_bundle
from provenance.model.serialize import (
    DEFAULT_SHARD_SIZE,
    Manifest,
    ModelPathError,
    Serialization,
    default_ignores,
    serialize_model,
)
from provenance.model.signing import ModelSigner
from provenance.model.statement import ModelStatement, parse_statement
from provenance.model.verify import FileReport, ModelVerification, ModelVerifier

__all__ = [
    "DEFAULT_SHARD_SIZE",
    "FileReport",
    "Manifest",
    "ModelBundle",
    "ModelPathError",
    "ModelSigner",
    "ModelStatement",
    "ModelVerification",
    "ModelVerifier",
    "Serialization",
    "default_ignores",
    "parse_statement",
    "read_model_bundle",
    "serialize_model",
]
