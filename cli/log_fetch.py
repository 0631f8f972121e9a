"""Where `prov log audit` and `prov log monitor` read a log: a tlog-tiles directory or an http(s)
URL (the audit's network I/O; `prov log submit` has its own, in ``cli/log_submit.py``). A source
that cannot be read raises :class:`provenance.LogSourceError`.
"""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from pathlib import Path

from cli.common import CLI_LIMITS, Exit, fail
from provenance import LogSourceError
from provenance.tlog import CHECKPOINT_PATH, Fetch

FETCH_TIMEOUT_SECONDS = 30


def directory_fetcher(root: Path) -> Fetch:
    """Read tlog-tiles paths from a directory."""
    if not root.is_dir():
        raise LogSourceError(f"{root} is not a directory")

    def fetch(path: str) -> bytes | None:
        target = root / path
        try:
            if not target.is_file():
                return None
            with target.open("rb") as handle:
                return handle.read(CLI_LIMITS.max_fetch_bytes + 1)
        except OSError as exc:
            raise LogSourceError(f"cannot read {target}: {exc.strerror}") from exc

    return fetch


def http_fetcher(base_url: str) -> Fetch:
    """Read tlog-tiles paths under an http(s) URL (404 means absent)."""
    if not re.match(r"https?://", base_url):
        raise LogSourceError(f"{base_url} is not an http(s) URL")
    base = base_url.rstrip("/") + "/"

    def fetch(path: str) -> bytes | None:
        url = base + path
        try:
            with urllib.request.urlopen(url, timeout=FETCH_TIMEOUT_SECONDS) as response:  # noqa: S310 (scheme checked)
                data: bytes = response.read(CLI_LIMITS.max_fetch_bytes + 1)
                return data
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return None
            raise LogSourceError(f"{url}: HTTP {exc.code}") from exc
        except (urllib.error.URLError, OSError) as exc:
            raise LogSourceError(f"{url}: {exc}") from exc

    return fetch


def make_fetcher(source: str) -> Fetch:
    """A fetcher for a tiles directory or an http(s) URL."""
    if re.match(r"https?://", source):
        return http_fetcher(source)
    if "://" in source:
        fail(f"{source}: only http and https URLs or directories are supported", Exit.USAGE)
    try:
        return directory_fetcher(Path(source))
    except LogSourceError as exc:
        fail(str(exc))


class RecordingFetch:
    """Passes fetches through and remembers the checkpoint it served (evidence of a split view)."""

    def __init__(self, fetch: Fetch) -> None:
        self._fetch = fetch
        self.checkpoint: bytes | None = None

    def __call__(self, path: str) -> bytes | None:
        data = self._fetch(path)
        if path == CHECKPOINT_PATH:
            self.checkpoint = data
        return data
