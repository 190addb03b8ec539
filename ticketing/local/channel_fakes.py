"""Recording fakes of the platforms' send APIs, for the local stack: one HTTP server on a free 127.0.0.1 port
that answers like WhatsApp's Cloud API, Messenger's and Instagram's Send API and Telegram's Bot API, and writes
every request it gets to `.local/channels/<channel>/NNNNN.json` (`ticketing outbox --channel whatsapp` shows
them). Kept across restarts like the mail outbox: numbering goes on from the highest file already there.

Paths (the stack points GRAPH_API_BASE at `/meta`, INSTAGRAM_API_BASE at `/instagram`, TELEGRAM_API_BASE at
`/telegram`): `/meta/<version>/<phone number id>/messages` (WhatsApp), `/meta/<version>/me/messages`
(Messenger), `/instagram/<version>/me/messages`, `/telegram/bot<token>/sendMessage`. A WhatsApp send is
followed by a signed `delivered` status callback to the webhook, as Meta sends one.
"""

from __future__ import annotations

import itertools
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from ticketing.local.emulator import LOCAL_HOST

log = logging.getLogger("local_stack.channels")
CHANNELS = ("whatsapp", "messenger", "instagram", "telegram")
Callback = Callable[[str, dict[str, Any]], int]  # (webhook, payload) -> receipts our webhook applied
CALLBACK_TRIES = 20  # the send's own answer is still on its way when the callback first arrives: try again


def channel_of(path: str) -> str | None:
    parts = path.split("?", 1)[0].strip("/").split("/")
    if parts[0] == "telegram" and len(parts) == 3 and parts[1].startswith("bot") and parts[2] == "sendMessage":
        return "telegram"
    if parts[0] in ("meta", "instagram") and len(parts) == 4 and parts[3] == "messages":
        if parts[0] == "instagram":
            return "instagram"
        return "messenger" if parts[2] == "me" else "whatsapp"
    return None


def platform_answer(channel: str, body: dict[str, Any], number: int) -> dict[str, Any]:
    """What the real API answers to a successful send."""
    if channel == "whatsapp":
        to = str(body.get("to", ""))
        return {"messaging_product": "whatsapp", "contacts": [{"input": to, "wa_id": to}],
                "messages": [{"id": f"wamid.LOCAL{uuid.uuid4().hex.upper()}"}]}  # fmt: skip
    if channel == "telegram":
        chat = body.get("chat_id")
        return {"ok": True, "result": {"message_id": 100000 + number, "chat": {"id": chat, "type": "private"},
                                       "date": int(datetime.now(UTC).timestamp()), "text": body.get("text")}}  # fmt: skip
    return {"recipient_id": (body.get("recipient") or {}).get("id"), "message_id": f"m_LOCAL{uuid.uuid4().hex}"}


class ChannelFakes:
    def __init__(self, folder: Path, port: int = 0, host: str = LOCAL_HOST, callback: Callback | None = None) -> None:
        self.folder, self.host, self.port = folder, host, port
        self.callback = callback
        self.failures: dict[str, list[tuple[int, dict[str, Any]]]] = {}  # channel -> answers to give first (tests)
        self._lock = threading.Lock()
        self._numbers: itertools.count[int] = itertools.count(1)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def environment(self) -> dict[str, str]:
        """The settings that point the product's senders here."""
        return {"GRAPH_API_BASE": f"{self.url}/meta", "INSTAGRAM_API_BASE": f"{self.url}/instagram",
                "TELEGRAM_API_BASE": f"{self.url}/telegram"}  # fmt: skip

    def fail(self, channel: str, status: int, times: int, error: dict[str, Any] | None = None) -> None:
        """Answer the next `times` sends on `channel` with `status` (a test's outage or refusal)."""
        answer = error or {"error": {"code": status, "message": f"fake {status}"}}
        self.failures.setdefault(channel, []).extend([(status, answer)] * times)

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        numbers = [int(p.stem) for p in self.folder.glob("*/*.json") if p.stem.isdigit()]
        self._numbers = itertools.count(max(numbers, default=0) + 1)
        self._server = ThreadingHTTPServer((self.host, self.port), self._handler())
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="channel-fakes", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def sent(self, channel: str) -> list[dict[str, Any]]:
        """What `channel` received, oldest first."""
        return [json.loads(p.read_text()) for p in sorted((self.folder / channel).glob("*.json"))]

    def answer(self, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        channel = channel_of(path)
        if channel is None:
            return 404, {"error": {"code": 404, "message": f"no such fake API path {path}"}}
        with self._lock:
            number = next(self._numbers)
            queued = self.failures.get(channel)
            status, answer = queued.pop(0) if queued else (200, platform_answer(channel, body, number))
        record = {"number": number, "at": datetime.now(UTC).isoformat(), "path": path.split("?", 1)[0],
                  "request": body, "status": status, "response": answer}  # fmt: skip
        (self.folder / channel).mkdir(parents=True, exist_ok=True)
        (self.folder / channel / f"{number:05d}.json").write_text(json.dumps(record, ensure_ascii=False, indent=2))
        if status == 200 and channel == "whatsapp" and self.callback is not None:
            threading.Thread(target=self._delivered, args=(body, answer), daemon=True).start()
        return status, answer

    def _delivered(self, body: dict[str, Any], answer: dict[str, Any]) -> None:
        """Meta's `delivered` status for the message just sent, through our own webhook, signed."""
        status = {"id": answer["messages"][0]["id"], "status": "delivered", "recipient_id": body.get("to"),
                  "timestamp": str(int(datetime.now(UTC).timestamp()))}  # fmt: skip
        payload = {"object": "whatsapp_business_account", "entry": [{"id": "0", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp", "metadata": {"display_phone_number": "0", "phone_number_id": "0"},
            "statuses": [status]}}]}]}  # fmt: skip
        for _ in range(CALLBACK_TRIES):
            time.sleep(0.25)  # as Meta's callback comes after its answer to the send
            try:
                assert self.callback is not None
                if self.callback("whatsapp", payload):
                    return
            except Exception:  # noqa: BLE001 - a lost receipt is a status left at `sent`, never an outage
                log.exception("could not post the delivered status")
                return

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fakes = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    body = json.loads(self.rfile.read(length) or b"{}")
                except ValueError:
                    body = None
                status, answer = (400, {"error": {"code": 100, "message": "not JSON"}}) if not isinstance(body, dict) else fakes.answer(self.path, body)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's signature
                log.debug(format, *args)

        return Handler
