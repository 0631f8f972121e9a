"""The JSON shapes of the API (camelCase on the wire, unknown fields refused)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    StrictBool,
    StrictInt,
    StrictStr,
    StringConstraints,
    model_validator,
)
from pydantic.alias_generators import to_camel

from provenance import (
    CONTENT_TYPE,
    JSON_LIMITS,
    STATEMENT_LIMITS,
    StrictDecodeError,
    b64decode_strict,
    has_lone_surrogate,
)


def _unicode_text(value: str) -> str:
    """Refuse a string holding a lone surrogate (``"\\ud800"``): it has no UTF-8 form."""
    if has_lone_surrogate(value):
        raise ValueError("a lone surrogate is not Unicode text")
    return value


_JSON_KINDS = {
    str: "a string",
    bool: "a boolean",
    int: "an integer",
    float: "a number",
    type(None): "null",
    list: "an array",
    dict: "an object",
}
_RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:[Zz]|[+-]\d{2}:\d{2})", re.ASCII
)


def json_kind(value: object) -> str:
    """The JSON kind of a decoded value, for "expected X, found Y"."""
    return _JSON_KINDS.get(type(value), type(value).__name__)


def _only(*kinds: type, expected: str) -> BeforeValidator:
    """Refuse a value whose type is not exactly one of ``kinds`` (no lax conversion: ``1.0`` is
    not ``true``, ``"90"`` not ``90``), saying what was expected and what was found."""

    def check(value: object) -> object:
        if type(value) not in kinds:
            raise ValueError(f"expected {expected}, found {json_kind(value)}")
        return value

    return BeforeValidator(check)


def _rfc3339(value: object) -> object:
    """An RFC 3339 date-time string with its offset (``2026-06-01T12:00:00Z``), as a datetime."""
    if type(value) is not str:
        raise ValueError(f"expected an RFC 3339 date-time string, found {json_kind(value)}")
    if not _RFC3339.fullmatch(value):
        raise ValueError("expected an RFC 3339 date-time with an offset like 2026-06-01T12:00:00Z")
    try:
        return datetime.fromisoformat(value.upper())
    except ValueError as exc:
        raise ValueError(f"expected an RFC 3339 date-time: {exc}") from exc


Text = Annotated[StrictStr, AfterValidator(_unicode_text)]
"""A request string that can be encoded as UTF-8 (signed, stored, or quoted in an answer)."""
ExactInt = Annotated[
    StrictInt, Field(ge=-JSON_LIMITS.max_exact_integer, le=JSON_LIMITS.max_exact_integer)
]
ClaimValue = Annotated[
    Text | StrictBool | ExactInt,
    _only(str, bool, int, expected="a string, boolean or integer"),
]
"""A claim's value: a JSON string, boolean or integer as sent (never converted from another)."""
RfcDateTime = Annotated[datetime, BeforeValidator(_rfc3339)]
"""A date-time sent as an RFC 3339 string with its offset (never a number of seconds)."""
ContentType = Annotated[StrictStr, StringConstraints(pattern=CONTENT_TYPE.pattern, max_length=255)]
RevocationReason = Literal[
    "unspecified",
    "keyCompromise",
    "cACompromise",
    "affiliationChanged",
    "superseded",
    "cessationOfOperation",
    "certificateHold",
    "privilegeWithdrawn",
    "aACompromise",
]


class ApiModel(BaseModel):
    """Base of every request and response model: camelCase aliases, unknown fields refused."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True
    )


class ContentInput(ApiModel):
    """Content as UTF-8 text (``content``) or base64 bytes (``contentBase64``): exactly one."""

    content: Text | None = Field(default=None, description="The content as UTF-8 text.")
    content_base64: StrictStr | None = Field(
        default=None, description="The content's bytes, standard padded base64."
    )
    _decoded: bytes | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _exactly_one_content(self) -> ContentInput:
        if (self.content is None) == (self.content_base64 is None):
            raise ValueError("give exactly one of content or contentBase64")
        if self.content_base64 is not None:
            try:
                self._decoded = b64decode_strict(self.content_base64)
            except StrictDecodeError as exc:
                raise ValueError(f"contentBase64: {exc}") from exc
        return self

    def content_bytes(self) -> bytes:
        """The content's bytes (base64 decoded once, when the model was validated)."""
        if self.content is not None:
            return self.content.encode("utf-8")
        assert self._decoded is not None
        return self._decoded


class VerifyRequest(ContentInput):
    """``POST /v1/verify``: content, its bundle, and an optional policy."""

    bundle: dict[str, Any] = Field(description="The bundle (JSON object).")
    policy: dict[str, Any] | None = Field(
        default=None,
        description="identity | identityRegex, issuer, requiredClaims, maxAgeSeconds, "
        "unsafeAnyIdentity (see specs/api-v1.md); default: any signer this publisher's "
        "authority certified, against this publisher's trust root only (the answer warns "
        "that no identity was required).",
    )


