"""The dashboard exists and has widgets; the row links to its console page."""

from __future__ import annotations

import json

from mirror_infra.aws import partitions
from mirror_infra.checks.base import Check, Environment, Evidence

ID = "dashboard"
DESCRIPTION = "Dashboard with widgets"


# the console's domain in the commercial partition; botocore's partition data names no console
# domain, so other partitions (China, GovCloud, ISO, EUSC) get no link rather than a wrong one
_CONSOLE = {"aws": "console.aws.amazon.com"}


def dashboard_url(region: str, name: str) -> str:
    """The CloudWatch console page of the dashboard ("" where the console's domain is not
    known: outside the commercial partition)."""
    console = _CONSOLE.get(partitions.of_region(region).name)
    if console is None:
        return ""
    return f"https://{region}.{console}/cloudwatch/home?region={region}#dashboards:name={name}"


def dashboard_row(env: Environment) -> Check:
    """The dashboard exists and has widgets; the row links to its console page."""
    name = env.dep.names.dashboard(env.region)
    body = env.client("cloudwatch").get_dashboard(DashboardName=name)["DashboardBody"]
    widgets = len(json.loads(body or "{}").get("widgets", []))
    ev = Evidence()
    ev.fact(name)
    ev.expect(widgets > 0, f"{widgets} widgets", "at least one widget")
    return ev.check("dashboard", link=dashboard_url(env.region, name))
