"""The proof's own look at the account, with plain boto3 through the same profile the tool is
given: what it creates outside the tool, what it checks, what it cleans up.

AWS operations, each for the use its page documents: STS GetCallerIdentity (the account);
CloudFormation DescribeStacks (a stack by name or id; "does not exist" when there is none),
ListStacks (every stack not deleted), DescribeStackResources (a stack's resources, not its
nested stacks': each nested stack is asked in turn), in the CloudFormation API reference
(https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DescribeStackResources.html);
CloudWatch Logs PutRetentionPolicy, the proof's drift made out of band
(https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass
class Account:
    profile: str
    region: str
    _session: Any = None
    _clients: dict = field(default_factory=dict)

    @property
    def session(self):
        if self._session is None:
            import boto3

            self._session = boto3.Session(profile_name=self.profile, region_name=self.region)
        return self._session

    def client(self, service: str):
        if service not in self._clients:
            from botocore.config import Config

            config = Config(retries={"mode": "standard", "max_attempts": 8})
            self._clients[service] = self.session.client(service, config=config)
        return self._clients[service]

    @cached_property
    def account_id(self) -> str:
        return self.client("sts").get_caller_identity()["Account"]

    @property
    def endpoint(self) -> str:
        """Where the profile's calls go: AWS's own endpoint, or the `endpoint_url` the profile
        sets (botocore honours it in a profile: the SDKs' service-specific endpoints page,
        https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html)."""
        return self.client("cloudformation").meta.endpoint_url

    @property
    def is_aws(self) -> bool:
        """Whether the calls reach AWS itself (an amazonaws.com endpoint), not a stand-in."""
        from urllib.parse import urlparse

        host = urlparse(self.endpoint).hostname or ""
        return host.endswith((".amazonaws.com", ".amazonaws.com.cn"))

    def partition(self) -> str:
        return self.session.get_partition_for_region(self.region)

    def stack(self, name: str) -> dict | None:
        """The stack of that name or id, or None when there is none (DescribeStacks)."""
        from botocore.exceptions import ClientError

        try:
            return self.client("cloudformation").describe_stacks(StackName=name)["Stacks"][0]
        except ClientError as exc:
            if "does not exist" in str(exc):
                return None
            raise

    def stack_names(self) -> set[str]:
        """Every stack that is not deleted (ListStacks, paged)."""
        pages = self.client("cloudformation").get_paginator("list_stacks").paginate()
        return {
            s["StackName"]
            for page in pages
            for s in page["StackSummaries"]
            if s["StackStatus"] != "DELETE_COMPLETE"
        }

    def settled(self, name: str, timeout: float = 3600) -> dict | None:
        """The stack once no operation runs on it (None when it is gone); REVIEW_IN_PROGRESS
        is a stack that a CREATE change set made and nothing ran on yet."""
        return until(
            lambda: self.stack(name),
            lambda s: (
                s is None
                or not s["StackStatus"].endswith("_IN_PROGRESS")
                or s["StackStatus"] == "REVIEW_IN_PROGRESS"
            ),
            timeout,
            f"stack {name} to settle",
        )

    def resources(self, stack_id: str) -> list[dict]:
        """Every resource of the stack and of its nested stacks (DescribeStackResources does
        not recurse)."""
        found = []
        for r in self.client("cloudformation").describe_stack_resources(StackName=stack_id)[
            "StackResources"
        ]:
            if r["ResourceType"] == "AWS::CloudFormation::Stack":
                found += self.resources(r["PhysicalResourceId"])
            else:
                found.append(r)
        return found


def until(fetch: Callable[[], T], done: Callable[[T], bool], timeout: float, what: str) -> T:
    """Poll quickly first, then every 10 s (AWS takes seconds; a stand-in milliseconds)."""
    deadline = time.monotonic() + timeout
    delay = 0.1
    while True:
        value = fetch()
        if done(value):
            return value
        if time.monotonic() + delay > deadline:
            raise TimeoutError(f"gave up waiting for {what} after {timeout:.0f}s")
        time.sleep(delay)
        delay = min(delay * 2, 10.0)
