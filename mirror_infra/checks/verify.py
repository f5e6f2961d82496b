"""`verify`: the seed's verification checklist, each item checked against the live account.

One `Check` row per item with its evidence. Nothing secret is read: the nonce is checked by its
metadata (type, key), never decrypted.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from botocore.exceptions import ClientError

from mirror_infra.aws.errors import AwsErrorKind, classify
from mirror_infra.checks.base import Check, Environment, Evidence, failed, guarded
from mirror_infra.deploy import nonce
from templates_src.dynamodb import TABLES, TTL_ATTRIBUTE, TableSpec
from templates_src.monitoring import ALARMS, PERIOD, AlarmSpec

_OPERATORS = {
    "GreaterThanThreshold": ">",
    "GreaterThanOrEqualToThreshold": ">=",
    "LessThanThreshold": "<",
    "LessThanOrEqualToThreshold": "<=",
}
_PUBLIC_ACCESS_SETTINGS = (
    "BlockPublicAcls",
    "IgnorePublicAcls",
    "BlockPublicPolicy",
    "RestrictPublicBuckets",
)


def dashboard_url(region: str, name: str) -> str:
    """The CloudWatch console page of the dashboard."""
    return (
        f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}"
        f"#dashboards:name={name}"
    )


def _optional(call: Callable[[], Any]) -> Any:
    """The call's answer, or None when AWS says the configuration does not exist."""
    try:
        return call()
    except ClientError as exc:
        if classify(exc) is AwsErrorKind.NOT_FOUND:
            return None
        raise


# --- rows ----------------------------------------------------------------------------------


def stack_row(env: Environment) -> Check:
    """The root stack and every nested stack finished deploying; no resource failed."""
    ev = Evidence()
    status = env.stack.status
    ev.expect(status.succeeded, status.value, "CREATE_COMPLETE or UPDATE_COMPLETE")
    resources = [r for node in env.dep.cfn.tree(env.stack.stack_id) for r in node.resources]
    nested = [r for r in resources if r.is_stack]
    unfinished = sorted(
        f"{r.path} {r.status}"
        for r in resources
        if not r.status.endswith("_COMPLETE") or "DELETE" in r.status or "ROLLBACK" in r.status
    )
    ev.fact(f"{len(nested)} nested stacks, {len(resources)} resources")
    ev.expect(not unfinished, "; ".join(unfinished) or "all complete", "every resource complete")
    return ev.check(f"stack {env.stack.name}")


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
    ev.expect(
        ttl.get("AttributeName") == TTL_ATTRIBUTE and ttl.get("TimeToLiveStatus") == "ENABLED",
        ttl_shown,
        f"TTL {TTL_ATTRIBUTE} ENABLED",
    )

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


def key_row(env: Environment) -> Check:
    """The environment's key: enabled, customer managed, rotating, with its alias."""
    kms = env.client("kms")
    meta = kms.describe_key(KeyId=env.key_arn)["KeyMetadata"]
    ev = Evidence()
    ev.expect(meta["KeyState"] == "Enabled", meta["KeyState"], "Enabled")
    ev.expect(meta.get("KeyManager") == "CUSTOMER", f"{meta.get('KeyManager')} managed", "CUSTOMER")
    rotation = kms.get_key_rotation_status(KeyId=env.key_arn)["KeyRotationEnabled"]
    ev.expect(rotation, f"rotation {'ON' if rotation else 'OFF'}", "rotation ON")
    alias = env.dep.names.key_alias
    aliases = env.keys.aliases()
    ev.expect(alias in aliases, f"alias {', '.join(aliases) or 'none'}", f"alias {alias}")
    policy = json.loads(kms.get_key_policy(KeyId=env.key_arn, PolicyName="default")["Policy"])
    open_to = open_statements(policy)
    ev.expect(
        not open_to,
        "policy: no * principal" if not open_to else f"policy: * principal in {', '.join(open_to)}",
        "policy without a * principal",
    )
    via = via_services(policy)
    ev.expect(
        {"dynamodb", "ssm"} <= via,
        f"used via {', '.join(sorted(via)) or 'no service'}",
        "used via dynamodb and ssm",
    )
    return ev.check("KMS key")


