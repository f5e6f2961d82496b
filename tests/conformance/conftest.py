"""The CloudFormation conformance suite: where it runs, and the throwaway stacks it makes.

Without options it runs against the local AWS (the session's server, in `make test`). With
`--aws-profile NAME --aws-region R` it runs against that real account and never touches the
local AWS: every stack it makes is named `mi-conf-<random>` and deleted at the end of its test;
nothing else is set up, except the objects it uploads to its own artifacts stack's bucket (for
nested templates), which it deletes before that stack, and an SSM parameter under
`/mi-conf-<random>/` that a test expects AWS to refuse (deleted if AWS wrote it after all).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.loaders import create_loader
from botocore.regions import EndpointResolver

PREFIX = "mi-conf-"
CAPS = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("conformance", "CloudFormation conformance suite (tests/conformance)")
    group.addoption(
        "--aws-profile",
        default=None,
        help="run the conformance suite against this AWS profile's real account (opt-in)",
    )
    group.addoption("--aws-region", default=None, help="with --aws-profile: the region to use")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "local_gap(reason): a documented behaviour the local AWS does not have yet; expected "
        "to fail (strictly) on the local AWS only",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("aws_profile", None):
        return  # on a real account every behaviour must hold
    for item in items:
        gap = item.get_closest_marker("local_gap")
        if gap is not None:
            item.add_marker(pytest.mark.xfail(strict=True, reason=f"local AWS: {gap.args[0]}"))


@dataclass
class Target:
    """Where the suite runs: boto3 clients, and how long to wait between polls."""

    session: Any
    region: str
    real: bool
    url: str | None = None  # the local AWS's endpoint
    _clients: dict = field(default_factory=dict)

    def client(self, service: str, region: str | None = None) -> Any:
        key = (service, region or self.region)
        if key not in self._clients:
            extra = {}
            if not self.real:
                extra = {
                    "endpoint_url": self.url,
                    "aws_access_key_id": "testing",
                    "aws_secret_access_key": "testing",
                }
            self._clients[key] = self.session.client(
                service,
                region_name=key[1],
                config=Config(retries={"mode": "standard", "max_attempts": 8}),
                **extra,
            )
        return self._clients[key]

    @property
    def poll(self) -> float:
        # once a second through a profile: a nested stack's create outlasts it on AWS, and on
        # the AWS-paced local AWS that make aws-proof can be pointed at (5 s did not: a table
        # at pace 0.05 takes 1.5 s); well within CloudFormation's describe limits
        return 1.0 if self.real else 0.05

    def settle(self, stack: str, timeout: float = 1800) -> dict:
        """The stack once no operation is in progress."""
        cfn = self.client("cloudformation")
        deadline = time.monotonic() + timeout
        while True:
            found = cfn.describe_stacks(StackName=stack)["Stacks"][0]
            if not found["StackStatus"].endswith("_IN_PROGRESS") or (
                found["StackStatus"] == "REVIEW_IN_PROGRESS"
            ):
                return found
            if time.monotonic() > deadline:
                raise TimeoutError(f"{stack} still {found['StackStatus']}")
            time.sleep(self.poll)

    def create(self, stack: str, body: str) -> dict:
        """Create `stack` from `body` and wait for CREATE_COMPLETE."""
        self.client("cloudformation").create_stack(
            StackName=stack, TemplateBody=body, Capabilities=CAPS
        )
        created = self.settle(stack)
        assert created["StackStatus"] == "CREATE_COMPLETE", created
        return created

    def change_set(self, change_set_id: str, timeout: float = 600) -> dict:
        """The change set once it is no longer being created."""
        cfn = self.client("cloudformation")
        deadline = time.monotonic() + timeout
        while True:
            found = cfn.describe_change_set(ChangeSetName=change_set_id)
            if not found["Status"].endswith("_PENDING") and not found["Status"].endswith(
                "_IN_PROGRESS"
            ):
                return found
            if time.monotonic() > deadline:
                raise TimeoutError(f"change set {change_set_id} still {found['Status']}")
            time.sleep(self.poll)

    @contextmanager
    def slow(self, pace: float = 0.05) -> Iterator[None]:
        """Operations that take time, as on AWS (the local AWS's paced mode; AWS already is)."""
        if self.real:
            yield
            return
        self._settings(pace=pace)
        try:
            yield
        finally:
            self._settings(pace=0.0)

    @contextmanager
    def failing(self, **faults: list[str]) -> Iterator[None]:
        """Resources that fail on purpose (the local AWS's fault switch: fail_create,
        fail_update, fail_rollback). A real account has no such switch: the test is skipped
        there, and what it shows rests on the page it cites."""
        if self.real:
            pytest.skip("needs resources that fail on demand (the local AWS's fault switch)")
        self._settings(**faults)
        try:
            yield
        finally:
            self._settings(**{name: [] for name in faults})

    def _settings(self, **changes: Any) -> None:
        import json
        import urllib.request

        request = urllib.request.Request(
            f"{self.url}/localaws/settings", data=json.dumps(changes).encode(), method="POST"
        )
        urllib.request.urlopen(request, timeout=10).read()


@pytest.fixture(scope="session")
def target(request: pytest.FixtureRequest) -> Target:
    profile = request.config.getoption("aws_profile", None)
    region = request.config.getoption("aws_region", None)
    import boto3

    if bool(profile) != bool(region):
        # half an opt-in must not quietly fall back to the local AWS (or guess a region)
        raise pytest.UsageError("--aws-profile and --aws-region go together")
    if profile:
        return Target(boto3.session.Session(profile_name=profile), region, real=True)
    server = request.getfixturevalue("local_aws_server")
    return Target(boto3.session.Session(), server.region, real=False, url=server.url)


class Stacks:
    """Names and cleans up the stacks one test makes (and only those)."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.made: list[tuple[str, str]] = []  # (name, region)

    def name(self, region: str | None = None) -> str:
        name = f"{PREFIX}{secrets.token_hex(4)}"
        self.made.append((name, region or self.target.region))
        return name

    def cleanup(self) -> None:
        for name, region in reversed(self.made):
            cfn = self.target.client("cloudformation", region)
            try:
                self.target.settle(name)
                cfn.delete_stack(StackName=name)
                self.target.settle(name)
            except ClientError as exc:
                if "does not exist" not in str(exc):
                    raise


@pytest.fixture
def stacks(target: Target) -> Iterator[Stacks]:
    made = Stacks(target)
    try:
        yield made
    finally:
        made.cleanup()


class Artifacts:
    """A bucket of the suite's own artifacts stack, for nested templates."""

    def __init__(self, target: Target, bucket: str) -> None:
        self.target = target
        self.bucket = bucket
        self.keys: list[str] = []

    def put(self, body: str) -> str:
        key = f"{PREFIX}{secrets.token_hex(6)}.json"
        self.target.client("s3").put_object(Bucket=self.bucket, Key=key, Body=body.encode())
        self.keys.append(key)
        region = self.target.region
        # ${AWS::URLSuffix} of the region's partition, from botocore's partition data
        resolver = EndpointResolver(create_loader().load_data("endpoints"))
        suffix = resolver.get_partition_dns_suffix(resolver.get_partition_for_region(region))
        return f"https://{self.bucket}.s3.{region}.{suffix}/{key}"


@pytest.fixture(scope="module")
def artifacts(target: Target) -> Iterator[Artifacts]:
    import json

    holder = Stacks(target)
    name = holder.name()
    body = {
        "Resources": {"Bucket": {"Type": "AWS::S3::Bucket"}},
        "Outputs": {"Bucket": {"Value": {"Ref": "Bucket"}}},
    }
    cfn = target.client("cloudformation")
    cfn.create_stack(StackName=name, TemplateBody=json.dumps(body))
    stack = target.settle(name)
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack
    made = Artifacts(target, stack["Outputs"][0]["OutputValue"])
    try:
        yield made
    finally:
        for key in made.keys:
            target.client("s3").delete_object(Bucket=made.bucket, Key=key)
        holder.cleanup()


class Outside:
    """Resources a test makes outside CloudFormation (to import them), under throwaway names
    of its own; deleted at the end of the test, whatever stack took them in (imported ones
    carry DeletionPolicy Retain, so deleting the stack leaves them)."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.log_groups: list[str] = []
        self.tables: list[str] = []

    def log_group(self, retention: int) -> str:
        name = f"{PREFIX}{secrets.token_hex(4)}"
        logs = self.target.client("logs")
        logs.create_log_group(logGroupName=name)
        self.log_groups.append(name)
        logs.put_retention_policy(logGroupName=name, retentionInDays=retention)
        return name

    def table(self) -> str:
        """An on-demand table keyed by `pk` (S), holding one item, PITR on."""
        name = f"{PREFIX}{secrets.token_hex(4)}"
        ddb = self.target.client("dynamodb")
        ddb.create_table(
            TableName=name,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        )
        self.tables.append(name)
        ddb.get_waiter("table_exists").wait(
            TableName=name, WaiterConfig={"Delay": 5 if self.target.real else 1}
        )
        ddb.put_item(TableName=name, Item={"pk": {"S": "kept"}, "n": {"N": "42"}})
        return name

    def cleanup(self) -> None:
        for name in self.log_groups:
            try:
                self.target.client("logs").delete_log_group(logGroupName=name)
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "ResourceNotFoundException":
                    raise
        for name in self.tables:
            try:
                self.target.client("dynamodb").delete_table(TableName=name)
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "ResourceNotFoundException":
                    raise


@pytest.fixture
def outside(target: Target) -> Iterator[Outside]:
    """Request it before `stacks`, so that it is cleaned up after the stacks are gone."""
    made = Outside(target)
    try:
        yield made
    finally:
        made.cleanup()
