"""The local stack's sent-mail folder: every mail the product sends through SES lands here as an .eml file.

The emulator runs in this process, so its SES backend's sent messages are read directly (moto keeps them in
memory and has no API to list them) and written out in order, where `ticketing outbox` and any mail client can
open them. The folder is kept across restarts (`ticketing reset` clears it): numbering goes on from the highest
file already there.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

log = logging.getLogger("local_stack.outbox")


def _sent_messages(region: str) -> list[Any]:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    return list(ses_backends[DEFAULT_ACCOUNT_ID][region].sent_messages)


class Outbox:
    def __init__(self, folder: Path, region: str, interval: float = 0.2) -> None:
        self.folder = folder
        self.region = region
        self.interval = interval
        self._written = 0
        self._numbered_from = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        # The emulator starts with no sent mail; what earlier runs sent stays, and this run numbers on after it.
        prefixes = [path.name.split("-", 1)[0] for path in self.folder.glob("*.eml")]
        self._numbered_from = max((int(prefix) for prefix in prefixes if prefix.isdigit()), default=0)
        self._thread = threading.Thread(target=self._run, name="outbox", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.flush()

    def flush(self) -> int:
        """Write the messages sent since the last flush; returns how many."""
        messages = _sent_messages(self.region)
        new = messages[self._written :]
        for offset, message in enumerate(new, start=self._numbered_from + self._written + 1):
            raw = getattr(message, "raw_data", None)
            if raw is None:
                continue  # only SendRawEmail is used by the product
            data = raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else bytes(raw)
            (self.folder / f"{offset:05d}-{message.id}.eml").write_bytes(data)
        self._written = len(messages)
        return len(new)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.flush()
            except Exception:  # noqa: BLE001 - the outbox is a convenience; never take the stack down
                log.exception("could not write the outbox")
