"""An existing staging environment moves to the TTL attributes the application writes, in place.

Before the adapters became the contract (SPEC §2), every table had TTL on `expiresAt`. Now the
block counter's is on `ttl` and consent has none. AWS cannot switch a table's TTL attribute in
one step: "you must first disable TTL and then enable TTL with the new attribute name"
(CloudFormation template reference, AWS::DynamoDB::Table TimeToLiveSpecification), and a table
takes one UpdateTimeToLive per hour (DynamoDB API reference, UpdateTimeToLive). The local AWS
keeps both rules (localaws/moto_fixes/dynamodb.py), its hour moved here by its clock. So the move
is two deploys an hour apart — the first with the params' `ttl_off` — each a TTL change that
plan marks "loses data" and apply refuses until the table is named.
"""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from mirror_infra.names import Names
from tests.deploy.test_deploy import _rebuild_with

NAMES = Names("staging")
COUNTER_ITEM = {
    "bucketKey": {"S": "MD-001:acme:2026-01-01T10:00:00.000Z"},
    "count": {"N": "3"},
    "ttl": {"N": "1767348000"},
    "timestamp": {"N": "1767261600000"},
}
CONSENT_ITEM = {
    "pk": {"S": "org#" + "0" * 64},
    "sk": {"S": "consent#calibration#r-1"},
    "scope": {"S": "calibration"},
    "revoked": {"BOOL": False},
    "expiresAt": {"S": "2030-01-01T00:00:00.000Z"},
}


@pytest.fixture
def hours(monkeypatch) -> list[float]:
    """The local AWS's clock for TTL changes; add 3600 to let an hour pass."""
    from localaws.moto_fixes import dynamodb as ttl_rules

    now = [2_000_000_000.0]
    monkeypatch.setattr(ttl_rules, "clock", lambda: now[0])
    return now


@pytest.fixture
def previous(cli, local_aws, monkeypatch, project, hours):
    """Staging as deployed before (TTL on expiresAt on every table), holding a counter and a
    consent record; the current templates' tables, to go back to."""
    from mirror_infra import contract

    current = contract.TABLES
    older = tuple(replace(spec, ttl_attribute="expiresAt") for spec in contract.TABLES)
    _rebuild_with(monkeypatch, project, **{"mirror_infra.contract.TABLES": older})
    assert cli("bootstrap").code == 0
    assert cli("apply", "--yes").code == 0, cli.transcript
    ddb = local_aws.client("dynamodb")
    ddb.put_item(TableName=NAMES.block_counter_table, Item=COUNTER_ITEM)
    ddb.put_item(TableName=NAMES.consent_table, Item=CONSENT_ITEM)
    assert _ttl(ddb, NAMES.block_counter_table)["AttributeName"] == "expiresAt"
    hours[0] += 3600  # the create's own TTL change is an hour old
    return current


def _ttl(ddb, table: str) -> dict:
    return ddb.describe_time_to_live(TableName=table)["TimeToLiveDescription"]


def _plan_risks(cli, *allowed: str) -> tuple[int, dict[str, str], str]:
    flags = [a for name in allowed for a in ("--allow-replace", name)]
    result = cli("plan", "--json", *flags)
    changes = json.loads(result.out)["changes"]
    # the tables' changes; a table whose only row is issue 759's is shown too, as no change
    risks = {
        c["logical_id"]: c["risk"] for c in changes if c["stack"] == "Dynamodb" and not c["phantom"]
    }
    return result.code, risks, result.err


