"""The three table schemas as SPEC §2 and the application's adapters say: keys, indexes, TTL.

Expected values are written out here, independently of templates_src.
"""

from __future__ import annotations

import pytest

from tests.conftest import ENVS, REPO, resources

EXPECTED = {
    "mirror-dissonance-{env}-fp-events": {
        "KeySchema": [
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        "Attributes": {"pk": "S", "sk": "S", "gsi1pk": "S", "gsi1sk": "S"},
        "GSIs": {
            "FindingIndex": {
                "KeySchema": [
                    {"AttributeName": "gsi1pk", "KeyType": "HASH"},
                    {"AttributeName": "gsi1sk", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        },
        # the adapter writes expiresAt as epoch seconds
        "TTL": {"AttributeName": "expiresAt", "Enabled": True},
    },
    "mirror-dissonance-{env}-consent": {
        "KeySchema": [
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        "Attributes": {"pk": "S", "sk": "S"},
        "GSIs": {},
        # none: the adapter's expiresAt is an ISO-8601 string; the application checks expiry
        "TTL": None,
    },
    "mirror-dissonance-{env}-block-counter": {
        "KeySchema": [{"AttributeName": "bucketKey", "KeyType": "HASH"}],
        "Attributes": {"bucketKey": "S"},
        "GSIs": {},
        # the adapter writes ttl (epoch seconds, 24 hours ahead), never expiresAt
        "TTL": {"AttributeName": "ttl", "Enabled": True},
    },
}


def _tables(built, env: str) -> dict[str, dict]:
    return {
        r["Properties"]["TableName"]: r["Properties"]
        for r in resources(built[env]["Dynamodb"], "AWS::DynamoDB::Table").values()
    }


@pytest.mark.parametrize("env", ENVS)
def test_exactly_the_three_tables(built, env: str) -> None:
    assert sorted(_tables(built, env)) == sorted(n.format(env=env) for n in EXPECTED)


@pytest.mark.parametrize("env", ENVS)
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_table_schema(built, env: str, name: str) -> None:
    expected = EXPECTED[name]
    table = _tables(built, env)[name.format(env=env)]
    assert table["KeySchema"] == expected["KeySchema"]
    assert {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]} == (
        expected["Attributes"]
    )
    gsis = {g["IndexName"]: g for g in table.get("GlobalSecondaryIndexes", [])}
    assert sorted(gsis) == sorted(expected["GSIs"])
    for index, want in expected["GSIs"].items():
        assert gsis[index]["KeySchema"] == want["KeySchema"]
        assert gsis[index]["Projection"] == want["Projection"]
    assert table.get("TimeToLiveSpecification") == expected["TTL"]


def test_params_ttl_off_turns_a_tables_ttl_off_for_one_deploy():
    # the first of the two deploys that move a table's TTL to another attribute
    from mirror_infra.config import load
    from templates_src import dynamodb

    cfg = load("staging", root=REPO).model_copy(update={"ttl_off": {"block-counter": "expiresAt"}})
    tables = {
        r["Properties"]["TableName"]: r["Properties"]
        for r in resources(dynamodb.template(cfg).to_dict(), "AWS::DynamoDB::Table").values()
    }
    assert tables["mirror-dissonance-staging-block-counter"]["TimeToLiveSpecification"] == {
        "AttributeName": "expiresAt",
        "Enabled": False,
    }
    assert tables["mirror-dissonance-staging-fp-events"]["TimeToLiveSpecification"] == {
        "AttributeName": "expiresAt",
        "Enabled": True,
    }
    assert "TimeToLiveSpecification" not in tables["mirror-dissonance-staging-consent"]
