"""SNS email (and http/https) subscriptions wait for confirmation, as on AWS.

Corrects moto, which confirms every subscription at once: ListSubscriptionsByTopic shows a
real ARN and GetSubscriptionAttributes says `PendingConfirmation: false` for an email address
nobody confirmed. AWS lists such a subscription as `PendingConfirmation` until the recipient
confirms it.
"""

from __future__ import annotations

from typing import Any

from moto.core.responses import ActionResult

CONFIRMED_BY_RECIPIENT = {"email", "email-json", "http", "https"}
PENDING = "PendingConfirmation"

_original_subscribe = None


def _pending(subscription: Any) -> bool:
    return str(subscription.attributes.get("PendingConfirmation", "false")).lower() == "true"


def _subscribe(self: Any, topic_arn: str, endpoint: str, protocol: str) -> Any:
    known = self._find_subscription(topic_arn, endpoint, protocol)
    subscription = _original_subscribe(self, topic_arn, endpoint, protocol)
    if known is None and protocol in CONFIRMED_BY_RECIPIENT:
        subscription.confirmed = False
        subscription.attributes["PendingConfirmation"] = "true"
        subscription.attributes["ConfirmationWasAuthenticated"] = "false"
    return subscription


def _listing(subscriptions: list) -> list[dict]:
    return [
        {
            "SubscriptionArn": PENDING if _pending(s) else s.arn,
            "Owner": s.owner,
            "Protocol": s.protocol,
            "Endpoint": s.endpoint,
            "TopicArn": s.topic.arn,
        }
        for s in subscriptions
    ]


def list_subscriptions(self: Any) -> ActionResult:
    found, token = self.backend.list_subscriptions(next_token=self._get_param("NextToken"))
    return ActionResult({"Subscriptions": _listing(found), "NextToken": token})


def list_subscriptions_by_topic(self: Any) -> ActionResult:
    found, token = self.backend.list_subscriptions_by_topic(
        self._get_param("TopicArn"), next_token=self._get_param("NextToken")
    )
    return ActionResult({"Subscriptions": _listing(found), "NextToken": token})


def install() -> None:
    global _original_subscribe
    from moto.sns.models import SNSBackend
    from moto.sns.responses import SNSResponse

    if _original_subscribe is None:
        _original_subscribe = SNSBackend.subscribe
        SNSBackend.subscribe = _subscribe
    SNSResponse.list_subscriptions = list_subscriptions
    SNSResponse.list_subscriptions_by_topic = list_subscriptions_by_topic
