"""`verify`: the seed's verification checklist, each item checked against the live account.

Each row is a module of `checks/rows/` with its ID, DESCRIPTION and checking function,
registered here in checklist order. A row yields one `Check` (the tables and alarms one per
table and alarm). Nothing secret is read: the nonce is checked by its metadata, never decrypted.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from mirror_infra import contract
from mirror_infra.checks.base import Check, Environment, guarded
from mirror_infra.checks.rows import (
    alarms,
    bucket,
    dashboard,
    key,
    log_group,
    nonce,
    protection,
    role,
    stack,
    subscriptions,
    tables,
    topic,
)


@dataclass(frozen=True)
class Row:
    id: str
    description: str
    checks: Callable[[Environment], list[Check]]


def _one(name: Callable[[Environment], str], run: Callable[[Environment], Check]):
    """A row of one check, failed by name when AWS answers with an error."""
    return lambda env: [guarded(name(env), lambda: run(env))]


def _tables(env: Environment) -> list[Check]:
    return [
        guarded(f"table {spec.suffix}", lambda spec=spec: tables.table_row(env, spec))
        for spec in contract.TABLES
    ]


# the checklist, in the seed's order
ROWS: list[Row] = [
    Row(stack.ID, stack.DESCRIPTION, _one(lambda env: f"stack {env.stack.name}", stack.stack_row)),
    Row(tables.ID, tables.DESCRIPTION, _tables),
    Row(key.ID, key.DESCRIPTION, _one(lambda env: "KMS key", key.key_row)),
    Row(nonce.ID, nonce.DESCRIPTION, _one(lambda env: "SSM nonce", nonce.nonce_row)),
    Row(alarms.ID, alarms.DESCRIPTION, alarms.alarm_rows),
    Row(
        log_group.ID, log_group.DESCRIPTION, _one(lambda env: "log group", log_group.log_group_row)
    ),
    Row(topic.ID, topic.DESCRIPTION, _one(lambda env: "SNS topic", topic.topic_row)),
    Row(
        subscriptions.ID,
        subscriptions.DESCRIPTION,
        _one(lambda env: "SNS subscriptions", subscriptions.subscriptions_row),
    ),
    Row(
        dashboard.ID, dashboard.DESCRIPTION, _one(lambda env: "dashboard", dashboard.dashboard_row)
    ),
    Row(bucket.ID, bucket.DESCRIPTION, _one(lambda env: "baselines bucket", bucket.bucket_row)),
    Row(role.ID, role.DESCRIPTION, _one(lambda env: "application role", role.role_row)),
    Row(
        protection.ID,
        protection.DESCRIPTION,
        _one(lambda env: "protection", protection.protection_row),
    ),
]


def verify(env: Environment, workers: int = 8) -> list[Check]:
    """Every row's checks, in checklist order; rows are independent, so they run concurrently."""
    env.dep.target.account_id  # noqa: B018 - resolved once, before the threads need it
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(row.checks, env) for row in ROWS]
        return [check for future in futures for check in future.result()]
