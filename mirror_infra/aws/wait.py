"""Adaptive polling: quick at first, backing off to a cap — never a fixed sleep."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Backoff:
    first: float = 1.0
    factor: float = 1.5
    cap: float = 10.0

    @classmethod
    def for_target(cls, local: bool) -> Backoff:
        # the local AWS answers in milliseconds; AWS takes seconds per resource
        return cls(first=0.05, factor=1.5, cap=0.5) if local else cls()

    def delays(self) -> Iterator[float]:
        delay = self.first
        while True:
            yield delay
            delay = min(delay * self.factor, self.cap)


class Timeout(Exception):
    """Polling gave up before the condition held."""


def poll(
    fetch: Callable[[], T],
    done: Callable[[T], bool],
    backoff: Backoff,
    timeout: float,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Call `fetch` until `done(result)`; raise Timeout after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    for delay in backoff.delays():
        result = fetch()
        if done(result):
            return result
        if time.monotonic() + delay > deadline:
            raise Timeout(f"gave up after {timeout:.0f}s")
        sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover
