"""Every change set the tool makes is executed, saved with --out, or deleted — on every way out
of a command: a refusal, an AWS error in the middle, Ctrl-C at the prompt or while a change set
is still being made, SIGTERM. After each, every change set on every stack of the environment is
listed (nested stacks included): none is left unless it was saved, and no stack is left
REVIEW_IN_PROGRESS by an abandoned create (issue 22)."""

from __future__ import annotations

import os
import signal

import pytest
from botocore.awsrequest import AWSResponse

from mirror_infra import ui
from mirror_infra.aws.target import Target
from tests.advice import commands, follow

# a change set that ran is AWS's record of an operation, not one left behind (OBSOLETE ones,
# never run, are)
RAN = ("EXECUTE_COMPLETE", "EXECUTE_FAILED", "EXECUTE_IN_PROGRESS")


def leftovers(local_aws, region: str = "us-east-1") -> dict[str, list[str]]:
    """Every stack's change sets that never ran ({stack name: ["name status"]}), and every
    stack left REVIEW_IN_PROGRESS (listed under the name "REVIEW_IN_PROGRESS")."""
    cfn = local_aws.client("cloudformation", region)
    found: dict[str, list[str]] = {}
    stacks = cfn.list_stacks()["StackSummaries"]
    for stack in stacks:
        if stack["StackStatus"] == "DELETE_COMPLETE":
            continue
        if stack["StackStatus"] == "REVIEW_IN_PROGRESS":
            found.setdefault("REVIEW_IN_PROGRESS", []).append(stack["StackName"])
        names = [
            f"{s['ChangeSetName']} {s['ExecutionStatus']}"
            for s in cfn.list_change_sets(StackName=stack["StackId"])["Summaries"]
            if s["ExecutionStatus"] not in RAN
        ]
        if names:
            found[stack["StackName"]] = names
    return found


def _retention(project, days: int) -> None:
    params = project / "params" / "staging.yaml"
    params.write_text(
        params.read_text().replace("log_retention_days: 30", f"log_retention_days: {days}")
    )


def _pending_change(project) -> None:
    """A change that loses nothing: the log group keeps its events longer."""
    _retention(project, 60)


def _retention_cut(project) -> None:
    """A change apply refuses unless named: the log group keeps its events for less time."""
    _retention(project, 14)


def _answer_at_the_prompt(monkeypatch, answer) -> list[str]:
    asked: list[str] = []

    def confirm(question: str, expected: str | None = None) -> bool:
        asked.append(question)
        return answer()

    monkeypatch.setattr(ui, "confirm", confirm)
    return asked


def _ctrl_c():
    raise KeyboardInterrupt


def _sigterm():
    os.kill(os.getpid(), signal.SIGTERM)  # as CI cancelling the job sends it
    return True  # not reached: the handler raises as the signal arrives


def _fault(monkeypatch, operation: str, fail) -> list[int]:
    """`fail(n)` decides for the n-th call (from 1) of the CloudFormation `operation` made by
    the tool: None lets it through, an exception type is raised, a (code, status) pair is
    answered as AWS's error. The local AWS cannot be made to answer so on demand."""
    calls: list[int] = []
    original = Target.client

    def answer(**kwargs):
        calls.append(len(calls) + 1)
        outcome = fail(len(calls))
        if outcome is None:
            return None
        if isinstance(outcome, type):
            raise outcome()
        code, status = outcome
        response = AWSResponse("https://cloudformation", status, {}, None)
        return response, {
            "Error": {"Code": code, "Message": f"{operation} answered {status} (injected)"},
            "ResponseMetadata": {"HTTPStatusCode": status},
        }

    def client(self, service):
        made = original(self, service)
        if service == "cloudformation" and not getattr(made, "_fault_hooked", False):
            made.meta.events.register(f"before-call.cloudformation.{operation}", answer)
            made._fault_hooked = True
        return made

    monkeypatch.setattr(Target, "client", client)
    return calls


@pytest.mark.parametrize(
    ("answer", "code"), [(_ctrl_c, 130), (_sigterm, 143)], ids=["ctrl-c", "sigterm"]
)
def test_apply_interrupted_at_its_prompt_leaves_no_change_set(
    deployed, project, local_aws, monkeypatch, answer, code
):
    _pending_change(project)
    asked = _answer_at_the_prompt(monkeypatch, answer)
    result = deployed("apply")
    assert result.code == code, result.text
    assert asked  # it was interrupted at the prompt, with the change sets made
    assert leftovers(local_aws) == {}
    assert signal.getsignal(signal.SIGTERM) is not None  # the CLI put the old handler back


