"""An environment whose AWS clients are botocore Stubbers: responses shaped as AWS sends them
(the Stubber checks every request and response against the service model)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import boto3
from botocore.stub import Stubber

from mirror_infra.aws.cfn_answers import StackInfo
from mirror_infra.aws.kms import KeyRefs
from mirror_infra.aws.status import StackStatus
from mirror_infra.aws.target import Target
from mirror_infra.aws.wait import Backoff
from mirror_infra.checks.base import Environment
from mirror_infra.config import load
from mirror_infra.deploy.context import Deployment

ACCOUNT = "123456789012"
REGION = "us-east-1"
KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{KEY_ID}"
ROOT = "mirror-dissonance-staging"
ROOT_ID = (
    f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/{ROOT}/aaaa1111-2222-3333-4444-555566667777"
)
NESTED_ID = (
    f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/{ROOT}-Dynamodb-1ABCDEF/"
    "bbbb1111-2222-3333-4444-555566667777"
)
TOPIC_ARN = f"arn:aws:sns:{REGION}:{ACCOUNT}:{ROOT}-ops-alerts"
NOW = datetime(2025, 1, 1, tzinfo=UTC)


class FakeClock:
    """Time that only moves when the code under test sleeps."""

    def __init__(self) -> None:
        self.t = 0.0
        self.sleeps: list[float] = []

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += seconds


@dataclass
class Stubs:
    env: Environment
    stubbers: dict[str, Stubber] = field(default_factory=dict)

    def __getitem__(self, service: str) -> Stubber:
        return self.stubbers[service]

    def done(self) -> None:
        for stubber in self.stubbers.values():
            stubber.assert_no_pending_responses()


def stubbed_environment(services=("cloudformation", "ssm", "kms", "sns")) -> Stubs:
    """Staging with its root stack deployed, every client stubbed (needs `project`)."""
    clients = {
        s: boto3.client(
            s, region_name=REGION, aws_access_key_id="stub", aws_secret_access_key="stub"
        )
        for s in services
    }
    stubbers = {s: Stubber(c) for s, c in clients.items()}
    for stubber in stubbers.values():
        stubber.activate()
    target = Target(region=REGION, local=False, _clients=dict(clients))
    target.account_id = ACCOUNT  # what STS would say
    dep = Deployment(load("staging"), target)
    dep.backoff = Backoff(first=10.0, factor=1.0, cap=10.0)  # a round every 10 fake seconds
    info = StackInfo(
        name=ROOT,
        stack_id=ROOT_ID,
        status=StackStatus.UPDATE_COMPLETE,
        reason="",
        outputs={"KmsKeyArn": KEY_ARN, "SnsTopicArn": TOPIC_ARN},
        parameters={},
        termination_protection=False,
        last_updated=str(NOW),
    )
    env = Environment(dep, info, KeyRefs(clients.get("kms"), KEY_ARN))
    return Stubs(env, stubbers)


# --- responses as CloudFormation sends them -------------------------------------------------


def summary(logical_id: str, resource_type: str, physical_id: str) -> dict:
    return {
        "LogicalResourceId": logical_id,
        "PhysicalResourceId": physical_id,
        "ResourceType": resource_type,
        "LastUpdatedTimestamp": NOW,
        "ResourceStatus": "UPDATE_COMPLETE",
        "DriftInformation": {"StackResourceDriftStatus": "NOT_CHECKED"},
    }


def stub_tree(stubs: Stubs) -> None:
    """The root stack nests one stack (Dynamodb) holding the fp-events table."""
    cfn = stubs["cloudformation"]
    cfn.add_response(
        "list_stack_resources",
        {"StackResourceSummaries": [summary("Dynamodb", "AWS::CloudFormation::Stack", NESTED_ID)]},
        {"StackName": ROOT_ID},
    )
    cfn.add_response(
        "list_stack_resources",
        {
            "StackResourceSummaries": [
                summary("FpEventsTable", "AWS::DynamoDB::Table", f"{ROOT}-fp-events")
            ]
        },
        {"StackName": NESTED_ID},
    )


def detection_id(stack_id: str) -> str:
    return "11111111-2222-3333-4444-" + ("000000000001" if stack_id == ROOT_ID else "000000000002")


def stub_detect(stubs: Stubs, stack_id: str) -> None:
    stubs["cloudformation"].add_response(
        "detect_stack_drift",
        {"StackDriftDetectionId": detection_id(stack_id)},
        {"StackName": stack_id},
    )


def stub_status(
    stubs: Stubs,
    stack_id: str,
    detection: str,
    drift: str | None = None,
    reason: str | None = None,
    drifted: int | None = None,
) -> None:
    response = {
        "StackId": stack_id,
        "StackDriftDetectionId": detection_id(stack_id),
        "DetectionStatus": detection,
        "Timestamp": NOW,
    }
    if drift:
        response["StackDriftStatus"] = drift
    if reason:
        response["DetectionStatusReason"] = reason
    if drifted is not None:
        response["DriftedStackResourceCount"] = drifted
    stubs["cloudformation"].add_response(
        "describe_stack_drift_detection_status",
        response,
        {"StackDriftDetectionId": detection_id(stack_id)},
    )


def resource_drift(
    stack_id: str, logical_id: str, resource_type: str, status: str, differences=(), reason=""
) -> dict:
    drift = {
        "StackId": stack_id,
        "LogicalResourceId": logical_id,
        "PhysicalResourceId": f"{ROOT}-{logical_id}",
        "ResourceType": resource_type,
        "StackResourceDriftStatus": status,
        "Timestamp": NOW,
    }
    if reason:
        drift["DriftStatusReason"] = reason
    if status == "MODIFIED":
        drift["ExpectedProperties"] = "{}"
        drift["ActualProperties"] = "{}"
        drift["PropertyDifferences"] = [
            {"PropertyPath": p, "ExpectedValue": e, "ActualValue": a, "DifferenceType": t}
            for p, e, a, t in differences
        ]
    return drift


def stub_drifts(stubs: Stubs, stack_id: str, drifts: list[dict], pages: int = 1) -> None:
    """DescribeStackResourceDrifts, split over `pages` pages."""
    size = max(1, -(-len(drifts) // pages))
    chunks = [drifts[i : i + size] for i in range(0, len(drifts), size)] or [[]]
    for n, chunk in enumerate(chunks):
        params = {
            "StackName": stack_id,
            "StackResourceDriftStatusFilters": [
                "MODIFIED",
                "DELETED",
                "NOT_CHECKED",
                "UNKNOWN",
                "UNSUPPORTED",
            ],
        }
        response = {"StackResourceDrifts": chunk}
        if n:
            params["NextToken"] = f"page-{n}"
        if n + 1 < len(chunks):
            response["NextToken"] = f"page-{n + 1}"
        stubs["cloudformation"].add_response("describe_stack_resource_drifts", response, params)


def stub_nonce(stubs: Stubs, type_: str = "SecureString", key: str = KEY_ARN) -> None:
    """DescribeParameters: version 1 of the nonce (metadata only; no value is ever asked for)."""
    stubs["ssm"].add_response(
        "describe_parameters",
        {
            "Parameters": [
                {
                    "Name": "/guardian/staging/redaction_nonce_v1",
                    "Type": type_,
                    "KeyId": key,
                    "LastModifiedDate": NOW,
                    "Version": 1,
                    "Tier": "Standard",
                    "DataType": "text",
                }
            ]
        },
        {
            "ParameterFilters": [
                {"Key": "Path", "Option": "OneLevel", "Values": ["/guardian/staging"]}
            ]
        },
    )


def throttling(stubber: Stubber, operation: str) -> None:
    """What botocore surfaces once its own retries are used up."""
    stubber.add_client_error(
        operation,
        service_error_code="Throttling",
        service_message="Rate exceeded",
        http_status_code=400,
    )
