"""A small evaluator of IAM identity policies as CloudFormation templates carry them.

It answers one question the way IAM's policy evaluation logic does for a single identity
policy (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html):
an explicit Deny wins, then any Allow, else the request is implicitly denied. It knows
Action/NotAction and Resource/NotResource with the `*` and `?` wildcards (actions match
case-insensitively, resources case-sensitively) and the condition operators this project uses.
Anything else it does not know — another condition operator, another intrinsic function, a
Principal in an identity policy — is an error, never a silent "allowed".
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class Decision(Enum):
    ALLOW = "allow"
    EXPLICIT_DENY = "explicit deny"
    IMPLICIT_DENY = "implicit deny"


class Unsupported(Exception):
    """The policy or template uses something this evaluator does not model."""


@dataclass(frozen=True)
class Request:
    """One authorization request: an action on a resource with its request context."""

    action: str
    resource: str
    context: Mapping[str, str] = field(default_factory=dict)


def pseudo_parameters(account: str, region: str) -> dict[str, str]:
    """CloudFormation's pseudo parameters for a stack in the commercial partition."""
    return {
        "AWS::AccountId": account,
        "AWS::Region": region,
        "AWS::Partition": "aws",
        "AWS::URLSuffix": "amazonaws.com",
    }


_SUB_VARIABLE = re.compile(r"\$\{(!?)([^}]+)\}")


def resolve(value: Any, refs: Mapping[str, Any]) -> Any:
    """`value` with Ref, Fn::Sub and Fn::Join resolved against `refs` (pseudo parameters and
    the stack's parameter values)."""
    if isinstance(value, list):
        return [resolve(v, refs) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        ((name, arg),) = value.items()
        if name == "Ref":
            if arg not in refs:
                raise Unsupported(f"no value for Ref {arg}")
            return refs[arg]
        if name == "Fn::Sub":
            template, local = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
            scope = {**refs, **{k: resolve(v, refs) for k, v in local.items()}}

            def variable(match: re.Match) -> str:
                literal, key = match.groups()
                if literal:
                    return "${" + key + "}"
                if key not in scope:
                    raise Unsupported(f"no value for ${{{key}}} in Fn::Sub")
                return str(scope[key])

            return _SUB_VARIABLE.sub(variable, template)
        if name == "Fn::Join":
            separator, items = arg
            return separator.join(str(i) for i in resolve(items, refs))
        if name.startswith("Fn::"):
            raise Unsupported(f"{name} is not modelled")
    return {k: resolve(v, refs) for k, v in value.items()}


def matches(pattern: str, value: str, *, case_sensitive: bool = True) -> bool:
    """IAM's wildcard match: `*` any run of characters, `?` exactly one."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, 0 if case_sensitive else re.IGNORECASE) is not None


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def _condition_holds(condition: Mapping[str, Any], context: Mapping[str, str]) -> bool:
    # condition keys are case-insensitive; every operator and every key must hold (AND),
    # any of a key's values may match (OR)
    lowered = {k.lower(): v for k, v in context.items()}
    for operator, entries in condition.items():
        for key, wanted in entries.items():
            actual = lowered.get(key.lower())
            values = [str(v) for v in _as_list(wanted)]
            if operator == "StringEquals":
                ok = actual is not None and actual in values
            elif operator == "StringLike":
                ok = actual is not None and any(matches(v, actual) for v in values)
            else:
                raise Unsupported(f"condition operator {operator} is not modelled")
            if not ok:
                return False
    return True


def _applies(statement: Mapping[str, Any], request: Request) -> bool:
    if "Principal" in statement or "NotPrincipal" in statement:
        raise Unsupported("a Principal in an identity policy")
    if "Action" in statement:
        action_ok = any(
            matches(a, request.action, case_sensitive=False) for a in _as_list(statement["Action"])
        )
    else:
        action_ok = not any(
            matches(a, request.action, case_sensitive=False)
            for a in _as_list(statement["NotAction"])
        )
    if "Resource" in statement:
        resource_ok = any(matches(r, request.resource) for r in _as_list(statement["Resource"]))
    else:
        resource_ok = not any(
            matches(r, request.resource) for r in _as_list(statement["NotResource"])
        )
    return (
        action_ok
        and resource_ok
        and _condition_holds(statement.get("Condition", {}), request.context)
    )


def evaluate(document: Mapping[str, Any], request: Request) -> Decision:
    """The decision of one resolved identity policy document for `request`."""
    effects = {s["Effect"] for s in _as_list(document["Statement"]) if _applies(s, request)}
    if "Deny" in effects:
        return Decision.EXPLICIT_DENY
    if "Allow" in effects:
        return Decision.ALLOW
    return Decision.IMPLICIT_DENY


@dataclass(frozen=True)
class Grant:
    """One action pattern on one resource pattern under one choice of condition values:
    the smallest piece of what an Allow statement grants."""

    sid: str
    action: str
    resource: str
    condition: Mapping[str, Mapping[str, str]]

    def covers(self, request: Request) -> bool:
        return (
            matches(self.action, request.action, case_sensitive=False)
            and matches(self.resource, request.resource)
            and _condition_holds(self.condition, request.context)
        )


def grants(document: Mapping[str, Any]) -> Iterator[Grant]:
    """Every (action, resource, condition values) an Allow statement grants, so that each can
    be checked against what is needed. NotAction/NotResource in an Allow grant an open-ended
    set, which cannot be justified piece by piece: an error."""
    for statement in _as_list(document["Statement"]):
        if statement["Effect"] != "Allow":
            continue
        if "NotAction" in statement or "NotResource" in statement:
            raise Unsupported(f"{statement.get('Sid')}: NotAction/NotResource in an Allow")
        condition = statement.get("Condition", {})
        # a condition value list is an OR: each value is a grant of its own
        choices = [
            [(operator, key, str(v)) for v in _as_list(values)]
            for operator, entries in condition.items()
            for key, values in entries.items()
        ]
        for combination in itertools.product(*choices):
            single: dict[str, dict[str, str]] = {}
            for operator, key, value in combination:
                single.setdefault(operator, {})[key] = value
            for action in _as_list(statement["Action"]):
                for resource in _as_list(statement["Resource"]):
                    yield Grant(statement.get("Sid", "?"), action, resource, single)
