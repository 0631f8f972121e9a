"""The OMS v1.0 schemas and format vectors (../shared/vectors/oms): valid bundles parse, invalid
ones are refused with the expected code, and what `prov model sign` writes passes the schemas."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from referencing import Registry, Resource

from provenance.errors import BundleFormatError
from provenance.model import parse_statement, read_model_bundle
from tests.model_support import AUTHOR, make_model, sign_model
from tests.shared import shared_dir

VECTORS = ("test-vectors", "v1.0")


def _vector(kind: str, name: str) -> bytes:
    return (shared_dir("vectors", "oms", *VECTORS, kind) / name).read_bytes()


def _schema_validator(name: str) -> jsonschema.protocols.Validator:
    schemas = shared_dir("vectors", "oms", "schemas", "v1.0")
    documents = [json.loads(p.read_text()) for p in sorted(schemas.glob("*.schema.json"))]
    registry: Registry[Any] = Registry().with_resources(
        (doc["$id"], Resource.from_contents(doc)) for doc in documents
    )
    schema = next(doc for doc in documents if doc["title"] == name)
    validator_class = jsonschema.validators.validator_for(schema)
    return validator_class(schema, registry=registry)


def _bundle_and_statement(data: bytes) -> tuple[Any, Any]:
    bundle = json.loads(data)
    return bundle, json.loads(base64.b64decode(bundle["dsseEnvelope"]["payload"]))


@pytest.mark.parametrize("name", ["key.bundle.json", "certificate.bundle.json"])
def test_valid_key_and_certificate_vectors_parse(name: str) -> None:
    bundle = read_model_bundle(_vector("valid", name))
    statement = parse_statement(bundle.envelope.payload)
    assert statement.model_name == "model"
    assert [r.name for r in statement.resources] == ["signme-1", "signme-2"]
    assert statement.serialization.method == "files"
    assert (bundle.key_hint is None) == (name == "certificate.bundle.json")


def test_valid_sigstore_vector_is_refused_as_unsupported_method() -> None:
    with pytest.raises(BundleFormatError) as caught:
        read_model_bundle(_vector("valid", "sigstore.bundle.json"))
    assert caught.value.code == "bundle.unsupported"
    assert "sigstore signing method" in caught.value.message


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("empty.bundle.json", "bundle.malformed"),
        ("missing-envelope.bundle.json", "bundle.malformed"),
        ("missing-tlog-entries.bundle.json", "bundle.malformed"),
        ("missing-verification-material.bundle.json", "bundle.malformed"),
    ],
)
def test_invalid_vectors_are_refused(name: str, code: str) -> None:
    with pytest.raises(BundleFormatError) as caught:
        read_model_bundle(_vector("invalid", name))
    assert caught.value.code == code


def test_invalid_payload_vector_with_another_predicate_is_unsupported() -> None:
    bundle = read_model_bundle(_vector("invalid-payload", "wrong-predicate.bundle.json"))
    with pytest.raises(BundleFormatError) as caught:
        parse_statement(bundle.envelope.payload)
    assert caught.value.code == "statement.unsupported"


@pytest.mark.parametrize(
    "name", ["key.bundle.json", "certificate.bundle.json", "sigstore.bundle.json"]
)
def test_valid_vectors_pass_the_schemas_we_check_our_output_with(name: str) -> None:
    bundle, statement = _bundle_and_statement(_vector("valid", name))
    _schema_validator("OMS Bundle").validate(bundle)
    _schema_validator("OMS in-toto Statement").validate(statement)


@pytest.mark.parametrize(
    "name",
    ["missing-envelope.bundle.json", "missing-tlog-entries.bundle.json"],
)
def test_invalid_vectors_fail_the_schemas(name: str) -> None:
    with pytest.raises(jsonschema.ValidationError):
        _schema_validator("OMS Bundle").validate(json.loads(_vector("invalid", name)))


@pytest.mark.parametrize(
    ("method", "shard_size", "certified"),
    [("files", None, False), ("files", None, True), ("shards", 1000, False)],
)
def test_what_we_sign_passes_the_oms_schemas(
    tmp_path: Path, method: str, shard_size: int | None, certified: bool
) -> None:
    root = make_model(tmp_path / "m")
    if certified:
        data = sign_model(root, AUTHOR.key, AUTHOR.chain, shard_size=shard_size)
    else:
        data = sign_model(root, shard_size=shard_size)
    bundle, statement = _bundle_and_statement(data)
    _schema_validator("OMS Bundle").validate(bundle)
    _schema_validator("OMS in-toto Statement").validate(statement)
    assert statement["predicate"]["serialization"]["method"] == method
    assert bundle["dsseEnvelope"]["signatures"][0]["keyid"] == ""
