"""Follow a command the tool printed as advice, as printed, against the local AWS: an `aws ...`
command (`follow`) or one of the tool's own, `mirror-infra ...` (`follow_tool`).

The command is read as the AWS CLI reads it: `aws SERVICE OPERATION --flag value ...`, each flag
the CLI's spelling of a member of the operation's input in botocore's service model
(`--change-set-name` is `ChangeSetName`; a boolean is `--x` or `--no-x`; a list takes one value
here). It must name the local AWS's endpoint: advice followed from --local never reaches a real
account.

A `mirror-infra ...` command runs in-process with exactly the words printed (the test fixture's
own `--local` left out), so it must itself carry `--local`: without it the user's default AWS
profile would be used.
"""

from __future__ import annotations

import os
import re
import shlex
from typing import Any

from botocore import xform_name


def commands(line: str) -> list[str]:
    """Every `aws ...` command in one line of output, in order: quoted ('aws ...'), in
    parentheses ((aws ...)), after "to: " or ending the line."""
    return [m.strip() for m in re.findall(r"\b(aws [^'()]+?)(?:'|\)|, then |$)", line)]


def follow(command: str, local_aws, **added: str) -> dict[str, Any]:
    """Run `command` (plus `added` flags the advice asks the user to add, e.g. value="...")
    through boto3 on the local AWS; AWS's answer."""
    words = shlex.split(command) + [w for k, v in added.items() for w in (f"--{k}", v)]
    assert words[0] == "aws", command
    service, operation = words[1], words[2]
    client = local_aws.client(service)  # region replaced below
    model = client.meta.service_model
    name = next(n for n in model.operation_names if xform_name(n, "-") == operation)
    members = model.operation_model(name).input_shape.members
    flags: dict[str, str] = {}
    params: dict[str, Any] = {}
    rest = words[3:]
    while rest:
        flag = rest.pop(0)
        assert flag.startswith("--"), (flag, command)
        cli_name = flag[2:]
        negated = cli_name.startswith("no-") and cli_name[3:] in _cli_names(members)
        member = _cli_names(members).get(cli_name[3:] if negated else cli_name)
        if member is not None and members[member].type_name == "boolean":
            params[member] = not negated
            continue
        value = rest.pop(0)
        if member is None:
            flags[cli_name] = value  # a global option: --region, --endpoint-url, --profile
        elif members[member].type_name == "list":
            params[member] = [value]
        else:
            params[member] = value
    assert flags.pop("endpoint-url") == local_aws.url, command  # never a real account
    assert "profile" not in flags, command
    region = flags.pop("region")
    assert not flags, (flags, command)
    return getattr(local_aws.client(service, region=region), xform_name(name))(**params)


def _cli_names(members) -> dict[str, str]:
    return {xform_name(m, "-"): m for m in members}


TOOL = re.compile(r"'(mirror-infra [^']+)'")


def tool_commands(text: str) -> list[str]:
    """Every `mirror-infra ...` command quoted ('mirror-infra ...') in the tool's output."""
    return TOOL.findall(text)


def aimed_at_local(command: str) -> list[str]:
    """The words of a `mirror-infra` command printed under --local, checked to act on the
    local AWS (`--local`, no `--profile`)."""
    words = shlex.split(command)
    assert words[0] == "mirror-infra", command
    assert not os.environ.get("MIRROR_INFRA_LOCAL"), "the test would not see a missing --local"
    assert "--local" in words, f"advice without --local would reach a real account: {command}"
    assert "--profile" not in words, command
    return words[1:]


def follow_tool(command: str, cli, *added: str):
    """Run the printed `mirror-infra` command (plus `added` words the advice asks for, e.g.
    --yes) as printed, without the fixture's own --local; the CliResult."""
    return cli(*aimed_at_local(command), *added, local=False)
