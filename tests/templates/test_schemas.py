"""The three table schemas exactly as SPEC §2: the Phase Mirror application depends on them.

Expected values are written out here, independently of templates_src.
"""

from __future__ import annotations

import pytest

from tests.conftest import ENVS, resources

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
    },
    "mirror-dissonance-{env}-consent": {
        "KeySchema": [
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        "Attributes": {"pk": "S", "sk": "S"},
        "GSIs": {},
    },
    "mirror-dissonance-{env}-block-counter": {
        "KeySchema": [{"AttributeName": "bucketKey", "KeyType": "HASH"}],
        "Attributes": {"bucketKey": "S"},
        "GSIs": {},
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
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expiresAt", "Enabled": True}