class LogSubmitRequest(ApiModel):
    """``POST /v1/log/entries``: a bundle an author signed with a certificate of this publisher."""

    bundle: dict[str, Any] = Field(description="The bundle (JSON object), without a log entry.")


class LogSubmitResponse(ApiModel):
    """The bundle with its entry in this log (inclusion proof up to a signed checkpoint)."""

    bundle: dict[str, Any]
    log_index: int


class VerifyBatchRequest(ApiModel):
    """``POST /v1/verify/batch``: up to the configured number of items."""

    items: list[Any] = Field(
        min_length=1,
        max_length=1000,
        description="Each a VerifyRequest. An item that is not a valid one, or whose policy is"
        " malformed, gets in its place the error a lone /v1/verify would get; the others are"
        " verified.",
    )


class Finding(ApiModel):
    """One verification step's outcome."""

    step: str
    code: str
    ok: bool
    message: str


class VerifyResponse(BaseModel):
    """The VerificationResult as JSON (see specs/verification.md)."""

    model_config = ConfigDict(extra="allow")

    verified: bool
    findings: list[Finding]
    signer: dict[str, Any] | None = None
    claims: dict[str, Any]


class ItemError(ApiModel):
    """Why one batch item was refused: the error a lone ``/v1/verify`` would get (422)."""

    code: str
    message: str


class RefusedItem(ApiModel):
    """A batch item that was not verified because it is not a valid request."""

    verified: Literal[False]
    error: ItemError


class VerifyBatchResponse(ApiModel):
    """Results in the order of the items: a verification result, or a refused item."""

    results: list[VerifyResponse | RefusedItem]


class AuthorInput(ApiModel):
    """The author as the publisher knows them."""

    account_id: Annotated[StrictStr, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
    display_name: Annotated[
        Text, StringConstraints(min_length=1, max_length=STATEMENT_LIMITS.max_text_chars)
    ]


class SignRequest(ContentInput):
    """``POST /v1/sign``: content, its type, the author, the attested claims."""

    content_type: ContentType = Field(examples=["text/plain; charset=utf-8"])
    author: AuthorInput
    claims: dict[Text, ClaimValue] = Field(default_factory=dict, max_length=64)


class SignResponse(ApiModel):
    """The logged bundle and what to refer to it by."""

    bundle: dict[str, Any]
    log_index: int
    content_sha256: str
    canonicalization: str
    author_id: str


class CertificateRequest(ApiModel):
    """``POST /v1/certificates``: a CSR and the identity the publisher asserts."""

    csr: Annotated[Text, StringConstraints(min_length=1, max_length=64 * 1024)] = Field(
        description="PEM PKCS#10 request; only its key is used."
    )
    identity: Annotated[Text, StringConstraints(min_length=1, max_length=512)]
    days: Annotated[StrictInt, _only(int, expected="an integer")] = Field(default=90, ge=1, le=825)


class CertificateResponse(ApiModel):
    """The issued chain, leaf first, as PEM."""

    certificate_chain: list[str]
    serial_number: str


class RevocationRequest(ApiModel):
    """``POST /v1/revocations``: which certificate (serial or PEM), why, since when."""

    serial_number: (
        Annotated[StrictStr, StringConstraints(pattern=r"^[0-9a-fA-F]{1,40}$")] | None
    ) = None
    certificate: Annotated[Text, StringConstraints(max_length=64 * 1024)] | None = None
    reason: RevocationReason = "unspecified"
    invalidity_date: RfcDateTime | None = None

    @model_validator(mode="after")
    def _exactly_one_certificate(self) -> RevocationRequest:
        if (self.serial_number is None) == (self.certificate is None):
            raise ValueError("give exactly one of serialNumber or certificate")
        if self.invalidity_date is not None and self.invalidity_date.tzinfo is None:
            raise ValueError("invalidityDate needs a time zone (e.g. Z)")
        return self


class RevocationResponse(ApiModel):
    """The recorded revocation and the CRL that now lists it."""

    serial_number: str
    revoked_at: datetime
    reason: str
    invalidity_date: datetime | None
    crl_number: int


class LogEntryResponse(ApiModel):
    """A leaf of the log."""

    index: int
    leaf_hash: str
    entry: dict[str, Any]


class InclusionProofResponse(ApiModel):
    """An inclusion proof up to a signed checkpoint."""

    log_index: int
    tree_size: int
    root_hash: str
    hashes: list[str]
    checkpoint: str


class ConsistencyProofResponse(ApiModel):
    """A consistency proof between two tree sizes, with the checkpoint of the larger."""

    first: int
    second: int
    hashes: list[str]
    checkpoint: str


class ErrorBody(ApiModel):
    """An error's code and message."""

    code: str
    message: str


class ErrorResponse(ApiModel):
    """Every error answer: ``{"error": {"code", "message"}}``."""

    error: ErrorBody
