"""`make aws-proof` in make test: the proof runs against the local AWS through an AWS profile
(the real-account code path), is killed with SIGKILL in the middle of its create, and the next
run cleans up what the record names, passes, and leaves the account as it found it. Stage 1
(tests/conformance) is skipped there, since this very suite runs it; a time budget bounds it
(a run takes about 1.5 minutes on two busy cores)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import xmlschema

from tests.conftest import REPO
from tests.proof.conftest import PROFILE

BUDGET = 600  # seconds for one run of the proof in make test


def proof_command(out: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "proof",
        "--profile",
        PROFILE,
        "--region",
        "us-east-1",
        "--out",
        str(out),
        "--skip-conformance",
    ]


def make_env() -> dict[str, str]:
    """The environment of a top-level make: the suite itself runs under `make test`, whose
    MAKELEVEL and MAKEFLAGS would make a child make print "Entering/Leaving directory" lines."""
    return {k: v for k, v in os.environ.items() if k not in ("MAKELEVEL", "MAKEFLAGS", "MFLAGS")}


def makefile_command() -> str:
    """The command `make aws-proof` runs (make -n prints it without running anything)."""
    shown = subprocess.run(
        ["make", "-n", "aws-proof", f"PROFILE={PROFILE}", "REGION=us-east-1"],
        cwd=REPO,
        env=make_env(),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return shown.strip().splitlines()[-1]


class Account:
    """What the proof must leave as it found it, read with the local AWS's own clients."""

    def __init__(self, local_aws) -> None:
        self.aws = local_aws

    def stacks(self) -> set[str]:
        pages = self.aws.client("cloudformation").get_paginator("list_stacks").paginate()
        return {
            s["StackName"]
            for page in pages
            for s in page["StackSummaries"]
            if s["StackStatus"] != "DELETE_COMPLETE"
        }

    def state(self) -> dict:
        return {
            "stacks": self.stacks(),
            "tables": set(self.aws.client("dynamodb").list_tables()["TableNames"]),
            "buckets": {b["Name"] for b in self.aws.client("s3").list_buckets()["Buckets"]},
            "roles": {r["RoleName"] for r in self.aws.client("iam").list_roles()["Roles"]},
            "parameters": {
                p["Name"] for p in self.aws.client("ssm").describe_parameters()["Parameters"]
            },
            "log_groups": {
                g["logGroupName"]
                for g in self.aws.client("logs").describe_log_groups()["logGroups"]
            },
        }

    def live_keys(self) -> set[str]:
        """Customer keys not pending deletion."""
        kms = self.aws.client("kms")
        found = set()
        for key in kms.list_keys()["Keys"]:
            meta = kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]
            if meta["KeyManager"] == "CUSTOMER" and meta["KeyState"] != "PendingDeletion":
                found.add(key["KeyId"])
        return found


def wait_for_line(record: Path, text: str, proc: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if record.exists() and text in record.read_text(encoding="utf-8"):
            return
        assert proc.poll() is None, "the proof ended before it got there"
        time.sleep(0.05)
    raise AssertionError(f"no {text!r} in {record} after {timeout}s")


def wait_for_create(account: Account, proc: subprocess.Popen, timeout: float) -> None:
    cfn = account.aws.client("cloudformation")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stacks = cfn.list_stacks()["StackSummaries"]
        if any(
            s["StackName"].startswith("mirror-dissonance-pf-")
            and s["StackStatus"] not in ("REVIEW_IN_PROGRESS", "DELETE_COMPLETE")
            for s in stacks
        ):
            return
        assert proc.poll() is None, "the proof ended before its create ran"
        time.sleep(0.02)
    raise AssertionError(f"no create ran within {timeout}s")


def cases(junit: Path) -> dict[str, str]:
    """Each test case's outcome: pass, failure (its message) or skipped."""
    found = {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        failure, skipped = case.find("failure"), case.find("skipped")
        found[case.get("name")] = (
            f"failure: {failure.get('message')}"
            if failure is not None
            else "skipped"
            if skipped is not None
            else "pass"
        )
    return found


def test_the_makefile_runs_the_proof_through_the_profile_it_is_given():
    command = makefile_command()
    assert command.endswith(f"-m proof --profile '{PROFILE}' --region 'us-east-1'")
    assert "--local" not in command
    unnamed = subprocess.run(
        ["make", "aws-proof"], cwd=REPO, env=make_env(), capture_output=True, text=True
    )
    assert unnamed.returncode != 0
    assert "usage: make aws-proof PROFILE=<aws profile> REGION=<aws region>" in unnamed.stderr


def test_a_proof_killed_in_its_create_is_cleaned_up_by_the_next_run_which_passes(
    local_aws, profile, tmp_path
):
    account = Account(local_aws)
    # what the proof did not make and must leave alone: another stack, and a table whose
    # name looks like a proof environment's (a prefix match would take it)
    local_aws.client("cloudformation").create_stack(
        StackName="someone-elses",
        TemplateBody=json.dumps(
            {"Resources": {"Handle": {"Type": "AWS::CloudFormation::WaitConditionHandle"}}}
        ),
    )
    local_aws.client("dynamodb").create_table(
        TableName="mirror-dissonance-pf-00000000-fp-events",
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
    )
    before, keys_before = account.state(), account.live_keys()
    out = tmp_path / "aws-proof"
    environ = {**os.environ, **profile}

    # killed, with the command it runs (its process group, as a CI job's end or a closed
    # terminal kills it), once the create runs: its stack exists and is past
    # REVIEW_IN_PROGRESS, the create's apply finishing or just finished
    first = subprocess.Popen(
        proof_command(out),
        cwd=REPO,
        env=environ,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_for_line(out / "record.jsonl", "AWS::SSM::Parameter", first, timeout=BUDGET)
        wait_for_create(account, first, timeout=BUDGET)
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
    assert first.returncode == -signal.SIGKILL
    assert account.stacks() - before["stacks"], "the killed run had made nothing to clean up"
    assert not (out / "summary.md").exists()

    second = subprocess.run(
        proof_command(out), cwd=REPO, env=environ, capture_output=True, text=True, timeout=BUDGET
    )
    summary = (out / "summary.md").read_text(encoding="utf-8")
    assert second.returncode == 0, summary + second.stderr
    xmlschema.XMLSchema(REPO / "tests" / "junit.xsd").validate(str(out / "junit.xml"))
    outcomes = cases(out / "junit.xml")
    assert outcomes.pop("clean up the interrupted run") == "pass"
    assert outcomes.pop("the conformance suite") == "skipped"
    assert set(outcomes.values()) == {"pass"}, outcomes
    assert {
        "bootstrap",
        "a data-losing update is refused (retention cut)",
        "drift (exit 2)",
        "plan --revert-drift",
        "adopt",
        "destroy the adopted environment",
        "clean up what the record names",
    } <= set(outcomes)
    assert "**result: PASS**" in summary
    assert "account ********9012, region us-east-1" in summary
    assert f"**not AWS**: the profile's endpoint is {local_aws.url}" in summary
    assert "123456789012" not in summary  # the account is masked, in the evidence too
    assert "123456789012" not in (out / "junit.xml").read_text(encoding="utf-8")

    # everything as it was: the shared bootstrap stack and bucket too (the killed run made
    # them, the second run deleted them, made them again and deleted them at its end)
    assert account.state() == before
    assert account.live_keys() == keys_before
    for line in (out / "record.jsonl").read_text().splitlines()[-1:]:
        assert json.loads(line)["kind"] == "done"
