"""docs/reliability.md: every test the matrix names exists, so every row stays proven."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "reliability.md"
CITED = re.compile(r"`((?:[\w]+/)*test_\w+\.py)::(test_\w+)`")


def _test_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")
    }


@pytest.mark.slow
def test_every_cited_test_exists() -> None:
    cited = CITED.findall(DOC.read_text(encoding="utf-8"))
    assert len(cited) > 50
    missing = []
    for relative, name in cited:
        path = ROOT / "tests" / relative
        if not path.is_file() or name not in _test_names(path):
            missing.append(f"tests/{relative}::{name}")
    assert missing == []


def test_every_reliability_test_is_in_the_matrix() -> None:
    cited = {name for _, name in CITED.findall(DOC.read_text(encoding="utf-8"))}
    here = Path(__file__).parent
    ours = {name for path in here.glob("test_*.py") for name in _test_names(path)}
    ours -= _test_names(Path(__file__))
    assert sorted(ours - cited) == []
