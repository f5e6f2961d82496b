"""Run `mirror-infra` with every AWS call counted: `python bench/counting.py LOG ARGS...`.

The benchmark's own plumbing, outside the product: a `before-call` botocore event hook on
every client the run creates; the counts (by "service.Operation") are appended to LOG as one
JSON line when the command ends.
"""

from __future__ import annotations

import atexit
import json
import sys
from collections import Counter

import botocore.session

CALLS: Counter = Counter()


def _count(model, **_) -> None:
    CALLS[f"{model.service_model.service_name}.{model.name}"] += 1


def _install() -> None:
    create = botocore.session.Session.create_client

    def counted(self, *args, **kwargs):
        client = create(self, *args, **kwargs)
        client.meta.events.register("before-call.*.*", _count)
        return client

    botocore.session.Session.create_client = counted


def main() -> int:
    log, argv = sys.argv[1], sys.argv[2:]
    _install()

    def write() -> None:
        with open(log, "a", encoding="utf-8") as sink:
            sink.write(json.dumps(dict(CALLS)) + "\n")

    atexit.register(write)
    from mirror_infra.cli import main as cli

    return cli(argv)


if __name__ == "__main__":
    sys.exit(main())
