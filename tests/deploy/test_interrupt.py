"""Ctrl-C while following a stack operation: cancel (rolls back) or detach, and say which.

Run on the local AWS in its paced mode, where an update takes time as on AWS: the stack is
really UPDATE_IN_PROGRESS when the user interrupts, CancelUpdateStack really rolls it back, and
a detached update really goes on. Where a test needs the update still running when the user
acts, the fault switch holds the table's update in progress (hold_update) until it is cancelled
or released, so the test does not depend on how fast a loaded machine gets there."""

from __future__ import annotations

import json
import time

import pytest

from mirror_infra.commands import common
from mirror_infra.deploy import flow
from mirror_infra.deploy.context import Deployment
from mirror_infra.deploy.operation import Execution
from mirror_infra.errors import Detached

PACE = 0.05  # a table update takes about a second


def _table(tags: dict[str, str]) -> str:
    return json.dumps(
        {
            "Resources": {
                "Table": {
                    "Type": "AWS::DynamoDB::Table",
                    "Properties": {
                        "TableName": "interrupt-table",
                        "BillingMode": "PAY_PER_REQUEST",
                        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                        "Tags": [{"Key": k, "Value": v} for k, v in tags.items()],
                    },
                }
            }
        }
    )


@pytest.fixture
def updating(project, local_aws):
    """The environment's stack name holding one table, an update of it started at AWS's pace
    and held in progress, and an Execution following it."""
    dep = Deployment.open("staging", None, local=True, profile=None)
    cfn = local_aws.client("cloudformation")
    created = cfn.create_stack(StackName=dep.stack_name, TemplateBody=_table({"v": "1"}))
    local_aws.settings(pace=PACE, hold_update=["Table"])
    execution = Execution(dep, created["StackId"])
    cfn.update_stack(StackName=dep.stack_name, TemplateBody=_table({"v": "2"}))
    return dep, execution


def _interrupt(event) -> None:
    raise KeyboardInterrupt  # the user presses Ctrl-C as the first event is shown


def _status(dep) -> str:
    return str(dep.cfn.stack(dep.stack_name).status)


def test_without_a_terminal_ctrl_c_detaches_and_the_update_goes_on(
    updating, local_aws, monkeypatch, capsys
):
    dep, execution = updating
    monkeypatch.setattr(common.sys.stdin, "isatty", lambda: False, raising=False)
    with pytest.raises(Detached, match="detached from the running operation; it was not cancelled"):
        flow.follow(dep, execution, common.hooks(on_event=_interrupt))
    assert "goes on in AWS" in capsys.readouterr().err
    assert _status(dep) == "UPDATE_IN_PROGRESS"  # not cancelled
    local_aws.settings(hold_update=[])
    deadline = time.monotonic() + 30
    while _status(dep) == "UPDATE_IN_PROGRESS" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _status(dep) == "UPDATE_COMPLETE"


def test_cancel_is_requested_then_the_rollback_is_followed(updating, monkeypatch, capsys):
    dep, execution = updating
    interrupted = []

    def printer(event) -> None:
        if not interrupted:
            interrupted.append(event)
            raise KeyboardInterrupt

    hooks = common.hooks(on_event=printer, on_interrupt=lambda: flow.OnInterrupt.CANCEL)
    finished = flow.follow(dep, execution, hooks)
    assert "cancel requested: the update rolls back" in capsys.readouterr().err
    assert str(finished.status) == "UPDATE_ROLLBACK_COMPLETE"
    assert not finished.ok


def test_cancel_after_the_update_ended_says_it_was_not_cancelled(updating, local_aws):
    dep, execution = updating
    local_aws.settings(hold_update=[])
    execution.follow(lambda event: None, timeout=30)
    assert execution.cancel() == (
        "not cancelled: the stack is UPDATE_COMPLETE (only an update in progress can be)"
    )
