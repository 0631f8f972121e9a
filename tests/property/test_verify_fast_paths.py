"""The verify path's fast paths (issue 14) agree with the general code they replace: the in-place
reading of DER signatures, the memo of certificate DER, the time text, the trailing-space and
control-character scans, the signer binding and the revocation plan."""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from cryptography.hazmat.primitives.serialization import Encoding
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from provenance.errors import AuthorityError, CertificateError, LogProofError, SignatureInvalidError
from provenance.identity import chain as chain_module
from provenance.identity import profile, revocation
from provenance.identity.authority import (
    CertificateAuthority,
    authority_key_identifier,
    create_authority,
)
from provenance.identity.chain import ValidatedChain, validate_chain
from provenance.identity.crl import build_crl, revoke
from provenance.identity.names import check_identity_text
from provenance.identity.profile import IDENTITY_LIMITS
from provenance.identity.revocation import RevocationReport, check_revocation
from provenance.identity.trust import TrustRoot, export_trust_root
from provenance.keys import (
    P256_HALF_ORDER,
    P256_MAX_DER_SIGNATURE_BYTES,
    P256_ORDER,
    KeyType,
    _strict_der_values,
    ecdsa_der_values,
    generate_key,
    is_ecdsa_der,
    low_s,
    low_s_der,
    normalized_signature,
)
from provenance.statement import format_time
from provenance.text import _trailing_ascii_space
from provenance.tlog import note
from provenance.tlog.entry import signer_binding
from provenance.verify.result import Finding
from provenance.verify.verifier import _signer_binding, time_text
from tests.factories import IDENTITY, NOW, certified_author, make_authority

SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --- DER signatures ---------------------------------------------------------------------------


def _reference_values(signature: bytes) -> tuple[int, int] | None:
    """The general reading: pyca/cryptography parses it and writes exactly it back."""
    if len(signature) > P256_MAX_DER_SIGNATURE_BYTES:
        return None
    try:
        r, s = decode_dss_signature(signature)
    except ValueError:
        return None
    return (r, s) if encode_dss_signature(r, s) == signature else None


def _integer(value: bytes) -> bytes:
    return b"\x02" + bytes([len(value)]) + value


