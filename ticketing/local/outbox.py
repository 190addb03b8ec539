"""The local stack's sent-mail folder: every mail the product sends through SES lands here as an .eml file.

The emulator runs in this process, so its SES backend's sent messages are read directly (moto keeps them in
memory and has no API to list them) and written out in order, where `ticketing outbox` and any mail client can
open them. The folder is kept across restarts (`ticketing reset` clears it): numbering goes on from the highest
file already there.
"""

from __future__ import annotations

import logging
import re
import threading
from pathlib import Path
from typing import Any

from shared.adapters.mailer import ses_header_message_id

log = logging.getLogger("local_stack.outbox")


_MESSAGE_ID_HEADER = re.compile(rb"^message-id:[^\r\n]*(?:\r?\n[ \t][^\r\n]*)*\r?\n", re.IGNORECASE | re.MULTILINE)


def as_delivered(raw: bytes, message_id: str) -> bytes:
    """The mail as the customer receives it: SES replaces the Message-ID we wrote with its own (the one the
    mailer stored on the thread), so a reply that quotes only In-Reply-To threads as it would on AWS."""
    newline = b"\r\n" if b"\r\n\r\n" in raw else b"\n"
    end = raw.find(newline * 2)
    head, body = (raw + newline, b"") if end < 0 else (raw[: end + len(newline)], raw[end + len(newline) :])
    head = _MESSAGE_ID_HEADER.sub(b"", head)
    return f"Message-ID: {message_id}".encode() + newline + head + body


def _sent_messages(region: str) -> list[Any]:
    from moto.core.models import DEFAULT_ACCOUNT_ID
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
            data = as_delivered(data, ses_header_message_id(str(message.id), self.region))
            (self.folder / f"{offset:05d}-{message.id}.eml").write_bytes(data)
        self._written = len(messages)
        return len(new)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.flush()
            except Exception:  # noqa: BLE001 - the outbox is a convenience; never take the stack down
                log.exception("could not write the outbox")
