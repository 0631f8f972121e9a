"""`prov log submit`: log a bundle signed offline in the publisher's log (``POST /v1/log/entries``).

A publisher whose trust root sets ``requireLog`` accepts an author's signature only with its log
proof. The author signs with ``prov sign --cert`` and submits the bundle (or the clear-signed
text) here; the service verifies it against its own trust root, logs it once and returns it with
its log entry, which is written back. The answer is checked to be the submitted signature with one
log entry: a service cannot swap in another signature.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from cli.common import CLI_LIMITS, Exit, fail, read_file
from provenance import (
    Bundle,
    ProvenanceError,
    armor_text,
    contains_armor,
    find_signed_blocks,
    loads_strict,
    printable,
)
from provenance.trust_store import TrustStoreError, check_url

SUBMIT_PATH = "/v1/log/entries"
SUBMIT_TIMEOUT_SECONDS = 90  # the service's own commit wait is 60 s


@dataclass(frozen=True)
class Submission:
    """What was read: the bundle to submit and, for clear-signed text, the text it signs."""

    bundle: Bundle
    text: str | None


@dataclass(frozen=True)
class Logged:
    """The service's answer: the bundle with its entry, its index, whether it was logged before."""

    bundle: Bundle
    log_index: int
    replayed: bool


def read_submission(path: Path) -> Submission:
    """The bundle of ``path``: a bundle file, or clear-signed text holding exactly one block."""
    data = read_file(path, "bundle or signed text")
    try:
        if not contains_armor(data):
            return Submission(Bundle.from_bytes(data), None)
        document = find_signed_blocks(data.decode("utf-8"))
        if len(document.blocks) != 1 or document.unsigned_segments:
            fail(
                f"{path}: clear-signed text to submit holds exactly one signed block and no text"
                " outside it",
                Exit.USAGE,
            )
        block = document.blocks[0]
        return Submission(Bundle.from_bytes(block.bundle_bytes), block.text)
    except (ProvenanceError, UnicodeDecodeError) as exc:
        fail(f"{path}: {exc}")


def read_api_key(path: Path) -> str:
    """The API key in ``path`` (surrounding white space ignored; never printed)."""
    key = (
        read_file(path, "API key file", CLI_LIMITS.max_api_key_file_bytes)
        .decode("ascii", "replace")
        .strip()
    )
    if not key or not key.isprintable() or " " in key:
        fail(f"{path} does not hold an API key (prov_<id>_<secret>)", Exit.USAGE)
    return key


def service_url(url: str) -> str:
    """The service's base URL: https, or http on a loopback host (the key travels with it)."""
    try:
        return check_url(url)
    except TrustStoreError as exc:
        fail(exc.message.replace("a publisher URL", "--url"), Exit.USAGE)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """Refuses every redirect: the API key must never travel to an address --url did not name
    (urllib keeps ``Authorization`` on a redirect, to any host and scheme)."""

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: Any,
        code: int,
        msg: str,
        headers: Any,
        newurl: str,
    ) -> urllib.request.Request | None:
        raise urllib.error.HTTPError(req.full_url, code, f"redirect to {newurl}", headers, fp)


_OPENER = urllib.request.build_opener(_NoRedirects)


def submit(base_url: str, api_key: str, bundle: Bundle) -> Logged:
    """POST the bundle and return the checked answer; exit 1 when refused, 3 when unreachable."""
    request = urllib.request.Request(  # noqa: S310 (scheme checked by service_url)
        base_url + SUBMIT_PATH,
        data=json.dumps({"bundle": bundle.to_json()}).encode("utf-8"),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {api_key}"},
        method="POST",
    )
    try:
        with _OPENER.open(request, timeout=SUBMIT_TIMEOUT_SECONDS) as response:
            answer = response.read(CLI_LIMITS.max_service_answer_bytes + 1)
            replayed = response.status == 200
    except urllib.error.HTTPError as exc:
        _refused(exc)
    except (urllib.error.URLError, OSError) as exc:
        fail(f"cannot reach {base_url}: {printable(str(exc))}")
    return _checked(answer, bundle, replayed)


def _refused(exc: urllib.error.HTTPError) -> NoReturn:
    """Exit with the service's error: 1 when the bundle was refused (422), else 3."""
    if 300 <= exc.code < 400:
        where = printable(str(exc.headers.get("Location", "elsewhere")))
        fail(
            f"the service answered a redirect (HTTP {exc.code}) to {where}; the API key is not"
            " sent there: pass the service's address as --url",
            Exit.UNREADABLE,
        )
    try:
        error = loads_strict(
            exc.read(CLI_LIMITS.max_service_answer_bytes + 1),
            max_bytes=CLI_LIMITS.max_service_answer_bytes,
        )["error"]
        detail = f"[{error['code']}] {error['message']}"
    except (ValueError, KeyError, TypeError, OSError):
        detail = f"HTTP {exc.code}"
    code = Exit.NOT_VERIFIED if exc.code == 422 else Exit.UNREADABLE
    fail(f"the service did not log the bundle: {printable(detail)}", code)


def _checked(answer: bytes, submitted: Bundle, replayed: bool) -> Logged:
    """The service's answer parsed as strictly as any bundle (exit 3 if it is not one).

    Raises:
        typer.Exit: Not strict JSON of a logged bundle, or not the submitted signature.
    """
    try:
        document = loads_strict(answer, max_bytes=CLI_LIMITS.max_service_answer_bytes)
        logged = Bundle.from_decoded(document["bundle"])
        index = document["logIndex"]
    except (ValueError, KeyError, TypeError, ProvenanceError) as exc:
        fail(f"the service's answer is not a logged bundle: {printable(str(exc))}")
    same = (logged.envelope, logged.certificates) == (submitted.envelope, submitted.certificates)
    if not same or not logged.tlog_entries or type(index) is not int:
        fail("the service's answer is not the submitted signature with its log entry")
    return Logged(logged, index, replayed)


def output_bytes(submission: Submission, logged: Logged) -> bytes:
    """The file to write: the logged bundle, or the text clear-signed with it."""
    if submission.text is None:
        return logged.bundle.to_bytes()
    return armor_text(submission.text, logged.bundle).encode("utf-8")
