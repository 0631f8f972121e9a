"""One registry of status codes: ``provenance.codes.Code`` equals the spec tables, and product
code names codes only through it (a typo is then a type error, not a new code)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from provenance.codes import Code

ROOT = Path(__file__).resolve().parents[1]
CODE = re.compile(r"^\| `([a-z0-9_]+(?:\.[a-z0-9_]+)+)`(?: / `([a-z0-9_.]+)`)?", re.M)


def _table(path: Path, heading: str) -> set[str]:
    section = path.read_text().split(heading, 1)[1].split("\n## ", 1)[0]
    return {code for match in CODE.finditer(section) for code in match.groups() if code}


def test_registry_equals_the_tables_of_the_specs() -> None:
    table = _table(ROOT / "specs" / "verification.md", "## Status codes") | _table(
        ROOT / "specs" / "media-v1.md", "## 4. Status codes"
    )
    assert {code.value for code in Code} == table


def test_product_code_names_status_codes_only_through_the_registry() -> None:
    known = {code.value for code in Code}
    literals = [
        f"{path.relative_to(ROOT)}:{node.lineno} {node.value!r}"
        for package in ("provenance", "cli", "verifier_api")
        for path in sorted((ROOT / package).rglob("*.py"))
        if path.name != "codes.py"
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in known
    ]
    assert not literals, "use provenance.codes.Code members: " + ", ".join(literals)