def open_statements(policy: dict) -> list[str]:
    """Sids of Allow statements whose principal is anyone ("*")."""
    found = []
    for i, statement in enumerate(_as_list(policy.get("Statement", []))):
        principal = statement.get("Principal")
        values = (
            [principal]
            if isinstance(principal, str)
            else [v for vs in (principal or {}).values() for v in _as_list(vs)]
        )
        if statement.get("Effect") == "Allow" and "*" in values:
            found.append(statement.get("Sid") or f"statement {i + 1}")
    return found


def via_services(policy: dict) -> set[str]:
    """The services named by the policy's kms:ViaService conditions ("dynamodb", "ssm", ...)."""
    services = set()
    for statement in _as_list(policy.get("Statement", [])):
        for condition in (statement.get("Condition") or {}).values():
            for value in _as_list(condition.get("kms:ViaService", [])):
                services.add(str(value).split(".")[0])
    return services


def nonce_row(env: Environment) -> Check:
    """Every nonce version exists from v1 up, as a SecureString under the environment's key.
    Reads metadata only: the value is never fetched, not even to decrypt it."""
    names = env.dep.names
    found = nonce.versions(env.dep.ssm, names)
    ev = Evidence()
    if not found:
        ev.expect(False, f"{names.nonce_parameter(1)} missing", "SecureString")
        return ev.check("SSM nonce")
    numbers = [v.version for v in found]
    ev.expect(
        numbers == list(range(1, len(numbers) + 1)),
        f"versions {', '.join(f'v{n}' for n in numbers)}",
        f"v1 to v{numbers[-1]} without gaps",
    )
    for v in found:
        ev.expect(
            v.type == "SecureString" and env.keys.is_env_key(v.key_id or None),
            f"{v.name}: {v.type} {env.keys.shown(v.key_id or None)}",
            f"SecureString {env.keys.shown(env.key_arn)}",
        )
    return ev.check("SSM nonce")


def alarm_rows(env: Environment) -> list[Check]:
    """Each alarm of SPEC §2 (one describe call for all), as the template declares it."""
    names = [env.dep.names.alarm(spec.suffix) for spec in ALARMS]
    try:
        pages = env.client("cloudwatch").get_paginator("describe_alarms").paginate(AlarmNames=names)
        found = {a["AlarmName"]: a for page in pages for a in page["MetricAlarms"]}
    except ClientError as exc:
        return [failed(f"alarm {spec.suffix}", exc) for spec in ALARMS]
    return [_alarm_row(env, spec, found) for spec in ALARMS]


def _alarm_row(env: Environment, spec: AlarmSpec, found: dict[str, dict]) -> Check:
    name = f"alarm {spec.suffix}"
    alarm = found.get(env.dep.names.alarm(spec.suffix))
    ev = Evidence()
    if alarm is None:
        ev.expect(False, "missing", f"{spec.metric} alarm")
        return ev.check(name)
    namespace = env.dep.names.metric_namespace if spec.namespace == "app" else spec.namespace
    wanted = f"{spec.metric} Sum {_OPERATORS[spec.operator]} {spec.threshold:g} per {PERIOD}s"
    shown = (
        f"{alarm.get('MetricName')} {alarm.get('Statistic')} "
        f"{_OPERATORS.get(alarm.get('ComparisonOperator', ''), alarm.get('ComparisonOperator'))} "
        f"{alarm.get('Threshold', 0):g} per {alarm.get('Period')}s"
    )
    ev.expect(
        shown == wanted and alarm.get("Namespace") == namespace, shown, f"{wanted} in {namespace}"
    )
    if spec.table_logical_id:
        table = next(t for t in TABLES if t.logical_id == spec.table_logical_id)
        dims = {d["Name"]: d["Value"] for d in alarm.get("Dimensions", [])}
        table_name = f"{env.dep.names.prefix}-{table.suffix}"
        ev.expect(
            dims.get("TableName") == table_name,
            f"TableName {dims.get('TableName', '-')}",
            f"TableName {table_name}",
        )
    topic = env.stack.outputs.get("SnsTopicArn", "")
    actions = alarm.get("AlarmActions", [])
    shown_actions = f"topic {env.dep.names.topic}" if topic in actions else ", ".join(actions)
    ev.expect(
        topic in actions, f"action {shown_actions or 'none'}", f"action topic {env.dep.names.topic}"
    )
    ev.fact(f"state {alarm.get('StateValue')}")
    return ev.check(name)


