"""Properties that must hold for every built template of every environment (SPEC §2).

Expected values are declared here from the specification, not read from templates_src.
"""

from __future__ import annotations

import json
import re

import pytest

from tests.conftest import ENVS, all_resources, resources

KEY_PARAM = {"Ref": "KmsKeyArn"}
STATEFUL = {
    "AWS::DynamoDB::Table",
    "AWS::KMS::Key",
    "AWS::S3::Bucket",
    "AWS::Logs::LogGroup",
}
POLICY_FOR = {"staging": "Delete", "production": "Retain"}

# SPEC §2's alarm table: name suffix -> (namespace, metric, statistic, threshold, operator)
SPEC_ALARMS = {
    "fp-events-read-throttle": ("AWS/DynamoDB", "ReadThrottleEvents", 10, "GreaterThanThreshold"),
    "fp-events-write-throttle": ("AWS/DynamoDB", "WriteThrottleEvents", 10, "GreaterThanThreshold"),
    "ssm-parameter-failures": ("app", "SsmParameterFailures", 5, "GreaterThanThreshold"),
    "circuit-breaker-triggered": (
        "app",
        "CircuitBreakerTriggered",
        1,
        "GreaterThanOrEqualToThreshold",
    ),
}


def _statements(doc: dict) -> list[dict]:
    statements = doc["Statement"]
    return statements if isinstance(statements, list) else [statements]


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


@pytest.mark.parametrize("env", ENVS)
def test_nested_stacks_take_the_key_from_the_kms_stack(built, env):
    stacks = resources(built[env]["Root"], "AWS::CloudFormation::Stack")
    assert set(stacks) == {"Kms", "Dynamodb", "Monitoring", "Storage", "Iam"}
    for name, stack in stacks.items():
        params = stack["Properties"].get("Parameters", {})
        if name != "Kms":
            assert params["KmsKeyArn"] == {"Fn::GetAtt": ["Kms", "Outputs.KeyArn"]}, name
        url = stack["Properties"]["TemplateURL"]["Fn::Sub"]
        assert url.startswith("https://${ArtifactsBucket}.s3.${AWS::Region}.${AWS::URLSuffix}/")
        assert url.split("/")[-1].startswith("${ArtifactsPrefix}" + name.lower() + "-")


