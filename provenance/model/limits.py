"""The caps of model signing (OMS v1.0): the statement, the signature file and verification."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelLimits:
    """The caps of model signing.

    The statement and signature caps are sized by the largest model a signature covers
    (model-v1 §8): ``max_resources`` files or shards whose names average at most 128 characters
    fit ``max_payload_bytes``; its base64, eight 16 KiB certificates and the JSON around them fit
    ``max_signature_bytes``, which is refused before the file is parsed (attacker review F8).

    Attributes:
        max_payload_bytes: The OMS statement's JSON.
        max_resources: Files and shards a statement names.
        max_ignore_paths: Ignored paths a statement lists.
        max_name_chars: A resource name (a relative path).
        max_signature_bytes: The signature file (a Sigstore bundle v0.3).
        max_certificates: Certificates in its chain (each capped as in a bundle,
            :class:`~provenance.bundle.BundleLimits`).
        max_file_findings: Per-file findings reported before they are summarized.
        max_workers: Hashing threads.
    """

    max_payload_bytes: int = 4 * 1024 * 1024
    max_resources: int = 16_384
    max_ignore_paths: int = 1024
    max_name_chars: int = 4096
    max_signature_bytes: int = 6 * 1024 * 1024
    max_certificates: int = 8
    max_file_findings: int = 200
    max_workers: int = 32


MODEL_SIZE_LIMITS = ModelLimits()
