"""What the local stack keeps between runs, all in one data folder (the state file's folder, `.local/` by default).

    dynamodb/            DynamoDB Local's sqlite file: every table and item
    s3/<bucket>/         the mail bucket's objects (raw inbound mail, attachments, long bodies), mirrored every second
                         and at stop, put back at start
    sqs-pending.json     messages still in the stack's queues at stop (delayed ones with their remaining delay),
                         sent again at start
    secrets.json         generated secret values (the signing key), so tokens and reply addresses stay valid
    spool/               every mail the SMTP intake answered 250 to, until its ingest finished (replayed at start)
    outbox/              every mail the product sent, numbered on from run to run
    dynamodb-local.log   DynamoDB Local's own output
    stack.json           only while a stack runs: its endpoints (ticketing/local/stack_state.py)
    lock                 held (flock) by the stack that uses the folder

moto (S3, SQS, SES, Secrets Manager, EventBridge) keeps everything in memory in this process, so its backends are
read directly, as the outbox already does for SES. `ticketing reset` clears the folder on purpose.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import json
import logging
import math
import os
import shutil
import threading
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import IO, Any

log = logging.getLogger("local_stack.persistence")

DYNAMODB_DIR = "dynamodb"
S3_DIR = "s3"
PENDING_MESSAGES = "sqs-pending.json"
SECRETS = "secrets.json"
SPOOL_DIR = "spool"
OUTBOX_DIR = "outbox"
CHANNELS_DIR = "channels"  # what the recording fakes of the platform send APIs received (ticketing/local/channel_fakes.py)
DYNAMODB_LOG = "dynamodb-local.log"
LOCK = "lock"
STATE = "stack.json"
# What `ticketing reset` removes: only what the stack itself writes (a test's own files next to it stay).
OWNED = (DYNAMODB_DIR, S3_DIR, PENDING_MESSAGES, SECRETS, SPOOL_DIR, OUTBOX_DIR, CHANNELS_DIR, DYNAMODB_LOG)

SQS_MAX_DELAY_SECONDS = 900


class DataFolderInUse(RuntimeError):
    """Another local stack holds the data folder's lock."""


def write_atomically(path: Path, data: bytes, *, mode: int | None = None) -> None:
    """Write to a temporary file, fsync, rename over `path`: a crash leaves the old or the new file, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    with temporary.open("wb") as handle:
        if mode is not None:
            os.chmod(temporary, mode)
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    temporary.replace(path)


class DataFolder:
    """The local stack's data folder and the lock that says a stack is using it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._lock: IO[str] | None = None

    @property
    def dynamodb(self) -> Path:
        return self.root / DYNAMODB_DIR

    @property
    def s3(self) -> Path:
        return self.root / S3_DIR

    @property
    def pending_messages(self) -> Path:
        return self.root / PENDING_MESSAGES

    @property
    def secrets(self) -> Path:
        return self.root / SECRETS

    @property
    def spool(self) -> Path:
        return self.root / SPOOL_DIR

    @property
    def outbox(self) -> Path:
        return self.root / OUTBOX_DIR

    @property
    def channels(self) -> Path:
        return self.root / CHANNELS_DIR

    @property
    def dynamodb_log(self) -> Path:
        return self.root / DYNAMODB_LOG

    # -------------------------------------------------------------------------------------- the lock

    def acquire(self) -> None:
        """Take the folder for this process (released when it exits, even on a crash)."""
        self.root.mkdir(parents=True, exist_ok=True)
        handle = (self.root / LOCK).open("a+", encoding="utf-8")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise DataFolderInUse(f"a local stack (pid {holder}) is already running from {self.root}") from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._lock = handle

    def release(self) -> None:
        if self._lock is not None:
            fcntl.flock(self._lock, fcntl.LOCK_UN)
            self._lock.close()
            self._lock = None

    def in_use(self) -> str | None:
        """The pid of the stack holding the folder, or None when no stack does."""
        path = self.root / LOCK
        if not path.exists():
            return None
        with path.open("a+", encoding="utf-8") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                handle.seek(0)
                return handle.read().strip() or "unknown"
            fcntl.flock(handle, fcntl.LOCK_UN)
        return None

    # -------------------------------------------------------------------------------------- reset

    def reset(self) -> list[Path]:
        """Remove everything the stack keeps here; refuses while a stack uses the folder. Returns what went."""
        holder = self.in_use()
        if holder is not None:
            raise DataFolderInUse(
                f"a local stack (pid {holder}) is running from {self.root}; stop it (Ctrl-C) before resetting"
            )
        removed = []
        for name in (*OWNED, STATE, LOCK):
            path = self.root / name
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()
            else:
                continue
            removed.append(path)
        return removed


