"""The application log group: retention as the params say, and encrypted with the
environment's key where the deployed template sets a key."""

from __future__ import annotations

from mirror_infra.checks.base import Check, Environment, Evidence

ID = "log_group"
DESCRIPTION = "Log group retention as params say, encrypted with the key"
LOG_GROUP = "AWS::Logs::LogGroup"


def log_group_row(env: Environment) -> Check:
    """The log group by its fixed name: its retention against `log_retention_days`, and its
    key when the template that deployed it names one."""
    name = env.dep.names.log_group
    pages = env.client("logs").get_paginator("describe_log_groups")
    found = [
        g
        for page in pages.paginate(logGroupNamePrefix=name)
        for g in page["logGroups"]
        if g["logGroupName"] == name
    ]
    ev = Evidence()
    ev.fact(name)
    if not found:
        ev.expect(False, "missing", "the application log group")
        return ev.check("log group")
    group = found[0]
    days = group.get("retentionInDays")
    wanted = env.dep.cfg.log_retention_days
    ev.expect(
        days == wanted,
        f"retention {days} days" if days else "retention: never expire",
        f"retention {wanted} days (log_retention_days in params/{env.dep.cfg.name}.yaml)",
    )
    if _template_sets_key(env, name):
        key = group.get("kmsKeyId")
        ev.expect(
            env.keys.is_env_key(key),
            f"encrypted {env.keys.shown(key)}" if key else "not encrypted",
            f"encrypted {env.keys.shown(env.key_arn)}",
        )
    return ev.check("log group")


def _template_sets_key(env: Environment, name: str) -> bool:
    """Whether the deployed template of the stack holding the log group gives it a KmsKeyId."""
    for node in env.dep.cfn.tree(env.stack.stack_id):
        for r in node.resources:
            if r.resource_type == LOG_GROUP and r.physical_id == name:
                template = env.dep.cfn.template(node.stack_id)
                resource = (template.get("Resources") or {}).get(r.logical_id) or {}
                return "KmsKeyId" in (resource.get("Properties") or {})
    return False
