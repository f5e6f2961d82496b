"""The template Conditions of a nested stack that a change set creates, decided where its
parameter values are known.

AWS makes no nested change set for a nested stack it creates, so the plan lists that stack's
resources from its template (`changes.expand_new_stacks`), and a resource under a Condition
may never be created: the email subscription when `alert_email` is empty. The condition
functions CloudFormation evaluates (Fn::Equals, Fn::Not, Fn::And, Fn::Or, Condition;
intrinsic-function-reference-conditions.html) are evaluated here over the values the root
passes the nested stack: a literal, or `Ref` to a root parameter (the plan's own value, else
its Default). Anything else — another function, an output of another stack — is unknown, and
so is the condition: its row stays, marked with the condition.
"""

from __future__ import annotations

_UNKNOWN = object()


def decided(root: dict, stack: str, nested: dict, root_values: dict[str, str]) -> dict[str, bool]:
    """Each Condition of `nested` (the template of root resource `stack`) that is known."""
    values = _nested_values(root, stack, nested, root_values)
    conditions = nested.get("Conditions") or {}
    known: dict[str, bool] = {}
    for name in conditions:
        result = _condition(name, conditions, values, set())
        if isinstance(result, bool):
            known[name] = result
    return known


def _nested_values(root: dict, stack: str, nested: dict, root_values: dict[str, str]) -> dict:
    root_params = root.get("Parameters") or {}
    passed = ((root.get("Resources") or {}).get(stack) or {}).get("Properties", {})
    passed = passed.get("Parameters") or {}
    values: dict = {}
    for name, declared in (nested.get("Parameters") or {}).items():
        given = passed.get(name, _UNKNOWN)
        if given is _UNKNOWN:
            values[name] = declared.get("Default", _UNKNOWN)
        elif isinstance(given, str):
            values[name] = given
        elif isinstance(given, dict) and set(given) == {"Ref"} and given["Ref"] in root_params:
            ref = given["Ref"]
            values[name] = root_values.get(ref, root_params[ref].get("Default", _UNKNOWN))
        else:
            values[name] = _UNKNOWN
    return values


def _condition(name: str, conditions: dict, values: dict, seen: set[str]):
    if name in seen or name not in conditions:
        return _UNKNOWN
    return _evaluate(conditions[name], conditions, values, seen | {name})


def _evaluate(node, conditions: dict, values: dict, seen: set[str]):
    """A bool, a string, or _UNKNOWN."""
    if isinstance(node, str):
        return node
    if not isinstance(node, dict) or len(node) != 1:
        return _UNKNOWN
    ((function, args),) = node.items()
    if function == "Ref":
        return values.get(args, _UNKNOWN) if isinstance(args, str) else _UNKNOWN
    if function == "Condition":
        return _condition(args, conditions, values, seen) if isinstance(args, str) else _UNKNOWN
    if not isinstance(args, list):
        return _UNKNOWN
    parts = [_evaluate(a, conditions, values, seen) for a in args]
    if function == "Fn::Equals" and len(parts) == 2:
        if any(p is _UNKNOWN or isinstance(p, bool) for p in parts):
            return _UNKNOWN
        return parts[0] == parts[1]
    if not all(isinstance(p, bool) or p is _UNKNOWN for p in parts):
        return _UNKNOWN
    if function == "Fn::Not" and len(parts) == 1:
        return _UNKNOWN if parts[0] is _UNKNOWN else not parts[0]
    if function == "Fn::And" and parts:
        if False in parts:
            return False
        return _UNKNOWN if _UNKNOWN in parts else True
    if function == "Fn::Or" and parts:
        if True in parts:
            return True
        return _UNKNOWN if _UNKNOWN in parts else False
    return _UNKNOWN
