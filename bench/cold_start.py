"""Cold-start import time of each function's handler module, next to `import boto3` alone.

Each figure is the median of several fresh interpreters, so it includes everything a Lambda cold start imports.
The interpreters run in a virtualenv holding only the runtime dependencies of pyproject.toml, as a deployment
package does (`.local/bench-runtime`, made once): the dev venv also holds moto's dependencies, and some of them
change what a library imports (PyJWT loads `cryptography`, 22 ms, whenever it is installed).
"""

from __future__ import annotations

import compileall
import os
import statistics
import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RUNS = int(os.environ.get("BENCH_COLD_RUNS", "7"))

PROBE = "import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"


def handler_modules() -> list[str]:
    modules = ["boto3"]
    for path in sorted((REPO / "functions").glob("*/handler.py")):
        modules.append(f"functions.{path.parent.name}.handler")
    if (REPO / "functions" / "api" / "app.py").exists():
        modules.append("functions.api.app")
    return modules


RUNTIME_VENV = REPO / ".local" / "bench-runtime"


def runtime_python() -> str:
    """The interpreter of a venv with exactly the project's runtime dependencies, made (or refreshed) once."""
    dependencies = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    stamp = RUNTIME_VENV / "dependencies.txt"
    python = RUNTIME_VENV / "bin" / "python"
    wanted = "\n".join(dependencies) + "\n"
    if not python.exists() or not stamp.exists() or stamp.read_text() != wanted:
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(RUNTIME_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *dependencies], check=True)
        stamp.write_text(wanted)
    return str(python)


def import_seconds(module: str, python: str) -> list[float]:
    env = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1", "SIGNING_SECRET": "bench", "PYTHONDONTWRITEBYTECODE": "1"}
    times = []
    for _ in range(RUNS):
        out = subprocess.run(
            [python, "-c", PROBE.format(module=module)], cwd=REPO, env=env, capture_output=True, text=True, check=True
        )
        times.append(float(out.stdout.strip().splitlines()[-1]))
    return times


def compile_project() -> None:
    """Byte-compile our code first, as the dependencies are (pip compiles what it installs) and as a deployment
    package should be: otherwise every probe would time the compiler (this machine sets PYTHONDONTWRITEBYTECODE)."""
    for folder in ("shared", "functions"):
        compileall.compile_dir(str(REPO / folder), quiet=1)


def run() -> list[tuple[str, float, float]]:
    """(module, median ms, min ms) per module."""
    compile_project()
    python = runtime_python()
    rows = []
    for module in handler_modules():
        times = import_seconds(module, python)
        rows.append((module, statistics.median(times) * 1000, min(times) * 1000))
    return rows


def report(rows: list[tuple[str, float, float]]) -> str:
    boto3_ms = next((median for module, median, _ in rows if module == "boto3"), None)
    lines = [
        f"Median of {RUNS} fresh interpreters (`python -c 'import X'`) in a venv of the runtime dependencies only,",
        "our code byte-compiled like the dependencies. Target: each handler at most 1.3× `import boto3`. Handlers import what every event needs;",
        "what only some need (Jinja2 for a template, holidays for a calendar with a country, inscriptis for HTML",
        "mail, Powertools' batch machinery, the services behind the route and escalate stages) comes on first use.",
        "",
        "| module | median import ms | min ms | × boto3 |",
        "| --- | ---: | ---: | ---: |",
    ]
    lines += [
        f"| `{module}` | {median:.0f} | {low:.0f} | {median / boto3_ms:.2f} |" if boto3_ms else f"| `{module}` | {median:.0f} | {low:.0f} | |"
        for module, median, low in rows
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(report(run()))