@st.composite
def _near_der(draw: st.DrawFn) -> bytes:
    """DER signatures and small edits of them: lengths, tags, padding, trailing bytes."""
    r = draw(st.integers(0, 2**264))
    s = draw(st.integers(0, 2**264))
    der = bytearray(encode_dss_signature(r, s))
    edit = draw(st.sampled_from(["none", "byte", "cut", "append", "pad", "negative", "integers"]))
    if edit == "byte" and der:
        position = draw(st.integers(0, len(der) - 1))
        der[position] = draw(st.integers(0, 255))
    elif edit == "cut":
        del der[draw(st.integers(0, len(der))) :]
    elif edit == "append":
        der += draw(st.binary(min_size=1, max_size=3))
    elif edit == "pad":  # a non-minimal INTEGER: a leading zero before a small first byte
        r_bytes = b"\x00" + r.to_bytes(max(1, (r.bit_length() + 7) // 8), "big")
        s_bytes = s.to_bytes(max(1, (s.bit_length() + 7) // 8), "big")
        body = _integer(r_bytes) + _integer(s_bytes)
        der = bytearray(b"\x30" + bytes([len(body)]) + body)
    elif edit == "negative":  # a first byte with its high bit set: a negative INTEGER
        body = _integer(b"\x80" + bytes(31)) + _integer(b"\x01")
        der = bytearray(b"\x30" + bytes([len(body)]) + body)
    elif edit == "integers":  # two INTEGERs of any content, maybe empty or long-form
        first, second = draw(st.binary(max_size=34)), draw(st.binary(max_size=34))
        body = _integer(first) + _integer(second)
        der = bytearray(b"\x30" + bytes([len(body)]) + body)
    return bytes(der)


@SETTINGS
@given(st.one_of(_near_der(), st.binary(max_size=80)))
def test_signatures_read_in_place_as_a_parse_and_re_encode_reads_them(signature: bytes) -> None:
    expected = _reference_values(signature)
    if len(signature) <= P256_MAX_DER_SIGNATURE_BYTES:
        assert _strict_der_values(signature) == expected
    assert is_ecdsa_der(signature) == (expected is not None)
    if expected is None:
        with pytest.raises(SignatureInvalidError):
            ecdsa_der_values(signature)
        assert normalized_signature(signature) == signature
        return
    assert ecdsa_der_values(signature) == expected
    r, s = expected
    if 0 < s < P256_ORDER:
        low = encode_dss_signature(r, low_s(s))
        assert low_s_der(signature) == low == normalized_signature(signature)
        assert (low == signature) == (s <= P256_HALF_ORDER)


def test_real_signatures_and_their_high_s_twins_read_alike() -> None:
    key = generate_key(KeyType.P256)
    for number in range(50):
        signature = key.sign(b"message %d" % number)
        r, s = decode_dss_signature(signature)
        twin = encode_dss_signature(r, P256_ORDER - s)
        assert ecdsa_der_values(signature) == (r, s)
        assert ecdsa_der_values(twin) == (r, P256_ORDER - s)
        assert low_s_der(twin) == signature == low_s_der(signature)
        key.public_key.verify(twin, b"message %d" % number)


# --- certificates: the DER memo, the signer binding ------------------------------------------


def test_the_der_memo_gives_each_certificate_its_own_der() -> None:
    authority = make_authority()
    chains = [certified_author(authority).chain for _ in range(5)]
    for chain in chains:
        for certificate in chain:
            assert profile.certificate_der(certificate) == certificate.public_bytes(Encoding.DER)
    reparsed = x509.load_der_x509_certificate(chains[0][0].public_bytes(Encoding.DER))
    assert profile.certificate_der(reparsed) == profile.certificate_der(chains[0][0])
    assert profile.certificate_ders(chains[1]) == tuple(
        certificate.public_bytes(Encoding.DER) for certificate in chains[1]
    )


def test_the_der_memo_forgets_old_objects_and_never_answers_for_another() -> None:
    authority = make_authority()
    memo = profile._DerMemo(2)
    certificates = [certified_author(authority).chain[0] for _ in range(6)]
    for _ in range(3):
        for certificate in certificates:
            assert memo.der(certificate) == certificate.public_bytes(Encoding.DER)
            assert len(memo._items) <= 2
    for _ in range(50):  # objects die and their ids come back: a new object is read anew
        fresh = x509.load_der_x509_certificate(certificates[_ % 6].public_bytes(Encoding.DER))
        assert memo.der(fresh) == fresh.public_bytes(Encoding.DER)


def test_the_signer_binding_is_the_one_the_log_entry_module_makes() -> None:
    authority = make_authority()
    author = certified_author(authority)
    assert _signer_binding(author.chain, author.key.public_key) == signer_binding(
        author.chain, author.key.public_key
    )
    key = generate_key(KeyType.P256).public_key
    assert _signer_binding((), key) == signer_binding((), key)


# --- text -----------------------------------------------------------------------------------


_TRAILING = re.compile(rb"[\t\x0b\x0c ]\n")


@SETTINGS
@given(st.lists(st.sampled_from([b"a", b" ", b"\t", b"\x0b", b"\x0c", b"\n", b"\r"])).map(b"".join))
def test_the_trailing_space_scan_finds_what_the_regular_expression_finds(content: bytes) -> None:
    assert _trailing_ascii_space(content) == (_TRAILING.search(content) is not None)


def _reference_check_text(text: str) -> None:
    if not text.endswith("\n"):
        raise note._invalid("note text must end with a newline")
    for char in text:
        if (char < " " and char != "\n") or char == "\x7f":
            raise note._invalid(f"note holds the control character U+{ord(char):04X}")


def _note_outcome(check: Callable[[str], None], text: str) -> object:
    try:
        check(text)
    except LogProofError as exc:
        return (exc.code, exc.message)
    return "ok"


@SETTINGS
@given(
    st.text(st.one_of(st.characters(max_codepoint=0x80), st.sampled_from("—é\u2028"))).map(
        lambda text: text + "\n"
    )
    | st.text(max_size=8)
)
def test_note_text_is_refused_as_the_character_loop_refuses_it(text: str) -> None:
    assert _note_outcome(note._check_text, text) == _note_outcome(_reference_check_text, text)


def _reference_identity_check(text: str) -> None:
    """check_identity_text's checks one by one, for every text."""
    if not text or len(text) > IDENTITY_LIMITS.max_identity_chars:
        raise AuthorityError("length")
    if not unicodedata.is_normalized("NFC", text):
        raise AuthorityError(f"identity {text!r} is not NFC-normalized")
    for char in text:
        kind = {"Cc": "control", "Cf": "format"}.get(unicodedata.category(char))
        if kind:
            raise AuthorityError(f"identity {text!r} holds {kind} character U+{ord(char):04X}")
        if char.isspace():
            raise AuthorityError(f"identity {text!r} holds whitespace U+{ord(char):04X}")
    if not text.isascii():
        raise AuthorityError(
            f"identity {text!r} is not ASCII; use punycode hosts and percent-encoded paths"
        )


def _identity_outcome(check: Callable[[str], None], text: str) -> str:
    try:
        check(text)
    except AuthorityError as exc:
        return "length" if "characters, found" in str(exc) else str(exc)
    return "ok"


@SETTINGS
@given(
    st.text(st.characters(max_codepoint=0x7F), min_size=1, max_size=40)
    | st.lists(
        st.sampled_from(["a", "/", " ", "\t", "\x1c", "\x7f", "e\u0301", "\u200b", "é"]),
        max_size=12,
    ).map("".join)
)
def test_identity_text_is_judged_as_the_character_loop_judges_it(text: str) -> None:
    assert _identity_outcome(check_identity_text, text) == _identity_outcome(
        _reference_identity_check, text
    )


@SETTINGS
@given(
    st.text(st.characters(max_codepoint=0x7F), max_size=12)
    | st.text(st.sampled_from(list("ab+ \t\n\x0b\x0c\r\x1c\x1f\x85\xa0\u2028\u3000é")), max_size=6)
)
def test_key_names_are_judged_as_the_character_loop_judges_them(name: str) -> None:
    reference = bool(name) and "+" not in name and not any(note._is_white_space(c) for c in name)
    assert note.is_valid_key_name(name) == reference


# --- time text ------------------------------------------------------------------------------


@SETTINGS
@given(
    st.datetimes(
        min_value=datetime(2, 1, 1),
        max_value=datetime(9998, 12, 31),
        timezones=st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30))]),
    )
)
def test_time_text_is_format_time(moment: datetime) -> None:
    assert time_text(moment) == format_time(moment)
    assert time_text(moment.astimezone(UTC)) == format_time(moment)


