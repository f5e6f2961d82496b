"""The one place where AWS error codes and texts are matched.

AWS reports several conditions only in free text (a stack that does not exist is a
ValidationError; so is "no updates"). Call sites ask `classify(exc)` and compare enums.
"""

from __future__ import annotations

from enum import Enum, auto

from botocore.exceptions import ClientError


class AwsErrorKind(Enum):
    STACK_NOT_FOUND = auto()
    CHANGE_SET_NOT_FOUND = auto()
    NO_CHANGES = auto()
    NO_UPDATES = auto()
    THROTTLED = auto()
    ACCESS_DENIED = auto()
    ALREADY_EXISTS = auto()
    NOT_FOUND = auto()
    KEY_UNKNOWN = auto()  # a KMS key named in another service's call is not known (yet)
    IN_PROGRESS = auto()
    # InvalidChangeSetStatus: OBSOLETE or already executed (the stack moved on), or, to a
    # DeleteChangeSet, still CREATE_IN_PROGRESS
    CHANGE_SET_NOT_EXECUTABLE = auto()
    NOT_CANCELLABLE = auto()  # CancelUpdateStack on a stack with no update in progress
    TERMINATION_PROTECTED = auto()
    INVALID = auto()
    OTHER = auto()


# substrings of CloudFormation's messages, most specific first
_TEXT_RULES = (
    ("does not exist", "ChangeSet", AwsErrorKind.CHANGE_SET_NOT_FOUND),
    ("does not exist", "Stack", AwsErrorKind.STACK_NOT_FOUND),
    ("didn't contain changes", None, AwsErrorKind.NO_CHANGES),
    ("No updates are to be performed", None, AwsErrorKind.NO_UPDATES),
    ("TerminationProtection is enabled", None, AwsErrorKind.TERMINATION_PROTECTED),
    ("termination protection", None, AwsErrorKind.TERMINATION_PROTECTED),
    ("_IN_PROGRESS state and can not be updated", None, AwsErrorKind.IN_PROGRESS),
    (
        "CancelUpdateStack cannot be called from current stack status",
        None,
        AwsErrorKind.NOT_CANCELLABLE,
    ),
    ("is in ", "_IN_PROGRESS", AwsErrorKind.IN_PROGRESS),
)

_CODE_RULES = {
    "ChangeSetNotFound": AwsErrorKind.CHANGE_SET_NOT_FOUND,
    "ChangeSetNotFoundException": AwsErrorKind.CHANGE_SET_NOT_FOUND,
    "InvalidChangeSetStatus": AwsErrorKind.CHANGE_SET_NOT_EXECUTABLE,
    "Throttling": AwsErrorKind.THROTTLED,
    "ThrottlingException": AwsErrorKind.THROTTLED,
    "TooManyRequestsException": AwsErrorKind.THROTTLED,
    "RequestLimitExceeded": AwsErrorKind.THROTTLED,
    "AccessDenied": AwsErrorKind.ACCESS_DENIED,
    "AccessDeniedException": AwsErrorKind.ACCESS_DENIED,
    "UnauthorizedOperation": AwsErrorKind.ACCESS_DENIED,
    "AlreadyExistsException": AwsErrorKind.ALREADY_EXISTS,
    "ParameterAlreadyExists": AwsErrorKind.ALREADY_EXISTS,
    "BucketAlreadyOwnedByYou": AwsErrorKind.ALREADY_EXISTS,
    "ParameterNotFound": AwsErrorKind.NOT_FOUND,
    "NoSuchBucket": AwsErrorKind.NOT_FOUND,
    "NoSuchKey": AwsErrorKind.NOT_FOUND,
    "404": AwsErrorKind.NOT_FOUND,
    "403": AwsErrorKind.ACCESS_DENIED,  # HeadObject (no body): denied, or absent without ListBucket
    "NotFound": AwsErrorKind.NOT_FOUND,
    "ResourceNotFoundException": AwsErrorKind.NOT_FOUND,
    # the checks read configuration that may be missing; each service has its own code
    "NotFoundException": AwsErrorKind.NOT_FOUND,  # KMS
    "NoSuchEntity": AwsErrorKind.NOT_FOUND,  # IAM
    "ResourceNotFound": AwsErrorKind.NOT_FOUND,  # CloudWatch GetDashboard
    "NoSuchBucketPolicy": AwsErrorKind.NOT_FOUND,
    "ServerSideEncryptionConfigurationNotFoundError": AwsErrorKind.NOT_FOUND,
    "NoSuchPublicAccessBlockConfiguration": AwsErrorKind.NOT_FOUND,
}
# SSM's InvalidKeyId texts for a key KMS does not know (API_PutParameter's own text, and KMS's
# NotFoundException passed through: "Key '...' does not exist", "Alias ... is not found.")
_KEY_UNKNOWN_TEXTS = ("NotFoundException", "does not exist", "is not found", "isn't valid")


def error_code(exc: ClientError) -> str:
    return exc.response.get("Error", {}).get("Code", "")


def error_message(exc: ClientError) -> str:
    return exc.response.get("Error", {}).get("Message", "") or str(exc)


def classify(exc: ClientError) -> AwsErrorKind:
    """What an AWS error means for the caller."""
    code = error_code(exc)
    message = error_message(exc)
    if code == "InvalidKeyId":
        # KEY_UNKNOWN only for a key KMS does not know (its NotFoundException, or SSM's own
        # text): a key pending deletion, disabled, or denied is not mended by waiting
        unknown = any(text in message for text in _KEY_UNKNOWN_TEXTS)
        return AwsErrorKind.KEY_UNKNOWN if unknown else AwsErrorKind.INVALID
    if code in _CODE_RULES:
        return _CODE_RULES[code]
    if code == "ValidationError":
        for text, also, kind in _TEXT_RULES:
            if text in message and (also is None or also in message):
                return kind
        return AwsErrorKind.INVALID
    return AwsErrorKind.OTHER


def is_no_changes_reason(reason: str | None) -> bool:
    """A FAILED change set's StatusReason that only means 'nothing to do'."""
    text = reason or ""
    return "didn't contain changes" in text or "No updates are to be performed" in text


# CloudFormation's texts for a failure that only echoes another resource's failure
_PROPAGATED = (
    "Resource creation cancelled",
    "Resource update cancelled",
    "The following resource(s) failed to",
    "Embedded stack",
    "was not successfully",
    "Stack creation time exceeded",
    'Resource handler returned message: "null"',
)


def is_propagated_failure(reason: str | None) -> bool:
    """A failure event's reason that points at another failure rather than being the cause."""
    text = reason or ""
    return not text or any(marker in text for marker in _PROPAGATED)
