"""`mirror-infra taskcat --local`: the real taskcat, offline, every region in one run."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

import xmlschema

from mirror_infra.cli import main
from mirror_infra.multiregion.run import RESULTS
from mirror_infra.names import ThrowawayEnv
from tests.conftest import REPO


def _run(*argv: str) -> int:
    return main(["taskcat", "--local", "--json", *argv])


def test_every_region_passes_offline(taskcat_project, local_aws, taskcat_venv, capsys):
    code = _run("--junit", "taskcat.xml")
    out, err = capsys.readouterr()
    assert code == 0, err[-4000:]
    data = json.loads(out)
    env = data["environment"]
    assert ThrowawayEnv.of(env) is ThrowawayEnv.TASKCAT  # never staging's own names
    assert [r["region"] for r in data["regions"]] == ["us-east-1", "us-west-2", "eu-west-1"]
    for region in data["regions"]:
        assert region["status"] == "CREATE_COMPLETE", region
        assert region["final_status"] == "DELETE_COMPLETE", region
        assert region["passed"] and region["problems"] == []
    report = (taskcat_project / "taskcat_outputs" / "index.html").read_text()
    assert report.count("CREATE_COMPLETE") == 3
    assert ".test-green" in report  # the stylesheet is inlined ...
    assert not re.search(r"""(href|src)=["']?https?://[^"' ]+\.css""", report)  # ... not linked
    # one JUnit test case per region, valid for CI test reporters
    report = taskcat_project / "taskcat.xml"
    xmlschema.XMLSchema(REPO / "tests" / "junit.xsd").validate(str(report))
    cases = [c.get("name") for c in ET.parse(report).getroot().iter("testcase")]
    assert cases == ["staging us-east-1", "staging us-west-2", "staging eu-west-1"]
    recorded = json.loads((taskcat_project / "taskcat_outputs" / RESULTS).read_text())
    for stack in recorded["stacks"]:
        assert stack["parameters"]["ArtifactsPrefix"] == "mirror-infra/throwaway/staging/"
        assert stack["outputs"]["BaselinesBucketName"] == (
            f"mirror-{env}-baselines-123456789012-{stack['region']}"
        )
        assert stack["outputs"]["FpEventsTableName"] == f"mirror-dissonance-{env}-fp-events"


def test_a_failing_region_fails_the_run_and_only_that_region(
    taskcat_project, local_aws, taskcat_venv, capsys, monkeypatch
):
    # a table of the run's own name already in us-west-2 makes only that region's create fail
    monkeypatch.setattr(ThrowawayEnv, "env_name", lambda self: "tc-0000beef")
    local_aws.client("dynamodb", "us-west-2").create_table(
        TableName="mirror-dissonance-tc-0000beef-consent",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    code = _run("--regions", "us-east-1,us-west-2", "--no-lint")
    out, err = capsys.readouterr()
    assert code == 1
    assert "error: taskcat failed in us-west-2" in err
    results = {r["region"]: r for r in json.loads(out)["regions"]}
    assert results["us-east-1"]["passed"] is True
    assert results["us-west-2"]["passed"] is False
    assert results["us-west-2"]["problems"]
    # the rollback removed only what the run created: the table it collided with stays
    tables = local_aws.client("dynamodb", "us-west-2").list_tables()["TableNames"]
    assert "mirror-dissonance-tc-0000beef-consent" in tables


def test_no_taskcat_test_of_production(taskcat_project, local_aws, capsys):
    assert main(["taskcat", "--local", "--env", "production"]) == 1
    assert "no test of 'production'" in capsys.readouterr().err
