"""Import every packaged function's handler from its artifact alone, as Lambda would.

For each function of build/sam/template.yaml: a fresh virtual environment with nothing installed, Python started
isolated (-I -S: no user or site packages, no PYTHONPATH), the function's artifact folder first on sys.path, then
`import <module>` and the handler attribute looked up. Anything the artifact lacks (shared/, a dependency, a
binary wheel for another machine) fails here, not on the first invocation in AWS.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILT = ROOT / "build" / "sam"
PROBE = """
import importlib, sys
sys.path.insert(0, sys.argv[1])
module, _, attribute = sys.argv[2].rpartition(".")
handler = getattr(importlib.import_module(module), attribute)
assert callable(handler), sys.argv[2]
for lazy in ("shared.contracts.api", "shared.contracts.events", "pydantic_core._pydantic_core", "jwt", "jinja2",
             "Sastrawi.Stemmer.StemmerFactory", "snowballstemmer", "shared.contracts.selfservice", "shared.services.kpis",
             "shared.storage.kpi", "shared.services.portal", "shared.services.knowledge_base"):
    importlib.import_module(lazy)  # what handlers import on their first record, binary wheels included
loaded = sorted({m.split(".")[0] for m in sys.modules} & {"shared", "functions", "pydantic", "pynamodb", "chalice"})
print(sys.argv[2], "ok;", "from the artifact:", ", ".join(loaded))
"""


def main() -> int:
    sys.path.insert(0, str(ROOT))
    from ticketing.local.template import functions, load_template

    if not (BUILT / "template.yaml").is_file():
        raise SystemExit("check-artifact: no build/sam/template.yaml; run `make package` first")
    specs = functions(load_template(BUILT / "template.yaml"))
    failures = []
    with tempfile.TemporaryDirectory() as scratch:
        venv.create(scratch, with_pip=False)
        python = Path(scratch) / "bin" / "python"
        for name, spec in sorted(specs.items()):
            folder = BUILT / name
            env = {"AWS_DEFAULT_REGION": "us-east-1", "PATH": "/usr/bin:/bin", "POWERTOOLS_METRICS_NAMESPACE": "Ticketing"}
            result = subprocess.run([str(python), "-I", "-S", "-c", PROBE, str(folder), spec.handler],
                                    capture_output=True, text=True, env=env, timeout=120, check=False)  # fmt: skip
            print(f"{name}: {(result.stdout or result.stderr).strip().splitlines()[-1] if (result.stdout or result.stderr) else '?'}")
            if result.returncode != 0:
                failures.append(f"{name} ({spec.handler}):\n{result.stderr[-2000:]}")
    if failures:
        print("\n".join(failures), file=sys.stderr)
        return 1
    print(f"all {len(specs)} handlers import from their artifacts alone")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
