"""What every check shares: the deployed environment's facts, KMS key references, and the
pass/fail row that verify and smoke report."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from botocore.exceptions import ClientError

from mirror_infra.aws.cfn_answers import StackInfo
from mirror_infra.aws.errors import AwsErrorKind, classify, error_code, error_message
from mirror_infra.aws.kms import KeyRefs
from mirror_infra.deploy.context import Deployment
from mirror_infra.errors import NotDeployedError
from mirror_infra.names import RootOutput

# the services the checks call; created up front because creating a client is not thread-safe
SERVICES = ("cloudformation", "dynamodb", "kms", "ssm", "sns", "cloudwatch", "logs", "s3", "iam")


@dataclass(frozen=True)
class Check:
    """One pass/fail row with the evidence a reviewer needs (never a secret value)."""

    name: str
    ok: bool
    evidence: str
    problems: tuple[str, ...] = ()
    link: str = ""
    # what passes but needs a person's attention (an email subscription awaiting confirmation)
    warnings: tuple[str, ...] = ()
    # what to do about a problem, where the row knows (shown below the table)
    advice: tuple[str, ...] = ()


class Evidence:
    """Collects the facts of one row; a fact that is not as expected is also a problem."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.problems: list[str] = []
        self.warnings: list[str] = []
        self.advice: list[str] = []

    def fact(self, text: str) -> None:
        self.parts.append(text)

    def expect(self, ok: bool, shown: str, wanted: str, way_out: str = "") -> bool:
        """Record `shown` (the live state); when not `ok`, say what was `wanted` (and, in the
        problem, `way_out`: what to do about it)."""
        if ok:
            self.parts.append(shown)
        else:
            self.parts.append(f"{shown} (expected {wanted})")
            self.problems.append(f"{shown}, expected {wanted}")
            if way_out:
                self.advice.append(way_out)
        return ok

    def warn(self, text: str) -> None:
        """A fact that does not fail the row but that someone has to act on."""
        self.parts.append(text)
        self.warnings.append(text)

    def check(self, name: str, link: str = "") -> Check:
        return Check(
            name,
            not self.problems,
            ", ".join(self.parts),
            tuple(self.problems),
            link,
            tuple(self.warnings),
            tuple(self.advice),
        )


def failed(name: str, exc: ClientError) -> Check:
    """The row for a check whose AWS call failed: the error code and message, one line."""
    if classify(exc) is AwsErrorKind.NOT_FOUND:
        text = f"not found ({error_code(exc)})"
    else:
        text = f"{error_code(exc)}: {' '.join(error_message(exc).split())}"
    return Check(name, False, text, (text,))


def guarded(name: str, run: Callable[[], Check]) -> Check:
    """Run one row; an AWS error fails that row (with its code) instead of the whole command."""
    try:
        return run()
    except ClientError as exc:
        return failed(name, exc)


@dataclass(frozen=True)
class Environment:
    """The deployed environment as the checks see it: the deployment and its root outputs."""

    dep: Deployment
    stack: StackInfo
    keys: KeyRefs

    @property
    def key_arn(self) -> str:
        return self.stack.outputs[RootOutput.KMS_KEY_ARN]

    @property
    def region(self) -> str:
        return self.dep.target.region

    def client(self, service: str):
        return self.dep.target.client(service)


def open_environment(dep: Deployment) -> Environment:
    """The deployed environment, or NotDeployedError saying how to deploy it."""
    for service in SERVICES:
        dep.target.client(service)
    info = dep.cfn.stack(dep.stack_name)
    if info is None or RootOutput.KMS_KEY_ARN not in info.outputs:
        state = "does not exist" if info is None else f"is {info.status} without outputs"
        raise NotDeployedError(
            f"{dep.stack_name} {state} in {dep.target.region}; "
            f"deploy it first with '{dep.tool_command('apply')}'"
        )
    return Environment(dep, info, dep.keys(info.outputs[RootOutput.KMS_KEY_ARN]))
