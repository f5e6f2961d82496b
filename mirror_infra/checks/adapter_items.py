"""Items shaped exactly as Phase Mirror's AWS adapters write them (key formats, attribute names,
DynamoDB types), for `smoke` to write and read back.

Transcribed from MultiplicityFoundation/Phase-Mirror,
packages/mirror-dissonance/src/adapters/aws/ as of 08e1cb9: fp-store.ts `recordEvent`,
block-counter.ts `increment`, consent-store.ts `recordConsent` (SPEC §2: the adapters are the
contract). The adapters marshal JavaScript values: strings are S, numbers N, booleans BOOL,
objects M, Dates as `toISOString()` strings.
"""

from __future__ import annotations

import hashlib
import time

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
