"""The configured email subscription (pending confirmation is a warning)."""

from __future__ import annotations

from mirror_infra.checks.base import Check, Environment, Evidence
from mirror_infra.names import RootOutput

ID = "subscriptions"
DESCRIPTION = "Email subscription as configured"


def subscriptions_row(env: Environment) -> Check:
    """Every subscription listed; the configured alert email must be subscribed. One awaiting
    confirmation passes with a warning: the infrastructure is right, a person has to click."""
    arn = env.stack.outputs.get(RootOutput.SNS_TOPIC_ARN, "")
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
