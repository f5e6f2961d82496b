"""What apply and destroy print while they run, for CI logs and for machines: one line per
resource state change, no duplicates; --json gives JSON lines ending with the outcome."""

from __future__ import annotations

import json
import re


def test_ci_output_of_a_create_is_one_line_per_state_change(cli):
    assert cli("bootstrap").code == 0
    result = cli("apply", "--yes")
    assert result.code == 0, result.text
    # "  1.2s [  3/22] Dynamodb.FpEventsTable  AWS::DynamoDB::Table  CREATE_COMPLETE"
    line = re.compile(r"^\s*\d+\.\ds \[\s*\d+/\d+\] (\S+)\s+\S+\s+(\S+)")
    changes = [m.groups() for m in map(line.match, result.err.splitlines()) if m]
    assert changes, result.err
    assert len(changes) == len(set(changes)), [c for c in changes if changes.count(c) > 1]
    # every resource of the plan reached CREATE_COMPLETE once, the nested stacks included
    completed = {r for r, status in changes if status == "CREATE_COMPLETE"}
    assert {"Kms", "Kms.Key", "Dynamodb.FpEventsTable", "Iam.AppRole"} <= completed


def test_apply_and_destroy_json_are_json_lines_ending_with_the_outcome(cli):
    assert cli("bootstrap").code == 0
    applied = cli("apply", "--yes", "--json")
    assert applied.code == 0, applied.err
    records = [json.loads(line) for line in applied.out.splitlines()]
    assert records[0]["type"] == "plan"
    events = [r for r in records if r["type"] == "event"]
    assert events and all({"resource", "status", "timestamp"} <= set(e) for e in events)
    assert len({(e["resource"], e["status"]) for e in events}) == len(events)
    outcome = records[-1]
    assert outcome["type"] == "outcome" and outcome["ok"] is True
    assert outcome["outputs"]["fp_events_table_name"] == "mirror-dissonance-staging-fp-events"

    destroyed = cli("destroy", "--yes", "--json", "--delete-nonce")  # the nonce with its key
    assert destroyed.code == 0, destroyed.err
    records = [json.loads(line) for line in destroyed.out.splitlines()]
    assert records[-1]["type"] == "outcome" and records[-1]["status"] == "DELETE_COMPLETE"
    assert "Dynamodb.FpEventsTable" in records[-1]["deleted"]


def test_json_asks_nothing_so_it_needs_yes(cli):
    result = cli("apply", "--json")
    assert result.code == 1
    assert result.err.strip().splitlines() == [
        "error: --json asks nothing: add --yes, or apply a saved plan with --plan"
    ]
