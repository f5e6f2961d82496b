"""The local AWS server: moto's WSGI app on loopback, with every correction installed.

In front of moto: `GET`/`POST /localaws/settings` (the paced mode and the fault switch, see
pacing.py, as JSON), the throttling fault, which answers a call before moto sees it, and a
header on the answer of a call whose stack operation ended inside it (instant mode).
"""

from __future__ import annotations

import json
import logging
import re
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

from localaws import endpoint, pacing
from localaws.install import install

HOST = "127.0.0.1"
SETTINGS_PATH = "/localaws/settings"
# on the response of a call that started a stack operation which also ended inside it (instant
# mode): a client need not wait before its first look. AWS never sends it: its operations take
# seconds at least, and AWS's response to ExecuteChangeSet, DeleteStack or
# ContinueUpdateRollback says nothing of the operation's progress (API reference: empty results)
ENDED_IN_CALL = "x-localaws-ended-in-call"
_CREDENTIAL_SCOPE = re.compile(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/aws4_request")


class _Front:
    """The settings endpoint, the throttling fault and the ENDED_IN_CALL header, in front of
    moto's WSGI app."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: dict, start_response: Any) -> Any:
        if environ.get("PATH_INFO") == SETTINGS_PATH:
            return self._settings(environ, start_response)
        if not environ.get("HTTP_X_LOCALAWS_INTERNAL"):
            match = _CREDENTIAL_SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
            if match and pacing.throttled(match.group(1)):
                return _throttling(environ, start_response)
        pacing.begin_request()

        def start(status: str, headers: list, exc_info: Any = None) -> Any:
            if pacing.ended_in_call():
                headers = [*headers, (ENDED_IN_CALL, "true")]
            return start_response(status, headers, exc_info)

        return self.app(environ, start)

    @staticmethod
    def _settings(environ: dict, start_response: Any) -> list[bytes]:
        status = "200 OK"
        if environ.get("REQUEST_METHOD") == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            raw = environ["wsgi.input"].read(length) if length else b"{}"
            try:
                pacing.configure(**json.loads(raw or b"{}"))
                body = pacing.as_dict()
            except (ValueError, TypeError) as exc:
                status, body = "400 Bad Request", {"error": str(exc)}
        else:
            body = pacing.as_dict()
        data = json.dumps(body).encode()
        start_response(status, [("Content-Type", "application/json")])
        return [data]


def _throttling(environ: dict, start_response: Any) -> list[bytes]:
    """AWS's throttling answer: HTTP 400, code Throttling, "Rate exceeded" (JSON services
    name it ThrottlingException)."""
    request_id = str(uuid.uuid4())
    if environ.get("HTTP_X_AMZ_TARGET"):
        data = json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded"}).encode()
        kind = "application/x-amz-json-1.0"
    else:
        data = (
            "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code>"
            f"<Message>Rate exceeded</Message></Error><RequestId>{request_id}</RequestId>"
            "</ErrorResponse>"
        ).encode()
        kind = "text/xml"
    start_response("400 Bad Request", [("Content-Type", kind), ("x-amzn-RequestId", request_id)])
    return [data]


@dataclass
class LocalAws:
    """One running local AWS (in a thread of this process)."""

    host: str = HOST
    port: int = 0  # 0: any free port
    pace: float = 0.0  # 0: operations end within their call; 0.05: 5 % of AWS's typical times
    _server: object = field(default=None, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> LocalAws:
        """Listen (raises OSError when the port is taken) and serve in a daemon thread."""
        self._bind()
        self._thread = threading.Thread(
            target=self._server.serve_forever, name=f"local-aws-{self.port}", daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Listen and serve in this thread until interrupted."""
        self._bind()
        try:
            self._server.serve_forever()
        finally:
            self._server.server_close()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    @staticmethod
    def reset() -> None:
        """Forget every resource in every service (moto's /moto-api/reset, in-process), stop
        running operations, and go back to instant mode with no faults."""
        reset()

    def _bind(self) -> None:
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from werkzeug.serving import make_server

        install()
        if self.pace:
            pacing.configure(pace=self.pace)
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        app = _Front(DomainDispatcherApplication(create_backend_app))
        self._server = make_server(
            self.host, self.port, app, threaded=True, request_handler=MotoRequestHandler
        )
        self.port = self._server.server_port
        endpoint.set_url(self.url)


def reset() -> None:
    """Instant mode, no faults, no running operations, no resources."""
    from moto.moto_api._internal.models import moto_api_backend

    pacing.reset()
    moto_api_backend.reset()
