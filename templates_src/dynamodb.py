"""The three Phase Mirror tables. Key names are fixed: the application depends on them."""

from __future__ import annotations

from troposphere import GetAtt, Ref, Template
from troposphere import dynamodb as ddb

from mirror_infra import contract
from mirror_infra.config import EnvConfig
from mirror_infra.contract import TableSpec
from templates_src.common import key_arn_parameter, new_template, output, protect, tags


def _key_schema(hash_key: str, range_key: str | None) -> list[ddb.KeySchema]:
    schema = [ddb.KeySchema(AttributeName=hash_key, KeyType="HASH")]
    if range_key:
        schema.append(ddb.KeySchema(AttributeName=range_key, KeyType="RANGE"))
    return schema


def table(cfg: EnvConfig, spec: TableSpec, key_arn: object) -> ddb.Table:
    """A table with the secure defaults (on-demand, PITR, SSE with the environment's key) and
    TTL on the spec's attribute, if it has one (off, where the params turn it off)."""
    attributes = [spec.hash_key, *([spec.range_key] if spec.range_key else [])]
    for index in spec.indexes:
        attributes += [index.hash_key, index.range_key]
    kwargs = {}
    if spec.suffix in cfg.ttl_off:  # the first of two deploys that move TTL (params ttl_off)
        kwargs["TimeToLiveSpecification"] = ddb.TimeToLiveSpecification(
            AttributeName=cfg.ttl_off[spec.suffix], Enabled=False
        )
    elif spec.ttl_attribute:
        kwargs["TimeToLiveSpecification"] = ddb.TimeToLiveSpecification(
            AttributeName=spec.ttl_attribute, Enabled=True
        )
    if spec.indexes:
        kwargs["GlobalSecondaryIndexes"] = [
            ddb.GlobalSecondaryIndex(
                IndexName=index.name,
                KeySchema=_key_schema(index.hash_key, index.range_key),
                Projection=ddb.Projection(ProjectionType="ALL"),
            )
            for index in spec.indexes
        ]
    return protect(
        cfg,
        ddb.Table(
            spec.logical_id,
            TableName=spec.name(cfg),
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[
                ddb.AttributeDefinition(AttributeName=name, AttributeType="S")
                for name in dict.fromkeys(attributes)
            ],
            KeySchema=_key_schema(spec.hash_key, spec.range_key),
            PointInTimeRecoverySpecification=ddb.PointInTimeRecoverySpecification(
                PointInTimeRecoveryEnabled=True
            ),
            SSESpecification=ddb.SSESpecification(
                SSEEnabled=True, SSEType="KMS", KMSMasterKeyId=key_arn
            ),
            DeletionProtectionEnabled=cfg.data_safety.table_deletion_protection,
            Tags=tags(cfg),
            **kwargs,
        ),
    )


def template(cfg: EnvConfig) -> Template:
    t = new_template(cfg, "DynamoDB tables")
    key_arn = key_arn_parameter(t)
    for spec in contract.TABLES:
        resource = t.add_resource(table(cfg, spec, Ref(key_arn)))
        stem = spec.logical_id.removesuffix("Table")
        output(t, f"{stem}TableName", Ref(resource), f"Name of the {spec.suffix} table")
        output(t, f"{stem}TableArn", GetAtt(resource, "Arn"), f"ARN of the {spec.suffix} table")
    return t