@pytest.mark.parametrize("env", ENVS)
def test_every_table_on_demand_pitr_and_sse_with_the_key(built, env):
    tables = all_resources(built[env], "AWS::DynamoDB::Table")
    assert len(tables) == 3
    for name, table in tables.items():
        p = table["Properties"]
        assert p["BillingMode"] == "PAY_PER_REQUEST", name
        assert p["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
        assert p["SSESpecification"] == {
            "SSEEnabled": True,
            "SSEType": "KMS",
            "KMSMasterKeyId": KEY_PARAM,
        }, name
        assert p["DeletionProtectionEnabled"] is (env == "production"), name


@pytest.mark.parametrize("env", ENVS)
def test_every_bucket_is_encrypted_versioned_private_and_tls_only(built, env):
    buckets = all_resources(built[env], "AWS::S3::Bucket")
    assert buckets
    for name, bucket in buckets.items():
        p = bucket["Properties"]
        (rule,) = p["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert rule["BucketKeyEnabled"] is True
        assert rule["ServerSideEncryptionByDefault"] == {
            "SSEAlgorithm": "aws:kms",
            "KMSMasterKeyID": KEY_PARAM,
        }
        assert p["VersioningConfiguration"] == {"Status": "Enabled"}
        assert p["PublicAccessBlockConfiguration"] == dict.fromkeys(
            ["BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"],
            True,
        )
        stack, logical = name.split(".")
        policies = [
            r["Properties"]
            for r in resources(built[env][stack], "AWS::S3::BucketPolicy").values()
            if r["Properties"]["Bucket"] == {"Ref": logical}
        ]
        assert len(policies) == 1, f"{name} has no bucket policy"
        denies = [
            s
            for s in _statements(policies[0]["PolicyDocument"])
            if s["Effect"] == "Deny"
            and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        ]
        assert denies, f"{name}: no statement denies non-TLS requests"
        assert "s3:*" in _as_list(denies[0]["Action"])
        assert len(_as_list(denies[0]["Resource"])) == 2  # the bucket and its objects


@pytest.mark.parametrize("env", ENVS)
def test_key_rotates_has_30_day_window_and_no_star_principal(built, env):
    (key,) = all_resources(built[env], "AWS::KMS::Key").values()
    p = key["Properties"]
    assert p["EnableKeyRotation"] is True
    assert p["PendingWindowInDays"] == 30
    for statement in _statements(p["KeyPolicy"]):
        principal = statement["Principal"]
        assert principal != "*"
        for values in principal.values():
            assert "*" not in _as_list(values), statement["Sid"]
    (alias,) = all_resources(built[env], "AWS::KMS::Alias").values()
    assert alias["Properties"]["AliasName"] == f"alias/mirror-dissonance-{env}"


@pytest.mark.parametrize("env", ENVS)
def test_key_policy_lets_the_services_in_only_through_their_conditions(built, env):
    (key,) = all_resources(built[env], "AWS::KMS::Key").values()
    by_sid = {s["Sid"]: s for s in _statements(key["Properties"]["KeyPolicy"])}
    for sid, service in (("DynamoDBViaService", "dynamodb"), ("SSMViaService", "ssm")):
        via = by_sid[sid]["Condition"]["StringEquals"]["kms:ViaService"]["Fn::Sub"]
        assert via.startswith(f"{service}.${{AWS::Region}}.")
    logs = by_sid["CloudWatchLogsForThisAccountsLogGroups"]
    assert "kms:EncryptionContext:aws:logs:arn" in logs["Condition"]["ArnLike"]
    topic = by_sid["SnsAndAlarmsForTheEncryptedTopic"]
    assert sorted(topic["Principal"]["Service"]) == [
        "cloudwatch.amazonaws.com",
        "sns.amazonaws.com",
    ]


@pytest.mark.parametrize("env", ENVS)
def test_alarms_exactly_as_specified(built, env):
    monitoring = built[env]["Monitoring"]
    alarms = {
        r["Properties"]["AlarmName"]: r["Properties"]
        for r in resources(monitoring, "AWS::CloudWatch::Alarm").values()
    }
    (topic_id,) = resources(monitoring, "AWS::SNS::Topic")
    for suffix, (namespace, metric, threshold, operator) in SPEC_ALARMS.items():
        alarm = alarms[f"mirror-dissonance-{env}-{suffix}"]
        expected_ns = f"PhaseMirror/{env}" if namespace == "app" else namespace
        assert alarm["Namespace"] == expected_ns
        assert alarm["MetricName"] == metric
        assert alarm["Statistic"] == "Sum"
        assert alarm["Period"] == 300
        assert alarm["EvaluationPeriods"] == 1
        assert alarm["Threshold"] == threshold
        assert alarm["ComparisonOperator"] == operator
        assert alarm["AlarmActions"] == [{"Ref": topic_id}]
        if namespace == "AWS/DynamoDB":
            assert alarm["Dimensions"] == [
                {"Name": "TableName", "Value": {"Ref": "FpEventsTableName"}}
            ]
    for alarm in alarms.values():
        assert alarm["AlarmActions"] == [{"Ref": topic_id}]


@pytest.mark.parametrize("env", ENVS)
def test_app_metrics_come_from_the_app_log_group(built, env):
    monitoring = built[env]["Monitoring"]
    filters = resources(monitoring, "AWS::Logs::MetricFilter").values()
    produced = {
        (t["MetricNamespace"], t["MetricName"])
        for f in filters
        for t in f["Properties"]["MetricTransformations"]
    }
    ns = f"PhaseMirror/{env}"
    assert {(ns, "SsmParameterFailures"), (ns, "CircuitBreakerTriggered")} <= produced
    (group,) = resources(monitoring, "AWS::Logs::LogGroup").values()
    assert group["Properties"]["LogGroupName"] == f"/mirror-dissonance/{env}/app"
    assert group["Properties"]["KmsKeyId"] == KEY_PARAM


@pytest.mark.parametrize("env", ENVS)
def test_topic_is_encrypted_and_email_optional(built, env):
    monitoring = built[env]["Monitoring"]
    (topic,) = resources(monitoring, "AWS::SNS::Topic").values()
    assert topic["Properties"]["TopicName"] == f"mirror-dissonance-{env}-ops-alerts"
    assert topic["Properties"]["KmsMasterKeyId"] == KEY_PARAM
    (sub,) = resources(monitoring, "AWS::SNS::Subscription").values()
    assert sub["Condition"] == "HasAlertEmail"
    assert monitoring["Conditions"]["HasAlertEmail"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "AlertEmail"}, ""]}]
    }
    root_default = built[env]["Root"]["Parameters"]["AlertEmail"]["Default"]
    assert (root_default == "") is (env == "staging")


# account-global names: one namespace for every region of an account
# ("all dashboards in your account are global, not region-specific":
# https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Dashboards.html;
# IAM is global; S3 bucket names are global across the partition)
GLOBAL_NAMES = {
    "AWS::CloudWatch::Dashboard": "DashboardName",
    "AWS::IAM::Role": "RoleName",
    "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
    "AWS::IAM::InstanceProfile": "InstanceProfileName",
    "AWS::IAM::User": "UserName",
    "AWS::IAM::Group": "GroupName",
    "AWS::S3::Bucket": "BucketName",
}


