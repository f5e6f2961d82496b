"""Every error the tool raises on purpose, and the exit-code contract they map to.

Each error's message is one line that says what is wrong and what to do; the CLI prints it
as-is and exits with the code decided here, in one place.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any


class ExitCode(IntEnum):
    """The one contract across commands."""

    OK = 0  # done, no changes, in sync
    ERROR = 1  # anything went wrong, usage errors included
    CHANGES = 2  # a plan has changes, or drift was found
    INTERRUPTED = 130  # Ctrl-C: the shells' convention (128 + SIGINT)
    TERMINATED = 143  # SIGTERM (CI cancelling a job): 128 + SIGTERM


class Terminated(BaseException):  # noqa: N818 - a signal, like KeyboardInterrupt
    """SIGTERM arrived: unwinds like Ctrl-C, so every flow cleans up what it made."""


class MirrorInfraError(Exception):
    """Base of every error the tool reports to the user as one line."""

    exit_code = ExitCode.ERROR

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()))


class UsageError(MirrorInfraError):
    """The command line itself is wrong (an unknown flag, a missing command)."""


class ConfigError(MirrorInfraError):
    """A params file or a command-line value is wrong."""


class BuildError(MirrorInfraError):
    """The templates could not be built or are missing."""


class LintError(MirrorInfraError):
    """cfn-lint reported findings."""


class TargetError(MirrorInfraError):
    """The AWS target (account, region, local AWS) is unusable."""


class NotBootstrappedError(MirrorInfraError):
    """The artifacts bucket for the region does not exist."""


class DeployError(MirrorInfraError):
    """A stack operation failed or was refused."""


class DestructiveChangeError(DeployError):
    """A plan would replace or delete data the user did not name."""


class StalePlanError(DeployError):
    """A saved plan no longer matches the stack or the templates."""


class ApplyFailed(DeployError):
    """The stack operation ended in failure (it rolled back or is stuck)."""

    def __init__(self, message: str, finished: Any, plan: Any = None) -> None:
        super().__init__(message)
        # typed loosely so that this module imports nothing of the tool's: `finished` is the
        # deploy.operation.Finished that ended so, `plan` the deploy.plan.Plan whose execution
        # failed (when there was one)
        self.finished = finished
        self.plan = plan


class AdoptError(DeployError):
    """The existing resources cannot be brought under the stacks as they are."""


class AdoptionUnfinished(DeployError):
    """An adoption stopped part way; only `adopt` may change the environment until it ends."""


class NotDeployedError(MirrorInfraError):
    """The environment's root stack is missing or has no outputs to check against."""


class MultiRegionFailed(MirrorInfraError):
    """A multi-region or upgrade test failed in at least one region."""


class Aborted(MirrorInfraError):
    """The user declined a confirmation."""


class Detached(Aborted):
    """Ctrl-C while an operation ran, and the user left it running in AWS: interrupted, as
    the README's exit codes say (130), not failed."""

    exit_code = ExitCode.INTERRUPTED