# --- revocation: the plan against the step-by-step check ------------------------------------


def _reference_revocation(
    validated: ValidatedChain, trust: TrustRoot, signed_at: datetime, now: datetime
) -> RevocationReport:
    """check_revocation as it read every CRL on each call, before plans."""
    checked, stale, notices = [], [], []
    names = validated.issuer_subjects
    ders = tuple(certificate.public_bytes(Encoding.DER) for certificate in validated.chain)
    crl_ders = tuple(crl.public_bytes(Encoding.DER) for crl in trust.crls)
    for issuer_der, subject, name in zip(ders[1:], validated.chain, names, strict=False):
        crls = []
        for crl, crl_der in zip(trust.crls, crl_ders, strict=True):
            facts = revocation._crl_facts(crl_der, issuer_der)
            if facts.belongs:
                crls.append((crl, facts))
        for crl, facts in crls:
            if facts.unsigned is not None:
                raise revocation._invalid(facts.unsigned)
            if crl.last_update_utc > now:
                raise revocation._invalid(
                    f"{facts.who} is issued {crl.last_update_utc.isoformat()}, after the "
                    f"verification time {now.isoformat()}"
                )
            if facts.unusable is not None:
                raise revocation._invalid(facts.unusable)
            _reference_entry(crl, subject, signed_at)
        if crls:
            checked.append(name)
            newest = max(crls, key=lambda pair: pair[1].number)[0]
            notice = revocation._staleness(newest.next_update_utc, name, now)
            if notice is not None:
                stale.append(name)
                notices.append((revocation.CRL_STALE, notice))
    missing = () if names[0] in checked or not trust.crl_locations else (names[0],)
    if missing:
        notices.append(
            (revocation.CRL_MISSING, revocation._missing_message(names[0], trust.crl_locations))
        )
    unchecked = [name for name in names if name not in checked]
    return RevocationReport(tuple(checked), tuple(unchecked), tuple(stale), missing, tuple(notices))


