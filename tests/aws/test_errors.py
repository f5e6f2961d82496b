"""AWS error text is matched in one function; these are the texts AWS really sends."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from mirror_infra.aws.errors import AwsErrorKind, classify, is_no_changes_reason


def _error(code: str, message: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, "Op")


CASES = [
    (
        "ValidationError",
        "Stack with id mirror-dissonance-staging does not exist",
        AwsErrorKind.STACK_NOT_FOUND,
    ),
    ("ValidationError", "No updates are to be performed.", AwsErrorKind.NO_UPDATES),
    (
        "ValidationError",
        "Stack [mirror-dissonance-production] cannot be deleted while TerminationProtection is "
        "enabled",
        AwsErrorKind.TERMINATION_PROTECTED,
    ),
    (
        "ValidationError",
        "Stack:arn:aws:cloudformation:us-east-1:1:stack/x/y is in UPDATE_IN_PROGRESS state and can "
        "not be updated.",
        AwsErrorKind.IN_PROGRESS,
    ),
    ("ValidationError", "Template format error: unsupported structure.", AwsErrorKind.INVALID),
    ("ChangeSetNotFound", "ChangeSet [x] does not exist", AwsErrorKind.CHANGE_SET_NOT_FOUND),
    ("Throttling", "Rate exceeded", AwsErrorKind.THROTTLED),
    ("AccessDenied", "User is not authorized", AwsErrorKind.ACCESS_DENIED),
    ("ParameterAlreadyExists", "The parameter already exists.", AwsErrorKind.ALREADY_EXISTS),
    ("404", "Not Found", AwsErrorKind.NOT_FOUND),
    # API_ExecuteChangeSet.html: the change set's status is not executable (OBSOLETE, executed)
    (
        "InvalidChangeSetStatus",
        "ChangeSet [arn:aws:cloudformation:us-east-1:1:changeSet/x/y] cannot be executed in its "
        "current status of [OBSOLETE]",
        AwsErrorKind.CHANGE_SET_NOT_EXECUTABLE,
    ),
    # API_DeleteChangeSet.html: InvalidChangeSetStatus while the change set is CREATE_IN_PROGRESS
    (
        "InvalidChangeSetStatus",
        "ChangeSet [arn:aws:cloudformation:us-east-1:1:changeSet/x/y] cannot be deleted in its "
        "current status of [CREATE_IN_PROGRESS]",
        AwsErrorKind.CHANGE_SET_NOT_EXECUTABLE,
    ),
    # API_CancelUpdateStack.html: "You can cancel only stacks that are in the
    # UPDATE_IN_PROGRESS state"; the text as AWS answers it (aws/copilot-cli pull 5046)
    (
        "ValidationError",
        "CancelUpdateStack cannot be called from current stack status UPDATE_COMPLETE",
        AwsErrorKind.NOT_CANCELLABLE,
    ),
    # HeadObject of a missing key without s3:ListBucket (API_HeadObject.html): no body, "403"
    ("403", "Forbidden", AwsErrorKind.ACCESS_DENIED),
    ("NotFoundException", "Alias alias/x is not found.", AwsErrorKind.NOT_FOUND),
    (
        "NoSuchEntity",
        "The role with name mirror-dissonance-staging-app-us-east-1 cannot be found.",
        AwsErrorKind.NOT_FOUND,
    ),
    ("ResourceNotFound", "Dashboard does not exist", AwsErrorKind.NOT_FOUND),
    ("NoSuchBucketPolicy", "The bucket policy does not exist", AwsErrorKind.NOT_FOUND),
    (
        "ServerSideEncryptionConfigurationNotFoundError",
        "The server side encryption configuration was not found",
        AwsErrorKind.NOT_FOUND,
    ),
    (
        "NoSuchPublicAccessBlockConfiguration",
        "The public access block configuration was not found",
        AwsErrorKind.NOT_FOUND,
    ),
    # API_PutParameter.html: InvalidKeyId, "The query key ID isn't valid."; AWS's messages name
    # KMS's own error (binxio/aws-ssm-copy issue 10, cloudposse/docs 152, segmentio/chamber 355)
    ("InvalidKeyId", "The query key ID isn't valid.", AwsErrorKind.KEY_UNKNOWN),
    (
        "InvalidKeyId",
        "Key 'arn:aws:kms:us-east-1:123123123:key/0f9b04ee-ab13-4f35-a2b2-d0902bfe6a1e' does not "
        "exist (Service: AWSKMS; Status Code: 400; Error Code: NotFoundException; Request ID: "
        "06817cdd-99f4-4895-a52c-60deb22131c9; Proxy: null)",
        AwsErrorKind.KEY_UNKNOWN,
    ),
    (
        "InvalidKeyId",
        "Alias arn:aws:kms:us-west-2:271462348125:alias/parameter_store_key is not found. "
        "(Service: AWSKMS; Status Code: 400; Error Code: NotFoundException; Request ID: "
        "40c97139-788f-11e8-932c-45e4f64721d4)",
        AwsErrorKind.KEY_UNKNOWN,
    ),
    (
        "InvalidKeyId",
        "arn:aws:kms:us-east-1:234148435633:key/KEYIDHERE is pending deletion. (Service: AWSKMS; "
        "Status Code: 400; Error Code: KMSInvalidStateException; Request ID: "
        "a45f1c26-e158-43b1-88e7-576d40fd5c77; Proxy: null)",
        AwsErrorKind.INVALID,
    ),
    (
        "InvalidKeyId",
        "arn:aws:kms:us-east-1:1:key/x is disabled. (Service: AWSKMS; Status Code: 400; Error "
        "Code: DisabledException)",
        AwsErrorKind.INVALID,
    ),
    (
        "InvalidKeyId",
        "User: arn:aws:sts::1:assumed-role/r/s is not authorized to perform: kms:Encrypt "
        "(Service: AWSKMS; Status Code: 400; Error Code: AccessDeniedException)",
        AwsErrorKind.INVALID,
    ),
    ("InternalFailure", "boom", AwsErrorKind.OTHER),
]


@pytest.mark.parametrize(("code", "message", "kind"), CASES, ids=[c[2].name for c in CASES])
def test_classify(code, message, kind):
    assert classify(_error(code, message)) is kind


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        (
            "The submitted information didn't contain changes. Submit different information to "
            "create a change set.",
            True,
        ),
        ("No updates are to be performed.", True),
        ("Parameter 'AlertEmail' must match pattern", False),
        (None, False),
    ],
)
def test_no_changes_reason(reason, expected):
    assert is_no_changes_reason(reason) is expected
