"""The running local stack's endpoints, in `.local/stack.json`, so other CLI commands can find it.

Kept free of moto/boto3 imports: `ticketing token` reads it before anything else is imported, then points the
environment at the stack the same way `ticketing run` did.
"""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ticketing.local.template import REPO_ROOT

STATE_FILE_ENV = "TICKETING_STATE_FILE"


class NoRunningStack(RuntimeError):
    """No local stack answers; the message says how to start one."""


def state_file() -> Path:
    """`.local/stack.json` in the repository, or wherever TICKETING_STATE_FILE says (tests run side by side)."""
    override = os.environ.get(STATE_FILE_ENV)
    return Path(override) if override else REPO_ROOT / ".local" / "stack.json"


def write_state(state: dict[str, Any], path: Path | None = None) -> Path:
    target = path or state_file()
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_suffix(".tmp")
    temporary.write_text(json.dumps(state, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    temporary.replace(target)
    return target


def read_state(path: Path | None = None) -> dict[str, Any] | None:
    source = path or state_file()
    try:
        return dict(json.loads(source.read_text(encoding="utf-8")))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise NoRunningStack(f"{source} is unreadable ({exc}); restart the local stack with `make run`") from exc


def remove_state(pid: int, path: Path | None = None) -> None:
    """Remove the state file if it is still ours (a newer stack may have replaced it)."""
    target = path or state_file()
    state = read_state(target) if target.exists() else None
    if state is not None and state.get("pid") == pid:
        target.unlink(missing_ok=True)


def endpoint_answers(url: str, timeout: float = 1.0) -> bool:
    """Whether something accepts TCP connections at the URL's host and port."""
    parts = urlsplit(url)
    if not parts.hostname:
        return False
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname, port), timeout=timeout):
            return True
    except OSError:
        return False


def use_running_stack() -> dict[str, Any] | None:
    """Point this process's environment at the running local stack; return its state (None: endpoint given).

    An AWS_ENDPOINT_URL already in the environment that names another endpoint (LocalStack, a stack started
    elsewhere) is honoured and the state file ignored. Otherwise the state file's variables win over stale ones
    from an earlier run. Raises NoRunningStack with a clear message when nothing is running.
    """
    state = read_state()
    explicit_endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if explicit_endpoint and (state is None or explicit_endpoint != state.get("aws_endpoint_url")):
        return None
    if state is None:
        raise NoRunningStack(
            f"no local stack is running (no {state_file()}). Start one with `make run` "
            "(or `.venv/bin/ticketing run`), or set AWS_ENDPOINT_URL and the table/secret variables yourself."
        )
    endpoint = str(state.get("aws_endpoint_url", ""))
    if not endpoint_answers(endpoint):
        raise NoRunningStack(
            f"the local stack recorded in {state_file()} is not answering at {endpoint}; it has stopped. "
            "Start it again with `make run`."
        )
    os.environ.update({name: str(value) for name, value in (state.get("env") or {}).items()})
    return state