# ------------------------------------------------------------------------------------------------ secrets


class KeptSecrets:
    """Secret values by name in secrets.json (mode 0600), for `provision(secret_values=...)`."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _read(self) -> dict[str, str]:
        try:
            return {str(k): str(v) for k, v in json.loads(self.path.read_text(encoding="utf-8")).items()}
        except FileNotFoundError:
            return {}

    def get(self, name: str) -> str | None:
        return self._read().get(name)

    def put(self, name: str, value: str) -> None:
        values = self._read()
        values[name] = value
        write_atomically(self.path, json.dumps(values, indent=2, sort_keys=True).encode(), mode=0o600)


# ------------------------------------------------------------------------------------------------ S3


def _object_file(folder: Path, key: str) -> Path:
    return folder / hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()


class BucketMirror:
    """The stack's buckets mirrored into `s3/<bucket>/`: each object as `<sha256 of key>` (bytes) and `.json`
    (key, etag, content type, user metadata). `sync()` writes what changed since the last one and removes what
    was deleted; it runs every `interval` seconds and once more at stop. `restore()` puts the objects back."""

    def __init__(self, root: Path, buckets: Iterable[str], interval: float = 1.0) -> None:
        self.root = root
        self.buckets = list(buckets)
        self.interval = interval
        self._etags: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def restore(self, s3_client: Any) -> int:
        """Put every mirrored object back into its (freshly created) bucket; returns how many."""
        restored = 0
        for bucket in self.buckets:
            folder = self.root / bucket
            for meta_path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
                try:
                    meta = json.loads(meta_path.read_text(encoding="utf-8"))
                    body = meta_path.with_suffix("").read_bytes()
                except (OSError, ValueError):
                    log.warning("skipping unreadable mirrored object %s", meta_path)
                    continue
                extra: dict[str, Any] = {"Metadata": dict(meta.get("metadata") or {})}
                if meta.get("content_type"):
                    extra["ContentType"] = meta["content_type"]
                s3_client.put_object(Bucket=bucket, Key=meta["key"], Body=body, **extra)
                self._etags[(bucket, meta["key"])] = str(meta.get("etag"))
                restored += 1
        return restored

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="s3-mirror", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self.sync()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.sync()
            except Exception:  # noqa: BLE001 - try again next time; stop() syncs once more
                log.exception("could not mirror the buckets")

    def sync(self) -> int:
        """Write objects new or changed since the last sync, remove deleted ones; returns how many changed."""
        from moto.core.models import DEFAULT_ACCOUNT_ID
        from moto.s3.models import s3_backends

        backend = s3_backends[DEFAULT_ACCOUNT_ID]["global"]
        changed = 0
        with self._lock:
            for bucket_name in self.buckets:
                bucket = backend.buckets.get(bucket_name)
                if bucket is None:
                    continue
                folder = self.root / bucket_name
                names = _snapshot_keys(bucket.keys)
                for name in names:
                    key = bucket.keys.get(name)
                    if key is None or self._etags.get((bucket_name, name)) == key.etag:
                        continue
                    metadata = dict(key.metadata or {})
                    content_type = metadata.pop("content-type", None)
                    user = {k[len("x-amz-meta-"):]: v for k, v in metadata.items() if k.startswith("x-amz-meta-")}
                    path = _object_file(folder, name)
                    write_atomically(path, bytes(key.value))
                    record = {"key": name, "etag": key.etag, "content_type": content_type, "metadata": user}
                    write_atomically(path.with_suffix(".json"), json.dumps(record).encode())
                    self._etags[(bucket_name, name)] = key.etag
                    changed += 1
                for gone in [k for (b, k) in self._etags if b == bucket_name and k not in names]:
                    path = _object_file(folder, gone)
                    path.with_suffix(".json").unlink(missing_ok=True)
                    path.unlink(missing_ok=True)
                    del self._etags[(bucket_name, gone)]
                    changed += 1
        return changed


def _snapshot_keys(keys: Mapping[str, Any]) -> set[str]:
    """The key names, copied while the emulator's threads may be adding some."""
    for _ in range(5):
        try:
            return set(dict.keys(keys))  # type: ignore[arg-type]
        except RuntimeError:  # changed size during iteration
            time.sleep(0.01)
    return set(dict.keys(keys))  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------------ SQS


