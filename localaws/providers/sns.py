"""AWS::SNS::Topic, AWS::SNS::Subscription and AWS::SNS::TopicPolicy.

Corrects moto, which has no AWS::SNS::Subscription or AWS::SNS::TopicPolicy model (skipped
silently, SPEC §4) and cannot update a topic in place. An email subscription stays
"PendingConfirmation" until confirmed, as on AWS (see `localaws.moto_fixes.sns`).
"""

from __future__ import annotations

import json

from botocore.exceptions import ClientError

from localaws.providers.base import (
    Created,
    Ctx,
    NotFound,
    Provider,
    tags_list,
    user_tags,
)

_TOPIC_ATTRIBUTES = ("DisplayName", "KmsMasterKeyId", "FifoTopic", "ContentBasedDeduplication")


def _attribute_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


class TopicProvider(Provider):
    type_name = "AWS::SNS::Topic"
    attributes = frozenset({"TopicArn", "TopicName"})

    def create(self, ctx: Ctx, props: dict) -> Created:
        name = props.get("TopicName") or ctx.generated_name(256)
        attrs = {k: _attribute_value(props[k]) for k in _TOPIC_ATTRIBUTES if k in props}
        args: dict = {"Name": name, "Attributes": attrs}
        if props.get("Tags"):
            args["Tags"] = tags_list(props["Tags"])
        arn = ctx.client("sns").create_topic(**args)["TopicArn"]
        return Created(arn, {"TopicArn": arn, "TopicName": name})

    def update(self, ctx: Ctx, physical_id: str, old: dict, new: dict) -> Created:
        sns = ctx.client("sns")
        for key in ("DisplayName", "KmsMasterKeyId"):
            if old.get(key) != new.get(key):
                sns.set_topic_attributes(
                    TopicArn=physical_id,
                    AttributeName=key,
                    AttributeValue=_attribute_value(new.get(key, "")),
                )
        before = {t["Key"] for t in tags_list(old.get("Tags"))}
        after = {t["Key"] for t in tags_list(new.get("Tags"))}
        if before - after:
            sns.untag_resource(ResourceArn=physical_id, TagKeys=list(before - after))
        if new.get("Tags"):
            sns.tag_resource(ResourceArn=physical_id, Tags=tags_list(new["Tags"]))
        return Created(
            physical_id, {"TopicArn": physical_id, "TopicName": physical_id.split(":")[-1]}
        )

    def delete(self, ctx: Ctx, physical_id: str, props: dict) -> None:
        ctx.client("sns").delete_topic(TopicArn=physical_id)

    def adopt(self, ctx: Ctx, physical_id: str, props: dict) -> Created:
        self.read(ctx, physical_id, props)
        return Created(
            physical_id, {"TopicArn": physical_id, "TopicName": physical_id.split(":")[-1]}
        )

    def read(self, ctx: Ctx, physical_id: str, props: dict) -> dict:
        sns = ctx.client("sns")
        try:
            attrs = sns.get_topic_attributes(TopicArn=physical_id)["Attributes"]
        except ClientError as exc:
            raise NotFound(physical_id) from exc
        actual = {"TopicName": physical_id.split(":")[-1]}
        for key in _TOPIC_ATTRIBUTES:
            if key in attrs:
                actual[key] = attrs[key]
        actual["Tags"] = user_tags(sns.list_tags_for_resource(ResourceArn=physical_id)["Tags"])
        return actual


