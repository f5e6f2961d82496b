"""Properties that must hold for every built template of every environment (SPEC §2).

Expected values are declared here from the specification, not read from templates_src.
"""

from __future__ import annotations

import json

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
def test_arns_use_the_partition(built, env):
    text = json.dumps(built[env])
    assert "arn:aws:" not in text


@pytest.mark.parametrize("env", ENVS)
def test_fixed_names_reach_nested_stacks_as_names_not_outputs(built, env):
    """A value SPEC §2 fixes (a name) is handed to a nested stack as that name: a cross-stack
    GetAtt would make the stack wait for another and AWS's nested change sets guess
    (cloudformation-coverage-roadmap issue 759). ARNs stay GetAtt."""
    through_outputs = [
        f"{name}.{key}"
        for name, stack in resources(built[env]["Root"], "AWS::CloudFormation::Stack").items()
        for key, value in (stack["Properties"].get("Parameters") or {}).items()
        if key.endswith("Name") and isinstance(value, dict) and "Fn::GetAtt" in value
    ]
    assert through_outputs == []
