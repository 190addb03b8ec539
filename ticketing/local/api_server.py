"""The Chalice API served on 127.0.0.1 by Chalice's own local gateway, in a background thread.

Chalice's local server converts each HTTP request into the API Gateway proxy event and runs the same route code
(and authorizers) the deployed Lambda runs. The app is imported only when the server starts, after the
environment points at the emulator.
"""

from __future__ import annotations

import importlib
import json
import logging
import threading
from pathlib import Path
from typing import Any

from ticketing.local.template import REPO_ROOT

# Not under "ticketing": Powertools' Logger(service="ticketing") owns that name and would reformat these lines.
log = logging.getLogger(__name__.replace("ticketing.local", "local_stack"))

DEFAULT_APP = "functions.api.app:app"
CHALICE_STAGE = "local"


def load_app(spec: str = DEFAULT_APP) -> Any:
    """`module:attribute` → the Chalice app object."""
    module_name, _, attribute = spec.partition(":")
    return getattr(importlib.import_module(module_name), attribute or "app")


def _chalice_config(app: Any, project_dir: Path) -> Any:
    from chalice.config import Config

    config_file = project_dir / ".chalice" / "config.json"
    from_disk = json.loads(config_file.read_text(encoding="utf-8")) if config_file.is_file() else {}
    return Config(
        chalice_stage=CHALICE_STAGE,
        user_provided_params={"chalice_app": app, "project_dir": str(project_dir), "app_name": app.app_name},
        config_from_disk=from_disk,
    )


class ApiServer:
    """Chalice's LocalDevServer (threaded per request) running until `stop()`."""

    def __init__(self, *, port: int, host: str = "127.0.0.1", app_spec: str = DEFAULT_APP) -> None:
        self.host = host
        self.port = port
        self._app_spec = app_spec
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self.app: Any = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        from chalice.local import create_local_server

        self.app = load_app(self._app_spec)
        module_name = self._app_spec.partition(":")[0]
        project_dir = REPO_ROOT.joinpath(*module_name.split(".")[:-1])
        server = create_local_server(self.app, _chalice_config(self.app, project_dir), self.host, self.port)
        self.port = int(server.server.server_address[1])
        self._server = server
        # Call the HTTP server directly: LocalDevServer.serve_forever() prints its own banner.
        # A short poll interval: shutdown() waits for the loop to notice, up to one interval (0.5 s by default).
        self._thread = threading.Thread(target=server.server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="api-server", daemon=True)  # fmt: skip
        self._thread.start()

    def has_route(self, path: str) -> bool:
        return self.app is not None and path in getattr(self.app, "routes", {})

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None