class SubscriptionProvider(Provider):
    type_name = "AWS::SNS::Subscription"
    attributes = frozenset({"Arn"})
    _ATTRIBUTES = ("FilterPolicy", "FilterPolicyScope", "RawMessageDelivery", "RedrivePolicy")

    def create(self, ctx: Ctx, props: dict) -> Created:
        attrs = {k: _attribute_value(props[k]) for k in self._ATTRIBUTES if k in props}
        arn = ctx.client("sns").subscribe(
            TopicArn=props["TopicArn"],
            Protocol=props["Protocol"],
            Endpoint=props["Endpoint"],
            Attributes=attrs,
            ReturnSubscriptionArn=True,
        )["SubscriptionArn"]
        return Created(arn, {"Arn": arn})

    def update(self, ctx: Ctx, physical_id: str, old: dict, new: dict) -> Created:
        sns = ctx.client("sns")
        for key in self._ATTRIBUTES:
            if old.get(key) != new.get(key) and key in new:
                sns.set_subscription_attributes(
                    SubscriptionArn=physical_id,
                    AttributeName=key,
                    AttributeValue=_attribute_value(new[key]),
                )
        return Created(physical_id, {"Arn": physical_id})

    def delete(self, ctx: Ctx, physical_id: str, props: dict) -> None:
        ctx.client("sns").unsubscribe(SubscriptionArn=physical_id)

    def adopt(self, ctx: Ctx, physical_id: str, props: dict) -> Created:
        self.read(ctx, physical_id, props)
        return Created(physical_id, {"Arn": physical_id})

    def read(self, ctx: Ctx, physical_id: str, props: dict) -> dict:
        try:
            attrs = ctx.client("sns").get_subscription_attributes(SubscriptionArn=physical_id)[
                "Attributes"
            ]
        except ClientError as exc:
            raise NotFound(physical_id) from exc
        actual = {k: attrs[k] for k in ("TopicArn", "Protocol", "Endpoint") if k in attrs}
        for key in self._ATTRIBUTES:
            if key in attrs:
                actual[key] = attrs[key]
        return actual


class TopicPolicyProvider(Provider):
    type_name = "AWS::SNS::TopicPolicy"

    def create(self, ctx: Ctx, props: dict) -> Created:
        self._apply(ctx, props)
        return Created(ctx.generated_name())

    def update(self, ctx: Ctx, physical_id: str, old: dict, new: dict) -> Created:
        for topic in set(old.get("Topics", [])) - set(new.get("Topics", [])):
            self._reset(ctx, topic)
        self._apply(ctx, new)
        return Created(physical_id)

    def delete(self, ctx: Ctx, physical_id: str, props: dict) -> None:
        for topic in props.get("Topics", []):
            self._reset(ctx, topic)

    def read(self, ctx: Ctx, physical_id: str, props: dict) -> dict:
        topics = props.get("Topics", [])
        if not topics:
            raise NotFound(physical_id)
        try:
            attrs = ctx.client("sns").get_topic_attributes(TopicArn=topics[0])["Attributes"]
        except ClientError as exc:
            raise NotFound(physical_id) from exc
        return {"PolicyDocument": json.loads(attrs.get("Policy", "{}")), "Topics": topics}

    @staticmethod
    def _apply(ctx: Ctx, props: dict) -> None:
        policy = props["PolicyDocument"]
        text = policy if isinstance(policy, str) else json.dumps(policy)
        for topic in props.get("Topics", []):
            ctx.client("sns").set_topic_attributes(
                TopicArn=topic, AttributeName="Policy", AttributeValue=text
            )

    @staticmethod
    def _reset(ctx: Ctx, topic: str) -> None:
        # AWS puts the topic's default policy back when a TopicPolicy is removed
        default = {
            "Version": "2008-10-17",
            "Id": "__default_policy_ID",
            "Statement": [
                {
                    "Sid": "__default_statement_ID",
                    "Effect": "Allow",
                    "Principal": {"AWS": "*"},
                    "Action": [
                        "SNS:GetTopicAttributes",
                        "SNS:SetTopicAttributes",
                        "SNS:AddPermission",
                        "SNS:RemovePermission",
                        "SNS:DeleteTopic",
                        "SNS:Subscribe",
                        "SNS:ListSubscriptionsByTopic",
                        "SNS:Publish",
                    ],
                    "Resource": topic,
                    "Condition": {"StringEquals": {"AWS:SourceOwner": ctx.account_id}},
                }
            ],
        }
        try:
            ctx.client("sns").set_topic_attributes(
                TopicArn=topic, AttributeName="Policy", AttributeValue=json.dumps(default)
            )
        except ClientError as exc:
            if "NotFound" not in exc.response["Error"]["Code"]:
                raise


PROVIDERS = [TopicProvider(), SubscriptionProvider(), TopicPolicyProvider()]
