"""The deploy flow against the local AWS: create, no-op, update in place, refusals, failures,
destroy and re-create, the nonce, stale plans."""

from __future__ import annotations

import json
import re
import shutil

import pytest

from tests.advice import commands, follow
from tests.expected import ExpectedNames

NAMES = ExpectedNames("staging")


def _change_sets(local_aws) -> list:
    """Change sets left waiting on the root stack (executed ones stay listed, as on AWS)."""
    cfn = local_aws.client("cloudformation")
    try:
        summaries = cfn.list_change_sets(StackName=NAMES.root_stack)["Summaries"]
    except cfn.exceptions.ClientError:
        return []
    return [c["ChangeSetName"] for c in summaries if c["ExecutionStatus"] != "EXECUTE_COMPLETE"]


def _rebuild_with(monkeypatch, project, **changes) -> None:
    """Make the next build render changed templates (the change a developer would make)."""
    for target, value in changes.items():
        monkeypatch.setattr(target, value)
    shutil.rmtree(project / "build" / "staging", ignore_errors=True)


def test_create_from_nothing_then_noop_plan_leaves_no_change_set(deployed, local_aws):
    cfn = local_aws.client("cloudformation")
    (stack,) = cfn.describe_stacks(StackName=NAMES.root_stack)["Stacks"]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    tables = local_aws.client("dynamodb").list_tables()["TableNames"]
    assert set(NAMES.tables) <= set(tables)

    outputs = deployed.json("outputs")
    assert outputs["fp_events_table_name"] == NAMES.fp_events_table
    assert outputs["nonce_parameter_name"] == "/guardian/staging/redaction_nonce_v1"
    assert outputs["kms_key_arn"].startswith("arn:aws:kms:us-east-1:")

    plan = deployed("plan")
    assert plan.code == 0, plan.text
    assert "No changes." in plan.err
    assert _change_sets(local_aws) == []


def test_alarm_threshold_update_is_in_place_and_keeps_items(
    deployed, local_aws, monkeypatch, project
):
    ddb = local_aws.client("dynamodb")
    item = {
        "pk": {"S": "rule#r1"},
        "sk": {"S": "event#2026#e1"},
        "gsi1pk": {"S": "finding#f"},
        "gsi1sk": {"S": "x"},
    }
    ddb.put_item(TableName=NAMES.fp_events_table, Item=item)
    ddb.put_item(TableName=NAMES.block_counter_table, Item={"bucketKey": {"S": "b"}})

    from mirror_infra import contract

    alarms = tuple(
        a.__class__(**{**a.__dict__, "threshold": 25})
        if a.suffix == "fp-events-read-throttle"
        else a
        for a in contract.ALARMS
    )
    _rebuild_with(monkeypatch, project, **{"mirror_infra.contract.ALARMS": alarms})
    plan = deployed("plan", "--json")
    assert plan.code == 2, plan.text
    changes = json.loads(plan.out)["changes"]
    modified = {(c["stack"], c["logical_id"]): c for c in changes if c["action"] == "Modify"}
    alarm = modified[("Monitoring", "FpEventsReadThrottleAlarm")]
    assert alarm["replacement"] == "False"
    assert alarm["risk"] == "safe"
    assert "Threshold" in alarm["properties"]
    assert not any(c["risk"] != "safe" for c in changes)

    applied = deployed("apply", "--yes")
    assert applied.code == 0, applied.text
    (shown,) = local_aws.client("cloudwatch").describe_alarms(
        AlarmNames=[NAMES.alarm("fp-events-read-throttle")]
    )["MetricAlarms"]
    assert shown["Threshold"] == 25
    assert (
        ddb.get_item(TableName=NAMES.fp_events_table, Key={k: item[k] for k in ("pk", "sk")})[
            "Item"
        ]
        == item
    )
    assert ddb.get_item(TableName=NAMES.block_counter_table, Key={"bucketKey": {"S": "b"}})["Item"]


IMPOSSIBLE = (
    "error: cannot apply: Dynamodb.BlockCounterTable would be replaced; AWS cannot replace a "
    "custom-named resource (the new one would need the old one's name); to change it, add a "
    "resource under a new name, copy the data, then remove the old one"
)


