"""Starts the real `noex-server` binary for each test and hands its URL to the original
client (`noex-client` from PyPI). The binary is `$NOEX_SERVER_BIN` (run.sh sets it)."""

import json
import os
import signal
import subprocess
import tempfile
import time

import pytest
from noex_client import NoexClient
from noex_client.config import AuthOptions, ClientOptions


class Client(NoexClient):
    """noex-client 0.1.1 as published, except that `disconnect()` also closes its socket: the
    published one cancels its reader first, which forgets the socket without a close frame, so
    a server (the original too) keeps the connection until the Python process exits."""

    async def disconnect(self) -> None:
        ws = self._transport._ws
        await super().disconnect()
        if ws is not None:
            await ws.close()


class Server:
    """One `noex-server` process on 127.0.0.1, port 0, with a config file of our own."""

    def __init__(self, config: dict, *flags: str, data_dir: str | None = None):
        self.dir = data_dir or tempfile.mkdtemp(prefix="noex-client-test-")
        self.config = {"shutdownGracePeriodMs": 0, **config}
        self.flags = flags
        self.proc = None
        self.url = None

    def start(self) -> "Server":
        path = os.path.join(self.dir, "config.json")
        with open(path, "w") as f:
            json.dump(self.config, f)
        binary = os.environ["NOEX_SERVER_BIN"]
        self.proc = subprocess.Popen(
            [binary, "--host", "127.0.0.1", "--port", "0", "-c", path, *self.flags],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=self.dir)
        deadline = time.monotonic() + 30
        seen = []
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            seen.append(line)
            if "URL:" in line:
                self.url = line.split("URL:", 1)[1].strip()
                return self
        self.stop()
        raise RuntimeError("server did not start:\n" + "".join(seen))

    def stop(self) -> int | None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode if self.proc else None

    def client(self, token: str | None = None, **options) -> Client:
        auth = AuthOptions(token=token) if token else None
        return Client(self.url, ClientOptions(auth=auth, reconnect=False, **options))


@pytest.fixture
def start_server():
    """`start_server(config, *flags)` → a running Server; every one is stopped after the test."""
    started = []

    def start(config: dict | None = None, *flags: str, data_dir: str | None = None) -> Server:
        server = Server(config or {}, *flags, data_dir=data_dir).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def uuid_bucket(**fields) -> dict:
    return {"key": "id", "schema": {"id": {"type": "string", "generated": "uuid"}, **fields}}


SCHEMA = {
    "buckets": {
        "users": uuid_bucket(name={"type": "string", "required": True}, email={"type": "string"},
                             role={"type": "string", "default": "user"}, age={"type": "number"}),
        "products": uuid_bucket(title={"type": "string", "required": True},
                                price={"type": "number", "default": 0}),
    },
    "queries": {
        "all-users": {"bucket": "users"},
        "user-count": {"bucket": "users", "aggregate": {"function": "count"}},
    },
}


@pytest.fixture
def server(start_server):
    """Buckets users and products, queries all-users and user-count, the rule engine on, no auth."""
    return start_server(SCHEMA)