def topic_row(env: Environment) -> Check:
    """The ops-alerts topic exists and is encrypted with the environment's key."""
    arn = env.stack.outputs.get("SnsTopicArn", "")
    attributes = env.client("sns").get_topic_attributes(TopicArn=arn)["Attributes"]
    key = attributes.get("KmsMasterKeyId")
    ev = Evidence()
    ev.fact(env.dep.names.topic)
    ev.expect(
        env.keys.is_env_key(key),
        f"encrypted {env.keys.shown(key)}" if key else "not encrypted",
        f"encrypted {env.keys.shown(env.key_arn)}",
    )
    return ev.check("SNS topic")


def subscriptions_row(env: Environment) -> Check:
    """Every subscription listed; the configured alert email must be subscribed. One awaiting
    confirmation passes with a warning: the infrastructure is right, a person has to click."""
    arn = env.stack.outputs.get("SnsTopicArn", "")
    pages = env.client("sns").get_paginator("list_subscriptions_by_topic").paginate(TopicArn=arn)
    subs = [s for page in pages for s in page["Subscriptions"]]
    email = env.dep.cfg.alert_email
    ev = Evidence()
    for s in subs:
        shown = f"{s['Protocol']} {s['Endpoint']}"
        if s["SubscriptionArn"] == "PendingConfirmation":
            ev.warn(f"{shown} PendingConfirmation (confirm it from the email AWS sent)")
        else:
            ev.fact(f"{shown} confirmed")
    if email and not any(s["Protocol"] == "email" and s["Endpoint"] == email for s in subs):
        ev.expect(False, f"email {email} not subscribed", f"email {email} subscribed")
    if not email:
        ev.fact("no alert email configured")
    return ev.check("SNS subscriptions")


def dashboard_row(env: Environment) -> Check:
    """The dashboard exists and has widgets; the row links to its console page."""
    name = env.dep.names.dashboard(env.region)
    body = env.client("cloudwatch").get_dashboard(DashboardName=name)["DashboardBody"]
    widgets = len(json.loads(body or "{}").get("widgets", []))
    ev = Evidence()
    ev.fact(name)
    ev.expect(widgets > 0, f"{widgets} widgets", "at least one widget")
    return ev.check("dashboard", link=dashboard_url(env.region, name))


def bucket_row(env: Environment) -> Check:
    """The baselines bucket: SSE-KMS with the key and bucket keys, versioned, private, TLS only."""
    s3 = env.client("s3")
    bucket = env.dep.names.baselines_bucket(env.dep.target.account_id, env.region)
    s3.head_bucket(Bucket=bucket)
    ev = Evidence()
    ev.fact(bucket)

    encryption = _optional(lambda: s3.get_bucket_encryption(Bucket=bucket))
    rules = (encryption or {}).get("ServerSideEncryptionConfiguration", {}).get("Rules", [])
    default = rules[0].get("ApplyServerSideEncryptionByDefault", {}) if rules else {}
    key = default.get("KMSMasterKeyID")
    ev.expect(
        default.get("SSEAlgorithm") == "aws:kms" and env.keys.is_env_key(key),
        f"SSE {default.get('SSEAlgorithm', 'none')} {env.keys.shown(key) if key else ''}".strip(),
        f"SSE aws:kms {env.keys.shown(env.key_arn)}",
    )
    bucket_key = bool(rules and rules[0].get("BucketKeyEnabled"))
    ev.expect(bucket_key, f"bucket key {'ON' if bucket_key else 'OFF'}", "bucket key ON")

    versioning = s3.get_bucket_versioning(Bucket=bucket).get("Status", "Disabled")
    ev.expect(versioning == "Enabled", f"versioning {versioning}", "versioning Enabled")

    block = _optional(lambda: s3.get_public_access_block(Bucket=bucket))
    settings = (block or {}).get("PublicAccessBlockConfiguration", {})
    blocked = [s for s in _PUBLIC_ACCESS_SETTINGS if settings.get(s)]
    ev.expect(
        len(blocked) == len(_PUBLIC_ACCESS_SETTINGS),
        f"public access blocked {len(blocked)}/{len(_PUBLIC_ACCESS_SETTINGS)}",
        f"public access blocked {len(_PUBLIC_ACCESS_SETTINGS)}/{len(_PUBLIC_ACCESS_SETTINGS)}",
    )

    policy = _optional(lambda: s3.get_bucket_policy(Bucket=bucket))
    tls_only = policy is not None and denies_insecure_transport(json.loads(policy["Policy"]))
    ev.expect(tls_only, f"TLS-only policy {'yes' if tls_only else 'no'}", "TLS-only policy yes")
    return ev.check("baselines bucket")


