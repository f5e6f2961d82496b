"""`mirror-infra local start|status|stop` from a shell, as a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.localaws_fixtures import free_port


def run(cwd, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mirror_infra.cli", "local", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_start_status_refuse_second_start_and_stop(tmp_path):
    port = free_port()
    started = run(tmp_path, "start", "--port", str(port))
    try:
        assert started.returncode == 0, started.stderr
        assert f"http://127.0.0.1:{port}" in started.stdout
        state = json.loads((tmp_path / ".local-aws" / "server.json").read_text())
        assert state["port"] == port

        status = run(tmp_path, "status")
        assert status.returncode == 0 and "running at" in status.stdout

        again = run(tmp_path, "start", "--port", str(port))
        assert again.returncode == 1
        assert again.stderr.startswith("error: the local AWS is already running")
        elsewhere = tmp_path / "other"
        elsewhere.mkdir()
        busy = run(elsewhere, "start", "--port", str(port))
        assert busy.returncode == 1
        assert f"port {port} on 127.0.0.1 is already in use" in busy.stderr
    finally:
        stopped = run(tmp_path, "stop")
    assert stopped.returncode == 0 and "stopped" in stopped.stdout
    assert run(tmp_path, "status").returncode == 1
    assert "nothing to stop" in run(tmp_path, "stop").stdout