def _attributes_to_json(attributes: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for name, value in attributes.items():
        entry: dict[str, Any] = {"DataType": value.get("DataType", "String")}
        if "StringValue" in value:
            entry["StringValue"] = value["StringValue"]
        if "BinaryValue" in value:
            raw = value["BinaryValue"]
            entry["BinaryValue"] = base64.b64encode(raw if isinstance(raw, bytes) else str(raw).encode()).decode()
        out[name] = entry
    return out


def _attributes_from_json(attributes: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for name, value in attributes.items():
        entry = dict(value)
        if "BinaryValue" in entry:
            entry["BinaryValue"] = base64.b64decode(entry["BinaryValue"])
        out[name] = entry
    return out


def save_pending_messages(path: Path, queues: Mapping[str, str], region: str) -> int:
    """Every message still in the stack's queues (by logical id → queue name), with the seconds it still has to
    wait (delay or visibility timeout), into `path`. Run after the pollers stopped. Returns how many."""
    from moto.core.models import DEFAULT_ACCOUNT_ID
    from moto.sqs.models import sqs_backends

    backend = sqs_backends[DEFAULT_ACCOUNT_ID][region]
    now_ms = time.time() * 1000
    saved: dict[str, list[dict[str, Any]]] = {}
    for logical_id, name in queues.items():
        queue = backend.queues.get(name)
        if queue is None:
            continue
        with queue._messages_lock:
            messages = list(queue._messages)
        entries = []
        for message in messages:
            wait_ms = max(float(message.delayed_until or 0), float(message.visible_at or 0)) - now_ms
            entries.append({
                "body": message.body,
                "attributes": _attributes_to_json(message.message_attributes or {}),
                "wait_seconds": max(0.0, wait_ms / 1000),
                "receive_count": int(message.approximate_receive_count or 0),
            })  # fmt: skip
        if entries:
            saved[logical_id] = entries
    count = sum(len(v) for v in saved.values())
    if count:
        write_atomically(path, json.dumps({"saved_at": time.time(), "queues": saved}, indent=1).encode())
    else:
        path.unlink(missing_ok=True)
    return count


def resend_pending_messages(path: Path, queue_urls: Mapping[str, str], sqs_client: Any) -> int:
    """Send the saved messages again (a delay of what was left, at most SQS's 900 s; the time the stack was down
    counts as waited), then remove the file. Returns how many were sent."""
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return 0
    down_for = max(0.0, time.time() - float(saved.get("saved_at", time.time())))
    sent = 0
    for logical_id, entries in (saved.get("queues") or {}).items():
        url = queue_urls.get(logical_id)
        if url is None:
            log.warning("%d saved message(s) for %s, which the template no longer has: dropped", len(entries),
                        logical_id)  # fmt: skip
            continue
        for entry in entries:
            delay = min(SQS_MAX_DELAY_SECONDS, max(0, math.ceil(float(entry.get("wait_seconds", 0)) - down_for)))
            request: dict[str, Any] = {"QueueUrl": url, "MessageBody": entry["body"], "DelaySeconds": delay}
            if entry.get("attributes"):
                request["MessageAttributes"] = _attributes_from_json(entry["attributes"])
            sqs_client.send_message(**request)
            sent += 1
    path.unlink(missing_ok=True)
    return sent
