"""What a run writes: the conformance suite's cases taken from pytest's own report, and a
summary that names the failed step and says what such a failure means."""

from __future__ import annotations

from pathlib import Path

import xmlschema

from proof import report
from proof.run import CONFORMANCE, LIFE, Proof, Settings, Step, conformance_cases
from tests.conftest import REPO
from tests.proof.conftest import PROFILE

PYTEST_REPORT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" tests="3">
<testcase classname="tests.conformance.test_import" name="test_ok" time="1.5"/>
<testcase classname="tests.conformance.test_change_sets" name="test_bad" time="2.0">
<failure message="assert 'FAILED' == 'CREATE_COMPLETE'">traceback here</failure></testcase>
<testcase classname="tests.conformance.test_drift_aware" name="test_skip" time="0">
<skipped message="not here"/></testcase>
</testsuite></testsuites>
"""


def test_each_conformance_test_is_a_step(tmp_path: Path):
    path = tmp_path / "conformance.xml"
    path.write_text(PYTEST_REPORT)
    steps = {s.name: s for s in conformance_cases(path)}
    assert list(steps) == [
        "test_import::test_ok",
        "test_change_sets::test_bad",
        "test_drift_aware::test_skip",
    ]
    assert steps["test_import::test_ok"].ok and steps["test_import::test_ok"].seconds == 1.5
    bad = steps["test_change_sets::test_bad"]
    assert not bad.ok and bad.failure == "assert 'FAILED' == 'CREATE_COMPLETE'"
    assert steps["test_drift_aware::test_skip"].skipped == "not here"
    assert conformance_cases(tmp_path / "missing.xml") == []


def test_the_summary_names_the_failed_step_and_what_it_means(profile, tmp_path: Path):
    proof = Proof(Settings(PROFILE, "us-east-1", tmp_path))
    proof.account, proof.run_id = "123456789012", "run-1"
    proof.steps = [
        Step(CONFORMANCE, "test_change_sets::test_bad", failure="assert 1 == 2"),
        Step(LIFE, "bootstrap", ok=True, seconds=2.0),
        Step(LIFE, "drift (exit 2)", failure="mirror-infra drift exited 0, expected 2"),
    ]
    junit, summary = report.write(proof, 12.0)
    text = summary.read_text()
    assert "**result: FAIL** — 1 passed, 2 failed, 0 skipped, 12 s" in text
    assert "- **conformance / test_change_sets::test_bad**: assert 1 == 2" in text
    assert "a fidelity bug of the local AWS" in text
    assert "- **life / drift (exit 2)**: mirror-infra drift exited 0, expected 2" in text
    assert "a real-account bug of the tool" in text
    assert "123456789012" not in text and "********9012" in text
    assert junit.read_text().count("<testcase") == 3
    xmlschema.XMLSchema(REPO / "tests" / "junit.xsd").validate(str(junit))
