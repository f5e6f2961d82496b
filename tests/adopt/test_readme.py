"""The README's *Moving an existing environment* walkthrough runs as written, line by line, on
the local AWS: mirror-infra lines through the real CLI, the shell line through bash, the
stand-in for `terraform apply` as its module. `local start` is the session's local AWS."""

from __future__ import annotations

import re
import shlex
import subprocess

from tests.adopt import terraformed
from tests.adopt.conftest import unchanged
from tests.conftest import REPO

MARKERS = re.compile(
    r"<!-- adopt-walkthrough -->\n```bash\n(.*?)```\n<!-- /adopt-walkthrough -->", re.S
)


def walkthrough() -> list[str]:
    (block,) = MARKERS.findall((REPO / "README.md").read_text(encoding="utf-8"))
    return [line for line in block.splitlines() if line.strip()]


def test_the_readme_adoption_walkthrough_runs_as_written(cli, local_aws, project):
    made = None
    commands = []
    for line in walkthrough():
        words = shlex.split(line, comments=True)
        if words[:3] == [".venv/bin/mirror-infra", "local", "start"]:
            continue  # the session's local AWS is running already
        if words[:3] == [".venv/bin/python", "-m", "tests.adopt.terraformed"]:
            assert terraformed.main() == 0
            made = terraformed.snapshot(local_aws)
            continue
        if words[0] == ".venv/bin/mirror-infra":
            result = cli(*words[1:], local=False)
            commands.append(words[1])
            expected = 2 if words[1] in ("adopt", "plan") and "--out" in words else 0
            assert result.code == expected, f"{line}\n{result.text}"
            continue
        subprocess.run(["bash", "-c", line], cwd=project, check=True)
    assert made is not None and made.items and made.objects and made.nonce
    unchanged(local_aws, made)
    assert commands[-1] == "drift"
