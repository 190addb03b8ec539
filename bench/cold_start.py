"""Cold-start import time of each function's handler module, next to `import boto3` alone.

Each figure is the median of several fresh interpreters, so it includes everything a Lambda cold start imports.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
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


def import_seconds(module: str) -> list[float]:
    env = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1", "SIGNING_SECRET": "bench", "PYTHONDONTWRITEBYTECODE": "1"}
    times = []
    for _ in range(RUNS):
        out = subprocess.run(
            [sys.executable, "-c", PROBE.format(module=module)], cwd=REPO, env=env, capture_output=True, text=True, check=True
        )
        times.append(float(out.stdout.strip().splitlines()[-1]))
    return times


def run() -> list[tuple[str, float, float]]:
    """(module, median ms, min ms) per module."""
    rows = []
    for module in handler_modules():
        times = import_seconds(module)
        rows.append((module, statistics.median(times) * 1000, min(times) * 1000))
    return rows


def report(rows: list[tuple[str, float, float]]) -> str:
    lines = [
        f"Median of {RUNS} fresh interpreters (`python -c 'import X'`, .pyc cached).",
        "",
        "| module | median import ms | min ms |",
        "| --- | ---: | ---: |",
    ]
    lines += [f"| `{module}` | {median:.0f} | {low:.0f} |" for module, median, low in rows]
    return "\n".join(lines)


if __name__ == "__main__":
    print(report(run()))
