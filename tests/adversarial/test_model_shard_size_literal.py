"""A model statement's ``shard_size`` is an integer by the value of its literal, exactly (attacker
review of the strict parsing, 2026-12-03, finding 5): the parse once read ``2.9999999999999999``
as the float 3.0, found it integral and verified with shard size 3, where an exact (decimal)
JSON Schema validator refuses the statement. The reference's ``1000000000.0`` stays accepted."""

from __future__ import annotations

import pytest

from provenance.codes import Code
from provenance.encoding import loads_strict
from provenance.errors import BundleFormatError
from provenance.model import parse_statement, read_model_bundle
from provenance.model.statement import parse_serialization
from tests.model_support import make_model, sign_model

SIGNED = b'"shard_size":1000'


@pytest.fixture(scope="module")
def payload(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    model = make_model(tmp_path_factory.mktemp("model"))
    data: bytes = read_model_bundle(sign_model(model, shard_size=1000)).envelope.payload
    assert SIGNED in data
    return data


@pytest.mark.parametrize(
    ("literal", "shown"),
    [
        ("999.9999999999999999", "999.9999999999999999"),
        ("1000.00000000000001", "1000.00000000000001"),
        ("100000000000000000001e-17", "1000.00000000000000001"),
        ("1000.5", "1000.5"),
    ],
)
def test_a_shard_size_literal_that_is_not_an_integer_is_malformed(
    payload: bytes, literal: str, shown: str
) -> None:
    with pytest.raises(BundleFormatError) as raised:
        parse_statement(payload.replace(SIGNED, b'"shard_size":' + literal.encode()))
    assert raised.value.code == Code.STATEMENT_MALFORMED
    assert raised.value.message.endswith(
        f"serialization.shard_size must be an integer from 1 to 9007199254740991 for the "
        f"shards method, found {shown}"
    )


@pytest.mark.parametrize("literal", ["1000.0", "1e3", "1.000E+3", "10000e-1", "1000.000000000"])
def test_a_shard_size_literal_with_a_fraction_or_exponent_denoting_an_integer_is_read(
    payload: bytes, literal: str
) -> None:
    edited = payload.replace(SIGNED, b'"shard_size":' + literal.encode())
    assert parse_statement(edited).serialization.shard_size == 1000


@pytest.mark.parametrize("literal", [b"2.9999999999999999", b"1000000000.0"])
def test_a_float_shard_size_without_its_literal_is_refused(literal: bytes) -> None:
    text = b'{"method":"shards","hash_type":"sha256","allow_symlinks":false,"shard_size":' + literal
    with pytest.raises(BundleFormatError) as raised:
        parse_serialization(loads_strict(text + b"}", max_bytes=4096))
    assert raised.value.code == Code.STATEMENT_MALFORMED
