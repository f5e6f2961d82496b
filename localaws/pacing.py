"""AWS-paced mode and the fault switch: how long operations take, and what fails on purpose.

AWS runs stack operations in the background: the API call returns at once and the stack shows
`*_IN_PROGRESS` for as long as its resources take. With `pace` 0 (the default, "instant") the
local AWS finishes every operation inside the API call; with `pace` > 0 operations run in a
background thread and each resource takes `DURATIONS[type] * pace` seconds, so waiting,
cancelling, detaching and drift detection in progress can be exercised for real.

The fault switch answers `Throttling` to a share of calls (a fixed seed: the same calls are
throttled on every run) and fails the creation, update or rollback of named logical resources
at provisioning time, after validation, as a resource handler fails on AWS.

Settings live per process (one server per process); `reset()` restores instant mode and clears
every fault. A running server is switched through `POST /localaws/settings` (see server.py).
"""

from __future__ import annotations

import contextlib
import random
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from typing import Any

# Typical AWS durations in seconds, (create, update, delete), per resource type. AWS publishes
# none: these are estimates, each with where it comes from.
DURATIONS: dict[str, tuple[float, float, float]] = {
    # the KMS resource provider waits a minute for propagation after creating, and another
    # before returning: "Overall 2 min of latency" (aws-cloudformation-resource-providers-kms
    # pull request 5); its eventual-consistency helper "waits 60 seconds for every creation,
    # update or delete" (same repository, issue 59)
    "AWS::KMS::Key": (120.0, 60.0, 60.0),
    "AWS::KMS::Alias": (5.0, 5.0, 5.0),
    # CreateTable to ACTIVE takes "5-10 seconds" to "about 20 seconds" (aws-sdk-java-v2 issue
    # 5996), "about 10 seconds to 1 minute" (hubaimaster/aws-interface issue 12); updates of an
    # on-demand table (PITR, TTL, SSE) wait for ACTIVE again; delete waits for the table to go
    "AWS::DynamoDB::Table": (30.0, 20.0, 20.0),
    # IAM changes "usually propagate within ~2 seconds" but tools wait 10-30 s for them
    # (pulumi-aws issue 2411; aws-controllers-k8s/test-infra pull request 178)
    "AWS::IAM::Role": (15.0, 10.0, 10.0),
    "AWS::IAM::Policy": (15.0, 10.0, 10.0),
    "AWS::IAM::ManagedPolicy": (15.0, 10.0, 10.0),
    # S3 buckets are eventually consistent on create; CloudFormation stabilises them (estimate)
    "AWS::S3::Bucket": (20.0, 10.0, 10.0),
    "AWS::S3::BucketPolicy": (5.0, 5.0, 5.0),
    # one API call each, no stabilisation (estimates)
    "AWS::SNS::Topic": (10.0, 5.0, 5.0),
    "AWS::SNS::TopicPolicy": (5.0, 5.0, 5.0),
    "AWS::SNS::Subscription": (5.0, 5.0, 5.0),
    "AWS::Logs::LogGroup": (3.0, 3.0, 3.0),
    "AWS::Logs::MetricFilter": (3.0, 3.0, 3.0),
    "AWS::CloudWatch::Alarm": (3.0, 3.0, 3.0),
    "AWS::CloudWatch::Dashboard": (3.0, 3.0, 3.0),
    # a nested stack's own resources take their own time; this is CloudFormation's overhead
    "AWS::CloudFormation::Stack": (5.0, 5.0, 5.0),
}
DEFAULT_DURATION = (5.0, 5.0, 5.0)
# Types whose durations above are mostly a wait for readiness after the configuration call
# returned (stabilization): the key's propagation waits, the table's wait for ACTIVE, IAM's
# propagation, the bucket's. DeploymentConfig Mode EXPRESS skips that wait: "CloudFormation
# typically considers a resource operation complete as soon as the API call to create, update,
# or delete the resource succeeds" (cloudformation-express-mode.html); what is left is the
# call itself, CONFIGURATION_SECONDS (estimate). The other types are one call with no
# stabilization, and a nested stack's overhead is CloudFormation's own: EXPRESS leaves them.
STABILIZING = frozenset(
    {
        "AWS::KMS::Key",
        "AWS::DynamoDB::Table",
        "AWS::IAM::Role",
        "AWS::IAM::Policy",
        "AWS::IAM::ManagedPolicy",
        "AWS::S3::Bucket",
    }
)
CONFIGURATION_SECONDS = 2.0
# a change set is CREATE_IN_PROGRESS for a few seconds per stack it covers (estimate: AWS
# computes it asynchronously and documents no duration)
CHANGE_SET_SECONDS = 5.0
# drift detection reads each resource back once (estimate: a second or two per resource)
DRIFT_PER_RESOURCE = 2.0
_OPERATION_INDEX = {"create": 0, "update": 1, "delete": 2}


@dataclass
class Settings:
    """What the local AWS does beyond instant, always-succeeding AWS."""

    pace: float = 0.0  # 0: instant; 0.05: 5 % of typical AWS times
    throttle_share: float = 0.0  # share of calls answered with Throttling (0..1)
    throttle_seed: int = 0
    throttle_services: list[str] = field(default_factory=lambda: ["cloudformation"])
    fail_create: list[str] = field(default_factory=list)  # logical ids whose creation fails
    fail_update: list[str] = field(default_factory=list)  # logical ids whose update fails
    # logical ids whose rollback (back to the previous properties) fails: UPDATE_ROLLBACK_FAILED
    fail_rollback: list[str] = field(default_factory=list)
    # logical ids whose update (paced mode), once its time is up, stays in progress until it
    # is cancelled or they leave this list: a test sees the operation in progress however
    # loaded its machine
    hold_update: list[str] = field(default_factory=list)