@pytest.mark.parametrize("env", ENVS)
def test_every_account_global_name_carries_the_region(built, env):
    found = 0
    for where, r in all_resources(built[env]).items():
        prop = GLOBAL_NAMES.get(r["Type"])
        if prop is None:
            continue
        found += 1
        name = r["Properties"].get(prop)
        assert isinstance(name, dict) and "${AWS::Region}" in name.get("Fn::Sub", ""), (where, name)
    assert found >= 3  # the dashboard, the role, the bucket


@pytest.mark.parametrize("env", ENVS)
def test_dashboard_shows_capacity_throttles_ssm_and_circuit_breaker(built, env):
    (dash,) = resources(built[env]["Monitoring"], "AWS::CloudWatch::Dashboard").values()
    assert dash["Properties"]["DashboardName"] == {
        "Fn::Sub": f"mirror-dissonance-{env}-${{AWS::Region}}"
    }
    body = json.loads(dash["Properties"]["DashboardBody"]["Fn::Sub"])
    metrics = {m[1] for w in body["widgets"] for m in w["properties"]["metrics"]}
    assert {
        "ConsumedReadCapacityUnits",
        "ConsumedWriteCapacityUnits",
        "ReadThrottleEvents",
        "WriteThrottleEvents",
        "SsmParameterFailures",
        "CircuitBreakerTriggered",
    } <= metrics


def _iam_documents(built_env):
    for name, role in all_resources(built_env, "AWS::IAM::Role").items():
        for policy in role["Properties"].get("Policies", []):
            yield name, policy["PolicyDocument"]


@pytest.mark.parametrize("env", ENVS)
def test_iam_has_no_star_action_and_star_resource_only_where_aws_requires(built, env):
    documents = list(_iam_documents(built[env]))
    assert documents
    for name, doc in documents:
        for statement in _statements(doc):
            for action in _as_list(statement["Action"]):
                assert not action.endswith(":*"), f"{name}: {action}"
            if "*" in _as_list(statement["Resource"]):
                # PutMetricData has no resource-level permissions; a namespace condition limits it
                assert _as_list(statement["Action"]) == ["cloudwatch:PutMetricData"]
                assert statement["Condition"] == {
                    "StringEquals": {"cloudwatch:namespace": f"PhaseMirror/{env}"}
                }


@pytest.mark.parametrize("env", ENVS)
def test_app_role_is_named_per_region(built, env):
    # what the role may do is the application's contract: tests/contract/test_app_role.py
    (role,) = all_resources(built[env], "AWS::IAM::Role").values()
    assert role["Properties"]["RoleName"] == {
        "Fn::Sub": f"mirror-dissonance-{env}-app-${{AWS::Region}}"
    }


@pytest.mark.parametrize("env", ENVS)
def test_stateful_resources_follow_the_environments_policy(built, env):
    found = {name: r for name, r in all_resources(built[env]).items() if r["Type"] in STATEFUL}
    assert {r["Type"] for r in found.values()} == STATEFUL
    for name, r in found.items():
        assert r["DeletionPolicy"] == POLICY_FOR[env], name
        assert r["UpdateReplacePolicy"] == POLICY_FOR[env], name


@pytest.mark.parametrize("env", ENVS)
def test_root_exposes_the_seed_outputs(built, env):
    outputs = built[env]["Root"]["Outputs"]
    for key in (
        "KmsKeyArn",
        "FpEventsTableName",
        "ConsentTableName",
        "BlockCounterTableName",
        "NonceParameterName",
        "SnsTopicArn",
        "DashboardName",
        "BaselinesBucketName",
    ):
        assert key in outputs
    assert outputs["NonceParameterName"]["Value"] == f"/guardian/{env}/redaction_nonce_v1"


@pytest.mark.parametrize("env", ENVS)
def test_the_root_outputs_are_the_keys_the_tool_reads(built, env):
    """names.RootOutput is the one home of the output keys: the templates write exactly
    those, so no reader can ask for a key the stack does not have."""
    from mirror_infra.names import SEED_OUTPUTS, RootOutput

    assert set(built[env]["Root"]["Outputs"]) == {key.value for key in RootOutput}
    assert set(SEED_OUTPUTS.values()) <= set(RootOutput)


@pytest.mark.parametrize("env", ENVS)
def test_arns_use_the_partition(built, env):
    text = json.dumps(built[env])
    assert "arn:aws:" not in text