def test_replacing_a_named_table_is_impossible_even_when_named(
    deployed, local_aws, monkeypatch, project
):
    """AWS: "you can't perform an update that causes a custom-named resource to be replaced"
    (AWS CloudFormation User Guide, Name type): every stateful resource here has a fixed name."""
    from mirror_infra import contract

    specs = tuple(
        s.__class__(**{**s.__dict__, "hash_key": "counterKey"})
        if s.suffix == "block-counter"
        else s
        for s in contract.TABLES
    )
    _rebuild_with(monkeypatch, project, **{"mirror_infra.contract.TABLES": specs})
    plan = deployed("plan")
    assert plan.code == 1
    assert re.search(r"BlockCounterTable.*impossible: AWS cannot replace", plan.out)
    assert plan.err.strip().splitlines()[-1] == IMPOSSIBLE
    assert _change_sets(local_aws) == []

    applied = deployed("apply", "--yes", "--allow-data-loss", "BlockCounterTable")
    assert applied.code == 1
    assert applied.err.strip().splitlines()[-1] == IMPOSSIBLE
    cfn = local_aws.client("cloudformation")
    assert cfn.describe_stacks(StackName=NAMES.root_stack)["Stacks"][0]["StackStatus"] == (
        "CREATE_COMPLETE"
    )
    table = local_aws.client("dynamodb").describe_table(TableName=NAMES.block_counter_table)
    assert table["Table"]["KeySchema"][0]["AttributeName"] == "bucketKey"


def test_failed_create_leaves_nothing_and_next_apply_succeeds(cli, local_aws):
    # AWS rejects the create at run time, where neither lint nor pre-deployment validation can
    # see it (the local AWS's fault switch fails the table); the stack rolls back. (A table of
    # that name existing already is caught earlier, by pre-deployment validation: tests/adopt.)
    ddb = local_aws.client("dynamodb")
    local_aws.settings(fail_create=["ConsentTable"])
    assert cli("bootstrap").code == 0
    failed = cli("apply", "--yes")
    assert failed.code == 1
    assert re.search(r"root cause in Dynamodb stack: ConsentTable .*CREATE_FAILED", failed.err)
    last = failed.err.strip().splitlines()[-1]
    assert last.startswith("error: mirror-dissonance-staging ended ROLLBACK_COMPLETE: ConsentTable")
    assert ddb.list_tables()["TableNames"] == []  # ours rolled back

    local_aws.settings(fail_create=[])
    planned = cli("plan")
    assert planned.code == 2
    assert "ROLLBACK_COMPLETE from a failed first create; apply deletes it" in planned.out
    unsaved = cli("plan", "--out", "failed.plan.json")
    assert unsaved.code == 1 and "no plan saved to failed.plan.json" in unsaved.err
    retried = cli("apply", "--yes")
    assert retried.code == 0, retried.text
    assert "deleting it before creating again" in retried.err
    assert set(NAMES.tables) <= set(ddb.list_tables()["TableNames"])


def test_verify_names_the_ways_out_for_a_version_under_a_deleted_key(deployed, local_aws):
    """A version left under a key pending deletion (out of band: the tool's destroy refuses to
    make one, test_destroy.py): rotate-nonce adds a version under the current key, and verify
    fails the old one, naming each way out, each of which makes the row pass."""
    ssm, kms = local_aws.client("ssm"), local_aws.client("kms")
    v1 = NAMES.nonce_parameter(1)
    value = ssm.get_parameter(Name=v1, WithDecryption=True)["Parameter"]["Value"]
    old_key = kms.create_key(Description="an earlier environment's key")["KeyMetadata"]["KeyId"]
    ssm.put_parameter(Name=v1, Value=value, Type="SecureString", KeyId=old_key, Overwrite=True)
    kms.schedule_key_deletion(KeyId=old_key, PendingWindowInDays=7)
    assert deployed("rotate-nonce", "--yes").code == 0
    assert deployed("apply", "--yes").code == 0
    # v1 stays under the old key (rotate-nonce never touches an older version), and the
    # application reads every version by path: verify fails it and says what can be done ...
    checked = deployed("verify")
    assert checked.code == 1
    advice = [line for line in checked.out.splitlines() if line.startswith("SSM nonce: ")]
    assert len(advice) == 1 and "delete /guardian/staging/redaction_nonce_v1 if" in advice[0]
    delete, cancel, enable, put = commands(advice[0])
    assert value not in advice[0]  # the user adds it; it is never printed
    # ... and each way out it names, followed as printed, makes the row pass: the key usable
    # again, and the same value under the current key ...
    follow(cancel, local_aws)
    follow(enable, local_aws)
    assert kms.describe_key(KeyId=old_key)["KeyMetadata"]["KeyState"] == "Enabled"
    follow(put, local_aws, value=value)
    assert deployed("verify").code == 0
    # ... or v1 deleted: the row passes, and warns that redactions made with it no longer match
    follow(delete, local_aws)
    checked = deployed("verify")
    assert checked.code == 0, checked.out
    assert "v1 to v1 deleted: redactions made with them no longer match" in checked.out


