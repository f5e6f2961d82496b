"""The local AWS server: moto's WSGI app on loopback, with every correction installed."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from localaws import endpoint
from localaws.install import install

HOST = "127.0.0.1"


@dataclass
class LocalAws:
    """One running local AWS (in a thread of this process)."""

    host: str = HOST
    port: int = 0  # 0: any free port
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
        """Forget every resource in every service (moto's /moto-api/reset, in-process)."""
        reset()

    def _bind(self) -> None:
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from werkzeug.serving import make_server

        install()
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        app = DomainDispatcherApplication(create_backend_app)
        self._server = make_server(
            self.host, self.port, app, threaded=True, request_handler=MotoRequestHandler
        )
        self.port = self._server.server_port
        endpoint.set_url(self.url)


def reset() -> None:
    from moto.moto_api._internal.models import moto_api_backend

    moto_api_backend.reset()
