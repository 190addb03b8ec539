"""The layout is a rule, not a habit: each layer imports only what it may (checked on the source, no imports run)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("shared", "functions", "ticketing")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def _sources() -> list[tuple[str, set[str]]]:
    return [
        (path.relative_to(ROOT).as_posix(), _imports(path))
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
    ]


def test_only_the_storage_package_knows_pynamodb():
    offenders = [name for name, imports in _sources() if "pynamodb" in imports and not name.startswith("shared/storage/")]
    assert offenders == [], "pynamodb outside shared/storage: " + ", ".join(offenders)


def test_only_the_adapters_and_the_local_stack_call_aws_directly():
    """Services and handlers reach AWS through shared/adapters (and DynamoDB through shared/storage, whose
    pynamodb sits on botocore); the local stack drives the emulator itself."""
    allowed = ("shared/adapters/", "ticketing/local/")
    offenders = [
        name
        for name, imports in _sources()
        if imports & {"boto3", "botocore"} and not name.startswith(allowed)
    ]
    assert offenders == [], "boto3/botocore outside the adapters: " + ", ".join(offenders)


def test_the_domain_is_pure():
    """Rules in shared/domain import no AWS, no storage, no framework: they can be read and tested alone."""
    forbidden = {"boto3", "botocore", "pynamodb", "chalice", "aws_lambda_powertools", "moto"}
    offenders = {
        name: sorted(imports & forbidden)
        for name, imports in _sources()
        if name.startswith("shared/domain/") and imports & forbidden
    }
    assert offenders == {}


def test_the_checker_sees_an_import(tmp_path):
    """The check itself can fail: a file importing pynamodb is seen."""
    sample = tmp_path / "sample.py"
    sample.write_text("from pynamodb.models import Model\nimport boto3.session\n")
    assert {"pynamodb", "boto3"} <= _imports(sample)


def test_services_reach_storage_and_aws_only_through_their_ports():
    """A service is handed its repositories and adapters (shared/services/wiring.py builds them); it never imports
    them, so every service runs on the in-memory fakes of tests/fakes.py."""
    offenders = [
        name
        for name, imports in _sources_modules()
        if name.startswith("shared/services/") and not name.endswith("/wiring.py")
        and any(module.startswith(("shared.storage", "shared.adapters")) for module in imports)
    ]
    assert offenders == [], "services importing storage or adapters: " + ", ".join(offenders)


def _sources_modules() -> list[tuple[str, set[str]]]:
    out = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            modules = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
            modules |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
            out.append((path.relative_to(ROOT).as_posix(), modules))
    return out
