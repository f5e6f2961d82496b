"""verify's rows where the local AWS cannot produce the case: denied reads, a policy that is
almost TLS-only, an email subscription nobody asked for."""

from __future__ import annotations

import pytest

from mirror_infra.checks.base import guarded
from mirror_infra.checks.policies import denies_insecure_transport
from mirror_infra.checks.rows.subscriptions import subscriptions_row
from mirror_infra.checks.rows.tables import table_row
from mirror_infra.contract import TABLES
from tests.checks.stubbed import NOW, TOPIC_ARN, stubbed_environment

BUCKET = "arn:aws:s3:::mirror-staging-baselines-123456789012-us-east-1"
TLS_ONLY = {
    "Sid": "DenyInsecureTransport",
    "Effect": "Deny",
    "Principal": "*",
    "Action": ["s3:*"],
    "Resource": [BUCKET, f"{BUCKET}/*"],
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
}


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        (TLS_ONLY, True),
        ({**TLS_ONLY, "Action": "s3:*", "Principal": {"AWS": "*"}}, True),
        ({**TLS_ONLY, "Effect": "Allow"}, False),
        ({**TLS_ONLY, "Action": ["s3:GetObject"]}, False),
        ({**TLS_ONLY, "Principal": {"AWS": "arn:aws:iam::123456789012:root"}}, False),
        ({**TLS_ONLY, "Condition": {"Bool": {"aws:SecureTransport": "true"}}}, False),
        ({k: v for k, v in TLS_ONLY.items() if k != "Condition"}, False),
    ],
    ids=["tls-only", "single-action", "allow", "one-action", "one-principal", "true", "no-cond"],
)
def test_tls_only_policy(statement, expected):
    assert (
        denies_insecure_transport({"Version": "2012-10-17", "Statement": [statement]}) is expected
    )


def test_a_denied_read_fails_its_row_with_the_missing_permission(project):
    stubs = stubbed_environment(("dynamodb", "kms"))
    spec = TABLES[0]
    ddb = stubs["dynamodb"]
    ddb.add_response(
        "describe_table",
        {
            "Table": {
                "TableName": "mirror-dissonance-staging-fp-events",
                "TableStatus": "ACTIVE",
                "KeySchema": [
                    {"AttributeName": "pk", "KeyType": "HASH"},
                    {"AttributeName": "sk", "KeyType": "RANGE"},
                ],
                "CreationDateTime": NOW,
            }
        },
        {"TableName": "mirror-dissonance-staging-fp-events"},
    )
    ddb.add_client_error(
        "describe_continuous_backups",
        service_error_code="AccessDeniedException",
        service_message="User: arn:aws:sts::123456789012:assumed-role/ci/x is not authorized to "
        "perform: dynamodb:DescribeContinuousBackups on resource: "
        "arn:aws:dynamodb:us-east-1:123456789012:table/mirror-dissonance-staging-fp-events",
        http_status_code=400,
    )

    row = guarded("table fp-events", lambda: table_row(stubs.env, spec))

    assert not row.ok
    assert row.evidence.startswith("AccessDeniedException: User: ")
    assert "dynamodb:DescribeContinuousBackups" in row.evidence
    stubs.done()


def _subscriptions(stubs, entries):
    stubs["sns"].add_response(
        "list_subscriptions_by_topic",
        {
            "Subscriptions": [
                {
                    "SubscriptionArn": arn,
                    "Owner": "123456789012",
                    "Protocol": protocol,
                    "Endpoint": endpoint,
                    "TopicArn": TOPIC_ARN,
                }
                for arn, protocol, endpoint in entries
            ]
        },
        {"TopicArn": TOPIC_ARN},
    )


CONFIRMED = f"{TOPIC_ARN}:5b1c2d3e-aaaa-bbbb-cccc-123456789012"


@pytest.mark.parametrize(
    ("entries", "ok", "warned", "shown"),
    [
        ([], True, False, "no alert email configured"),
        (
            [("PendingConfirmation", "email", "oncall@example.com")],
            True,
            True,
            "email oncall@example.com PendingConfirmation",
        ),
        (
            [(CONFIRMED, "sqs", "arn:aws:sqs:us-east-1:123456789012:q")],
            True,
            False,
            "sqs arn:aws:sqs:us-east-1:123456789012:q confirmed",
        ),
    ],
    ids=["none", "pending", "other-protocol"],
)
def test_subscriptions_without_an_alert_email(project, entries, ok, warned, shown):
    stubs = stubbed_environment(("sns",))
    _subscriptions(stubs, entries)

    row = subscriptions_row(stubs.env)

    assert (row.ok, bool(row.warnings)) == (ok, warned)
    assert shown in row.evidence
    stubs.done()


def test_a_configured_email_that_is_not_subscribed_fails(project):
    path = project / "params" / "staging.yaml"
    path.write_text(path.read_text().replace('alert_email: ""', "alert_email: ops@example.com"))
    stubs = stubbed_environment(("sns",))
    _subscriptions(stubs, [(CONFIRMED, "email", "someone-else@example.com")])

    row = subscriptions_row(stubs.env)

    assert not row.ok
    assert row.problems == (
        "email ops@example.com not subscribed, expected email ops@example.com subscribed",
    )
    stubs.done()


@pytest.mark.parametrize(
    ("statement", "opened"),
    [
        ({"Sid": "A", "Effect": "Allow", "Principal": "*"}, ["A"]),
        ({"Sid": "B", "Effect": "Allow", "Principal": {"AWS": "*"}}, ["B"]),
        (
            {"Sid": "C", "Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::1:root", "*"]}},
            ["C"],
        ),
        ({"Sid": "D", "Effect": "Deny", "Principal": "*"}, []),
        ({"Sid": "E", "Effect": "Allow", "Principal": {"Service": "logs.amazonaws.com"}}, []),
        ({"Effect": "Allow", "Principal": {"AWS": "*"}}, ["statement 1"]),
    ],
)
def test_key_policy_statements_open_to_anyone(statement, opened):
    from mirror_infra.checks.policies import open_statements

    assert open_statements({"Statement": [statement]}) == opened


def test_key_policy_via_services():
    from mirror_infra.checks.policies import via_services

    policy = {
        "Statement": [
            {"Condition": {"StringEquals": {"kms:ViaService": "dynamodb.us-east-1.amazonaws.com"}}},
            {"Condition": {"StringEquals": {"kms:ViaService": ["ssm.us-east-1.amazonaws.com"]}}},
            {"Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": "arn:x"}}},
            {},
        ]
    }
    assert via_services(policy) == {"dynamodb", "ssm"}


def test_every_row_module_is_registered_once_with_an_id_and_a_description():
    """The checklist as a whole (cfn-lint's meta-tests are the model)."""
    import pkgutil

    from mirror_infra.checks import rows
    from mirror_infra.checks.verify import ROWS

    modules = {m.name for m in pkgutil.iter_modules(rows.__path__)}
    assert {r.id for r in ROWS} == modules
    assert len({r.id for r in ROWS}) == len(ROWS)
    assert all(r.description and r.description[0].isupper() for r in ROWS)
