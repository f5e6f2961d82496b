"""`smoke`: the seed's tests (put/get/delete an item, publish a test notification) plus the
Phase Mirror application's own access patterns, against the live environment.

Every run writes under a fresh id, and removes everything it wrote in a `finally` — when a step
fails, and when the run is interrupted; items in tables with a TTL also expire within the hour
(the consent table has none: the cleanup is all there is). Nonce values are read (the
application reads them the same way) and checked for shape, never kept or shown.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from botocore.exceptions import ClientError

from mirror_infra import contract
from mirror_infra.aws.errors import AwsErrorKind, classify, error_code
from mirror_infra.aws.storage import S3
from mirror_infra.aws.wait import Timeout, poll
from mirror_infra.checks.base import Check, Environment, failed
from mirror_infra.deploy import nonce
from mirror_infra.names import RootOutput

TTL_SECONDS = 3600  # the safety net if a cleanup ever fails: DynamoDB expires the items
GSI_TIMEOUT = 30.0  # a GSI is eventually consistent; AWS usually propagates in well under 1 s
OBJECT_PREFIX = "mirror-infra-smoke/"
_NONCE_VALUE = re.compile(r"[0-9a-f]{64}")
FP_EVENT_TTL = "expiresAt"  # the attribute fp-events items expire by (epoch seconds)


class StepFailed(Exception):
    """A smoke step saw something other than what it wrote."""


@dataclass
class Cleanup:
    """What a run wrote, registered before each write, undone newest first."""

    actions: list[tuple[str, Callable[[], None]]] = field(default_factory=list)

    def add(self, what: str, undo: Callable[[], None]) -> None:
        self.actions.append((what, undo))

    def run(self) -> Check:
        left: list[str] = []
        for what, undo in reversed(self.actions):
            try:
                undo()
            except ClientError as exc:
                left.append(f"{what} ({error_code(exc) or 'error'})")
        removed = len(self.actions) - len(left)
        if left:
            text = f"could not remove (check and delete by hand): {'; '.join(left)}"
            return Check("cleanup", False, text, tuple(left))
        return Check("cleanup", True, f"removed all {removed} test record(s)")


@dataclass
class Smoke:
    """One smoke run against the environment (use `run()`)."""

    env: Environment
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    clock: Callable[[], float] = time.time
    gsi_timeout: float = GSI_TIMEOUT
    cleanup: Cleanup = field(default_factory=Cleanup)

    @property
    def names(self):
        return self.env.dep.names

    @property
    def expires_at(self) -> int:
        return int(self.clock()) + TTL_SECONDS

    def _ddb(self):
        return self.env.client("dynamodb")

    def _forget_item(self, table: str, key: dict) -> None:
        """Register the item's deletion (idempotent), before it is written."""
        self.cleanup.add(
            f"{table} item {key}", lambda: self._ddb().delete_item(TableName=table, Key=key)
        )

    def _read(self, table: str, key: dict) -> dict | None:
        return self._ddb().get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")

    # --- steps ---------------------------------------------------------------------------

    def item_roundtrip(self) -> str:
        """The seed's test: put, get and delete an item in fp-events."""
        table = self.names.fp_events_table
        key = {"pk": {"S": f"smoke#{self.run_id}"}, "sk": {"S": "test"}}
        self._forget_item(table, key)
        self._ddb().put_item(
            TableName=table,
            Item={**key, "note": {"S": "smoke"}, FP_EVENT_TTL: {"N": str(self.expires_at)}},
        )
        if self._read(table, key) is None:
            raise StepFailed("the item just written could not be read back")
        self._ddb().delete_item(TableName=table, Key=key)
        if self._read(table, key) is not None:
            raise StepFailed("the item is still there after DeleteItem")
        return f"{table}: put, get, delete ok"

    def notification(self) -> str:
        """The seed's test alert, published to the ops-alerts topic."""
        subject = f"[TEST] {self.names.env.capitalize()} Alert"
        answer = self.env.client("sns").publish(
            TopicArn=self.env.stack.outputs[RootOutput.SNS_TOPIC_ARN],
            Subject=subject,
            Message=f"Test alert from mirror-infra smoke (run {self.run_id}) "
            f"in {self.names.env}; no action needed.",
        )
        return f"published {subject!r} (message {answer['MessageId']})"

    def finding_index(self) -> str:
        """Record an fp event as the adapter does (conditional put), read it back unchanged, and
        find it through FindingIndex with the adapter's own key condition."""
        table = self.names.fp_events_table
        rule = f"smoke-{self.run_id}"
        item = contract.fp_event(
            rule_id=rule,
            rule_version="1.0.0",
            finding_id=f"smoke-{self.run_id}",
            event_id=str(uuid.uuid4()),
            now=self.clock(),
            expires_at=self.expires_at,
        )
        key = {k: item[k] for k in ("pk", "sk")}
        self._forget_item(table, key)
        self._ddb().put_item(
            TableName=table, Item=item, ConditionExpression=contract.FP_EVENT_CONDITION
        )
        if self._read(table, key) != item:
            raise StepFailed("the event read back differs from the one the adapter would write")

        def query() -> list[dict]:
            return self._ddb().query(
                TableName=table,
                IndexName="FindingIndex",
                KeyConditionExpression=contract.FINDING_QUERY,
                ExpressionAttributeValues={
                    ":finding": item["gsi1pk"],
                    ":rule": {"S": f"rule#{rule}"},
                },
            )["Items"]

        try:
            items = poll(query, bool, self.env.dep.backoff, self.gsi_timeout)
        except Timeout:
            raise StepFailed(
                f"the event was not visible in FindingIndex after {self.gsi_timeout:.0f}s"
            ) from None
        if [i["sk"]["S"] for i in items] != [key["sk"]["S"]]:
            raise StepFailed(f"FindingIndex returned {len(items)} item(s), expected the 1 written")
        return f"{table}: event written as the adapter writes it, found by FindingIndex"

    def block_counter(self) -> str:
        """Increment a circuit-breaker counter twice with the adapter's UpdateItem; read back
        count 2, the first ttl and the last timestamp."""
        table = self.names.block_counter_table
        key = contract.counter_key(
            rule_id=f"smoke-{self.run_id}", org_id="mirror-infra", now=self.clock()
        )
        self._forget_item(table, key)
        first = contract.counter_increment(ttl=self.expires_at, now=self.clock())
        second = contract.counter_increment(ttl=self.expires_at + 60, now=self.clock() + 1)
        counts = [
            self._ddb()
            .update_item(TableName=table, Key=key, **args)
            .get("Attributes", {})
            .get("count", {})
            .get("N")
            for args in (first, second)
        ]
        if counts != ["1", "2"]:
            raise StepFailed(f"the increments returned counts {counts}, expected ['1', '2']")
        wanted = {
            **key,
            "count": {"N": "2"},
            "ttl": first["ExpressionAttributeValues"][":ttl"],  # set once: if_not_exists
            "timestamp": second["ExpressionAttributeValues"][":ts"],
        }
        if self._read(table, key) != wanted:
            raise StepFailed("the counter read back differs from the one the adapter would keep")
        return f"{table}: count 2 after two of the adapter's ADDs, ttl kept from the first"

    def consent(self) -> str:
        """Write a consent record as the adapter does and read it back unchanged."""
        table = self.names.consent_table
        now = self.clock()
        item = contract.consent(
            org_id=f"smoke-{self.run_id}",
            repo_id="mirror-infra/smoke",
            scope="smoke",
            granted_by="mirror-infra",
            record_id=str(uuid.uuid4()),
            now=now,
            expires=now + TTL_SECONDS,
        )
        key = {k: item[k] for k in ("pk", "sk")}
        self._forget_item(table, key)
        self._ddb().put_item(TableName=table, Item=item)
        if self._read(table, key) != item:
            raise StepFailed("the consent record read back differs from the one written")
        return f"{table}: consent record written as the adapter writes it, and read"

    def nonce(self) -> str:
        """Read every nonce version by path, decrypted, as the application does; check shape."""
        ssm = self.env.client("ssm")
        expected = {v.name for v in nonce.versions(self.env.dep.ssm, self.names)}
        if not expected:
            raise StepFailed(f"no nonce under {self.names.nonce_path}")
        pages = ssm.get_paginator("get_parameters_by_path").paginate(
            Path=self.names.nonce_path, Recursive=True, WithDecryption=True
        )
        read: set[str] = set()
        malformed: list[str] = []
        for page in pages:
            for p in page["Parameters"]:
                if p["Name"] in expected:
                    read.add(p["Name"])
                    if p["Type"] != "SecureString" or not _NONCE_VALUE.fullmatch(p["Value"]):
                        malformed.append(p["Name"])  # the name only: values are never kept
        if expected - read:
            raise StepFailed(f"not readable by path: {', '.join(sorted(expected - read))}")
        if malformed:
            raise StepFailed(
                f"not a SecureString of 64 hex characters: {', '.join(sorted(malformed))}"
            )
        return f"{len(read)} version(s) read by path with decryption, each 64 hex characters"

    def baseline_object(self) -> str:
        """Write and read an object in the baselines bucket (encrypted by the bucket default)."""
        s3 = self.env.client("s3")
        bucket = self.names.baselines_bucket(self.env.dep.target.account_id, self.env.region)
        key = f"{OBJECT_PREFIX}{self.run_id}.json"
        body = f'{{"smoke": "{self.run_id}"}}'.encode()
        self.cleanup.add(f"s3://{bucket}/{key}", lambda: delete_every_version(s3, bucket, key))
        s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/json")
        got = s3.get_object(Bucket=bucket, Key=key)
        if got["Body"].read() != body:
            raise StepFailed("the object read back differs from the one written")
        return f"s3://{bucket}/{key}: written and read ({got.get('ServerSideEncryption', 'none')})"

    # --- the run -------------------------------------------------------------------------

    def steps(self) -> list[tuple[str, Callable[[], str]]]:
        return [
            ("fp-events put/get/delete", self.item_roundtrip),
            ("SNS test notification", self.notification),
            ("fp event via FindingIndex", self.finding_index),
            ("block counter ADD", self.block_counter),
            ("consent record", self.consent),
            ("nonce by path", self.nonce),
            ("baselines object", self.baseline_object),
        ]

    def run(self) -> list[Check]:
        """Every step (a failed step does not stop the others), then the cleanup row."""
        results: list[Check] = []
        try:
            for name, step in self.steps():
                try:
                    results.append(Check(name, True, step()))
                except StepFailed as exc:
                    results.append(Check(name, False, str(exc), (str(exc),)))
                except ClientError as exc:
                    results.append(failed(name, exc))
        finally:
            cleaned = self.cleanup.run()
        return [*results, cleaned]


def delete_every_version(s3, bucket: str, key: str) -> None:
    """Remove the object for good: every version and delete marker, not just the latest."""
    store = S3(s3)
    doomed = [v for v in store.versions(bucket, prefix=key) if v["Key"] == key]
    store.delete_versions(bucket, doomed)
    if not doomed:
        try:
            s3.delete_object(Bucket=bucket, Key=key)  # an unversioned bucket, or nothing written
        except ClientError as exc:
            if classify(exc) is not AwsErrorKind.NOT_FOUND:
                raise


def smoke(env: Environment) -> list[Check]:
    """Run the smoke tests once; the last row says whether everything written was removed."""
    return Smoke(env).run()
