"""Production's guards are visible where a person looks: verify fails its row when termination
protection is off or a stack policy is lifted, drift reports them (exit 2), status shows them
(exit 0: it reports, it does not judge)."""

from __future__ import annotations

import json

import pytest

from tests.deploy.conftest import cli  # noqa: F401 - the in-process CLI fixture
from tests.expected import ExpectedNames

PROD = ExpectedNames("production")
ALLOW_ALL = json.dumps(
    {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "Update:*", "Resource": "*"}]}
)


@pytest.fixture
def production(cli):  # noqa: F811
    assert cli("bootstrap", "--env", "production").code == 0
    assert cli("apply", "--env", "production", "--yes").code == 0
    return lambda *argv: cli(*argv, "--env", "production")


def _nested(local_aws, logical_id: str) -> str:
    cfn = local_aws.client("cloudformation")
    resources = cfn.describe_stack_resources(StackName=PROD.root_stack)["StackResources"]
    return next(r["PhysicalResourceId"] for r in resources if r["LogicalResourceId"] == logical_id)


def test_in_place_guards_pass(production):
    verify = production("verify", "--json")
    assert verify.code == 0, verify.out
    (row,) = [c for c in verify.json["checks"] if c["name"] == "protection"]
    assert row["evidence"] == (
        "termination protection on, stack policies in place, "
        "table deletion protection on for every table"
    )
    status = production("status", "--json")
    assert status.json["termination_protection"] is True
    assert status.json["stack_policies"] == "in place"


@pytest.mark.parametrize("guard", ["TerminationProtection", "StackPolicy"])
def test_a_guard_off_fails_verify_is_drift_and_shows_in_status(production, local_aws, guard):
    cfn = local_aws.client("cloudformation")
    if guard == "TerminationProtection":
        cfn.update_termination_protection(
            StackName=PROD.root_stack, EnableTerminationProtection=False
        )
    else:
        cfn.set_stack_policy(StackName=_nested(local_aws, "Dynamodb"), StackPolicyBody=ALLOW_ALL)

    verify = production("verify", "--json")
    assert verify.code == 1
    assert [c["name"] for c in verify.json["checks"] if not c["ok"]] == ["protection"]

    drift = production("drift", "--json")
    assert drift.code == 2
    assert [(d["resource"], d["property"]) for d in drift.json["differences"]] == [
        (PROD.root_stack, guard)
    ]

    status = production("status", "--json")
    assert status.code == 0
    if guard == "TerminationProtection":
        assert status.json["termination_protection"] is False
    else:
        assert status.json["stack_policies"] == "lifted or changed"
