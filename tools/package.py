"""`make package`: the deployable artifacts, offline (no Docker, no AWS account).

1. Stage the Lambda code — shared/ and functions/ (no caches, no tests, no console) — in build/lambda/, with a
   requirements.txt of the project's runtime dependencies taken from pyproject.toml (the same compatible ranges).
2. Write build/template.yaml: infra/template.yaml with the code at lambda/ and, when ARCH is given, the functions'
   architecture (CI builds for the machine it runs on so the artifact's handlers can be imported there; deploys
   build for the template's arm64).
3. `sam build` (SAM CLI from PyPI) without a container: one build for every function that shares the code, its
   dependencies resolved by pip for the target architecture. The result is build/sam/ (template.yaml + one
   folder per function), what `make deploy` hands to `sam deploy`.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "build"
STAGE = BUILD / "lambda"
CODE = ("shared", "functions")
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".chalice", "tests")


def stage() -> None:
    if STAGE.exists():
        shutil.rmtree(STAGE)
    STAGE.mkdir(parents=True)
    for package in CODE:
        shutil.copytree(ROOT / package, STAGE / package, ignore=IGNORED)
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = "\n".join(project["dependencies"]) + "\n"
    (STAGE / "requirements.txt").write_text(requirements, encoding="utf-8")


def build_template(arch: str | None) -> Path:
    text = (ROOT / "infra" / "template.yaml").read_text(encoding="utf-8")
    text, codes = re.subn(r"^(\s+CodeUri:) \.\./build/lambda/$", r"\1 lambda/", text, flags=re.M)
    if codes == 0:
        raise SystemExit("package: no function in infra/template.yaml has CodeUri: ../build/lambda/")
    if arch:
        text, archs = re.subn(r"^(    Architectures:\n      - )\w+$", rf"\g<1>{arch}", text, flags=re.M)
        if archs != 1:
            raise SystemExit("package: Globals.Function.Architectures not found in infra/template.yaml")
    target = BUILD / "template.yaml"
    target.write_text(text, encoding="utf-8")
    return target


def sam_build(template: Path, sam: str) -> None:
    env = {**os.environ, "SAM_CLI_TELEMETRY": "0", "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1")}
    command = [sam, "build", "--template-file", str(template), "--build-dir", str(BUILD / "sam"),
               "--base-dir", str(BUILD), "--cached", "--cache-dir", str(BUILD / "sam-cache")]  # fmt: skip
    subprocess.run(command, check=True, env=env, cwd=BUILD)


def main() -> int:
    sam = sys.argv[1] if len(sys.argv) > 1 else "sam"
    sam = str(Path(sam).resolve()) if "/" in sam else sam  # sam build runs in build/
    arch = os.environ.get("ARCH") or None
    if arch not in (None, "arm64", "x86_64"):
        raise SystemExit(f"ARCH is arm64 or x86_64, got {arch!r}")
    stage()
    sam_build(build_template(arch), sam)
    print(f"packaged: {BUILD / 'sam'} (functions built for {arch or 'the template architecture, arm64'})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
