"""Deploy figures on the AWS-paced local AWS: what a user waits for on AWS.

Both tools run on the same server at the same pace (each resource takes its typical AWS
duration times the pace: localaws/pacing.py), on the same staging environment and root
template. Per create and update:

- wall time of the command;
- exit delay: from the root stack's final status (its last event's timestamp, read from the
  server afterwards) to the command's exit;
- AWS calls per minute over the whole command, and for mirror-infra the calls per second while
  the operation runs (ExecuteChangeSet to the root stack's final event; the budget of issue
  12 is 1 per second on average per running apply), the calls after that end, and the most
  DescribeStackEvents calls on one stack within one poll (a poll starts with a read of the
  root stack's events).

And the create's exit delay over phases: the create at ten paces around the given one, so that
its end falls at ten moments between two reads of the root rather than at the one moment every
pair above sees.
"""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from datetime import datetime
from pathlib import Path

from bench.deploy import STACK, Server, _retention, deploy_argv
from bench.protocol import Figure, interleave, show

FINAL = ("_COMPLETE", "_FAILED")


def _root_final(server: Server) -> float:
    """time.time() of the root stack's newest final-status event (the server's clock is this
    machine's: it runs on 127.0.0.1)."""
    import boto3

    cfn = boto3.client(
        "cloudformation",
        endpoint_url=server.run.url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    for event in cfn.describe_stack_events(StackName=STACK)["StackEvents"]:
        own = event["LogicalResourceId"] == STACK and event["ResourceType"].endswith("::Stack")
        if own and event["ResourceStatus"].endswith(FINAL):
            stamp: datetime = event["Timestamp"]
            return stamp.timestamp()
    raise RuntimeError(f"{STACK} has no final event")


def _follow(record: dict, final: float) -> tuple[float, int, int]:
    """Calls per second made to follow the operation while it runs (after ExecuteChangeSet, up
    to the root stack's final event: the budget of issue 12, one call per second on average
    per running apply),
    the calls after that end (the last reads of the nested stacks and the finishing calls,
    made once per apply), and the most DescribeStackEvents on one stack within one poll."""
    calls = record["calls"]
    start = next(
        (i for i, c in enumerate(calls) if c[1] == "cloudformation.ExecuteChangeSet"), None
    )
    if start is None:
        return 0.0, 0, 0
    follow = calls[start:]
    # the calls made to follow it: ExecuteChangeSet starts the operation (awscli makes it too);
    # an operation shorter than a second counts as one second of the budget
    during = [c for c in follow[1:] if c[0] <= final]
    span = max(final - follow[0][0], 1.0)
    per_poll, worst = Counter(), 0
    for _, op, stack in follow:
        if op != "cloudformation.DescribeStackEvents":
            continue
        if stack in (STACK,) or stack.split("/")[1:2] == [STACK]:
            per_poll = Counter()  # a new poll starts at the root
        per_poll[stack] += 1
        worst = max(worst, per_poll[stack])
    return len(during) / span, len(follow) - 1 - len(during), worst


class _Samples:
    def __init__(self, name: str, command: str, baseline: str | None) -> None:
        self.wall = Figure(f"paced {name}: wall", command, baseline)
        self.delay = Figure(f"paced {name}: exit delay", command, baseline)
        self.rate = Figure(f"paced {name}: AWS calls per minute", command, baseline, unit="/min")
        self.follow = Figure(f"paced {name}: calls/s while the operation runs", command, unit="/s")
        self.per_poll: list[int] = []
        self.after: list[int] = []

    def ours(self, server: Server, took: float, record: dict) -> None:
        final = _root_final(server)
        self.wall.ours.append(took)
        self.delay.ours.append(record["ended"] - final)
        self.rate.ours.append(sum(record["counts"].values()) / took * 60)
        rate, after, worst = _follow(record, final)
        if os.environ.get("BENCH_KEEP_CALLS"):
            Path(os.environ["BENCH_KEEP_CALLS"]).write_text(json.dumps(record))
        self.follow.ours.append(rate)
        self.per_poll.append(worst)
        self.after.append(after)

    def theirs(self, server: Server, took: float, calls: int, ended: float) -> None:
        self.wall.baseline.append(took)
        self.delay.baseline.append(ended - _root_final(server))
        self.rate.baseline.append(calls / took * 60)

    def figures(self) -> list[Figure]:
        self.follow.note = (
            f"budget 1/s; most DescribeStackEvents per stack per poll: {max(self.per_poll)}; "
            f"calls after the end: {min(self.after)}–{max(self.after)}"
        )
        return [self.wall, self.delay, self.rate, self.follow]


def figures(repo: Path, pairs: int, pace: float) -> list[Figure]:
    aws = show(["aws", *deploy_argv(), "--endpoint-url", "<local AWS>"])
    create = _Samples("create", "mirror-infra apply --yes --local", aws)
    update = _Samples("update", "mirror-infra apply --yes --local  # retention 30 -> 60", aws)
    server = Server(repo)

    def ours() -> None:
        server.fresh(30)
        server.settings(pace=pace)
        create.ours(server, *server.run.ours_recorded("apply", "--yes"))
        _retention(server.workdir, 60)
        server.run.setup("lint", "--env", "staging")
        update.ours(server, *server.run.ours_recorded("apply", "--yes"))
        server.settings(pace=0)

    def theirs() -> None:
        server.fresh(30)
        server.settings(pace=pace)
        create.theirs(server, *server.run.awscli_recorded(*deploy_argv()))
        server.settings(pace=0)
        _retention(server.workdir, 60)
        server.run.setup("build")
        server.run.ours("plan")  # uploads the changed nested template for awscli
        server.settings(pace=pace)
        update.theirs(server, *server.run.awscli_recorded(*deploy_argv()))
        server.settings(pace=0)

    try:
        server.fresh(30)  # warm-up, not measured
        server.run.ours("apply", "--yes")
        interleave(pairs, ours, theirs)
    finally:
        server.close()
    result = create.figures() + update.figures()
    for figure in result:
        figure.name += f" (pace {pace})"
    return result


# the create ends at another moment between two reads of the root at each of these paces (the
# polls come on a fixed schedule from ExecuteChangeSet): the exit delay over the phases, where
# the figures above see one phase, the same in every pair
PHASE_FACTORS = (0.84, 0.88, 0.92, 0.96, 1.0, 1.04, 1.08, 1.12, 1.16, 1.2)


def phase_figure(repo: Path, pace: float) -> Figure:
    """mirror-infra's create exit delay at paces around `pace`, one run each (no baseline:
    awscli's figure above is 20 s at any phase)."""
    paces = [round(pace * f, 4) for f in PHASE_FACTORS]
    figure = Figure(
        f"paced create: exit delay over {len(paces)} phases (pace {paces[0]}–{paces[-1]})",
        "mirror-infra apply --yes --local",
    )
    server = Server(repo)
    try:
        server.fresh(30)  # warm-up, not measured
        server.run.ours("apply", "--yes")
        for step in paces:
            server.fresh(30)
            server.settings(pace=step)
            _, record = server.run.ours_recorded("apply", "--yes")
            figure.ours.append(record["ended"] - _root_final(server))
            server.settings(pace=0)
            print(f"  pace {step} done", file=sys.stderr, flush=True)
    finally:
        server.close()
    figure.note = "one run per pace; the median is the p50 over where the end falls"
    return figure


def express_figures(repo: Path, pairs: int, pace: float) -> list[Figure]:
    """Staging's create and update with `--express` against the same commands in the default
    mode, on the same server at the same pace (the baseline here is mirror-infra itself)."""
    command = "mirror-infra apply --yes --local --express"
    standard = "mirror-infra apply --yes --local"
    figures = {
        step: Figure(f"paced {step}: express mode vs standard, wall", command, standard)
        for step in ("create", "update")
    }
    server = Server(repo)

    def sequence(side: str, *extra: str) -> None:
        server.fresh(30)
        server.settings(pace=pace)
        took, _ = server.run.ours_recorded("apply", "--yes", *extra)
        getattr(figures["create"], side).append(took)
        _retention(server.workdir, 60)
        server.run.setup("lint", "--env", "staging")
        took, _ = server.run.ours_recorded("apply", "--yes", *extra)
        getattr(figures["update"], side).append(took)
        server.settings(pace=0)

    try:
        server.fresh(30)  # warm-up, not measured
        server.run.ours("apply", "--yes")
        interleave(pairs, lambda: sequence("ours", "--express"), lambda: sequence("baseline"))
    finally:
        server.close()
    for figure in figures.values():
        figure.name += f" (pace {pace})"
    return list(figures.values())