def test_nonce_is_created_once_and_never_printed(deployed, local_aws):
    ssm = local_aws.client("ssm")
    first = ssm.get_parameter(Name=NAMES.nonce_parameter(1), WithDecryption=True)["Parameter"]
    assert re.fullmatch(r"[0-9a-f]{64}", first["Value"])
    assert deployed("apply", "--yes").code == 0
    assert deployed("rotate-nonce", "--yes").code == 0
    assert deployed("status", "--json").code == 0
    again = ssm.get_parameter(Name=NAMES.nonce_parameter(1), WithDecryption=True)["Parameter"]
    assert again["Value"] == first["Value"]
    second = ssm.get_parameter(Name=NAMES.nonce_parameter(2), WithDecryption=True)["Parameter"]
    assert second["Value"] != first["Value"]
    transcript = "".join(deployed.transcript)
    for secret in (first["Value"], second["Value"]):
        assert secret not in transcript


def test_stale_saved_plan_is_refused(cli, local_aws, project):
    assert cli("bootstrap").code == 0
    saved = project / "staging.plan.json"
    assert cli("plan", "--out", str(saved)).code == 2
    assert cli("apply", "--yes").code == 0  # the stack moves on without the saved plan
    stale = cli("apply", "--plan", str(saved))
    assert stale.code == 1
    assert "run 'plan' again" in stale.err


def test_saved_plan_applies_exactly(cli, local_aws, project):
    assert cli("bootstrap").code == 0
    saved = project / "staging.plan.json"
    assert cli("plan", "--out", str(saved)).code == 2
    applied = cli("apply", "--plan", str(saved))
    assert applied.code == 0, applied.text
    assert cli("plan").code == 0


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["plan", "--env", "qa"], "error: params/qa.yaml: no such params file"),
        (["plan", "--region", "us-east-9"], "error: --region 'us-east-9': expected a known AWS"),
        (["plan"], "error: no artifacts bucket in us-east-1"),
        (["apply", "--yes"], "error: no artifacts bucket in us-east-1"),
    ],
)
def test_bad_input_is_one_line_and_touches_no_stack(cli, local_aws, argv, message):
    result = cli(*argv)
    assert result.code == 1
    assert result.err.strip().splitlines()[-1].startswith(message), result.err
    assert local_aws.client("cloudformation").list_stacks()["StackSummaries"] == []


def test_malformed_params_touch_no_stack(cli, local_aws, project):
    (project / "params" / "staging.yaml").write_text("region: [\n")
    result = cli("apply", "--yes")
    assert result.code == 1
    assert (
        result.err
        == "error: params/staging.yaml: line 2: not valid YAML (expected ',' or ']',"
        " but got '<stream end>')\n"
        or result.err.startswith("error: params/staging.yaml: line")
    )
    assert local_aws.client("cloudformation").list_stacks()["StackSummaries"] == []


def test_no_credentials_for_a_real_account(cli, monkeypatch, tmp_path):
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    result = cli("plan", local=False)
    assert result.code == 1
    # the target is named first, then the one-line error
    assert result.err == (
        "mirror-dissonance-staging on AWS us-east-1\n"
        "error: no AWS credentials found in the environment; run 'aws configure' or "
        "'aws sso login', pass --profile, or use --local for the local AWS\n"
    )


