"""pytest plugin: the local AWS for tests, and plain moto for the canary tests.

- `local_aws_server` (session): one patched server in a thread of the test process.
- `local_aws` (function): that server with every service's state reset before the test, and
  MIRROR_INFRA_LOCAL_URL pointing at it for the test's duration. Yields a `LocalAwsHandle`:
  `.url`, `.region` ("us-east-1"), `.client(service, region=None)`, `.settings(**changes)`
  (the paced mode and the fault switch, through the server's settings endpoint; the reset
  before each test puts back instant mode with no faults).
- `plain_moto` (function): an unpatched `python -m moto.server` in a subprocess (one per
  session, reset before each test) for `@pytest.mark.moto_canary` tests, which fail once moto
  itself closes a gap so that the corresponding unit can be deleted.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

LOCAL_URL_VAR = "MIRROR_INFRA_LOCAL_URL"
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "moto_canary: runs against plain moto and fails when moto fixes a gap upstream "
        "(then delete the local AWS unit that closes it)",
    )


@dataclass
class LocalAwsHandle:
    """What a test gets: where the local AWS is, and boto3 clients for it."""

    url: str
    region: str = "us-east-1"
    _clients: dict = field(default_factory=dict, repr=False)

    def client(self, service: str, region: str | None = None) -> Any:
        import boto3
        from botocore.config import Config

        key = (service, region or self.region)
        if key not in self._clients:
            self._clients[key] = boto3.session.Session().client(
                service,
                region_name=key[1],
                endpoint_url=self.url,
                config=Config(retries={"max_attempts": 1}),
                **CREDENTIALS,
            )
        return self._clients[key]

    def settings(self, **changes: Any) -> dict:
        """Switch the running server's paced mode / fault switch (POST /localaws/settings)."""
        import json

        request = urllib.request.Request(
            f"{self.url}/localaws/settings",
            data=json.dumps(changes).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            return json.loads(answer.read())


@pytest.fixture(scope="session")
def local_aws_server() -> Iterator[LocalAwsHandle]:
    """The patched local AWS, started once for the session on a free port."""
    from localaws import LocalAws

    server = LocalAws(port=0).start()
    try:
        yield LocalAwsHandle(server.url)
    finally:
        server.stop()


@pytest.fixture
def local_aws(local_aws_server: LocalAwsHandle, monkeypatch: pytest.MonkeyPatch) -> LocalAwsHandle:
    """The local AWS with empty state, targeted by the CLI's --local for this test."""
    from localaws import reset

    reset()
    monkeypatch.setenv(LOCAL_URL_VAR, local_aws_server.url)
    for var in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(var, raising=False)
    return local_aws_server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_answers(url: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(f"{url}/moto-api/data.json", timeout=1).read()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


@pytest.fixture(scope="session")
def plain_moto_server() -> Iterator[LocalAwsHandle]:
    """moto's own server, unpatched, in a subprocess (patches here would leak into it)."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "MOTO_ALLOW_NONEXISTENT_REGION": "false"},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_answers(url)
        yield LocalAwsHandle(url)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def plain_moto(plain_moto_server: LocalAwsHandle) -> LocalAwsHandle:
    """Unpatched moto with empty state."""
    request = urllib.request.Request(f"{plain_moto_server.url}/moto-api/reset", method="POST")
    urllib.request.urlopen(request, timeout=10).read()
    return plain_moto_server
