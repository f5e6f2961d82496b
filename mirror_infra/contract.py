"""The application's contract with its environment, read by the templates, the deploy and the
checks alike: each table's name suffix, keys, indexes and TTL attribute (the application's AWS
adapters write them, SPEC §2), the metrics the application logs, the alarms on them, and items
shaped exactly as the adapters write them (for `smoke` to write and read back). Names and
outputs live in `names.py`.

Read these as `contract.TABLES`/`contract.ALARMS` (module attributes), not by `from ... import`,
so that one value reaches every reader.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from mirror_infra.names import RootOutput

if TYPE_CHECKING:
    from mirror_infra.config import EnvConfig


@dataclass(frozen=True)
class Index:
    name: str
    hash_key: str
    range_key: str


@dataclass(frozen=True)
class TableSpec:
    """One table's shape: logical id, name suffix, keys (all strings), indexes, and the
    attribute DynamoDB's TTL expires items by (None: no TTL)."""

    logical_id: str
    suffix: str
    hash_key: str
    range_key: str | None = None
    indexes: tuple[Index, ...] = field(default_factory=tuple)
    ttl_attribute: str | None = None

    def name(self, cfg: EnvConfig) -> str:
        return f"{cfg.names.prefix}-{self.suffix}"


# Names, keys and TTL attributes are the application's: its AWS adapters (SPEC §2) write them.
TABLES = (
    # pk = rule#{ruleId}, sk = event#{timestamp}#{eventId}; gsi1pk = finding#{findingId};
    # the adapter writes expiresAt as epoch seconds, 90 days ahead
    TableSpec(
        "FpEventsTable",
        "fp-events",
        "pk",
        "sk",
        (Index("FindingIndex", "gsi1pk", "gsi1sk"),),
        ttl_attribute="expiresAt",
    ),
    # pk = org#{sha256(orgId)}, sk = consent#{scope}#...; no TTL: the adapter's expiresAt is an
    # ISO-8601 string, which DynamoDB's TTL ignores, and the application checks expiry itself
    TableSpec("ConsentTable", "consent", "pk", "sk"),
    # bucketKey = {ruleId}:{orgId}:{hour}; count updated with ADD; the adapter writes ttl as
    # epoch seconds, 24 hours ahead
    TableSpec("BlockCounterTable", "block-counter", "bucketKey", ttl_attribute="ttl"),
)


PERIOD = 300  # five minutes


@dataclass(frozen=True)
class AppMetric:
    """A metric the application logs as a JSON event; a metric filter counts it."""

    logical_id: str
    metric_name: str
    event: str


SSM_FAILURES = AppMetric(
    "SsmParameterFailuresFilter", "SsmParameterFailures", "ssm_parameter_failure"
)
CIRCUIT_BREAKER = AppMetric(
    "CircuitBreakerTriggeredFilter", "CircuitBreakerTriggered", "circuit_breaker_triggered"
)
APP_METRICS = (SSM_FAILURES, CIRCUIT_BREAKER)


@dataclass(frozen=True)
class AlarmSpec:
    logical_id: str
    suffix: str
    namespace: str  # "app" for the environment's own namespace
    metric: str
    threshold: float
    operator: str
    description: str
    table_logical_id: str | None = None


def _throttle_alarms() -> list[AlarmSpec]:
    specs = []
    for table in TABLES:
        stem = table.logical_id.removesuffix("Table")
        for kind in ("Read", "Write"):
            specs.append(
                AlarmSpec(
                    f"{stem}{kind}ThrottleAlarm",
                    f"{table.suffix}-{kind.lower()}-throttle",
                    "AWS/DynamoDB",
                    f"{kind}ThrottleEvents",
                    10,
                    "GreaterThanThreshold",
                    f"{table.suffix}: more than 10 throttled {kind.lower()}s in 5 minutes",
                    table.logical_id,
                )
            )
    return specs


ALARMS = (
    *_throttle_alarms(),
    AlarmSpec(
        "SsmParameterFailuresAlarm",
        "ssm-parameter-failures",
        "app",
        SSM_FAILURES.metric_name,
        5,
        "GreaterThanThreshold",
        "More than 5 SSM parameter access failures in 5 minutes",
    ),
    AlarmSpec(
        "CircuitBreakerTriggeredAlarm",
        "circuit-breaker-triggered",
        "app",
        CIRCUIT_BREAKER.metric_name,
        1,
        "GreaterThanOrEqualToThreshold",
        "The circuit breaker was triggered",
    ),
)


# The application's configuration: the environment variables its `loadCloudConfig` reads for
# CLOUD_PROVIDER=aws (upstream packages/mirror-dissonance/src/adapters/config.ts, read at
# 3e8fb25), each with the root stack output that carries it; AWS_REGION is the target's region.
APP_CLOUD_PROVIDER = "aws"
APP_CONFIG_OUTPUTS = {
    "FP_TABLE_NAME": RootOutput.FP_EVENTS_TABLE_NAME,
    "CONSENT_TABLE_NAME": RootOutput.CONSENT_TABLE_NAME,
    "BLOCK_COUNTER_TABLE_NAME": RootOutput.BLOCK_COUNTER_TABLE_NAME,
    "NONCE_PARAMETER_NAME": RootOutput.NONCE_PARAMETER_NAME,
    "BASELINE_BUCKET": RootOutput.BASELINES_BUCKET_NAME,
}