def _reference_entry(
    crl: x509.CertificateRevocationList, certificate: x509.Certificate, signed_at: datetime
) -> None:
    entry = crl.get_revoked_certificate_by_serial_number(certificate.serial_number)
    if entry is None:
        return
    try:
        reason = revocation._reason(entry)
        invalid_from = revocation._invalidity_date(entry)
    except ValueError as exc:
        raise CertificateError(f"malformed CRL entry: {exc}", code=revocation.CRL_INVALID) from exc
    effective = entry.revocation_date_utc
    if reason is x509.ReasonFlags.key_compromise and invalid_from is not None:
        effective = min(effective, invalid_from)
    if signed_at >= effective:
        raise CertificateError(
            f"{profile.describe(certificate)} is revoked ({reason.value}) from "
            f"{effective.isoformat()}; the signature was made at {signed_at.isoformat()}",
            code=revocation.REVOKED,
        )


def _checked(
    check: Callable[[ValidatedChain, TrustRoot, datetime, datetime], RevocationReport],
    validated: ValidatedChain,
    trust: TrustRoot,
    signed_at: datetime,
    now: datetime,
) -> object:
    try:
        return check(validated, trust, signed_at, now)
    except CertificateError as exc:
        return (exc.code, exc.message)


def _library(
    validated: ValidatedChain, trust: TrustRoot, signed_at: datetime, now: datetime
) -> RevocationReport:
    return check_revocation(validated, trust, signing_time=signed_at, now=now)


CREATED = NOW - timedelta(days=60)


def _hand_crl(
    authority: CertificateAuthority,
    *,
    at: datetime,
    number: int | None = 7,
    signer: CertificateAuthority | None = None,
) -> x509.CertificateRevocationList:
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(authority.issuing_certificate.subject)
        .last_update(at)
        .next_update(at + timedelta(days=7))
        .add_extension(authority_key_identifier(authority.issuing_certificate), critical=False)
    )
    if number is not None:
        builder = builder.add_extension(x509.CRLNumber(number), critical=False)
    for entry in authority.state.revocations:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(entry.serial_number)
            .revocation_date(entry.revoked_at)
            .build()
        )
    key = (signer or authority).issuing_key.to_cryptography()
    return builder.sign(key, hashes.SHA256())


def _scenes() -> list[tuple[str, ValidatedChain, TrustRoot]]:
    """Chains and trust roots whose CRLs say every thing the revocation step can say."""
    authority = create_authority("Plan Reviews", now=CREATED).authority
    other = create_authority("Plan Reviews", now=CREATED).authority  # same names, other keys
    kept = certified_author(authority, IDENTITY, issued=NOW - timedelta(days=5))
    revoked = certified_author(authority, IDENTITY, issued=NOW - timedelta(days=5))
    compromised = certified_author(authority, IDENTITY, issued=NOW - timedelta(days=5))
    early = build_crl(authority, now=NOW - timedelta(days=4))
    revoke(authority, revoked.chain[0], reason=x509.ReasonFlags.superseded, now=NOW)
    revoke(
        authority,
        compromised.chain[0],
        reason=x509.ReasonFlags.key_compromise,
        now=NOW,
        invalidity_date=NOW - timedelta(days=2),
    )
    current = build_crl(authority, now=NOW - timedelta(hours=1))
    base = export_trust_root(authority, crl=None)
    trusts = {
        "none": base,
        "current": replace(base, crls=(current,)),
        "early and current": replace(base, crls=(early, current)),
        "locations": replace(base, crl_locations=("https://crl.example/issuing.crl",)),
        "locations and crl": replace(
            base, crls=(current,), crl_locations=("https://crl.example/issuing.crl",)
        ),
        "no number": replace(base, crls=(_hand_crl(authority, at=NOW, number=None),)),
        "forged": replace(base, crls=(_hand_crl(authority, at=NOW, signer=other),)),
        "future": replace(base, crls=(_hand_crl(authority, at=NOW + timedelta(days=3)),)),
        "of another": replace(base, crls=(build_crl(other, now=NOW),)),
    }
    scenes = []
    for who, author in (("kept", kept), ("revoked", revoked), ("compromised", compromised)):
        validated = validate_chain(author.chain, base, NOW)
        scenes += [(f"{who}, {name}", validated, trust) for name, trust in trusts.items()]
    return scenes