def test_production_is_guarded(cli, local_aws):
    prod = ExpectedNames("production")
    assert cli("bootstrap", "--env", "production").code == 0
    applied = cli("apply", "--env", "production", "--yes")
    assert applied.code == 0, applied.text
    assert "termination protection on" in applied.err
    cfn = local_aws.client("cloudformation")
    (root,) = cfn.describe_stacks(StackName=prod.root_stack)["Stacks"]
    assert root["EnableTerminationProtection"] is True
    policy = json.loads(cfn.get_stack_policy(StackName=prod.root_stack)["StackPolicyBody"])
    (deny,) = [s for s in policy["Statement"] if s["Effect"] == "Deny"]
    assert sorted(deny["Action"]) == ["Update:Delete", "Update:Replace"]
    assert "LogicalResourceId/Dynamodb" in deny["Resource"]
    nested = {
        r["LogicalResourceId"]: r["PhysicalResourceId"]
        for r in cfn.describe_stack_resources(StackName=prod.root_stack)["StackResources"]
    }
    tables_policy = json.loads(
        cfn.get_stack_policy(StackName=nested["Dynamodb"])["StackPolicyBody"]
    )
    (deny,) = [s for s in tables_policy["Statement"] if s["Effect"] == "Deny"]
    assert sorted(deny["Resource"]) == [
        "LogicalResourceId/BlockCounterTable",
        "LogicalResourceId/ConsentTable",
        "LogicalResourceId/FpEventsTable",
    ]
    table = local_aws.client("dynamodb").describe_table(TableName=prod.fp_events_table)["Table"]
    assert table["DeletionProtectionEnabled"] is True
    assert cli("plan", "--env", "production").code == 0  # guards in place: nothing to do

    # a guard removed out of band is a change the next plan shows and apply restores
    cfn.set_stack_policy(
        StackName=nested["Dynamodb"],
        StackPolicyBody=json.dumps(
            {
                "Statement": [
                    {"Effect": "Allow", "Principal": "*", "Action": "Update:*", "Resource": "*"}
                ]
            }
        ),
    )
    drifted = cli("plan", "--env", "production")
    assert drifted.code == 2
    assert "apply will set the stack policies" in drifted.out
    assert cli("apply", "--env", "production", "--yes").code == 0
    assert cli("plan", "--env", "production").code == 0

    before = cfn.describe_stacks(StackName=prod.root_stack)["Stacks"][0]
    refused = cli("destroy", "--env", "production", "--yes")
    assert refused.code == 1
    assert (
        "termination protection on; to destroy it, first run 'aws cloudformation "
        "update-termination-protection --no-enable-termination-protection" in refused.err
    )
    after = cfn.describe_stacks(StackName=prod.root_stack)["Stacks"][0]
    assert (after["StackStatus"], after["LastUpdatedTime"]) == (
        before["StackStatus"],
        before["LastUpdatedTime"],
    )

    (advice,) = commands(refused.err.strip().splitlines()[-1])
    follow(advice, local_aws)  # as printed: this stack, on the local AWS
    (root,) = cfn.describe_stacks(StackName=prod.root_stack)["Stacks"]
    assert root["EnableTerminationProtection"] is False
    unconfirmed = cli("destroy", "--env", "production", "--yes")
    assert unconfirmed.code == 1
    assert unconfirmed.err.strip().endswith(
        "error: nothing deleted; production needs the typed confirmation (or --confirm-env "
        "production)"
    )
    destroyed = cli("destroy", "--env", "production", "--confirm-env", "production")
    assert destroyed.code == 0, destroyed.text
    retained = destroyed.out[destroyed.out.index("Retained") :]
    for kept in (
        "FpEventsTable",
        "Key",
        "BaselinesBucket",
        "AppLogGroup",
        "/guardian/production/redaction_nonce_v1",
    ):
        assert kept in retained
    # Retain means the data outlives the stack
    assert set(prod.tables) <= set(local_aws.client("dynamodb").list_tables()["TableNames"])


def test_plan_shows_what_apply_changes_outside_cloudformation(deployed, local_aws):
    local_aws.client("ssm").delete_parameter(Name=NAMES.nonce_parameter(1))
    plan = deployed("plan", "--json")
    assert plan.code == 2
    data = json.loads(plan.out)
    assert data["changes"] == []
    assert data["outside_cloudformation"] == [
        "create the redaction nonce /guardian/staging/redaction_nonce_v1 (SecureString)"
    ]
    assert deployed("apply", "--yes").code == 0
    assert deployed("plan").code == 0


