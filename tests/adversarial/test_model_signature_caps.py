"""Attacker review 2026-12-03, F8: ``prov model verify`` parsed a model.sig of up to 96 MiB before
any check (a file planted in a downloaded model repository: 9 s of CPU and 730 MiB). The caps of
model-v1 §8 are now sized by a stated largest model: 16,384 files (resources) whose names average
at most 128 characters fit a 4 MiB statement and a 6 MiB signature file.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cli.main import app
from provenance.encoding import loads_strict
from provenance.errors import BundleFormatError
from provenance.keys import KeyType, generate_key, write_public_key
from provenance.model import ModelSigner, Serialization, default_ignores
from provenance.model import container as container_module
from provenance.model.container import read_model_bundle
from provenance.model.limits import MODEL_SIZE_LIMITS
from provenance.model.serialize import Manifest, Resource
from provenance.model.statement import parse_statement

LARGEST_AVERAGE_NAME = 128
MAX_RESOURCES = MODEL_SIZE_LIMITS.max_resources
MAX_PAYLOAD_BYTES = MODEL_SIZE_LIMITS.max_payload_bytes
MAX_SIGNATURE_BYTES = MODEL_SIZE_LIMITS.max_signature_bytes


def _junk_signature(size: int) -> bytes:
    """Strict JSON of exactly ``size`` bytes with an OMS media type (the PoC's file)."""
    head = b'{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","x":['
    tail = b"0]}"
    count = (size - len(head) - len(tail)) // 2
    body = head + b"0," * count + tail
    return body + b" " * (size - len(body))


def _manifest(files: int, name_chars: int = LARGEST_AVERAGE_NAME) -> Manifest:
    resources = tuple(
        Resource(f"{number:0{name_chars}d}", hashlib.sha256(b"%d" % number).digest())
        for number in range(files)
    )
    return Manifest("model", resources, Serialization(ignore_paths=default_ignores()))


def _count_parses(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Records the size of every signature file model/container.py hands to the JSON parser."""
    parsed: list[int] = []
    original = loads_strict

    def counted(data: bytes, *args: Any, **kwargs: Any) -> Any:
        parsed.append(len(data))
        return original(data, *args, **kwargs)

    monkeypatch.setattr(container_module, "loads_strict", counted)
    return parsed


def test_the_caps_are_a_few_mib() -> None:
    assert (MAX_RESOURCES, MAX_PAYLOAD_BYTES, MAX_SIGNATURE_BYTES) == (16_384, 4 << 20, 6 << 20)


def test_a_model_signature_over_the_cap_is_too_large_before_it_is_parsed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    parsed = _count_parses(monkeypatch)
    with pytest.raises(BundleFormatError) as caught:
        read_model_bundle(_junk_signature(MAX_SIGNATURE_BYTES + 1))
    assert caught.value.code == "bundle.too_large"
    assert parsed == []


def test_prov_model_verify_refuses_a_planted_7_mib_model_sig_without_parsing_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parsed = _count_parses(monkeypatch)
    model = tmp_path / "model"
    model.mkdir()
    (model / "w.bin").write_bytes(b"x")
    (model / "model.sig").write_bytes(_junk_signature(7 << 20))
    write_public_key(tmp_path / "key.pem", generate_key(KeyType.P256).public_key)
    result = CliRunner().invoke(
        app, ["model", "verify", str(model), "--key", str(tmp_path / "key.pem")]
    )
    assert result.exit_code == 3, result.output
    assert parsed == []


def test_signing_a_model_of_more_files_than_the_cap_is_refused() -> None:
    signer = ModelSigner(generate_key(KeyType.P256))
    with pytest.raises(BundleFormatError) as caught:
        signer.sign(_manifest(MAX_RESOURCES + 1, name_chars=8))
    assert caught.value.code == "bundle.too_large"
    assert str(MAX_RESOURCES) in str(caught.value)


def test_signing_a_statement_over_the_payload_cap_is_refused() -> None:
    signer = ModelSigner(generate_key(KeyType.P256))
    with pytest.raises(BundleFormatError) as caught:
        signer.sign(_manifest(1024, name_chars=4096))
    assert caught.value.code == "bundle.too_large"


def test_the_signature_of_the_largest_stated_model_fits_the_caps() -> None:
    """16,384 files with 128-character names, signed: the file stays under the signature cap
    and reads back with every resource."""
    bundle = ModelSigner(generate_key(KeyType.P256)).sign(_manifest(MAX_RESOURCES))
    data = bundle.to_bytes()
    assert len(data) <= MAX_SIGNATURE_BYTES
    statement = parse_statement(read_model_bundle(data).envelope.payload)
    assert len(statement.resources) == MAX_RESOURCES
