"""`drift`: CloudFormation drift detection on the root stack and every nested stack, plus the
nonce that CloudFormation does not manage.

DetectStackDrift does not recurse into nested stacks, so every stack of the tree gets its own
detection. Detections start together and are polled together, with adaptive backoff, until
they settle or the one deadline passes. Throttling is waited out within the same deadline.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TypeVar

from botocore.exceptions import ClientError

from mirror_infra.aws.cfn_answers import NESTED_STACK, ResourceDrift
from mirror_infra.aws.errors import AwsErrorKind, classify, error_code, error_message
from mirror_infra.aws.status import DetectionStatus, ResourceDriftStatus
from mirror_infra.aws.wait import Backoff
from mirror_infra.checks.base import Environment
from mirror_infra.deploy import nonce

T = TypeVar("T")

DEFAULT_TIMEOUT = 300.0
WORKERS = 8  # detections in flight at once
OUT_OF_BAND = "(out of band)"
# what DescribeStackResourceDrifts is asked for: drift, and what AWS could not check
# UNKNOWN (with DriftStatusReason) and UNSUPPORTED are what AWS returns for resources it could
# not check; left out of the filter they would vanish and the report would say "in sync"
_REPORTED = (
    ResourceDriftStatus.MODIFIED,
    ResourceDriftStatus.DELETED,
    ResourceDriftStatus.NOT_CHECKED,
    ResourceDriftStatus.UNKNOWN,
    ResourceDriftStatus.UNSUPPORTED,
)


class Detection(StrEnum):
    """How a stack's detection ended (AWS's DetectionStatus, plus the tool's own outcomes)."""

    IN_PROGRESS = DetectionStatus.IN_PROGRESS.value
    COMPLETE = DetectionStatus.COMPLETE.value
    FAILED = DetectionStatus.FAILED.value
    TIMED_OUT = "TIMED_OUT"
    ERROR = "ERROR"

    @property
    def has_results(self) -> bool:
        """AWS keeps results for a FAILED detection too, for the resources it could check."""
        return self in (Detection.COMPLETE, Detection.FAILED)


@dataclass(frozen=True)
class Difference:
    """One drifted property (or a deleted resource, or the nonce) as the report shows it."""

    stack: str
    resource: str
    resource_type: str
    status: ResourceDriftStatus
    property: str
    expected: str
    actual: str


@dataclass
class StackDrift:
    """One stack's detection: how it ended and what it found."""

    stack: str  # the root stack's name, or the nested stack's path ("Dynamodb")
    stack_id: str
    detection: Detection = Detection.IN_PROGRESS
    drift_status: str = ""
    reason: str = ""
    detection_id: str = ""
    differences: list[Difference] = field(default_factory=list)
    not_checked: list[str] = field(default_factory=list)  # logical ids AWS could not check
    unknown: list[str] = field(default_factory=list)  # "LogicalId: reason" AWS failed to check


@dataclass(frozen=True)
class DriftReport:
    stacks: list[StackDrift]
    nonce: list[Difference]

    @property
    def differences(self) -> list[Difference]:
        return [d for s in self.stacks for d in s.differences] + self.nonce

    @property
    def drifted(self) -> bool:
        return bool(self.differences)

    @property
    def errors(self) -> list[str]:
        """One line per stack whose detection did not give a complete answer."""
        failed = [
            f"{s.stack}: {s.detection.value}" + (f" ({s.reason})" if s.reason else "")
            for s in self.stacks
            if s.detection is not Detection.COMPLETE
        ]
        unknown = [
            f"{s.stack}: {entry} (drift UNKNOWN: not checked, so not known to be in sync)"
            for s in self.stacks
            for entry in s.unknown
        ]
        return failed + unknown


@dataclass(frozen=True)
class Clock:
    """Time as the polling sees it; tests pass a fake one so nothing really waits."""

    now: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep


