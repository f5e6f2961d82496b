"""The live view, driven through a pseudo-terminal on the AWS-paced local AWS (on the instant
one nothing is ever in progress): a line per stack with its progress bar and what is in
progress, a failure shown in place, and the summary it collapses into."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _in_a_terminal(argv: list[str], cwd, url: str, timeout: float = 120) -> tuple[int, str]:
    """Run mirror-infra with a pseudo-terminal as its stdin/stdout/stderr; all it drew."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 180, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE")}
    env.update(MIRROR_INFRA_LOCAL_URL=url, TERM="xterm-256color", COLUMNS="180", LINES="50")
    env.pop("MIRROR_INFRA_PLAIN", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "mirror_infra.cli", *argv],
        cwd=cwd,
        env=env,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        close_fds=True,
    )
    os.close(slave)
    drawn = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the terminal closed: the process ended
                break
            if not chunk:
                break
            drawn += chunk
        elif proc.poll() is not None:
            break
    else:
        proc.kill()
    os.close(master)
    return proc.wait(), ANSI.sub("", drawn.decode("utf-8", errors="replace"))


def test_the_live_view_shows_progress_then_collapses_into_a_summary(cli, local_aws, project):
    assert cli("bootstrap").code == 0
    local_aws.settings(pace=0.01)
    code, drawn = _in_a_terminal(["apply", "--local", "--yes"], project, local_aws.url)
    assert code == 0, drawn[-3000:]
    assert "━" in drawn  # progress bars
    assert re.search(r"Dynamodb\s.*\d+/3\s", drawn), drawn[-3000:]  # a stack's line and count
    assert re.search(r"in progress: \w+ \(\d+s\)", drawn)  # what runs now, and since when
    summary = re.search(
        r"(\d+) created, 0 updated, 0 deleted in [\d.]+s; slowest: (\S+) [\d.]+s", drawn
    )
    assert summary and int(summary.group(1)) >= 20, drawn[-3000:]
    assert "Key" in summary.group(2) or "Table" in summary.group(2)  # the slow kinds


def test_a_failure_is_shown_in_place_and_in_the_summary(cli, local_aws, project):
    assert cli("bootstrap").code == 0
    local_aws.settings(pace=0.01, fail_create=["AppRole"])
    code, drawn = _in_a_terminal(["apply", "--local", "--yes"], project, local_aws.url)
    assert code == 1
    assert re.search(r"failed\s+AppRole CREATE_FAILED", drawn), drawn[-3000:]  # in place
    assert "failed in Iam: AppRole CREATE_FAILED" in drawn  # kept in the summary
    assert re.search(r", [1-9]\d* failed in [\d.]+s", drawn)


def test_a_finished_stack_is_drawn_with_its_true_count(cli, local_aws, project, monkeypatch):
    """On the paced local AWS a nested stack's end reaches its parent's events before its
    own events are read (they are read in turn, within the call budget): it is never drawn
    finished before everything it did is counted, and neither is the root, whose resources
    are its five nested stacks (one per service, SPEC §2)."""
    from mirror_infra import live
    from mirror_infra.commands import common

    drawn_done: list[tuple[str, int, int]] = []

    class Watched(live.LiveView):
        def __call__(self, event) -> None:
            super().__call__(event)
            for path, s in self.stacks.items():
                if s.status and not s.status.endswith("_IN_PROGRESS"):
                    drawn_done.append((path or "root", s.done, s.total))

    monkeypatch.setattr(live, "LiveView", Watched)
    monkeypatch.setattr("mirror_infra.commands.apply.live_view", common._LazyLive)
    assert cli("bootstrap").code == 0
    local_aws.settings(pace=0.02)
    result = cli("apply", "--yes")
    assert result.code == 0, result.err
    finished = {path for path, _, _ in drawn_done}
    assert finished == {"root", "Kms", "Dynamodb", "Monitoring", "Storage", "Iam"}
    wrong = [
        (path, done, total)
        for path, done, total in drawn_done
        if done != (5 if path == "root" else total) or (path != "root" and not total)
    ]
    assert wrong == [], wrong
