"""--junit FILE on verify, smoke and drift: one test case per row with its evidence, in the
JUnit XML that CI test reporters read, valid against tests/junit.xsd."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import xmlschema

from mirror_infra.junit import Case, document

SCHEMA = xmlschema.XMLSchema(Path(__file__).resolve().parents[1] / "junit.xsd")


def _cases(path: Path) -> dict[str, ET.Element]:
    SCHEMA.validate(str(path))
    return {c.get("name"): c for c in ET.parse(path).getroot().iter("testcase")}


def test_the_document_is_valid_and_counts_failures():
    data = document("Suite", "k", [Case("a", True, "fine"), Case("b <&>", False, "", "why")])
    SCHEMA.validate(data.decode())
    root = ET.fromstring(data)
    (suite,) = root
    assert (suite.get("tests"), suite.get("failures")) == ("2", "1")
    failed = root.find(".//testcase[@name='b <&>']/failure")
    assert failed is not None and failed.get("message") == "why"


def test_the_schema_rejects_what_reporters_would(tmp_path):
    """The check means something: a testsuite without its counts is refused."""
    with pytest.raises(xmlschema.XMLSchemaValidationError):
        SCHEMA.validate("<testsuites><testsuite name='x'/></testsuites>")


def test_verify_writes_one_case_per_row(green, tmp_path):
    report = tmp_path / "verify.xml"
    result = green.run("verify", "--junit", str(report))
    assert result.code == 0, result.out
    cases = _cases(report)
    rows = {c["name"] for c in green.run("verify", "--json").json["checks"]}
    assert set(cases) == rows
    assert "PITR ENABLED" in cases["table fp-events"].findtext("system-out")
    assert all(c.find("failure") is None for c in cases.values())


def test_smoke_writes_one_case_per_step(green, tmp_path):
    report = tmp_path / "smoke.xml"
    assert green.run("smoke", "--yes", "--junit", str(report)).code == 0
    assert "block counter ADD" in _cases(report)


def test_drift_marks_the_drifted_stack_failed(green, tmp_path):
    report = tmp_path / "drift.xml"
    ddb = green.aws.client("dynamodb")
    table = "mirror-dissonance-staging-fp-events"
    spec = {"PointInTimeRecoveryEnabled": False}
    ddb.update_continuous_backups(TableName=table, PointInTimeRecoverySpecification=spec)
    try:
        assert green.run("drift", "--junit", str(report)).code == 2
    finally:
        spec = {"PointInTimeRecoveryEnabled": True}
        ddb.update_continuous_backups(TableName=table, PointInTimeRecoverySpecification=spec)
    cases = _cases(report)
    failed = {name for name, c in cases.items() if c.find("failure") is not None}
    assert failed == {"Dynamodb"}
    assert "FpEventsTable MODIFIED" in cases["Dynamodb"].findtext("system-out")
    # the failure line, which a CI reporter shows first, names the drifted property
    assert cases["Dynamodb"].find("failure").get("message") == (
        "1 difference(s): FpEventsTable "
        "/PointInTimeRecoverySpecification/PointInTimeRecoveryEnabled"
    )


def test_an_unwritable_report_is_one_line_before_anything_runs(green, tmp_path):
    result = green.run("verify", "--junit", str(tmp_path / "missing" / "r.xml"))
    assert result.code == 1
    assert result.err.strip().splitlines() == [
        f"error: --junit {tmp_path / 'missing' / 'r.xml'}: expected a file in an existing directory"
    ]


def test_a_report_into_an_unwritable_folder_stops_smoke_before_any_step(
    green, tmp_path, monkeypatch
):
    """The run would write and remove test records, send a test alert, and only then fail to
    write its report: refused first (root, who runs the tests, passes every permission check,
    so the check itself is told the folder is read-only)."""
    import os

    folder = tmp_path / "read-only"
    folder.mkdir()
    report = folder / "smoke.xml"
    access = os.access

    def read_only(path, mode, *args, **kwargs):
        if Path(path) in (folder, report) and mode & os.W_OK:
            return False
        return access(path, mode, *args, **kwargs)

    monkeypatch.setattr(os, "access", read_only)
    result = green.run("smoke", "--yes", "--junit", str(report))
    assert result.code == 1
    assert result.out == ""
    assert result.err.strip().splitlines() == [
        f"error: --junit {report}: not writable (permission denied); name a file in a folder "
        "you can write to"
    ]
    assert not report.exists()