# The application also runs in GitHub Actions, by OIDC (upstream's workflows): the account's
# provider for GitHub's tokens, and the audience aws-actions/configure-aws-credentials asks for
GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
GITHUB_OIDC_AUDIENCE = "sts.amazonaws.com"


# --- items as the adapters write them ------------------------------------------------------
# Key formats, attribute names and DynamoDB types transcribed from MultiplicityFoundation/
# Phase-Mirror, packages/mirror-dissonance/src/adapters/aws/ as of 08e1cb9: fp-store.ts
# `recordEvent`, block-counter.ts `increment`, consent-store.ts `recordConsent`. The adapters
# marshal JavaScript values: strings are S, numbers N, booleans BOOL, objects M, Dates as
# `toISOString()` strings.

# fp-store.ts: the put is conditional, so an event is never recorded twice
FP_EVENT_CONDITION = "attribute_not_exists(pk) AND attribute_not_exists(sk)"
# fp-store.ts isFalsePositive: a finding's events for one rule, through FindingIndex
FINDING_QUERY = "gsi1pk = :finding AND begins_with(gsi1sk, :rule)"
# block-counter.ts increment: count and timestamp change, ttl is set once per hourly bucket
COUNTER_UPDATE = "ADD #count :inc SET #ttl = if_not_exists(#ttl, :ttl), #ts = :ts"
COUNTER_NAMES = {"#count": "count", "#ttl": "ttl", "#ts": "timestamp"}


def iso(seconds: float) -> str:
    """JavaScript's `Date.prototype.toISOString()`: UTC, milliseconds, a trailing Z."""
    millis = int(seconds * 1000)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(millis // 1000))
    return f"{stamp}.{millis % 1000:03d}Z"


def hashed(value: str) -> str:
    """consent-store.ts hashId: hex SHA-256."""
    return hashlib.sha256(value.encode()).hexdigest()


def fp_event(
    *,
    rule_id: str,
    rule_version: str,
    finding_id: str,
    event_id: str,
    now: float,
    expires_at: int,
) -> dict:
    """An event as recordEvent puts it (the adapter's expiresAt is 90 days ahead)."""
    stamp = iso(now)
    return {
        "pk": {"S": f"rule#{rule_id}"},
        "sk": {"S": f"event#{stamp}#{event_id}"},
        "gsi1pk": {"S": f"finding#{finding_id}"},
        "gsi1sk": {"S": f"rule#{rule_id}#{rule_version}"},
        "eventId": {"S": event_id},
        "ruleId": {"S": rule_id},
        "ruleVersion": {"S": rule_version},
        "findingId": {"S": finding_id},
        "outcome": {"S": "block"},
        "isFalsePositive": {"BOOL": False},
        "timestamp": {"S": stamp},
        "context": {"M": {"source": {"S": "mirror-infra smoke"}}},
        "expiresAt": {"N": str(expires_at)},
        "recordedAt": {"N": str(int(now * 1000))},
    }


def counter_key(*, rule_id: str, org_id: str, now: float) -> dict:
    """increment's key: `{ruleId}:{orgId}:{the hour, as toISOString()}`. The adapter takes the
    hour in the process's local time zone; in UTC (Lambda's, ECS's default) that is this."""
    return {"bucketKey": {"S": f"{rule_id}:{org_id}:{iso(now - now % 3600)}"}}


def counter_increment(*, ttl: int, now: float) -> dict:
    """UpdateItem's arguments for one increment (the adapter's ttl is 24 hours ahead)."""
    return {
        "UpdateExpression": COUNTER_UPDATE,
        "ExpressionAttributeNames": COUNTER_NAMES,
        "ExpressionAttributeValues": {
            ":inc": {"N": "1"},
            ":ttl": {"N": str(ttl)},
            ":ts": {"N": str(int(now * 1000))},
        },
        "ReturnValues": "UPDATED_NEW",
    }


def consent(
    *,
    org_id: str,
    repo_id: str,
    scope: str,
    granted_by: str,
    record_id: str,
    now: float,
    expires: float,
) -> dict:
    """A consent record as recordConsent puts it. Its expiresAt is an ISO-8601 string, which
    DynamoDB's TTL ignores: the table has no TTL and the application checks expiry itself."""
    org = hashed(org_id)
    granted_at = iso(now)
    return {
        "pk": {"S": f"org#{org}"},
        "sk": {"S": f"consent#{scope}#{record_id}"},
        "orgId": {"S": org},
        "repoId": {"S": repo_id},
        "scope": {"S": scope},
        "grantedBy": {"S": hashed(granted_by)},
        "grantedAt": {"S": granted_at},
        "expiresAt": {"S": iso(expires)},
        "revoked": {"BOOL": False},
        "updatedAt": {"S": granted_at},
    }