# The only values allowed to reach a nested stack through another nested stack's Outputs, each
# with its reason. SPEC §2: what has a fixed name crosses stacks as that name, its ARN built
# with Fn::Sub; AWS cannot resolve another nested stack's outputs when it makes a nested change
# set and then shows changes, even replacements, where none exist
# (cloudformation-coverage-roadmap issue 759, AWS's own tracker; no documentation page covers it).
CROSS_STACK_OUTPUTS = {
    ("Kms", "KeyArn"): "the key's ARN holds the key id that AWS assigns when it creates the key: "
    "no name fixes it, and the key stays in its own stack (issue 27: moving a deployed key "
    "would take stack refactoring or retain-and-import)",
}
_SUB_VARIABLE = re.compile(r"\$\{(!?)([^}]*)\}")


def _wiring_faults(value, root_parameters: set[str], where: str) -> list[str]:
    """Why `value`, passed by the root to a nested stack, is not a literal, a Ref of a root or
    pseudo parameter, or a name built from those (Fn::Sub, Fn::Join), nor an allowed output:
    an allow-list, so any other function counts as a fault."""
    if isinstance(value, str | int | float | bool):
        return []
    if isinstance(value, list):
        return [f for i, v in enumerate(value) for f in _wiring_faults(v, root_parameters, where)]
    if not (isinstance(value, dict) and len(value) == 1):
        return [f"{where}: {value!r} is not one intrinsic function"]
    ((function, arg),) = value.items()
    known = root_parameters | {"AWS::AccountId", "AWS::Region", "AWS::Partition", "AWS::URLSuffix"}
    if function == "Ref":
        return [] if arg in known else [f"{where}: Ref {arg} is not a root or pseudo parameter"]
    if function == "Fn::Sub":
        text, local = (arg, {}) if isinstance(arg, str) else arg
        faults = [f for v in local.values() for f in _wiring_faults(v, root_parameters, where)]
        for literal, name in _SUB_VARIABLE.findall(text):
            if not literal and name not in known | set(local):
                faults.append(f"{where}: Fn::Sub reads ${{{name}}}, not a root or pseudo parameter")
        return faults
    if function == "Fn::Join":
        return _wiring_faults(arg, root_parameters, where)
    if function == "Fn::GetAtt":
        stack, attribute = arg
        source = (stack, attribute.removeprefix("Outputs."))
        if attribute.startswith("Outputs.") and source in CROSS_STACK_OUTPUTS:
            return []
        return [f"{where}: GetAtt {stack}.{attribute} crosses stacks; pass the name instead"]
    return [f"{where}: {function} is not a way SPEC §2 wires a nested stack"]


@pytest.mark.parametrize("env", ENVS)
def test_every_nested_stack_parameter_is_a_name_or_an_allowed_output(built, env):
    """SPEC §2's wiring, for every parameter the root passes any nested stack."""
    root = built[env]["Root"]
    root_parameters = set(root.get("Parameters", {}))
    faults: list[str] = []
    used: set[tuple[str, str]] = set()
    for name, stack in resources(root, "AWS::CloudFormation::Stack").items():
        for key, value in (stack["Properties"].get("Parameters") or {}).items():
            faults += _wiring_faults(value, root_parameters, f"{name}.{key}")
            if isinstance(value, dict) and "Fn::GetAtt" in value:
                source, attribute = value["Fn::GetAtt"]
                used.add((source, attribute.removeprefix("Outputs.")))
    assert faults == []
    # each exception is in use (a stale one would allow what nothing needs)
    assert used == set(CROSS_STACK_OUTPUTS)


def test_the_wiring_check_refuses_what_spec_forbids():
    """The check itself: an ARN from another stack's outputs, a GetAtt inside Fn::Sub, a Ref of
    something that is no root parameter and an unknown function are each a fault."""
    params = {"ArtifactsBucket"}
    assert _wiring_faults({"Fn::GetAtt": ["Dynamodb", "Outputs.FpEventsTableArn"]}, params, "x")
    assert _wiring_faults({"Fn::Sub": "arn:${Storage.Outputs.BucketArn}"}, params, "x")
    assert _wiring_faults({"Fn::Sub": ["${A}", {"A": {"Fn::GetAtt": ["S", "Arn"]}}]}, params, "x")
    assert _wiring_faults({"Ref": "Storage"}, params, "x")
    assert _wiring_faults({"Fn::ImportValue": "x"}, params, "x")
    assert not _wiring_faults({"Fn::GetAtt": ["Kms", "Outputs.KeyArn"]}, params, "x")
    assert not _wiring_faults(
        {"Fn::Sub": "b-${AWS::AccountId}-${ArtifactsBucket}-${!Literal}"}, params, "x"
    )
