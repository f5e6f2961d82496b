"""Production's protections hold on every path: a named replacement lifts the stack policy for
exactly that resource and puts it back whatever happens; a failure after a successful create
never leaves the stack unprotected."""

from __future__ import annotations

import json
import shutil

from botocore.exceptions import ClientError

from tests.expected import ExpectedNames

PROD = ExpectedNames("production")


def _denied(local_aws, nested: str) -> set[str]:
    """The logical ids the nested stack's policy protects from replacement and deletion."""
    cfn = local_aws.client("cloudformation")
    stack_id = next(
        r["PhysicalResourceId"]
        for r in cfn.describe_stack_resources(StackName=PROD.root_stack)["StackResources"]
        if r["LogicalResourceId"] == nested
    )
    policy = json.loads(cfn.get_stack_policy(StackName=stack_id)["StackPolicyBody"])
    return {
        resource.removeprefix("LogicalResourceId/")
        for statement in policy["Statement"]
        if statement["Effect"] == "Deny"
        for resource in statement["Resource"]
    }


def _counter_keyed_by(monkeypatch, project, key: str) -> None:
    from mirror_infra import contract

    specs = tuple(
        s.__class__(**{**s.__dict__, "hash_key": key}) if s.suffix == "block-counter" else s
        for s in contract.TABLES
    )
    monkeypatch.setattr("mirror_infra.contract.TABLES", specs)
    shutil.rmtree(project / "build" / "production", ignore_errors=True)


FULL = {"FpEventsTable", "ConsentTable", "BlockCounterTable"}


def test_a_named_replacement_lifts_exactly_it_and_restores_when_execution_fails(
    production, local_aws, monkeypatch, project
):
    assert _denied(local_aws, "Dynamodb") == FULL
    # the mechanism under test is the lift: let the table count as one AWS could replace
    # (its custom name makes it impossible, which test_deploy covers)
    monkeypatch.setattr("mirror_infra.deploy.risk.NAME_PROPERTY", {})
    _counter_keyed_by(monkeypatch, project, "counterKey")
    seen: dict[str, set[str]] = {}

    def refused(self, change_set_id, token=""):
        seen["while executing"] = _denied(local_aws, "Dynamodb")
        raise ClientError(
            {"Error": {"Code": "InvalidChangeSetStatus", "Message": "injected"}},
            "ExecuteChangeSet",
        )

    monkeypatch.setattr("mirror_infra.aws.cloudformation.CloudFormation.execute", refused)
    applied = production(
        "apply", "--env", "production", "--yes", "--allow-replace", "BlockCounterTable"
    )
    assert applied.code == 1
    assert seen["while executing"] == FULL - {"BlockCounterTable"}
    assert _denied(local_aws, "Dynamodb") == FULL  # put back although nothing ran


def test_protection_is_set_before_the_nonce(cli, local_aws, monkeypatch):
    """A fresh production stack whose nonce cannot be created is still protected."""

    def no_nonce(*args, **kwargs):
        raise ClientError(
            {"Error": {"Code": "AccessDenied", "Message": "injected"}}, "PutParameter"
        )

    monkeypatch.setattr("mirror_infra.deploy.nonce.ensure", no_nonce)
    assert cli("bootstrap", "--env", "production").code == 0
    applied = cli("apply", "--env", "production", "--yes")
    assert applied.code == 1
    assert "PutParameter failed: AccessDenied" in applied.err
    (root,) = local_aws.client("cloudformation").describe_stacks(StackName=PROD.root_stack)[
        "Stacks"
    ]
    assert root["EnableTerminationProtection"] is True
    assert _denied(local_aws, "Dynamodb") == FULL


def test_a_failed_retained_create_leaves_nothing_so_a_retry_works(cli, local_aws, project):
    """Resources created by a failed operation are kept on rollback when their DeletionPolicy
    is Retain (production's), so the fixed-name tables would block every retry; apply passes
    RetainExceptOnCreate (API_ExecuteChangeSet.html), which reaches the nested stacks the
    create made. The failure comes late, after the tables exist, where pre-deployment
    validation cannot foresee it (the local AWS's fault switch). Production's tables carry
    deletion protection, which makes DynamoDB refuse the rollback's delete
    (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/WorkingWithTables.Basics.html#WorkingWithTables.Basics.DeletionProtection):
    so the create runs with it off, and the same apply turns it on once the create succeeded."""
    assert cli("bootstrap", "--env", "production").code == 0
    local_aws.settings(fail_create=["AppRole"])
    failed = cli("apply", "--env", "production", "--yes")
    assert failed.code == 1
    assert "AppRole" in failed.err
    assert "ROLLBACK_COMPLETE" in failed.err, failed.err  # not ROLLBACK_FAILED
    # the tables existed when the create failed
    assert any(
        "Dynamodb.BlockCounterTable" in line and "CREATE_COMPLETE" in line
        for line in failed.text.splitlines()
    ), failed.text
    tables = local_aws.client("dynamodb").list_tables()["TableNames"]
    assert not [t for t in tables if t.startswith("mirror-dissonance-production-")]

    local_aws.settings(fail_create=[])  # the cause is removed
    retried = cli("apply", "--env", "production", "--yes")
    assert retried.code == 0, retried.text
    assert "deleting it before creating again" in retried.err
    assert "created without deletion protection" in retried.text
    dynamodb = local_aws.client("dynamodb")
    assert set(PROD.tables) <= set(dynamodb.list_tables()["TableNames"])
    for table in PROD.tables:
        described = dynamodb.describe_table(TableName=table)["Table"]
        assert described["DeletionProtectionEnabled"] is True, table
    assert cli("plan", "--env", "production").code == 0  # nothing left to change