def test_an_exported_profile_neither_applies_to_nor_blocks_the_local_aws(project, tmp_path):
    """A user with AWS_PROFILE exported (here one this machine lacks) runs the main job."""
    import os
    import subprocess
    import sys

    from tests.localaws_fixtures import free_port

    port = free_port()
    env = {
        **os.environ,
        "AWS_PROFILE": "phase-mirror-prod-that-this-machine-lacks",
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "MIRROR_INFRA_LOCAL_URL": f"http://127.0.0.1:{port}",
    }

    def run(*argv):
        return subprocess.run(
            [sys.executable, "-m", "mirror_infra.cli", *argv],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    started = run("local", "start")
    assert started.returncode == 0, started.stderr
    try:
        status = run("status", "--local")
        assert status.returncode == 0, status.stderr
        assert f"on local AWS http://127.0.0.1:{port}" in status.stderr
    finally:
        run("local", "stop")


@pytest.mark.parametrize(
    ("env", "argv", "message"),
    [
        ({"AWS_PROFILE": "nope"}, [], "error: AWS_PROFILE 'nope': no such AWS profile"),
        ({}, ["--profile", "nope"], "error: --profile 'nope': no such AWS profile"),
    ],
)
def test_unknown_profile_is_one_line(cli, monkeypatch, tmp_path, env, argv, message):
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    result = cli("status", *argv, local=False)
    assert result.code == 1
    target, error = result.err.splitlines()
    assert target.startswith("mirror-dissonance-staging on AWS us-east-1")
    assert error.startswith(message)


def test_a_root_template_too_large_to_send_inline_goes_through_s3(cli, local_aws, monkeypatch):
    from mirror_infra.deploy import plan

    monkeypatch.setattr(plan, "TEMPLATE_BODY_LIMIT", 1_000)  # the real root is about 7 KB
    assert cli("bootstrap").code == 0
    applied = cli("apply", "--yes")
    assert applied.code == 0, applied.text
    bucket = "mirror-infra-artifacts-123456789012-us-east-1"
    keys = [o["Key"] for o in local_aws.client("s3").list_objects_v2(Bucket=bucket)["Contents"]]
    assert any(k.startswith("templates/staging/root-") for k in keys)


NO_STACK_NONCE_CASES = [
    (
        "production",
        "error: nothing deleted; production needs the typed confirmation (or --confirm-env "
        "production)",
        ["--confirm-env", "production"],
    ),
    ("staging", "error: nothing deleted; pass --yes to delete without asking", ["--yes"]),
]


@pytest.mark.parametrize(
    ("env", "refusal", "confirmation"),
    NO_STACK_NONCE_CASES,
    ids=[c[0] for c in NO_STACK_NONCE_CASES],
)
def test_delete_nonce_without_a_stack_needs_the_same_confirmation(
    cli, local_aws, monkeypatch, env, refusal, confirmation
):
    """The nonce outlives its stack (retained on destroy); deleting it later asks as destroy
    does, stack or no stack."""
    import io

    ssm = local_aws.client("ssm")
    names = [f"/guardian/{env}/redaction_nonce_v1", f"/guardian/{env}/redaction_nonce_v2"]
    for name in names:
        ssm.put_parameter(Name=name, Value="0" * 64, Type="SecureString")
    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # no terminal to ask on

    refused = cli("destroy", "--env", env, "--delete-nonce")
    assert refused.code == 1
    assert refused.err.strip().splitlines()[-1] == refusal
    assert f"deletes 2 nonce version(s): {', '.join(names)}" in refused.out
    found = ssm.get_parameters_by_path(Path=f"/guardian/{env}")["Parameters"]
    assert sorted(p["Name"] for p in found) == names

    deleted = cli("destroy", "--env", env, "--delete-nonce", *confirmation)
    assert deleted.code == 0, deleted.text
    assert "deleted 2 nonce version(s)" in deleted.out
    assert ssm.get_parameters_by_path(Path=f"/guardian/{env}")["Parameters"] == []


@pytest.mark.parametrize("alias_form", ["name", "arn"])
def test_a_nonce_written_under_the_alias_is_under_the_key(deployed, local_aws, alias_form):
    """Terraform (the source document) writes the nonce with `key_id = alias/...`; SSM keeps
    the KeyId as given ("The alias of the ... KMS key used to encrypt the parameter",
    https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_ParameterMetadata.html),
    and KMS resolves the alias to the environment's key (DescribeKey)."""
    ssm = local_aws.client("ssm")
    arn = deployed.json("outputs")["kms_key_arn"]
    alias = (
        NAMES.key_alias if alias_form == "name" else arn.split(":key/")[0] + f":{NAMES.key_alias}"
    )
    ssm.put_parameter(
        Name=NAMES.nonce_parameter(2), Value="ab" * 32, Type="SecureString", KeyId=alias
    )
    (described,) = ssm.describe_parameters(
        ParameterFilters=[{"Key": "Name", "Values": [NAMES.nonce_parameter(2)]}]
    )["Parameters"]
    assert described["KeyId"] == alias  # what the tool reads: the alias, not the key's ARN
    again = deployed("apply", "--yes")
    assert again.code == 0, again.text
    assert deployed("verify").code == 0
    assert deployed.json("outputs")["nonce_parameter_name"] == NAMES.nonce_parameter(2)
