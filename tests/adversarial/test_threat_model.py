"""specs/threat-model.md names only tests that exist, so the proof column cannot rot."""

from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
REFERENCE = re.compile(r"`(tests/[\w/]+\.py)::(\w+)`")


def _test_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }


def test_threat_model_references_existing_tests() -> None:
    text = (REPO / "specs" / "threat-model.md").read_text(encoding="utf-8")
    references = REFERENCE.findall(text)
    assert len(references) >= 100
    missing = [
        f"{file}::{name}"
        for file, name in references
        if not (REPO / file).is_file() or name not in _test_names(REPO / file)
    ]
    assert not missing, missing