TIMES = [NOW - timedelta(days=3), NOW - timedelta(days=1), NOW, NOW + timedelta(days=1)]
NOWS = [NOW, NOW + timedelta(days=2), NOW + timedelta(days=30)]


def test_the_revocation_plan_answers_as_the_step_by_step_check_cold_and_warm() -> None:
    outcomes: set[str] = set()
    for name, validated, trust in _scenes():
        for signed_at in TIMES:
            for now in NOWS:
                expected = _checked(_reference_revocation, validated, trust, signed_at, now)
                revocation._PLANS.clear()
                cold = _checked(_library, validated, trust, signed_at, now)
                warm = _checked(_library, validated, trust, signed_at, now)
                assert cold == expected == warm, (name, signed_at, now)
                if isinstance(expected, RevocationReport):
                    outcomes.update(code for code, _ in expected.notices)
                    outcomes.add("report")
                else:
                    assert isinstance(expected, tuple)
                    outcomes.add(str(expected[0]))
    assert outcomes == {
        "report",
        "certificate.crl.stale",
        "certificate.crl.missing",
        "certificate.revoked",
        "certificate.crl.invalid",
    }


def test_a_plan_made_at_one_time_answers_for_every_other_time() -> None:
    for name, validated, trust in _scenes():
        revocation._PLANS.clear()
        for signed_at in TIMES:
            for now in NOWS:
                expected = _checked(_reference_revocation, validated, trust, signed_at, now)
                found = _checked(_library, validated, trust, signed_at, now)
                assert found == expected, (name, signed_at, now)


# --- the finding's own __init__ --------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _GeneratedFinding:
    step: str
    code: str
    ok: bool
    message: str


@SETTINGS
@given(st.text(max_size=8), st.text(max_size=8), st.booleans(), st.text(max_size=8))
def test_a_finding_is_made_as_the_generated_frozen_init_makes_it(
    step: str, code: str, ok: bool, message: str
) -> None:
    finding = Finding(step, code, ok, message)
    generated = _GeneratedFinding(step, code, ok, message)
    assert dataclasses.astuple(finding) == dataclasses.astuple(generated)
    assert vars(finding) == vars(generated)
    assert finding == Finding(step=step, code=code, ok=ok, message=message)
    assert hash(finding) == hash(Finding(step, code, ok, message))
    assert repr(finding) == repr(generated).replace("_GeneratedFinding", "Finding")
    assert dataclasses.replace(finding, ok=not ok).ok is not ok
    with pytest.raises(dataclasses.FrozenInstanceError):
        finding.code = "changed"  # type: ignore[misc]
    with pytest.raises(TypeError):
        Finding(step, code, ok)  # type: ignore[call-arg]


# --- chain cache: the validity window against the list form it replaced ----------------------


def _reference_window(
    moment: datetime, bounds: list[tuple[datetime, datetime]]
) -> tuple[datetime, datetime]:
    tick = timedelta(microseconds=1)
    starts, ends = [start for start, _ in bounds], [end for _, end in bounds]
    low = [b for b in starts if b <= moment] + [b + tick for b in ends if b < moment]
    high = [b - tick for b in starts if b > moment] + [b for b in ends if b >= moment]
    return max(low, default=moment), min(high, default=moment)


_INSTANTS = st.integers(min_value=0, max_value=40).map(
    lambda n: NOW + timedelta(days=n // 4, microseconds=n % 4)
)


@SETTINGS
@given(
    _INSTANTS,
    st.lists(st.tuples(_INSTANTS, _INSTANTS), min_size=1, max_size=6),
)
def test_validity_window_is_the_list_form(
    moment: datetime, bounds: list[tuple[datetime, datetime]]
) -> None:
    assert chain_module._same_validity_window(moment, bounds) == _reference_window(moment, bounds)
