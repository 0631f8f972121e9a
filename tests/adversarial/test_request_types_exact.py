"""Attacker review (attack_parse), lax request types: the request models validated the strictly
parsed body in pydantic's lax mode, so a value of the wrong JSON type was converted, not refused:
``"claims": {"n": 1.0}`` was signed as ``true`` (``0.0`` as ``false``, ``2.0`` as ``2``),
``"days": true`` issued a 1-day certificate, ``"90"`` and ``90.0`` 90 days, and an
``invalidityDate`` of ``1700000000`` (or ``"1700000000"``) was read as Unix seconds. Each field now
takes its JSON type only (422 ``request.invalid``, "expected X, found Y"); a date is an RFC 3339
string with its offset.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest

from tests.integration.api.conftest import Api, open_api
from tests.integration.api.support import make_home, sign_body
from verifier_api.schemas import RevocationRequest

JSON = {"Content-Type": "application/json"}


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    home = make_home(tmp_path_factory.mktemp("publisher") / "home")
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'provenance.db'}"
    yield from open_api(home, url, rate_limit_per_minute=100_000)


def _refusal(response: object) -> tuple[int, str, str]:
    body = response.json()  # type: ignore[attr-defined]
    return response.status_code, body["error"]["code"], body["error"]["message"]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("literal", "found"),
    [
        ("1.0", "a number"),
        ("0.0", "a number"),
        ("2.0", "a number"),
        ("1e0", "a number"),
        ("null", "null"),
        ("[]", "an array"),
        ("{}", "an object"),
    ],
)
def test_a_claim_value_not_a_string_boolean_or_integer_is_refused_not_signed(
    api: Api, literal: str, found: str
) -> None:
    body = json.dumps(sign_body(claims={})).replace('"claims": {}', f'"claims": {{"n": {literal}}}')
    headers = api.keys.header("sign") | JSON
    response = api.client.post("/v1/sign", content=body.encode(), headers=headers)
    status, code, message = _refusal(response)
    assert (status, code) == (422, "request.invalid"), message
    assert f"expected a string, boolean or integer, found {found}" in message


@pytest.mark.parametrize("value", ["x", True, False, 0, 7, -(2**53 - 1)])
def test_a_claim_value_of_its_own_type_is_signed_as_sent(api: Api, value: object) -> None:
    headers = api.keys.header("sign") | JSON
    response = api.client.post("/v1/sign", json=sign_body(claims={"n": value}), headers=headers)
    assert response.status_code == 200, response.text[:300]


@pytest.mark.parametrize(
    ("days", "found"), [("90", "a string"), (90.0, "a number"), (True, "a boolean")]
)
def test_certificate_days_not_an_integer_are_refused(api: Api, days: object, found: str) -> None:
    body = {"csr": "x", "identity": "https://a.example", "days": days}
    response = api.client.post("/v1/certificates", json=body, headers=api.keys.header("admin"))
    status, code, message = _refusal(response)
    assert (status, code) == (422, "request.invalid"), message
    assert f"days: Value error, expected an integer, found {found}" in message


@pytest.mark.parametrize(
    ("date", "found"),
    [(1700000000, "an integer"), (1.7e9, "a number"), (True, "a boolean")],
)
def test_an_invalidity_date_that_is_a_number_is_refused(api: Api, date: object, found: str) -> None:
    body = {"serialNumber": "01", "invalidityDate": date}
    response = api.client.post("/v1/revocations", json=body, headers=api.keys.header("admin"))
    status, code, message = _refusal(response)
    assert (status, code) == (422, "request.invalid"), message
    assert f"expected an RFC 3339 date-time string, found {found}" in message


@pytest.mark.parametrize(
    "date",
    ["1700000000", "2026-06-01", "2026-06-01T12:00:00", "2026-6-1T12:00:00Z", "20260601T120000Z"],
)
def test_an_invalidity_date_not_rfc_3339_with_an_offset_is_refused(api: Api, date: str) -> None:
    body = {"serialNumber": "01", "invalidityDate": date}
    response = api.client.post("/v1/revocations", json=body, headers=api.keys.header("admin"))
    status, code, message = _refusal(response)
    assert (status, code) == (422, "request.invalid"), message
    assert "invalidityDate" in message and "RFC 3339" in message


@pytest.mark.parametrize(
    ("text", "moment"),
    [
        ("2026-06-01T12:00:00Z", datetime(2026, 6, 1, 12, tzinfo=UTC)),
        ("2026-06-01t12:00:00z", datetime(2026, 6, 1, 12, tzinfo=UTC)),
        ("2026-06-01T12:00:00.5+00:00", datetime(2026, 6, 1, 12, 0, 0, 500000, tzinfo=UTC)),
        (
            "2026-06-01T14:00:00+02:00",
            datetime(2026, 6, 1, 14, tzinfo=timezone(timedelta(hours=2))),
        ),
    ],
)
def test_an_rfc_3339_invalidity_date_is_read(text: str, moment: datetime) -> None:
    request = RevocationRequest.model_validate({"serialNumber": "01", "invalidityDate": text})
    assert request.invalidity_date == moment


@pytest.mark.parametrize(("field", "value"), [("content", 5), ("contentBase64", ["aGk="])])
def test_sign_text_fields_of_another_type_are_refused(api: Api, field: str, value: object) -> None:
    body = sign_body()
    del body["content"]
    body[field] = value
    response = api.client.post("/v1/sign", json=body, headers=api.keys.header("sign") | JSON)
    status, code, message = _refusal(response)
    assert (status, code) == (422, "request.invalid"), message
    assert f"body.{field}" in message
