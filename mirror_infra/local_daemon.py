"""The background local AWS that `mirror-infra local start|stop|status` manages.

The local AWS is its own package (`localaws`, installed with the `local` extra); the tool never
imports it. The server runs as a detached process (`python -m localaws serve`); its pid, port
and log live in `.local-aws/` of the working directory, so state survives across commands for as
long as that process runs, and `stop` ends only the process this file names, after checking it
is a local AWS server.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

from mirror_infra.errors import TargetError

STATE_DIR = ".local-aws"
STATE_FILE = "server.json"
LOG_FILE = "server.log"
HOST = "127.0.0.1"
MODULE = "localaws"  # run by module name; also how `status` recognises the process


@dataclass(frozen=True)
class Running:
    pid: int
    port: int
    url: str
    log: str


def state_dir(root: Path | None = None) -> Path:
    return (root or Path.cwd()) / STATE_DIR


def _read(root: Path | None) -> Running | None:
    path = state_dir(root) / STATE_FILE
    try:
        return Running(**json.loads(path.read_text()))
    except (OSError, ValueError, TypeError):
        return None


def _is_ours(pid: int) -> bool:
    """Whether `pid` is alive and is a local AWS server (not a recycled pid)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False
    cmdline = Path(f"/proc/{pid}/cmdline")
    if cmdline.exists():
        try:
            return MODULE in cmdline.read_bytes().decode(errors="replace")
        except OSError:
            return False
    return True  # no /proc (macOS): the pid file is all we have


def answers(url: str, timeout: float = 1.0) -> bool:
    try:
        urllib.request.urlopen(f"{url}/moto-api/data.json", timeout=timeout).read()
        return True
    except OSError:
        return False


def _port_busy(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((HOST, port)) == 0


def status(root: Path | None = None) -> Running | None:
    """The server this directory started, if it still runs."""
    running = _read(root)
    if running is None or not _is_ours(running.pid):
        return None
    return running


def start(port: int, root: Path | None = None, timeout: float = 30.0) -> Running:
    """Start the server in the background and wait until it answers."""
    current = status(root)
    if current is not None:
        raise TargetError(
            f"the local AWS is already running at {current.url} (pid {current.pid}); "
            "'mirror-infra local stop' first"
        )
    if _port_busy(port):
        raise TargetError(
            f"port {port} on {HOST} is already in use; stop what listens there or pass --port"
        )
    directory = state_dir(root)
    directory.mkdir(exist_ok=True)
    log_path = directory / LOG_FILE
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", MODULE, "serve", "--port", str(port), "--host", HOST],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
            cwd=directory,
        )
    url = f"http://{HOST}:{port}"
    deadline = time.monotonic() + timeout
    while not answers(url):
        if proc.poll() is not None:
            tail = log_path.read_text(errors="replace").strip().splitlines()[-1:]
            raise TargetError(
                f"the local AWS exited at start ({'; '.join(tail) or 'no output'}); see {log_path}"
            )
        if time.monotonic() > deadline:
            proc.terminate()
            raise TargetError(f"the local AWS did not answer at {url} within {timeout:.0f}s")
        time.sleep(0.1)
    running = Running(pid=proc.pid, port=port, url=url, log=str(log_path))
    (directory / STATE_FILE).write_text(json.dumps(asdict(running), indent=2) + "\n")
    return running


def stop(root: Path | None = None, timeout: float = 10.0) -> Running | None:
    """Stop the server this directory started; None when none was running."""
    running = _read(root)
    path = state_dir(root) / STATE_FILE
    if running is None or not _is_ours(running.pid):
        path.unlink(missing_ok=True)
        return None
    os.kill(running.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _is_ours(running.pid) and time.monotonic() < deadline:
        _reap(running.pid)
        time.sleep(0.05)
    if _is_ours(running.pid):
        os.kill(running.pid, signal.SIGKILL)
    _reap(running.pid)
    path.unlink(missing_ok=True)
    return running


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
