"""Each table as SPEC §2 describes it: active, keys, on-demand, PITR, SSE, TTL, GSIs."""

from __future__ import annotations

from mirror_infra.checks.base import Check, Environment, Evidence
from mirror_infra.contract import TableSpec

ID = "tables"
DESCRIPTION = "Each table ACTIVE, keyed, on-demand, PITR, SSE with the key, TTL, GSI"


def table_row(env: Environment, spec: TableSpec) -> Check:
    """A table as SPEC §2 describes it: active, keys, on-demand, PITR, SSE with the key, TTL
    and GSIs."""
    ddb = env.client("dynamodb")
    name = f"{env.dep.names.prefix}-{spec.suffix}"
    table = ddb.describe_table(TableName=name)["Table"]
    ev = Evidence()
    ev.expect(table["TableStatus"] == "ACTIVE", table["TableStatus"], "ACTIVE")
    keys = {k["KeyType"]: k["AttributeName"] for k in table["KeySchema"]}
    wanted = "/".join(filter(None, (spec.hash_key, spec.range_key)))
    shown = "/".join(filter(None, (keys.get("HASH"), keys.get("RANGE"))))
    ev.expect(shown == wanted, f"keys {shown}", f"keys {wanted}")
    billing = table.get("BillingModeSummary", {}).get("BillingMode", "PROVISIONED")
    ev.expect(billing == "PAY_PER_REQUEST", billing, "PAY_PER_REQUEST")

    backups = ddb.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
    pitr = backups.get("PointInTimeRecoveryDescription", {}).get(
        "PointInTimeRecoveryStatus", "DISABLED"
    )
    ev.expect(pitr == "ENABLED", f"PITR {pitr}", "PITR ENABLED")

    sse = table.get("SSEDescription", {})
    sse_ok = (
        sse.get("Status") == "ENABLED"
        and sse.get("SSEType") == "KMS"
        and env.keys.is_env_key(sse.get("KMSMasterKeyArn"))
    )
    shown_sse = (
        f"SSE {sse.get('SSEType', 'AWS_OWNED')} {env.keys.shown(sse.get('KMSMasterKeyArn'))}"
        if sse
        else "SSE AWS owned key"
    )
    ev.expect(sse_ok, shown_sse, f"SSE KMS {env.keys.shown(env.key_arn)}")

    ttl = ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
    ttl_shown = f"TTL {ttl.get('AttributeName', '-')} {ttl.get('TimeToLiveStatus', 'DISABLED')}"
    status = ttl.get("TimeToLiveStatus", "DISABLED")
    if spec.ttl_attribute:  # the attribute the table's adapter writes
        ttl_ok = ttl.get("AttributeName") == spec.ttl_attribute and status == "ENABLED"
        ttl_wanted = f"TTL {spec.ttl_attribute} ENABLED"
    else:  # the application checks expiry itself: DynamoDB must not delete these items
        ttl_ok, ttl_wanted = status == "DISABLED", "TTL DISABLED"
    ev.expect(ttl_ok, ttl_shown, ttl_wanted)

    indexes = {i["IndexName"]: i for i in table.get("GlobalSecondaryIndexes", [])}
    for index in spec.indexes:
        found = indexes.get(index.name)
        if found is None:
            ev.expect(False, f"GSI {index.name} missing", f"GSI {index.name} ACTIVE")
            continue
        keys = {k["KeyType"]: k["AttributeName"] for k in found["KeySchema"]}
        projection = found.get("Projection", {}).get("ProjectionType")
        ev.expect(
            found.get("IndexStatus") == "ACTIVE"
            and keys == {"HASH": index.hash_key, "RANGE": index.range_key}
            and projection == "ALL",
            f"GSI {index.name} {found.get('IndexStatus')} "
            f"{keys.get('HASH')}/{keys.get('RANGE')} {projection}",
            f"GSI {index.name} ACTIVE {index.hash_key}/{index.range_key} ALL",
        )
    for extra in sorted(set(indexes) - {i.name for i in spec.indexes}):
        ev.fact(f"extra GSI {extra}")
    return ev.check(f"table {spec.suffix}")
