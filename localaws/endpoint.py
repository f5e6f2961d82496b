"""Where the local AWS answers, and boto3 clients that call it from inside the server.

Resource providers act through the same service APIs a user calls, as CloudFormation's resource
handlers do, so what a stack creates looks exactly like what the describe APIs return.
"""

from __future__ import annotations

import threading
from typing import Any

_lock = threading.Lock()
_url: str | None = None
_clients: dict[tuple[str, str], Any] = {}

CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def set_url(url: str) -> None:
    """Record the server's own URL (called once the server listens)."""
    global _url
    with _lock:
        if url != _url:
            _clients.clear()
        _url = url.rstrip("/")


def url() -> str:
    if _url is None:
        raise RuntimeError("the local AWS server has not started; call server.start() first")
    return _url


def client(service: str, region: str) -> Any:
    """A cached boto3 client for `service` in `region` on the local AWS."""
    key = (service, region)
    with _lock:
        cached = _clients.get(key)
    if cached is not None:
        return cached
    import boto3
    import botocore.session
    from botocore.config import Config

    # the server calls itself with fixed credentials: a profile exported in the shell that
    # started it (even one this machine lacks) must not apply
    core = botocore.session.Session(session_vars={"profile": (None, None, None, None)})
    made = boto3.session.Session(botocore_session=core).client(
        service,
        region_name=region,
        endpoint_url=url(),
        config=Config(retries={"max_attempts": 1}, connect_timeout=5, read_timeout=60),
        **CREDENTIALS,
    )
    # the fault switch throttles callers, never the local AWS calling itself
    made.meta.events.register("before-sign", _mark_internal)
    with _lock:
        return _clients.setdefault(key, made)


def _mark_internal(request: Any, **_: Any) -> None:
    request.headers["X-Localaws-Internal"] = "1"
