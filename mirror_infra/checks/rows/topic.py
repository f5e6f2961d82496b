"""The ops-alerts topic, encrypted with the environment's key."""

from __future__ import annotations

from mirror_infra.checks.base import Check, Environment, Evidence
from mirror_infra.names import RootOutput

ID = "topic"
DESCRIPTION = "Topic encrypted with the key"


def topic_row(env: Environment) -> Check:
    """The ops-alerts topic exists and is encrypted with the environment's key."""
    arn = env.stack.outputs.get(RootOutput.SNS_TOPIC_ARN, "")
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
