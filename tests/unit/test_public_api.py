"""The library's public face: the README's example runs, and every public name resolves."""

from __future__ import annotations

import contextlib
import io
import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import provenance
from tests.factories import (
    IDENTITY,
    REVIEW,
    authority_trust,
    certified_author,
    make_authority,
    sign,
)

README = Path(__file__).resolve().parents[2] / "README.md"


def _readme_example() -> str:
    section = README.read_text().split("## Use the library", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match is not None
    return match.group(1)


def test_readme_library_example_verifies_a_review(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    authority = make_authority(created=now - timedelta(days=2))
    author = certified_author(authority, issued=now - timedelta(days=1), days=30)
    (tmp_path / "trust-root.json").write_bytes(authority_trust(authority).to_json())
    (tmp_path / "review.txt").write_bytes(REVIEW)
    (tmp_path / "review.txt.prov.json").write_bytes(sign(author.key, chain=author.chain).to_bytes())
    assert IDENTITY in _readme_example()
    out = io.StringIO()
    cwd = Path.cwd()
    os.chdir(tmp_path)
    try:
        with contextlib.redirect_stdout(out):
            exec(compile(_readme_example(), "README.md", "exec"), {})
    finally:
        os.chdir(cwd)
    assert out.getvalue() == "True []\n"


def test_every_public_name_resolves() -> None:
    assert sorted(provenance.__all__) == sorted([*provenance._FACE, "__version__"])
    for name in provenance.__all__:
        assert getattr(provenance, name) is not None, name


def test_verifier_and_trust_root_import_from_the_top() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from provenance import Verifier, TrustRoot; print(Verifier.__name__)",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (done.returncode, done.stdout) == (0, "Verifier\n"), done.stderr
