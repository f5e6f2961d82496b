"""The whole environment deployed at AWS's pace (1 % of typical times): the stack and its nested
stacks really are in progress while apply follows them, as on AWS."""

from __future__ import annotations

import threading
import time

import pytest


def test_apply_follows_a_paced_create_to_the_end_and_then_has_nothing_to_do(cli, local_aws):
    local_aws.settings(pace=0.01)
    assert cli("bootstrap").code == 0
    started = time.monotonic()
    result = cli("apply", "--yes")
    assert result.code == 0, result.text
    assert "CREATE_IN_PROGRESS" in result.err
    assert time.monotonic() - started > 1.2  # the key alone takes 120 s x 0.01
    stack = local_aws.client("cloudformation").describe_stacks(
        StackName="mirror-dissonance-staging"
    )["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    again = cli("plan")
    assert again.code == 0, again.text
    assert "No changes." in again.err + again.out


@pytest.fixture
def followed(monkeypatch):
    """What following an operation does, in order: ("pause", seconds asked for), ("poll",
    whether it reads the root), ("read", (poll number, stack id))."""
    from mirror_infra.deploy import operation as applying
    from mirror_infra.deploy.events import EventStream

    log: list[tuple[str, object]] = []
    real_sleep = time.sleep

    class Clock:
        monotonic = staticmethod(time.monotonic)

        @staticmethod
        def sleep(seconds: float) -> None:
            log.append(("pause", seconds))
            real_sleep(seconds)

    read = EventStream._poll_stack
    polled = EventStream.poll

    def poll_stack(self, stack_id, path):
        log.append(("read", (self._polls, stack_id)))
        return read(self, stack_id, path)

    def poll(self, limit=None, root=True):
        log.append(("poll", root))
        return polled(self, limit, root)

    monkeypatch.setattr(applying, "time", Clock)
    monkeypatch.setattr(EventStream, "_poll_stack", poll_stack)
    monkeypatch.setattr(EventStream, "poll", poll)
    return log


def test_following_a_paced_create_keeps_to_the_call_budget(cli, local_aws, followed):
    """README, On a real account: following an operation makes at most one call per second on
    average (the local AWS's paced mode stands for AWS), and reads each stack's events at most
    once per poll. Checked on the calls made and the pauses asked for, not on a clock."""
    from mirror_infra.deploy import operation as applying

    local_aws.settings(pace=0.01)
    assert cli("bootstrap").code == 0
    followed.clear()
    assert cli("apply", "--yes").code == 0
    reads = [value for kind, value in followed if kind == "read"]
    assert len(reads) == len(set(reads))  # no stack twice in one poll
    # from the read of the root that saw the end, no stack is read twice: a nested stack read
    # after the root's read that reported its end has its last events already
    root = reads[0][1]
    last_root = max(i for i, (_, stack) in enumerate(reads) if stack == root)
    at_end = [stack for _, stack in reads[last_root:]]
    assert len(at_end) == len(set(at_end)), at_end
    # every poll while the operation runs, the first look included, is paid for before it is
    # made: its first read stays within one per second of the pauses asked for so far (the
    # last reads of the nested stacks once it has ended are not the operation's)
    assert followed[0][0] == "pause", followed[:3]
    calls, paused = 0, 0.0
    for kind, value in followed:
        if kind == "poll" and value:
            assert calls + 1 <= paused * applying.CALLS_PER_SECOND, (calls, paused)
        elif kind == "read":
            calls += 1
        elif kind == "pause":
            paused += value
    assert paused > 1  # the create really was followed while in progress


def test_an_operation_that_ended_inside_its_call_is_looked_at_at_once(cli, local_aws, followed):
    """The instant local AWS ends an operation inside ExecuteChangeSet and says so
    (tests/localaws/test_paced.py): its apply is followed without a pause; on AWS, and paced,
    the first look waits its second (above)."""
    assert cli("bootstrap").code == 0
    followed.clear()
    assert cli("apply", "--yes").code == 0
    assert ("poll", True) in followed
    assert [entry for entry in followed if entry[0] == "pause"] == []


def test_the_end_of_an_apply_costs_no_call_it_does_not_need(cli, local_aws, monkeypatch):
    """Once the root stack's own final event is read (API_StackEvent: ResourceStatus of the
    stack itself), that status is the operation's end: no DescribeStacks confirms it, the root
    is not read again, and finishing a create reads the nonce path once (DescribeParameters)
    before creating it (PutParameter). DescribeStacks runs once after ExecuteChangeSet: for
    the outputs, the key and termination protection."""
    from botocore.client import BaseClient

    calls: list[str] = []
    real = BaseClient._make_api_call

    def record(self, operation, params):
        if threading.current_thread() is threading.main_thread():  # the tool's, not the server's
            calls.append(operation)
        return real(self, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", record)
    local_aws.settings(pace=0.01)
    assert cli("bootstrap").code == 0
    calls.clear()
    assert cli("apply", "--yes").code == 0
    after = calls[calls.index("ExecuteChangeSet") :]
    assert after.count("DescribeStacks") == 1, after
    ssm = [c for c in after if c in ("DescribeParameters", "PutParameter", "GetParameter")]
    assert ssm == ["DescribeParameters", "PutParameter"], after