def test_an_abandoned_first_create_leaves_no_stack(cli, local_aws, monkeypatch):
    assert cli("bootstrap").code == 0
    asked = _answer_at_the_prompt(monkeypatch, _ctrl_c)
    assert cli("apply").code == 130
    assert asked
    assert leftovers(local_aws) == {}
    stacks = local_aws.client("cloudformation").list_stacks()["StackSummaries"]
    assert [s["StackName"] for s in stacks if s["StackStatus"] != "DELETE_COMPLETE"] == [
        "mirror-infra-bootstrap"
    ]


def test_a_refused_plan_and_apply_leave_no_change_set(deployed, project, local_aws, monkeypatch):
    _retention_cut(project)
    asked = _answer_at_the_prompt(monkeypatch, lambda: True)
    for argv in (("plan",), ("plan", "--out", "refused.json"), ("apply",), ("apply", "--yes")):
        result = deployed(*argv)
        assert result.code == 1, result.text
        assert "refusing to change data" in result.err
        assert leftovers(local_aws) == {}, argv
    # refused before anyone was asked to confirm what could not run anyway (flow.apply's own
    # refusal; start() refuses again later, but only after the question)
    assert asked == []
    assert not (project / "refused.json").exists()


def test_only_a_saved_plan_keeps_its_change_set(deployed, project, local_aws):
    _pending_change(project)
    assert deployed("plan").code == 2
    assert leftovers(local_aws) == {}
    assert deployed("plan", "--out", "saved.json").code == 2
    kept = leftovers(local_aws)
    assert "mirror-dissonance-staging" in kept
    assert all(len(names) == 1 for names in kept.values())  # the root's and its nested ones
    assert deployed("apply", "--plan", "saved.json").code == 0
    assert leftovers(local_aws) == {}


@pytest.mark.parametrize("command", ["plan", "apply"])
def test_an_aws_error_mid_way_leaves_no_change_set(
    deployed, project, local_aws, monkeypatch, command
):
    """DescribeChangeSet answers 500 once the change set exists: the command fails with AWS's
    error, and its change sets are deleted all the same (DescribeChangeSet is not needed to
    delete one)."""
    _pending_change(project)
    _fault(monkeypatch, "DescribeChangeSet", lambda n: ("InternalFailure", 500))
    argv = ("apply", "--yes") if command == "apply" else ("plan",)
    result = deployed(*argv)
    assert result.code == 1
    assert "InternalFailure" in result.err
    assert leftovers(local_aws) == {}


def test_a_refused_execution_after_a_first_create_leaves_no_change_set(
    cli, project, local_aws, monkeypatch
):
    """Production's first create runs on unprotected tables and the same apply turns their
    protection on by an update (flow._protect_tables); when that update's ExecuteChangeSet is
    refused (another apply got there first: InvalidChangeSetStatus), its change sets go."""
    assert cli("bootstrap", "--env", "production").code == 0
    _fault(
        monkeypatch,
        "ExecuteChangeSet",
        lambda n: ("InvalidChangeSetStatus", 400) if n == 2 else None,
    )
    result = cli("apply", "--env", "production", "--yes", "--confirm-env", "production")
    assert result.code == 1, result.text
    assert "deletion protection is not on yet" in result.err
    assert leftovers(local_aws) == {}


def test_ctrl_c_while_a_change_set_is_made_deletes_it_once_made(
    deployed, project, local_aws, monkeypatch
):
    """On AWS's pace the change set is still CREATE_IN_PROGRESS when Ctrl-C arrives; AWS
    refuses to delete it then (API_DeleteChangeSet), so the tool waits until it is made."""
    _pending_change(project)
    local_aws.settings(pace=0.05)
    _fault(monkeypatch, "DescribeChangeSet", lambda n: KeyboardInterrupt if n == 1 else None)
    assert deployed("plan").code == 130
    assert leftovers(local_aws) == {}


def test_a_change_set_that_could_not_be_deleted_is_named_with_the_command_that_deletes_it(
    deployed, project, local_aws, monkeypatch
):
    """DeleteChangeSet answering 500 every time leaves the plan's change set: it is named in a
    warning with the command that deletes it, aimed at this target (the local AWS's endpoint:
    never a real account), and that command, followed as printed, leaves none (deleting the
    root change set deletes its nested ones: API_DeleteChangeSet)."""
    _pending_change(project)
    _fault(monkeypatch, "DeleteChangeSet", lambda n: ("InternalFailure", 500))
    result = deployed("plan")
    assert result.code == 1, result.text
    warnings = [line for line in result.err.splitlines() if line.startswith("WARNING: change set")]
    assert warnings and all("could not be deleted" in line for line in warnings), result.err
    assert "mirror-dissonance-staging" in leftovers(local_aws)
    for line in warnings:
        (advice,) = commands(line)
        assert advice.startswith("aws cloudformation delete-change-set "), advice
        follow(advice, local_aws)
    assert leftovers(local_aws) == {}
