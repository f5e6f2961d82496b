"""Removing the email subscription cannot be undone outside CloudFormation (a new subscription
has another ARN), so this test has a deployment of its own, in a module of its own: the
module-scoped deployment of test_on_local_aws.py lives on the same local AWS."""

from __future__ import annotations

from tests.checks.test_on_local_aws import Change, assert_only


def test_removed_subscription_fails_its_row_and_is_drift(deployed):
    # listed as PendingConfirmation; the stack knows the subscription's ARN
    monitoring = deployed.client("cloudformation").describe_stack_resource(
        StackName="mirror-dissonance-staging", LogicalResourceId="Monitoring"
    )["StackResourceDetail"]["PhysicalResourceId"]
    subscription = deployed.client("cloudformation").describe_stack_resource(
        StackName=monitoring, LogicalResourceId="OpsAlertsEmailSubscription"
    )["StackResourceDetail"]["PhysicalResourceId"]
    deployed.client("sns").unsubscribe(SubscriptionArn=subscription)

    assert_only(
        deployed,
        Change(
            "subscription-removed",
            None,
            None,
            "SNS subscriptions",
            "Monitoring",
            "OpsAlertsEmailSubscription",
            "(resource)",
        ),
    )
