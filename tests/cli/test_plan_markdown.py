"""plan --format markdown: the change table and its risk summary as GitHub-flavoured markdown,
checked by parsing it as a table (markdown-it, which rich already brings)."""

from __future__ import annotations

import re

from markdown_it import MarkdownIt


def _tables(text: str) -> list[list[list[str]]]:
    """Every table in `text`, as rows of cell texts (header row first)."""
    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    tables, rows, cells, inside = [], [], [], None
    for token in tokens:
        if token.type == "table_open":
            rows = []
        elif token.type == "tr_open":
            cells = []
        elif token.type in ("th_open", "td_open"):
            inside = ""
        elif token.type == "inline" and inside is not None:
            inside = token.content
        elif token.type in ("th_close", "td_close"):
            cells.append(inside or "")
            inside = None
        elif token.type == "tr_close":
            rows.append(cells)
        elif token.type == "table_close":
            tables.append(rows)
    return tables


def test_the_markdown_plan_is_a_table_with_destructive_rows_marked(deployed, project):
    params = project / "params" / "staging.yaml"
    params.write_text(
        re.sub(r"log_retention_days: \d+", "log_retention_days: 1", params.read_text())
    )
    result = deployed("plan", "--format", "markdown", "--allow-data-loss", "AppLogGroup")
    assert result.code == 2, result.text
    (table,) = _tables(result.out)
    assert table[0] == ["", "Action", "Resource", "Type", "Replacement", "Properties", "Risk"]
    rows = {row[2]: row for row in table[1:]}
    assert rows["`Monitoring.AppLogGroup`"][0] == ":warning:"
    assert rows["`Monitoring.AppLogGroup`"][6] == (
        "**loses data**: log retention cut from 30 to 1 days"
    )
    assert rows["`Monitoring`"][0] == "" and rows["`Monitoring`"][6] == "safe"
    assert "1 would replace, delete or lose data; " in result.out
    # the rows the local AWS shows for the key's ARN, as AWS does (roadmap #759), change nothing
    assert "shown by AWS but change nothing (issue 759).**" in result.out
    assert "| safe |" in result.out


def test_a_markdown_plan_with_no_changes_says_so(deployed):
    result = deployed("plan", "--format", "markdown")
    assert result.code == 0
    assert _tables(result.out) == []
    assert result.out.rstrip().endswith("No changes.")


def test_plan_says_who_will_get_a_confirmation_email(deployed, project):
    params = project / "params" / "staging.yaml"
    params.write_text(params.read_text().replace('alert_email: ""', "alert_email: ops@example.com"))
    result = deployed("plan")
    assert result.code == 2, result.text
    assert (
        "notice: ops@example.com will get an email asking to confirm the ops-alerts "
        "subscription; alerts reach it only once confirmed" in result.out
    )
    markdown = deployed("plan", "--format", "markdown")
    assert "- ops@example.com will get an email asking to confirm" in markdown.out


def test_a_first_create_without_alert_email_lists_no_subscription_and_no_notice(cli):
    """alert_email "" (staging's own): the subscription's Condition is false, so the create
    makes none; the plan neither lists it nor promises a confirmation email."""
    assert cli("bootstrap").code == 0
    result = cli("plan")
    assert result.code == 2, result.text
    assert "Monitoring" in result.out and "OpsAlertsEmailSubscription" not in result.out
    assert "confirm the ops-alerts subscription" not in result.text
    planned = cli.json("plan")
    assert "Monitoring.OpsAlertsEmailSubscription" not in {
        f"{c['stack']}.{c['logical_id']}" for c in planned["changes"]
    }
    assert planned["notices"] == []


def test_a_first_create_with_alert_email_lists_the_subscription_as_certain(cli, project):
    params = project / "params" / "staging.yaml"
    params.write_text(params.read_text().replace('alert_email: ""', "alert_email: ops@example.com"))
    assert cli("bootstrap").code == 0
    planned = cli.json("plan")
    rows = {f"{c['stack']}.{c['logical_id']}": c for c in planned["changes"]}
    assert rows["Monitoring.OpsAlertsEmailSubscription"]["condition"] == ""  # known: created
    assert planned["notices"] == [
        "ops@example.com will get an email asking to confirm the ops-alerts subscription; "
        "alerts reach it only once confirmed"
    ]
    # the plan saved and applied as it is: its rows are the change set's own
    assert cli("plan", "--out", "p.json").code == 2
    applied = cli("apply", "--plan", "p.json")
    assert applied.code == 0, applied.text
