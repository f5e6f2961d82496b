"""The dashboard exists and has widgets; the row links to its console page."""

from __future__ import annotations

import json

from mirror_infra.checks.base import Check, Environment, Evidence

ID = "dashboard"
DESCRIPTION = "Dashboard with widgets"


def dashboard_url(region: str, name: str) -> str:
    """The CloudWatch console page of the dashboard."""
    return (
        f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}"
        f"#dashboards:name={name}"
    )


def dashboard_row(env: Environment) -> Check:
    """The dashboard exists and has widgets; the row links to its console page."""
    name = env.dep.names.dashboard(env.region)
    body = env.client("cloudwatch").get_dashboard(DashboardName=name)["DashboardBody"]
    widgets = len(json.loads(body or "{}").get("widgets", []))
    ev = Evidence()
    ev.fact(name)
    ev.expect(widgets > 0, f"{widgets} widgets", "at least one widget")
    return ev.check("dashboard", link=dashboard_url(env.region, name))