class _Deadline(Exception):
    """The deadline passed while waiting out throttling."""


@dataclass
class Detector:
    """Runs one drift report: detections on every stack, then the nonce."""

    env: Environment
    timeout: float = DEFAULT_TIMEOUT
    clock: Clock = field(default_factory=Clock)
    backoff: Backoff | None = None
    workers: int = 0  # 0: WORKERS

    def __post_init__(self) -> None:
        self.cfn = self.env.dep.cfn
        self.deadline = self.clock.now() + self.timeout
        self.backoff = self.backoff or self.env.dep.backoff
        self.workers = self.workers or WORKERS

    def _patiently(self, call: Callable[[], T]) -> T:
        """`call`, retried while AWS throttles (botocore has already retried) until the
        deadline."""
        for delay in self.backoff.delays():
            try:
                return call()
            except ClientError as exc:
                if classify(exc) is not AwsErrorKind.THROTTLED:
                    raise
                if self.clock.now() + delay > self.deadline:
                    raise _Deadline(
                        f"throttled by AWS until the {self.timeout:g}s timeout"
                    ) from None
                self.clock.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _each(self, work: Callable[[StackDrift], None], stacks_: list[StackDrift]) -> None:
        """`work` on every stack concurrently (the clients are shared; they are thread-safe)."""
        if not stacks_:
            return
        with ThreadPoolExecutor(max_workers=max(1, min(self.workers, len(stacks_)))) as pool:
            for future in [pool.submit(self._guard, work, s) for s in stacks_]:
                future.result()

    @staticmethod
    def _guard(work: Callable[[StackDrift], None], stack: StackDrift) -> None:
        try:
            work(stack)
        except _Deadline as exc:
            stack.detection, stack.reason = Detection.TIMED_OUT, str(exc)
        except ClientError as exc:
            stack.detection = Detection.ERROR
            stack.reason = f"{error_code(exc)}: {' '.join(error_message(exc).split())}"

    # --- the three phases ------------------------------------------------------------------

    def _start(self, stack: StackDrift) -> None:
        stack.detection_id = self._patiently(lambda: self.cfn.detect_drift(stack.stack_id))

    def _status(self, stack: StackDrift) -> None:
        try:
            answer = self.cfn.drift_detection(stack.detection_id)
        except ClientError as exc:
            if classify(exc) is AwsErrorKind.THROTTLED:
                return  # still pending: asked again on the next round
            raise
        stack.detection = Detection(answer.status.value)
        stack.drift_status = answer.stack_drift
        if stack.detection is not Detection.COMPLETE:
            stack.reason = detection_reason(answer.reason)

    def _wait(self, pending: list[StackDrift]) -> None:
        for delay in self.backoff.delays():
            self._each(self._status, pending)
            pending = [s for s in pending if s.detection is Detection.IN_PROGRESS]
            if not pending:
                return
            if self.clock.now() + delay > self.deadline:
                for s in pending:
                    s.detection = Detection.TIMED_OUT
                    s.reason = f"still in progress after the {self.timeout:g}s timeout"
                return
            self.clock.sleep(delay)

    def _results(self, stack: StackDrift) -> None:
        found = self._patiently(lambda: self.cfn.resource_drifts(stack.stack_id, _REPORTED))
        for d in sorted(found, key=lambda d: d.logical_id):
            if d.status is ResourceDriftStatus.UNKNOWN:
                stack.unknown.append(f"{d.logical_id}: {d.reason or 'no reason given'}")
            elif d.status in (ResourceDriftStatus.NOT_CHECKED, ResourceDriftStatus.UNSUPPORTED):
                # a nested stack resource is never checked by its parent: it has its own detection
                if d.resource_type != NESTED_STACK:
                    stack.not_checked.append(d.logical_id)
            else:
                stack.differences.extend(_differences(stack.stack, d))

    def run(self) -> DriftReport:
        tree = self._patiently(lambda: self.cfn.tree(self.env.stack.stack_id))
        found = [StackDrift(node.path or self.env.stack.name, node.stack_id) for node in tree]
        self._each(self._start, found)
        self._wait([s for s in found if s.detection is Detection.IN_PROGRESS and s.detection_id])
        self._each(self._results, [s for s in found if s.detection.has_results])
        return DriftReport(found, nonce_drift(self.env) + guard_drift(self.env))