def test_a_named_replacement_that_fails_while_running_puts_the_policy_back(
    production, local_aws, monkeypatch, project
):
    """The operation started and rolled back (the table's update fails, the local AWS's fault
    switch): no finish runs after a failure, so the restore after following it is what puts
    the full policy back."""
    monkeypatch.setattr("mirror_infra.deploy.risk.NAME_PROPERTY", {})  # see the test above
    _counter_keyed_by(monkeypatch, project, "counterKey")
    local_aws.settings(fail_update=["BlockCounterTable"], fail_create=["BlockCounterTable"])
    applied = production(
        "apply", "--env", "production", "--yes", "--allow-replace", "BlockCounterTable"
    )
    assert applied.code == 1
    assert _denied(local_aws, "Dynamodb") == FULL


def test_a_failed_protect_step_still_finishes_the_environment_and_says_to_apply_again(
    cli, local_aws
):
    """The update after an unprotected first create fails (the local AWS's fault switch on a
    table's update): the environment is still finished (termination protection, stack
    policies) and the error says protection is not on yet; the next apply turns it on."""
    assert cli("bootstrap", "--env", "production").code == 0
    local_aws.settings(fail_update=["FpEventsTable"])
    failed = cli("apply", "--env", "production", "--yes")
    assert failed.code == 1
    assert "deletion protection is not on yet" in failed.err, failed.err
    cfn = local_aws.client("cloudformation")
    (root,) = cfn.describe_stacks(StackName=PROD.root_stack)["Stacks"]
    assert root["EnableTerminationProtection"] is True
    assert _denied(local_aws, "Dynamodb") == FULL

    local_aws.settings(fail_update=[])
    assert cli("apply", "--env", "production", "--yes").code == 0
    table = local_aws.client("dynamodb").describe_table(TableName=PROD.fp_events_table)["Table"]
    assert table["DeletionProtectionEnabled"] is True


def test_a_failed_first_create_leaves_nothing_by_the_template_attribute_alone(
    cli, local_aws, monkeypatch
):
    """No page says that RetainExceptOnCreate on the root's ExecuteChangeSet reaches the
    resources of the nested stacks the create makes; the first-create copy does not rely on it:
    each resource that production keeps (`Retain`) is created `RetainExceptOnCreate`, the
    template attribute that deletes it when "the stack operation that created the resource is
    rolled back"
    (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-attribute-deletionpolicy.html).
    Here the flag never reaches AWS, and a create failing late still leaves no table, key,
    bucket or log group behind."""
    import botocore.client

    real = botocore.client.BaseClient._make_api_call
    executed = []

    def without_the_flag(client, name, params):
        if name == "ExecuteChangeSet":
            params = {k: v for k, v in params.items() if k != "RetainExceptOnCreate"}
            executed.append(params)
        return real(client, name, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", without_the_flag)
    assert cli("bootstrap", "--env", "production").code == 0
    local_aws.settings(fail_create=["AppRole"])
    failed = cli("apply", "--env", "production", "--yes")
    assert failed.code == 1
    assert "ROLLBACK_COMPLETE" in failed.err, failed.err
    assert executed and all("RetainExceptOnCreate" not in p for p in executed)
    assert "RetainExceptOnCreate instead of Retain" in failed.text  # the plan says so
    assert "a reading of the DeletionPolicy page, not its words" in failed.text  # and how sure
    tables = local_aws.client("dynamodb").list_tables()["TableNames"]
    assert not [t for t in tables if t.startswith("mirror-dissonance-production-")]
    groups = local_aws.client("logs").describe_log_groups(logGroupNamePrefix=PROD.log_group)
    assert groups["logGroups"] == []
    buckets = [b["Name"] for b in local_aws.client("s3").list_buckets()["Buckets"]]
    assert not [b for b in buckets if b.startswith("mirror-production-baselines-")]
    aliases = local_aws.client("kms").list_aliases()["Aliases"]
    assert PROD.key_alias not in {a["AliasName"] for a in aliases}


def test_a_saved_plan_of_productions_first_create_applies_and_protects(cli, local_aws, project):
    """The saved plan names what the first create restores after it (tables' protection and
    Retain), and apply --plan checks it against the build before running it."""
    assert cli("bootstrap", "--env", "production").code == 0
    planned = cli("plan", "--env", "production", "--out", "prod.plan.json")
    assert planned.code == 2, planned.text
    applied = cli("apply", "--env", "production", "--plan", "prod.plan.json")
    assert applied.code == 0, applied.text
    dynamodb = local_aws.client("dynamodb")
    for table in PROD.tables:
        assert dynamodb.describe_table(TableName=table)["Table"]["DeletionProtectionEnabled"]
    assert cli("plan", "--env", "production").code == 0  # Retain back as the templates say
