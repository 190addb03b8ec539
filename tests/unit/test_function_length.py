"""No function in shared/ is longer than a reader can hold at once: each does one thing, named for it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
LONGEST = 50  # lines, from `def` to the last line of the body (docstring included)


def lengths(package: Path) -> list[tuple[int, str]]:
    found = []
    for path in sorted(package.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                found.append((length, f"{path.relative_to(package.parent)}:{node.lineno} {node.name}"))
    return sorted(found, reverse=True)


def test_no_function_in_shared_is_longer_than_fifty_lines():
    too_long = [f"{where} ({length} lines)" for length, where in lengths(ROOT / "shared") if length > LONGEST]
    assert too_long == [], "split these: " + "; ".join(too_long)


def test_the_measure_sees_a_long_function(tmp_path):
    (tmp_path / "long.py").write_text("def f():\n" + "    x = 1\n" * 60)
    assert lengths(tmp_path)[0][0] == 61
