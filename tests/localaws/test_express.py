"""DeploymentConfig Mode EXPRESS in the local AWS's paced mode: the readiness wait of the
types that stabilise is skipped, nothing else changes (localaws/pacing.py)."""

from __future__ import annotations

import time

import pytest

from tests.localaws.stacks import alarm, table, template

PACE = 0.01


def _execute(local_aws, name: str, **extra) -> None:
    cfn = local_aws.client("cloudformation")
    made = cfn.create_change_set(
        StackName=name,
        ChangeSetName="c1",
        ChangeSetType="CREATE",
        TemplateBody=template({"Table": table(f"{name}-t"), "Alarm": alarm(name=f"{name}-a")}),
        **extra,
    )
    cfn.get_waiter("change_set_create_complete").wait(
        ChangeSetName=made["Id"], WaiterConfig={"Delay": 1, "MaxAttempts": 30}
    )
    cfn.execute_change_set(ChangeSetName=made["Id"])
    deadline = time.monotonic() + 30
    while cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"].endswith("PROGRESS"):
        assert time.monotonic() < deadline
        time.sleep(0.05)


@pytest.mark.parametrize(
    ("config", "table_seconds"),
    [
        # "In express mode, CloudFormation typically considers a resource operation complete as
        # soon as the API call to create, update, or delete the resource succeeds"
        # (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-express-mode.html):
        # the table's wait for ACTIVE is skipped, its CreateTable call is left
        ({"Mode": "EXPRESS", "DisableRollback": False}, 2.0),
        # "In the default deployment mode, CloudFormation waits for each resource to reach a
        # fully stabilized state before reporting the resource as complete" (same page)
        ({"Mode": "STANDARD"}, 30.0),
        ({}, 30.0),
    ],
)
def test_express_skips_only_the_readiness_wait(local_aws, monkeypatch, config, table_seconds):
    """The pace each resource of an executed change set gets, as the model decides it (not a
    clock): a table's readiness wait goes under EXPRESS, an alarm (one call, nothing to
    stabilise) keeps its time."""
    from localaws import pacing

    given: dict[str, float] = {}
    real = pacing.duration

    def record(type_name: str, operation: str) -> float:
        given[type_name] = real(type_name, operation)
        return given[type_name]

    monkeypatch.setattr(pacing, "duration", record)
    local_aws.settings(pace=PACE)
    _execute(local_aws, "express", **({"DeploymentConfig": config} if config else {}))
    assert given["AWS::DynamoDB::Table"] == pytest.approx(table_seconds * PACE)
    assert given["AWS::CloudWatch::Alarm"] == pytest.approx(3.0 * PACE)
