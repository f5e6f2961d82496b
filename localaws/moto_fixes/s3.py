"""Bucket policies with conditions are evaluated as AWS evaluates them.

Corrects moto, which ignores a bucket policy statement's Condition and then treats the
unmatched condition as a denial: the baselines bucket's TLS-only policy (Deny s3:* to "*" when
`aws:SecureTransport` is "false") makes moto refuse every object request, PutObject and
HeadObject included. Requests to the local AWS stand in for AWS's HTTPS endpoints, so
`aws:SecureTransport` is "true" here; a statement whose condition does not hold does not apply;
a condition on a key the local AWS cannot know about is treated as not holding.
"""

from __future__ import annotations

import fnmatch
import json
from typing import Any

# what the local AWS knows about every request
REQUEST_CONTEXT = {"aws:securetransport": "true"}

_OPERATORS = {
    "Bool": lambda actual, wanted: actual.lower() == str(wanted).lower(),
    "StringEquals": lambda actual, wanted: actual == str(wanted),
    "StringNotEquals": lambda actual, wanted: actual != str(wanted),
    "StringEqualsIgnoreCase": lambda actual, wanted: actual.lower() == str(wanted).lower(),
    "StringLike": lambda actual, wanted: fnmatch.fnmatchcase(actual, str(wanted)),
    "StringNotLike": lambda actual, wanted: not fnmatch.fnmatchcase(actual, str(wanted)),
}


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def conditions_hold(conditions: dict | None) -> bool:
    for operator, pairs in (conditions or {}).items():
        test = _OPERATORS.get(operator)
        if test is None:
            return False
        for key, wanted in pairs.items():
            actual = REQUEST_CONTEXT.get(key.lower())
            if actual is None:
                return False
            if not any(test(actual, w) for w in _as_list(wanted)):
                return False
    return True


def get_permission(self: Any, action: str, resource: str) -> Any:
    from moto.iam.access_control import IAMPolicyStatement, PermissionResult

    if self.policy is None:
        return PermissionResult.NEUTRAL
    policy = json.loads(self.policy.decode() if isinstance(self.policy, bytes) else self.policy)
    permitted = False
    for raw in _as_list(policy.get("Statement", [])):
        statement = IAMPolicyStatement(raw)
        if "NotAction" in raw:
            if statement._check_element_matches("NotAction", action):
                continue
        elif not statement._check_element_matches("Action", action):
            continue
        if statement.is_unknown_principal(raw.get("Principal")):
            continue  # moto cannot tell who calls, so only "*" statements apply (as before)
        if raw.get("Resource") and not statement._check_element_matches("Resource", resource):
            continue
        if not conditions_hold(raw.get("Condition")):
            continue
        if raw.get("Effect") == "Deny":
            return PermissionResult.DENIED
        permitted = True
    return PermissionResult.PERMITTED if permitted else PermissionResult.NEUTRAL


def install() -> None:
    from moto.s3.models import FakeBucket

    FakeBucket.get_permission = get_permission
