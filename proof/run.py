"""The proof's stages, each step a test case with its evidence:

1. the conformance suite (tests/conformance) against the profile's account;
2. the life of a throwaway environment, through the tool's CLI: bootstrap, plan and apply a
   create, a no-op plan, a safe update, a data-losing one (refused, then allowed by name),
   verify and smoke, drift made out of band (drift, plan --revert-drift, apply, drift), destroy;
3. adopt of a copy of that environment made as the source document's Terraform makes it (plain
   boto3: tests/adopt/terraformed.py), verify, destroy;

then the clean-up of all that the record names. A previous run's unfinished record is cleaned
up first.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import yaml

from mirror_infra.junit import Case
from proof import cleanup
from proof.aws import Account
from proof.record import RECORD, Kind, Record
from proof.tool import REPO, Ran, Tool

CONFORMANCE = "conformance"
LIFE = "life"
ADOPT = "adopt"
CLEANUP = "clean-up"
# the retention the safe update raises staging's 30 days to, the cut that loses data, and the
# value the out-of-band change sets (every one a value CloudWatch Logs accepts)
RETENTION_UP, RETENTION_CUT, RETENTION_DRIFTED = 60, 14, 7


class StepFailed(Exception):
    """A step did not do what it should; the message is one line."""


@dataclass
class Step:
    stage: str
    name: str
    ok: bool = False
    skipped: str = ""
    failure: str = ""
    evidence: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def case(self) -> Case:
        return Case(
            name=self.name,
            ok=self.ok,
            output="\n\n".join(self.evidence),
            failure=self.failure,
            seconds=self.seconds,
            skipped=self.skipped,
            classname=f"aws-proof.{self.stage}",
        )


@dataclass
class Settings:
    profile: str
    region: str
    out: Path
    conformance: bool = True  # False: make test's run, whose suite runs tests/conformance


class Proof:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.aws = Account(settings.profile, settings.region)
        self.tool = Tool(settings.profile, settings.region, settings.out / "projects")
        self.record = Record(settings.out / RECORD)
        self.steps: list[Step] = []
        self.current: Step | None = None
        self.run_id = ""
        self.account = ""
        self.bucket = ""  # the artifacts bucket
        self.outcomes: list[cleanup.Outcome] = []
        self.key_description = ""  # the KMS key terraformed.py is creating
        self.started = time.monotonic()

    # --- steps --------------------------------------------------------------------------------

    def step(self, stage: str, name: str, body: Callable[[], None]) -> bool:
        """Run one step; a stage stops at its first failure (what follows is skipped)."""
        step = Step(stage, name)
        self.steps.append(step)
        failed = next((s for s in self.steps if s.stage == stage and s.failure), None)
        if failed is not None:
            step.skipped = f"not run: '{failed.name}' failed"
            return False
        self.current = step
        started = time.monotonic()
        try:
            body()
            step.ok = True
        except StepFailed as exc:
            step.failure = str(exc)
        except Exception as exc:  # a step's unexpected error is its failure, said in one line
            step.failure = f"{type(exc).__name__}: {' '.join(str(exc).split())}"
        finally:
            step.seconds = time.monotonic() - started
            self.current = None
        return step.ok

    def say(self, line: str) -> None:
        assert self.current is not None
        self.current.evidence.append(line)

    def cli(self, env: str, *args: str, expect: int = 0) -> Ran:
        ran = self.tool.run(env, *args)
        self.say(ran.evidence())
        if ran.code != expect:
            raise StepFailed(
                f"mirror-infra {args[0]} exited {ran.code}, expected {expect}: {ran.last_error}"
            )
        return ran

    def skip(self, stage: str, name: str, why: str) -> None:
        self.steps.append(Step(stage, name, skipped=why))

    # --- the run ------------------------------------------------------------------------------

    def run(self) -> bool:
        self.settings.out.mkdir(parents=True, exist_ok=True)
        unfinished = self.record.path.exists() and not self.record.finished
        if unfinished and not self.step(CLEANUP, "clean up the interrupted run", self.previous):
            return False
        if self.record.path.exists():
            self._archive()
        self.account = self.aws.account_id
        self.run_id = f"{time.strftime('%Y%m%d%H%M%S')}-{os.urandom(3).hex()}"
        self.record.add(
            Kind.RUN,
            self.run_id,
            profile=self.settings.profile,
            region=self.settings.region,
            account=self.account,
        )
        try:
            if self.settings.conformance:
                self.conformance()
            else:
                self.skip(
                    CONFORMANCE,
                    "the conformance suite",
                    "not run here (--skip-conformance): make test runs tests/conformance itself",
                )
            self.life()
            self.adopt()
        finally:
            self.step(CLEANUP, "clean up what the record names", self.cleanup)
        return self.passed

    @property
    def passed(self) -> bool:
        """Every step passed or was skipped by design (a skip after a failure follows one)."""
        return all(s.ok or s.skipped for s in self.steps)

    def _archive(self) -> None:
        """Keep a finished record beside the new one, under its run's id."""
        run = self.record.run
        kept = self.settings.out / "records" / f"{run.name if run else 'unknown'}.jsonl"
        kept.parent.mkdir(exist_ok=True)
        self.record.path.replace(kept)

    def previous(self) -> None:
        run = self.record.run
        self.say(f"an unfinished record of run {run.name if run else '?'} in {self.record.path}")
        self.outcomes = cleanup.everything(self.aws, self.tool, self.record)
        self.say(self._outcome_lines(self.outcomes))
        left = [o for o in self.outcomes if o.left]
        if left:
            raise StepFailed(
                f"{len(left)} thing(s) of the interrupted run are left (listed); nothing new "
                "was started, and the record stays for the next run"
            )

    def cleanup(self) -> None:
        outcomes = cleanup.everything(self.aws, self.tool, self.record)
        self.outcomes = outcomes
        self.say(self._outcome_lines(outcomes))
        left = [o for o in outcomes if o.left]
        if left:
            raise StepFailed(
                f"{len(left)} thing(s) could not be deleted (listed); run the proof again to "
                "retry, or delete them by hand"
            )

    @staticmethod
    def _outcome_lines(outcomes: list[cleanup.Outcome]) -> str:
        return "\n".join(f"{o.what}: {o.result}" for o in outcomes) or "nothing recorded"

    # --- stage 1 ------------------------------------------------------------------------------

    def conformance(self) -> None:
        report = self.settings.out / "conformance.xml"
        report.unlink(missing_ok=True)
        started = time.monotonic()
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "tests/conformance",
                "--aws-profile",
                self.settings.profile,
                "--aws-region",
                self.settings.region,
                "--junitxml",
                str(report.resolve()),
                "-q",
                "-p",
                "no:cacheprovider",
            ],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=False,
        )
        cases = conformance_cases(report)
        if not cases:
            tail = (done.stdout + done.stderr).strip().splitlines()[-20:]
            self.steps.append(
                Step(
                    CONFORMANCE,
                    "the conformance suite",
                    failure=f"pytest exited {done.returncode} and reported no test",
                    evidence=["\n".join(tail)],
                    seconds=time.monotonic() - started,
                )
            )
        self.steps += cases

    # --- stage 2 ------------------------------------------------------------------------------

    def params(self, env: str, **changes) -> str:
        """Staging's params as a test run's (the upgrade tests' derivation), in this region,
        with no alert email, tagged with the run's id and pinned to this account."""
        from mirror_infra.config import load

        staging = load("staging", REPO)
        data = staging.model_copy(update={"name": env}).model_dump(
            mode="json", exclude={"name"}, exclude_defaults=True
        )
        data.update(region=self.settings.region, test_regions=[self.settings.region])
        data.update(alert_email="", log_retention_days=30)
        data["tags"] = {**data["tags"], "Environment": env, cleanup.RUN_TAG: self.run_id}
        if self.pinned:
            data["accounts"] = [self.account]
        data.update(changes)
        return "# derived from params/staging.yaml by make aws-proof\n" + yaml.safe_dump(data)

    @property
    def pinned(self) -> bool:
        """Whether the tool knows the params key `accounts` (account pinning, issue 25)."""
        from mirror_infra.config import EnvConfig

        return "accounts" in EnvConfig.model_fields

    def new_env(self, **changes) -> str:
        from mirror_infra.names import ThrowawayEnv

        env = ThrowawayEnv.PROOF.env_name()
        self.tool.write_params(env, self.params(env, **changes))
        return env

    def set_params(self, env: str, **changes) -> None:
        self.tool.write_params(env, self.params(env, **changes))
        self.say(f"params: {changes}")

    def plan_json(self, env: str, *args: str, expect: int) -> dict:
        ran = self.cli(env, "plan", "--json", *args, expect=expect)
        return json.loads(ran.out)

    def life(self) -> None:
        env = self.new_env()
        stack = f"mirror-dissonance-{env}"
        nonce = f"/guardian/{env}/redaction_nonce_v1"
        self.step(LIFE, "bootstrap", lambda: self.bootstrap(env))

        def plan_create() -> None:
            self.record.add(
                Kind.ENVIRONMENT,
                env,
                params=self.params(env),
                artifacts_bucket=self.bucket,
            )
            self.say(f"environment {env} (stack {stack}) derived from staging: recorded")
            self.cli(env, "plan", "--out", "create.plan.json", expect=2)

        def apply_create() -> None:
            self.record.add(Kind.RESOURCE, nonce, "AWS::SSM::Parameter")
            self.cli(env, "apply", "--plan", "create.plan.json")
            self.record_stack(stack)

        def no_op() -> None:
            plan = self.plan_json(env, expect=0)
            if plan["changes"]:
                raise StepFailed(f"a plan right after the create has {len(plan['changes'])} rows")

        def safe_update() -> None:
            self.set_params(env, log_retention_days=RETENTION_UP)
            plan = self.plan_json(env, expect=2)
            risky = [c["logical_id"] for c in plan["changes"] if c["risk"] != "safe"]
            if risky or plan["destructive"]:
                raise StepFailed(f"a retention raise is planned as risky: {risky}")
            self.cli(env, "apply", "--yes")

        advice: list[str] = []

        def refused() -> None:
            self.set_params(env, log_retention_days=RETENTION_CUT)
            plan = self.plan_json(env, expect=1)  # plan refuses it too, and says so
            if not plan["destructive"]:
                raise StepFailed("a retention cut is not planned as losing data")
            ran = self.cli(env, "apply", "--yes", expect=1)
            # the tool's own advice, followed as printed by the next step
            advice[:] = re.findall(r"--allow-data-loss [\w.]+", ran.last_error)
            if not advice:
                raise StepFailed(f"the refusal names nothing to allow: {ran.last_error}")

        def allowed() -> None:
            self.cli(env, "apply", "--yes", *" ".join(advice).split())

        def drift_out_of_band() -> None:
            group = self.physical_id(stack, "AWS::Logs::LogGroup")
            self.aws.client("logs").put_retention_policy(
                logGroupName=group, retentionInDays=RETENTION_DRIFTED
            )
            self.say(
                f"PutRetentionPolicy {group}: {RETENTION_CUT} -> {RETENTION_DRIFTED} days, "
                "outside CloudFormation"
            )

        def revert() -> None:
            self.cli(env, "plan", "--revert-drift", "--out", "revert.plan.json", expect=2)

        def destroy() -> None:
            self.cli(env, "destroy", "--yes", "--delete-nonce", "--empty-buckets")
            self.gone(stack)

        self.step(LIFE, "plan a create", plan_create)
        self.step(LIFE, "apply the create", apply_create)
        self.step(LIFE, "a no-op plan (exit 0, no rows)", no_op)
        self.step(LIFE, "a safe update (log retention raised)", safe_update)
        self.step(LIFE, "a data-losing update is refused (retention cut)", refused)
        self.step(LIFE, "the data-losing update, allowed by name", allowed)
        self.step(LIFE, "verify", lambda: self.cli(env, "verify") and None)
        self.step(LIFE, "smoke", lambda: self.cli(env, "smoke", "--yes") and None)
        self.step(LIFE, "drift made out of band", drift_out_of_band)
        self.step(LIFE, "drift (exit 2)", lambda: self.cli(env, "drift", expect=2) and None)
        self.step(LIFE, "plan --revert-drift", revert)
        self.step(
            LIFE,
            "apply the revert",
            lambda: self.cli(env, "apply", "--plan", "revert.plan.json") and None,
        )
        self.step(LIFE, "drift (exit 0)", lambda: self.cli(env, "drift") and None)
        self.step(LIFE, "destroy", destroy)

    def bootstrap(self, env: str) -> None:
        if self.aws.stack(cleanup.BOOTSTRAP_STACK) is None:
            self.record.add(
                Kind.BOOTSTRAP,
                cleanup.BOOTSTRAP_STACK,
                at=datetime.now(UTC).isoformat(),
                bucket=f"mirror-infra-artifacts-{self.account}-{self.settings.region}",
            )
            self.say(f"{cleanup.BOOTSTRAP_STACK} does not exist: this run creates it (recorded)")
        else:
            self.say(f"{cleanup.BOOTSTRAP_STACK} exists: used as it is, never deleted by this run")
        self.cli(env, "bootstrap")
        info = self.aws.stack(cleanup.BOOTSTRAP_STACK)
        outputs = {o["OutputKey"]: o["OutputValue"] for o in (info or {}).get("Outputs", [])}
        self.bucket = outputs.get("BucketName", "")
        if not self.bucket:
            raise StepFailed(f"{cleanup.BOOTSTRAP_STACK} has no BucketName output after bootstrap")

    def record_stack(self, stack: str) -> None:
        """Record what the stack made (read back from CloudFormation), so that the clean-up
        checks each one is gone and deletes what a stack retained."""
        info = self.aws.stack(stack)
        if info is None:
            raise StepFailed(f"{stack} does not exist after the command")
        made = [
            (r["ResourceType"], r["PhysicalResourceId"])
            for r in self.aws.resources(info["StackId"])
            if r["ResourceType"] in cleanup.HANDLERS and r.get("PhysicalResourceId")
        ]
        for type_, pid in made:
            self.record.add(Kind.RESOURCE, pid, type_)
        self.say(f"recorded {len(made)} resource(s) of {stack}")

    def physical_id(self, stack: str, type_: str) -> str:
        info = self.aws.stack(stack)
        assert info is not None
        return next(
            r["PhysicalResourceId"]
            for r in self.aws.resources(info["StackId"])
            if r["ResourceType"] == type_
        )

    def gone(self, stack: str) -> None:
        if self.aws.stack(stack) is not None:
            raise StepFailed(f"{stack} still exists after destroy")
        self.say(f"{stack}: gone")

    # --- stage 3 ------------------------------------------------------------------------------

    def adopt(self) -> None:
        from tests.adopt.terraformed import Copy, terraform_staging

        env = self.new_env()
        copy = Copy(env, self.settings.region)
        stack = f"mirror-dissonance-{env}"

        def made() -> None:
            self.set_params(env, baselines_bucket=copy.bucket)
            self.record.add(
                Kind.ENVIRONMENT,
                env,
                params=self.params(env, baselines_bucket=copy.bucket),
                artifacts_bucket=self.bucket,
            )
            terraform_staging(self.aws, copy=copy, before=self.before)
            self.say(f"made with boto3 (tests/adopt/terraformed.py) as {env}: recorded first")

        def adopted() -> None:
            self.cli(env, "adopt", "--plan", "adopt.plan.json")
            self.record_stack(stack)

        def revert() -> None:
            # as the README's walkthrough: the templates' values put back on what Terraform
            # made, after naming each revert the tool refuses (its own advice, followed)
            first = self.tool.run(env, "plan", "--revert-drift", "--out", "revert.plan.json")
            self.say(first.evidence())
            if first.code not in (1, 2):
                raise StepFailed(f"plan --revert-drift exited {first.code}: {first.last_error}")
            if first.code == 1:
                advice = re.findall(r"--allow-data-loss [\w.]+", first.last_error)
                if not advice:
                    raise StepFailed(f"plan --revert-drift failed: {first.last_error}")
                named = " ".join(advice).split()
                self.cli(
                    env, "plan", "--revert-drift", *named, "--out", "revert.plan.json", expect=2
                )
            self.cli(env, "apply", "--plan", "revert.plan.json")

        def destroy() -> None:
            self.cli(env, "destroy", "--yes", "--delete-nonce", "--empty-buckets")
            self.gone(stack)
            self.say("what the stack retained (adopted: Retain) is deleted by the clean-up")

        if not self.bucket:
            self.skip(
                ADOPT, "a copy made as the source document's Terraform makes it", "no bootstrap"
            )
            return
        self.step(ADOPT, "a copy made as the source document's Terraform makes it", made)
        self.step(
            ADOPT,
            "adopt: the survey (exit 2)",
            lambda: self.cli(env, "adopt", "--out", "adopt.plan.json", expect=2) and None,
        )
        self.step(ADOPT, "adopt", adopted)
        self.step(ADOPT, "plan --revert-drift and apply it on the adopted environment", revert)
        self.step(ADOPT, "verify the adopted environment", lambda: self.cli(env, "verify") and None)
        self.step(ADOPT, "destroy the adopted environment", destroy)

    def before(self, kind: str, name: str) -> None:
        """terraformed.py's hook: record each resource before it is created."""
        types = {
            "key_id": "AWS::KMS::Key",
            "alias": "AWS::KMS::Alias",
            "table": "AWS::DynamoDB::Table",
            "log_group": "AWS::Logs::LogGroup",
            "alarm": "AWS::CloudWatch::Alarm",
            "dashboard": "AWS::CloudWatch::Dashboard",
            "bucket": "AWS::S3::Bucket",
            "object": "object",
            "role": "AWS::IAM::Role",
            "parameter": "AWS::SSM::Parameter",
        }
        if kind == "key":
            self.record.add(Kind.KEY_INTENT, name)
            self.key_description = name
        elif kind == "key_id":
            self.record.add(Kind.RESOURCE, name, types[kind], description=self.key_description)
        elif kind == "topic":
            arn = f"arn:{self.aws.partition()}:sns:{self.settings.region}:{self.account}:{name}"
            self.record.add(Kind.RESOURCE, arn, "AWS::SNS::Topic")
        else:
            self.record.add(Kind.RESOURCE, name, types[kind])


def conformance_cases(report: Path) -> list[Step]:
    """pytest's JUnit report of the conformance suite, one step per test."""
    try:
        root = ET.parse(report).getroot()
    except (FileNotFoundError, ET.ParseError):
        return []
    steps = []
    for case in root.iter("testcase"):
        module = case.get("classname", "").rpartition(".")[2]
        step = Step(CONFORMANCE, f"{module}::{case.get('name')}")
        step.seconds = float(case.get("time") or 0)
        problem = case.find("failure")
        if problem is None:
            problem = case.find("error")
        skipped = case.find("skipped")
        if problem is not None:
            step.failure = " ".join((problem.get("message") or "failed").split())[:300]
            step.evidence.append((problem.text or "").strip()[-4000:])
        elif skipped is not None:
            step.skipped = skipped.get("message") or "skipped"
        else:
            step.ok = True
        steps.append(step)
    return steps