def test_existing_environment_moves_to_the_adapters_ttl_in_place(
    cli, local_aws, monkeypatch, project, hours, previous
):
    current = previous
    ddb = local_aws.client("dynamodb")
    tables_before = {t: ddb.describe_table(TableName=t)["Table"] for t in NAMES.tables}

    # step 1: the current templates, with TTL off on both tables that change (params ttl_off)
    params = project / "params" / "staging.yaml"
    plain = params.read_text()
    params.write_text(plain + "ttl_off:\n  block-counter: expiresAt\n  consent: expiresAt\n")
    _rebuild_with(monkeypatch, project, **{"mirror_infra.contract.TABLES": current})
    code, risks, err = _plan_risks(cli)
    assert code == 1
    assert risks == {"BlockCounterTable": "loses data", "ConsentTable": "loses data"}
    assert "refusing to change data: Dynamodb.BlockCounterTable (loses data)" in err
    named = ("--allow-replace", "BlockCounterTable", "--allow-replace", "ConsentTable")
    assert cli("apply", "--yes", *named).code == 0, cli.transcript
    assert _ttl(ddb, NAMES.block_counter_table) == {"TimeToLiveStatus": "DISABLED"}
    assert _ttl(ddb, NAMES.consent_table) == {"TimeToLiveStatus": "DISABLED"}

    # step 2, within the hour: AWS refuses the table's second TTL change, and so does apply
    params.write_text(plain)
    _rebuild_with(monkeypatch, project)
    code, risks, _ = _plan_risks(cli, "BlockCounterTable", "ConsentTable")
    assert code == 2
    assert risks == {"BlockCounterTable": "loses data", "ConsentTable": "loses data"}
    early = cli("apply", "--yes", *named)
    assert early.code == 1
    assert "multiple times within a fixed interval" in early.text
    assert _ttl(ddb, NAMES.block_counter_table) == {"TimeToLiveStatus": "DISABLED"}

    # step 2, an hour later: TTL on the attribute the adapter writes
    hours[0] += 3600
    assert cli("apply", "--yes", *named).code == 0, cli.transcript
    assert _ttl(ddb, NAMES.block_counter_table) == {
        "TimeToLiveStatus": "ENABLED",
        "AttributeName": "ttl",
    }
    assert _ttl(ddb, NAMES.consent_table) == {"TimeToLiveStatus": "DISABLED"}
    assert _ttl(ddb, NAMES.fp_events_table) == {
        "TimeToLiveStatus": "ENABLED",
        "AttributeName": "expiresAt",
    }

    # in place: the same tables (no replacement), every item kept
    for name, before in tables_before.items():
        after = ddb.describe_table(TableName=name)["Table"]
        assert (after["TableArn"], after["CreationDateTime"]) == (
            before["TableArn"],
            before["CreationDateTime"],
        )
    key = {"bucketKey": COUNTER_ITEM["bucketKey"]}
    assert ddb.get_item(TableName=NAMES.block_counter_table, Key=key)["Item"] == COUNTER_ITEM
    consent_key = {k: CONSENT_ITEM[k] for k in ("pk", "sk")}
    assert ddb.get_item(TableName=NAMES.consent_table, Key=consent_key)["Item"] == CONSENT_ITEM
    assert cli("plan").code == 0


def test_switching_in_one_deploy_is_refused_by_aws_and_loses_nothing(
    cli, local_aws, monkeypatch, project, previous
):
    current = previous
    ddb = local_aws.client("dynamodb")
    _rebuild_with(monkeypatch, project, **{"mirror_infra.contract.TABLES": current})
    named = ("--allow-replace", "BlockCounterTable", "--allow-replace", "ConsentTable")
    applied = cli("apply", "--yes", *named)
    assert applied.code == 1
    assert "TimeToLive is active on a different AttributeName" in applied.text
    cfn = local_aws.client("cloudformation")
    (stack,) = cfn.describe_stacks(StackName=NAMES.root_stack)["Stacks"]
    assert stack["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    assert _ttl(ddb, NAMES.block_counter_table) == {
        "TimeToLiveStatus": "ENABLED",
        "AttributeName": "expiresAt",
    }
    key = {"bucketKey": COUNTER_ITEM["bucketKey"]}
    assert ddb.get_item(TableName=NAMES.block_counter_table, Key=key)["Item"] == COUNTER_ITEM