def detection_reason(text: str) -> str:
    """AWS gives a failed detection's reason as JSON ({"Summary": ..., "Failures": [{"Resource",
    "FailureReason"}]}); one line of it, or the text as it came."""
    try:
        data = json.loads(text)
    except ValueError:
        return " ".join(text.split())
    if not isinstance(data, dict):
        return " ".join(text.split())
    failures = "; ".join(
        f"{f.get('Resource', '?')}: {f.get('FailureReason', '?')}" for f in data.get("Failures", [])
    )
    summary = data.get("Summary", "")
    return f"{summary} ({failures})" if failures else summary or " ".join(text.split())


def _differences(stack: str, drift: ResourceDrift) -> list[Difference]:
    """The report lines of one drifted resource: one per property, or one for the resource."""

    def line(prop: str, expected: str, actual: str) -> Difference:
        return Difference(
            stack, drift.logical_id, drift.resource_type, drift.status, prop, expected, actual
        )

    if drift.status is ResourceDriftStatus.DELETED:
        return [line("(resource)", "exists", "deleted")]
    if not drift.differences:
        return [line("(properties)", drift.expected, drift.actual or json.dumps({}))]
    return [
        line(
            c.path,
            c.expected if c.kind != "ADD" else "(absent)",
            c.actual if c.kind != "REMOVE" else "(absent)",
        )
        for c in drift.differences
    ]


def nonce_drift(env: Environment) -> list[Difference]:
    """The nonce is created outside CloudFormation; check it the same way: it exists, is a
    SecureString, and is encrypted with the environment's key. Its value is never read."""
    names = env.dep.names
    found = nonce.versions(env.dep.ssm, names)
    kind = "AWS::SSM::Parameter"
    lines = []
    if not any(v.version == 1 for v in found):
        lines.append(
            Difference(
                OUT_OF_BAND,
                names.nonce_parameter(1),
                kind,
                ResourceDriftStatus.DELETED,
                "(resource)",
                f"SecureString encrypted with {env.keys.shown(env.key_arn)}",
                "missing",
            )
        )
    for v in found:
        if v.type != "SecureString":
            lines.append(
                Difference(
                    OUT_OF_BAND,
                    v.name,
                    kind,
                    ResourceDriftStatus.MODIFIED,
                    "Type",
                    "SecureString",
                    v.type,
                )
            )
        if not env.keys.is_env_key(v.key_id or None):
            lines.append(
                Difference(
                    OUT_OF_BAND,
                    v.name,
                    kind,
                    ResourceDriftStatus.MODIFIED,
                    "KeyId",
                    env.keys.shown(env.key_arn),
                    v.key_id or "none",
                )
            )
    return lines


def guard_drift(env: Environment) -> list[Difference]:
    """Termination protection and stack policies live outside the templates too: one that is
    off or lifted against the params is drift."""
    from mirror_infra.checks.rows.protection import guards

    return [
        Difference(
            OUT_OF_BAND,
            env.stack.name,
            NESTED_STACK,
            ResourceDriftStatus.MODIFIED,
            what,
            wanted,
            found,
        )
        for what, wanted, found in guards(env)
    ]


def detect(
    env: Environment,
    timeout: float = DEFAULT_TIMEOUT,
    clock: Clock | None = None,
    workers: int = 0,
) -> DriftReport:
    """Drift of the whole environment: every stack of the tree, and the nonce."""
    return Detector(env, timeout, clock or Clock(), workers=workers).run()
