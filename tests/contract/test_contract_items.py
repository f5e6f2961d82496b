"""The items smoke writes are the adapters' own: expected values transcribed by hand from
Phase Mirror's adapters (packages/mirror-dissonance/src/adapters/aws/ as of 08e1cb9), not
derived from the code under test."""

from __future__ import annotations

import hashlib

from mirror_infra import contract

NOW = 1_700_000_000.25  # 2023-11-14T22:13:20.250Z


def test_dates_are_javascript_iso_strings():
    assert contract.iso(NOW) == "2023-11-14T22:13:20.250Z"
    assert contract.iso(0) == "1970-01-01T00:00:00.000Z"


def test_fp_event_as_record_event_writes_it():
    item = contract.fp_event(
        rule_id="MD-001",
        rule_version="2.1.0",
        finding_id="f-9",
        event_id="e-1",
        now=NOW,
        expires_at=1_707_776_000,
    )
    assert item == {
        "pk": {"S": "rule#MD-001"},
        "sk": {"S": "event#2023-11-14T22:13:20.250Z#e-1"},
        "gsi1pk": {"S": "finding#f-9"},
        "gsi1sk": {"S": "rule#MD-001#2.1.0"},
        "eventId": {"S": "e-1"},
        "ruleId": {"S": "MD-001"},
        "ruleVersion": {"S": "2.1.0"},
        "findingId": {"S": "f-9"},
        "outcome": {"S": "block"},
        "isFalsePositive": {"BOOL": False},
        "timestamp": {"S": "2023-11-14T22:13:20.250Z"},
        "context": {"M": {"source": {"S": "mirror-infra smoke"}}},
        "expiresAt": {"N": "1707776000"},  # epoch seconds: the fp-events table's TTL
        "recordedAt": {"N": "1700000000250"},  # Date.now(): milliseconds
    }
    assert contract.FP_EVENT_CONDITION == ("attribute_not_exists(pk) AND attribute_not_exists(sk)")
    assert contract.FINDING_QUERY == "gsi1pk = :finding AND begins_with(gsi1sk, :rule)"


def test_counter_as_increment_keys_and_updates_it():
    assert contract.counter_key(rule_id="MD-001", org_id="acme", now=NOW) == {
        "bucketKey": {"S": "MD-001:acme:2023-11-14T22:00:00.000Z"}
    }
    assert contract.counter_increment(ttl=1_700_086_400, now=NOW) == {
        "UpdateExpression": "ADD #count :inc SET #ttl = if_not_exists(#ttl, :ttl), #ts = :ts",
        "ExpressionAttributeNames": {"#count": "count", "#ttl": "ttl", "#ts": "timestamp"},
        "ExpressionAttributeValues": {
            ":inc": {"N": "1"},
            ":ttl": {"N": "1700086400"},
            ":ts": {"N": "1700000000250"},
        },
        "ReturnValues": "UPDATED_NEW",
    }


def test_consent_as_record_consent_writes_it():
    org = hashlib.sha256(b"acme").hexdigest()
    item = contract.consent(
        org_id="acme",
        repo_id="acme/app",
        scope="calibration",
        granted_by="alice",
        record_id="r-1",
        now=NOW,
        expires=NOW + 3600,
    )
    assert item == {
        "pk": {"S": f"org#{org}"},
        "sk": {"S": "consent#calibration#r-1"},
        "orgId": {"S": org},
        "repoId": {"S": "acme/app"},
        "scope": {"S": "calibration"},
        "grantedBy": {"S": hashlib.sha256(b"alice").hexdigest()},
        "grantedAt": {"S": "2023-11-14T22:13:20.250Z"},
        "expiresAt": {"S": "2023-11-14T23:13:20.250Z"},  # a string: DynamoDB's TTL ignores it
        "revoked": {"BOOL": False},
        "updatedAt": {"S": "2023-11-14T22:13:20.250Z"},
    }