def denies_insecure_transport(policy: dict) -> bool:
    """The policy denies every principal every S3 action when aws:SecureTransport is false."""
    statements = policy.get("Statement", [])
    for s in statements if isinstance(statements, list) else [statements]:
        actions = s.get("Action", [])
        actions = [actions] if isinstance(actions, str) else actions
        principal = s.get("Principal")
        secure = s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport")
        if (
            s.get("Effect") == "Deny"
            and principal in ("*", {"AWS": "*"})
            and "s3:*" in actions
            and str(secure).lower() == "false"
        ):
            return True
    return False


def role_row(env: Environment) -> Check:
    """The application role exists and carries its policies."""
    iam = env.client("iam")
    name = env.dep.names.app_role(env.region)
    role = iam.get_role(RoleName=name)["Role"]
    inline = iam.list_role_policies(RoleName=name)["PolicyNames"]
    attached = iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]
    trust = role.get("AssumeRolePolicyDocument", {})
    if isinstance(trust, str):  # URL-encoded JSON when not decoded by the SDK
        from urllib.parse import unquote

        trust = json.loads(unquote(trust))
    services = sorted(
        str(p)
        for s in trust.get("Statement", [])
        for p in _as_list(s.get("Principal", {}).get("Service", []))
    )
    ev = Evidence()
    ev.fact(name)
    ev.expect(
        bool(inline or attached),
        f"policies: {len(inline)} inline, {len(attached)} managed",
        "at least one policy",
    )
    ev.fact(f"trusted by {', '.join(services) or 'roles only'}")
    return ev.check("application role")


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


# --- the checklist -------------------------------------------------------------------------


def verify(env: Environment, workers: int = 8) -> list[Check]:
    """Every checklist row, in a fixed order; rows are independent, so they run concurrently."""
    singles: list[tuple[str, Callable[[], Check]]] = [
        (f"stack {env.stack.name}", lambda: stack_row(env)),
        *((f"table {spec.suffix}", lambda spec=spec: table_row(env, spec)) for spec in TABLES),
        ("KMS key", lambda: key_row(env)),
        ("SSM nonce", lambda: nonce_row(env)),
        ("SNS topic", lambda: topic_row(env)),
        ("SNS subscriptions", lambda: subscriptions_row(env)),
        ("dashboard", lambda: dashboard_row(env)),
        ("baselines bucket", lambda: bucket_row(env)),
        ("application role", lambda: role_row(env)),
    ]
    env.dep.target.account_id  # noqa: B018 - resolved once, before the threads need it
    with ThreadPoolExecutor(max_workers=workers) as pool:
        rows = [pool.submit(guarded, name, run) for name, run in singles]
        alarms = pool.submit(alarm_rows, env)
        results = [f.result() for f in rows]
        alarm_checks = alarms.result()
    # checklist order: stack, tables, key, nonce, alarms, topic, subscriptions, dashboard, ...
    split = 1 + len(TABLES) + 2
    return results[:split] + alarm_checks + results[split:]