_lock = threading.Lock()
_settings = Settings()
_rng = random.Random(0)
_generation = 0  # bumped by reset(): operations of an older generation stop
_threads: list[threading.Thread] = []


class Abandoned(BaseException):  # noqa: N818 - not an error: the state it worked on is gone
    """The local AWS was reset while an operation ran; it stops without touching anything."""


class Cancelled(Exception):  # noqa: N818 - the name says what happened, as AWS's reason does
    """CancelUpdateStack was called while this update ran."""


def current() -> Settings:
    return _settings


def configure(**changes: Any) -> Settings:
    """Change some settings (unknown names are a ValueError naming them)."""
    global _settings, _rng
    known = {f.name for f in fields(Settings)}
    unknown = sorted(set(changes) - known)
    if unknown:
        raise ValueError(f"unknown local AWS settings: {', '.join(unknown)}")
    merged = {**asdict(_settings), **changes}
    if float(merged["pace"]) < 0 or not 0 <= float(merged["throttle_share"]) <= 1:
        raise ValueError("pace must be >= 0 and throttle_share within 0..1")
    merged["pace"] = float(merged["pace"])
    merged["throttle_share"] = float(merged["throttle_share"])
    merged["throttle_seed"] = int(merged["throttle_seed"])
    with _lock:
        _settings = Settings(**merged)
        _rng = random.Random(_settings.throttle_seed)
    return _settings


def as_dict() -> dict:
    return asdict(_settings)


def reset() -> None:
    """Instant mode, no faults; operations still running stop and are waited for."""
    global _generation, _settings, _rng
    with _lock:
        _generation += 1
        running = list(_threads)
        _threads.clear()
        _settings = Settings()
        _rng = random.Random(0)
    for thread in running:
        thread.join(timeout=10)


# throttling ----------
def throttled(service: str) -> bool:
    """Whether to answer this call with Throttling (deterministic for a given seed)."""
    s = _settings
    if s.throttle_share <= 0 or service not in s.throttle_services:
        return False
    with _lock:
        return _rng.random() < s.throttle_share


# provisioning faults ----------
def injected_failure(logical_id: str, operation: str) -> str | None:
    """The failure reason for a resource the fault switch fails, else None."""
    names = {
        "create": _settings.fail_create,
        "update": _settings.fail_update,
        "rollback": _settings.fail_rollback,
    }[operation]
    if logical_id in names:
        return (
            f'Resource handler returned message: "{logical_id} failed to {operation} (fault '
            'injected by the local AWS)" (HandlerErrorCode: InternalFailure)'
        )
    return None


# time ----------
def duration(type_name: str, operation: str) -> float:
    """How long the resource's operation takes at the current pace (its readiness wait left
    out when the running operation is an EXPRESS one)."""
    seconds = DURATIONS.get(type_name, DEFAULT_DURATION)[_OPERATION_INDEX[operation]]
    if getattr(_local, "express", False) and type_name in STABILIZING:
        seconds = min(seconds, CONFIGURATION_SECONDS)
    return seconds * _settings.pace


def paced() -> bool:
    return _settings.pace > 0


def sleep(seconds: float, cancelled: Callable[[], bool] | None = None) -> None:
    """Wait `seconds`; raise Cancelled when `cancelled()` turns true, Abandoned on reset."""
    generation = getattr(_local, "generation", _generation)
    deadline = time.monotonic() + seconds
    while True:
        if generation != _generation:
            raise Abandoned
        if cancelled is not None and cancelled():
            raise Cancelled
        left = deadline - time.monotonic()
        if left <= 0:
            return
        time.sleep(min(left, 0.02))


def hold(logical_id: str, cancelled: Callable[[], bool]) -> None:
    """Keep the resource's update in progress while the fault switch holds it (hold_update, in
    paced mode); raise Cancelled when `cancelled()` turns true, Abandoned on reset."""
    while paced() and logical_id in _settings.hold_update:
        sleep(0.02, cancelled)


_local = threading.local()


def inherit(fn: Callable[..., Any]) -> Callable[..., Any]:
    """`fn` for a worker thread of the current operation: stopped by reset() like it, and in
    its deployment mode."""
    generation = getattr(_local, "generation", _generation)
    express = getattr(_local, "express", False)

    def run(*args: Any, **kwargs: Any) -> Any:
        _local.generation, _local.express = generation, express
        return fn(*args, **kwargs)

    return run


def begin_request() -> None:
    """A request starts (server.py): no operation has ended inside it yet."""
    _local.ended_in_call = False


def mark_ended_in_call() -> None:
    """The stack operation this request started has ended inside it (cfn/api/common.py)."""
    _local.ended_in_call = True


def ended_in_call() -> bool:
    """An operation this request started also ended inside it (instant mode): the server says
    so in a response header (server.ENDED_IN_CALL)."""
    return getattr(_local, "ended_in_call", False)


def run(
    work: Callable[[], None], started: Callable[[], bool] | None = None, express: bool = False
) -> None:
    """Run `work` now (instant mode) or in the background (paced), returning once `started()`
    is true (its first event is recorded) so that the caller sees the operation in progress;
    `express`: a DeploymentConfig Mode EXPRESS operation (no readiness waits)."""
    if not paced():
        work()
        return

    generation = _generation

    def body() -> None:
        _local.generation, _local.express = generation, express
        with contextlib.suppress(Abandoned):
            work()

    thread = threading.Thread(target=body, name="local-aws-operation", daemon=True)
    with _lock:
        _threads[:] = [t for t in _threads if t.is_alive()]
        _threads.append(thread)
    thread.start()
    deadline = time.monotonic() + 10
    while started is not None and thread.is_alive() and time.monotonic() < deadline:
        if started():
            return
        time.sleep(0.002)
