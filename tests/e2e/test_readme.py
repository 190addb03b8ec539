"""The README's "Try it" block runs as written against a running stack: a newcomer's first commands must work.

The block is read from README.md itself; only the ports are moved to the test stack's (the README gives the
defaults 8000 and 2525), and the stack is started the way the README's first block says, by `ticketing run`.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from tests.e2e.conftest import RunningStack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

README = Path(__file__).resolve().parents[2] / "README.md"


def try_it_blocks() -> list[str]:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Try it") : text.index("\n## ", text.index("## Try it") + 1)]
    return re.findall(r"^```\n(.*?)^```", section, flags=re.DOTALL | re.MULTILINE)


def test_the_readme_starts_the_stack_with_make_run_in_a_block_of_its_own():
    blocks = try_it_blocks()
    assert len(blocks) == 2 and blocks[0].strip() == "make run"


def test_every_command_of_the_readmes_try_it_block_runs_as_written(local_stack: RunningStack) -> None:
    script = try_it_blocks()[1]
    api_port = local_stack.api_url.rsplit(":", 1)[1]
    assert "127.0.0.1:8000" in script and '"127.0.0.1", 2525' in script  # what a newcomer types, on the defaults
    script = script.replace("127.0.0.1:8000", f"127.0.0.1:{api_port}")
    script = script.replace('"127.0.0.1", 2525', f'"127.0.0.1", {local_stack.smtp[1]}')

    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script], cwd=README.parent, env=local_stack.env,
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip

    assert result.returncode == 0, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    assert result.stderr.strip() == "", result.stderr
    agent = json.loads(result.stdout[result.stdout.index("{") : result.stdout.index("}{") + 1])
    assert agent["id"] == "ani" and agent["presence"] == "online"  # the PUT answered with the agent, not a 415
    assert "error" not in result.stdout
    assert "Tidak bisa login" in result.stdout and "budi@pelanggan.co.id" in result.stdout  # tickets and outbox
    assert "Quarantine is empty." in result.stdout

    token = local_stack.token("agent")

    def assigned() -> dict | None:
        items = local_stack.request("GET", "/v1/tickets", token=token)[1]["items"]
        return next((t for t in items if t["subject"] == "Tidak bisa login" and t["assignee"]), None)

    ticket = local_stack.wait_until(assigned, timeout=30)
    assert ticket["assignee"] == "ani" and ticket["priority"] == "high"
