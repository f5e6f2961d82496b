"""The proof's record of what it makes: `aws-proof/record.jsonl`, one JSON object a line, each
written and synced to disk BEFORE the thing it names is created, so that a run killed at any
moment leaves a record naming everything it may have made. The next run cleans up exactly
what the record names (never what a name prefix matches), then starts its own record.

A line is one of:
- `run`: the run's id, profile, region and account (the first line);
- `bootstrap`: the shared `mirror-infra-bootstrap` stack did not exist and this run creates it
  (only then is it, or its bucket, ever deleted);
- `environment`: a throwaway environment (its name, its params file's text): its root stack,
  tagged with the run's id, and what the tool keeps for it (its artifacts folder
  `templates/<env>/`, its nonce versions);
- `resource`: one resource by CloudFormation type and physical id (what the proof makes itself
  with boto3, and what a stack made, read back once the stack exists);
- `key_intent`: a KMS key about to be created by the proof, by its description (its id is
  only known once it exists: the `resource` line that follows names it);
- `done`: the run's clean-up finished; nothing of it is left but what `pending` lists.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

RECORD = "record.jsonl"


class Kind(StrEnum):
    RUN = "run"
    BOOTSTRAP = "bootstrap"
    ENVIRONMENT = "environment"
    RESOURCE = "resource"
    KEY_INTENT = "key_intent"
    DONE = "done"


@dataclass(frozen=True)
class Entry:
    kind: Kind
    name: str  # run id, stack name, environment, physical id or key description
    type: str = ""  # a resource's CloudFormation type
    extra: dict = field(default_factory=dict)


class Record:
    """An append-only record on disk."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def add(self, kind: Kind, name: str, type: str = "", **extra) -> Entry:
        """Write one line and sync it to disk before returning (the caller creates after)."""
        entry = Entry(kind, name, type, extra)
        line = json.dumps({"kind": kind.value, "name": name, "type": type, **extra})
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as out:
            out.write(line + "\n")
            out.flush()
            os.fsync(out.fileno())
        return entry

    def entries(self) -> list[Entry]:
        """Every complete line (a line cut short by a kill is not one, and names nothing)."""
        found = []
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []
        for line in lines:
            try:
                data = json.loads(line)
                kind = Kind(data.pop("kind"))
            except (ValueError, KeyError):
                continue
            found.append(Entry(kind, data.pop("name"), data.pop("type", ""), data))
        return found

    def of(self, kind: Kind) -> list[Entry]:
        return [e for e in self.entries() if e.kind is kind]

    @property
    def run(self) -> Entry | None:
        runs = self.of(Kind.RUN)
        return runs[0] if runs else None

    @property
    def finished(self) -> bool:
        return bool(self.of(Kind.DONE))
