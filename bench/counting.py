"""Run `mirror-infra` with every AWS call counted: `python bench/counting.py LOG ARGS...`.

The benchmark's own plumbing, outside the product: a `before-parameter-build` botocore event hook on
every client the run creates; when the command ends, one JSON line is appended to LOG: the
counts by "service.Operation" and every call as [seconds since the epoch, operation, the
StackName it names or ""].
"""

from __future__ import annotations

import atexit
import json
import sys
import time
from collections import Counter

import botocore.session

CALLS: Counter = Counter()
TIMELINE: list[list] = []


def _count(model, params=None, **_) -> None:
    # before-parameter-build: `params` are the operation's own (StackName), not the request's
    name = f"{model.service_model.service_name}.{model.name}"
    CALLS[name] += 1
    stack = (params or {}).get("StackName", "") if isinstance(params, dict) else ""
    TIMELINE.append([time.time(), name, stack])


def _install() -> None:
    create = botocore.session.Session.create_client

    def counted(self, *args, **kwargs):
        client = create(self, *args, **kwargs)
        client.meta.events.register("before-parameter-build.*.*", _count)
        return client

    botocore.session.Session.create_client = counted


def main() -> int:
    log, argv = sys.argv[1], sys.argv[2:]
    _install()

    def write() -> None:
        with open(log, "a", encoding="utf-8") as sink:
            sink.write(json.dumps({"counts": dict(CALLS), "calls": TIMELINE}) + "\n")

    atexit.register(write)
    from mirror_infra.cli import main as cli

    return cli(argv)


if __name__ == "__main__":
    sys.exit(main())
