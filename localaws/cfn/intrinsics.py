"""Template evaluation: parameters, conditions and intrinsic functions, as CloudFormation does.

Corrects moto's `clean_json`, which resolves lazily (creating resources as a side effect of a
`Ref`), drops a `GetAtt` it cannot resolve instead of failing, and does not validate parameters
against `AllowedPattern`/`AllowedValues`.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Iterable
from typing import Any

from moto.cloudformation.exceptions import ValidationError

NESTED_STACK = "AWS::CloudFormation::Stack"

NO_VALUE = object()  # Ref AWS::NoValue: the property is removed


class TemplateError(ValidationError):
    """A template or parameter error, reported as CloudFormation's ValidationError."""

    def __init__(self, message: str) -> None:
        super().__init__(message=message)


class Unresolvable(Exception):
    """A value depends on a resource that does not exist yet (change-set preview)."""

    def __init__(self, expression: str) -> None:
        super().__init__(expression)
        self.expression = expression


def pseudo_parameters(account_id: str, region: str, stack_id: str, stack_name: str) -> dict:
    partition = "aws-cn" if region.startswith("cn-") else "aws"
    if region.startswith("us-gov-"):
        partition = "aws-us-gov"
    return {
        "AWS::AccountId": account_id,
        "AWS::Region": region,
        "AWS::StackId": stack_id,
        "AWS::StackName": stack_name,
        "AWS::Partition": partition,
        "AWS::URLSuffix": "amazonaws.com.cn" if partition == "aws-cn" else "amazonaws.com",
        "AWS::NotificationARNs": [],
        "AWS::NoValue": NO_VALUE,
    }


def resolve_parameters(template: dict, given: dict[str, str]) -> tuple[dict[str, Any], set]:
    """Typed parameter values and the NoEcho keys; errors worded as CloudFormation words them."""
    declared = template.get("Parameters") or {}
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise TemplateError(f"Parameters: [{', '.join(unknown)}] do not exist in the template")
    values: dict[str, Any] = {}
    missing = []
    no_echo = set()
    for name, spec in declared.items():
        raw = given.get(name, spec.get("Default"))
        if raw is None:
            missing.append(name)
            continue
        raw = str(raw) if not isinstance(raw, str) else raw
        if str(spec.get("NoEcho", "false")).lower() == "true":
            no_echo.add(name)
        _check_constraints(name, spec, raw)
        values[name] = _typed(name, spec.get("Type", "String"), raw)
    if missing:
        raise TemplateError(f"Parameters: [{', '.join(missing)}] must have values")
    return values, no_echo


def _check_constraints(name: str, spec: dict, raw: str) -> None:
    kind = spec.get("Type", "String")
    items = raw.split(",") if kind.startswith("List") or kind == "CommaDelimitedList" else [raw]
    for item in items:
        pattern = spec.get("AllowedPattern")
        if pattern is not None and not re.fullmatch(pattern, item):
            raise TemplateError(f"Parameter '{name}' must match pattern {pattern}")
        allowed = spec.get("AllowedValues")
        if allowed is not None and item not in [str(a) for a in allowed]:
            raise TemplateError(f"Parameter '{name}' must be one of AllowedValues")
        if "MaxLength" in spec and len(item) > int(spec["MaxLength"]):
            raise TemplateError(
                f"Parameter '{name}' must contain at most {spec['MaxLength']} characters"
            )
        if "MinLength" in spec and len(item) < int(spec["MinLength"]):
            raise TemplateError(
                f"Parameter '{name}' must contain at least {spec['MinLength']} characters"
            )


def _typed(name: str, kind: str, raw: str) -> Any:
    if kind == "Number":
        try:
            float(raw)
        except ValueError:
            raise TemplateError(f"Parameter '{name}' must be a number") from None
        return raw
    if kind == "CommaDelimitedList" or kind.startswith("List<"):
        return raw.split(",") if raw else []
    return raw


class Evaluator:
    """Evaluates one template's expressions against parameters and existing resources.

    `resources` maps logical ids to objects with `.ref()` and `.get_att(name)`; a name that is
    neither a parameter, a pseudo parameter nor an existing resource raises `Unresolvable`
    (during a change-set preview) or a TemplateError.
    """

    def __init__(
        self,
        template: dict,
        parameters: dict[str, Any],
        pseudo: dict[str, Any],
        resources: dict[str, Any],
        unknown_parameters: Iterable[str] = (),
    ) -> None:
        self.template = template
        self.parameters = parameters
        self.pseudo = pseudo
        self.resources = resources
        # parameters whose values a change-set preview cannot know (change_set_computation.py:
        # a nested stack's parameter fed by another nested stack's output)
        self.unknown_parameters = frozenset(unknown_parameters)
        self._conditions: dict[str, bool] = {}

    # conditions -----------------------------------------------------------------------------
    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            conditions = self.template.get("Conditions") or {}
            if name not in conditions:
                raise TemplateError(f"Template format error: Unresolved condition {name}")
            self._conditions[name] = bool(self._condition_value(conditions[name]))
        return self._conditions[name]

    def _condition_value(self, expr: Any) -> Any:
        if isinstance(expr, dict) and len(expr) == 1:
            ((key, arg),) = expr.items()
            if key == "Condition":
                return self.condition(arg)
            if key == "Fn::Equals":
                a, b = (self.resolve(x) for x in arg)
                return (
                    str(a) == str(b) if not (isinstance(a, list) or isinstance(b, list)) else a == b
                )
            if key == "Fn::Not":
                return not self._condition_value(arg[0])
            if key == "Fn::And":
                return all(self._condition_value(x) for x in arg)
            if key == "Fn::Or":
                return any(self._condition_value(x) for x in arg)
        return self.resolve(expr)

    def included(self, logical_id: str) -> bool:
        """Whether a resource (or output) exists under the template's conditions."""
        body = (self.template.get("Resources") or {}).get(logical_id) or {}
        cond = body.get("Condition")
        return True if cond is None else self.condition(cond)

    # values -----------------------------------------------------------------------------------
    def resolve(self, value: Any) -> Any:
        result = self._resolve(value)
        return None if result is NO_VALUE else result

    def _resolve(self, value: Any) -> Any:
        if isinstance(value, dict):
            if len(value) == 1:
                ((key, arg),) = value.items()
                handler = _FUNCTIONS.get(key)
                if handler is not None:
                    return handler(self, arg)
            out = {}
            for k, v in value.items():
                r = self._resolve(v)
                if r is not NO_VALUE:
                    out[k] = r
            return out
        if isinstance(value, list):
            return [r for r in (self._resolve(v) for v in value) if r is not NO_VALUE]
        return value

    def ref(self, name: str) -> Any:
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.unknown_parameters:
            raise Unresolvable(f"{{{{IntrinsicFunction:Ref/{name}}}}}")
        if name in self.parameters:
            return self.parameters[name]
        if name in self.resources:
            return self.resources[name].ref()
        if name in (self.template.get("Resources") or {}):
            raise Unresolvable(f"{{{{IntrinsicFunction:Ref/{name}}}}}")
        raise TemplateError(f"Template format error: Unresolved resource dependencies [{name}]")

    def get_att(self, name: str, attribute: str) -> Any:
        if name in self.resources:
            try:
                return self.resources[name].get_att(attribute)
            except KeyError:
                spec = (self.template.get("Resources") or {}).get(name) or {}
                if spec.get("Type") == NESTED_STACK and attribute.startswith("Outputs."):
                    # the nested stack's new template may add the output: on AWS a change set
                    # shows such a value as known after apply, and the update reads it once the
                    # nested stack is updated (its dependents wait for it)
                    raise Unresolvable(
                        f"{{{{IntrinsicFunction:GetAtt/{name}.{attribute}}}}}"
                    ) from None
                raise TemplateError(
                    f"Template error: resource {name} does not support attribute type "
                    f"{attribute} in Fn::GetAtt"
                ) from None
        if name in (self.template.get("Resources") or {}):
            raise Unresolvable(f"{{{{IntrinsicFunction:GetAtt/{name}.{attribute}}}}}")
        raise TemplateError(
            f"Template error: instance of Fn::GetAtt references undefined resource {name}"
        )


def _fn_ref(ev: Evaluator, arg: Any) -> Any:
    return ev.ref(ev.resolve(arg) if not isinstance(arg, str) else arg)


def _fn_get_att(ev: Evaluator, arg: Any) -> Any:
    if isinstance(arg, str):
        name, _, attribute = arg.partition(".")
    else:
        name, attribute = arg[0], ev.resolve(arg[1])
    return ev.get_att(name, attribute)


_SUB = re.compile(r"\$\{([^}]*)\}")


def _fn_sub(ev: Evaluator, arg: Any) -> Any:
    if isinstance(arg, list):
        text, variables = arg[0], {k: ev.resolve(v) for k, v in arg[1].items()}
    else:
        text, variables = arg, {}

    def replace(match: re.Match) -> str:
        expr = match.group(1)
        if expr.startswith("!"):
            return "${" + expr[1:] + "}"
        if expr in variables:
            value = variables[expr]
        elif "." in expr and expr.split(".", 1)[0] not in ev.parameters:
            name, attribute = expr.split(".", 1)
            value = ev.get_att(name, attribute)
        else:
            value = ev.ref(expr)
        if isinstance(value, list):
            value = ",".join(str(v) for v in value)
        return str(value)

    return _SUB.sub(replace, text)


def _fn_join(ev: Evaluator, arg: Any) -> str:
    sep, items = arg
    items = ev.resolve(items)
    return sep.join(str(i) for i in items)


def _fn_select(ev: Evaluator, arg: Any) -> Any:
    index, items = ev.resolve(arg[0]), ev.resolve(arg[1])
    return items[int(index)]


def _fn_split(ev: Evaluator, arg: Any) -> list:
    return str(ev.resolve(arg[1])).split(arg[0])


def _fn_if(ev: Evaluator, arg: Any) -> Any:
    name, when_true, when_false = arg
    return ev._resolve(when_true if ev.condition(name) else when_false)


def _fn_find_in_map(ev: Evaluator, arg: Any) -> Any:
    name, top, second = (ev.resolve(a) for a in arg[:3])
    try:
        return ev.template["Mappings"][name][top][second]
    except KeyError:
        raise TemplateError(
            f"Template error: Unable to get mapping for {name}::{top}::{second}"
        ) from None


def _fn_base64(ev: Evaluator, arg: Any) -> str:
    return base64.b64encode(str(ev.resolve(arg)).encode()).decode()


def _fn_get_azs(ev: Evaluator, arg: Any) -> list[str]:
    region = ev.resolve(arg) or ev.pseudo["AWS::Region"]
    return [f"{region}{z}" for z in "abc"]


def _fn_to_json_string(ev: Evaluator, arg: Any) -> str:
    return json.dumps(ev.resolve(arg), separators=(",", ":"))


def _fn_length(ev: Evaluator, arg: Any) -> int:
    return len(ev.resolve(arg))


def _fn_import_value(ev: Evaluator, arg: Any) -> Any:
    raise TemplateError(f"No export named {ev.resolve(arg)} found.")


def _fn_condition(ev: Evaluator, arg: Any) -> bool:
    return ev.condition(arg)


_FUNCTIONS: dict[str, Callable[[Evaluator, Any], Any]] = {
    "Ref": _fn_ref,
    "Fn::GetAtt": _fn_get_att,
    "Fn::Sub": _fn_sub,
    "Fn::Join": _fn_join,
    "Fn::Select": _fn_select,
    "Fn::Split": _fn_split,
    "Fn::If": _fn_if,
    "Fn::FindInMap": _fn_find_in_map,
    "Fn::Base64": _fn_base64,
    "Fn::GetAZs": _fn_get_azs,
    "Fn::ToJsonString": _fn_to_json_string,
    "Fn::Length": _fn_length,
    "Fn::ImportValue": _fn_import_value,
    "Condition": _fn_condition,
    "Fn::Equals": lambda ev, arg: ev._condition_value({"Fn::Equals": arg}),
    "Fn::Not": lambda ev, arg: ev._condition_value({"Fn::Not": arg}),
    "Fn::And": lambda ev, arg: ev._condition_value({"Fn::And": arg}),
    "Fn::Or": lambda ev, arg: ev._condition_value({"Fn::Or": arg}),
}


def references(value: Any, resources: Iterable[str]) -> set[str]:
    """The logical ids of resources an expression refers to (Ref, GetAtt, Sub), both If
    branches included, as CloudFormation orders creation."""
    names = set(resources)
    found: set[str] = set()

    def walk(v: Any) -> None:
        if isinstance(v, dict):
            for key, arg in v.items():
                if key == "Ref" and isinstance(arg, str) and arg in names:
                    found.add(arg)
                elif key == "Fn::GetAtt":
                    name = arg.split(".", 1)[0] if isinstance(arg, str) else arg[0]
                    if name in names:
                        found.add(name)
                elif key == "Fn::Sub":
                    text = arg[0] if isinstance(arg, list) else arg
                    local = set(arg[1]) if isinstance(arg, list) else set()
                    for expr in _SUB.findall(text):
                        head = expr.split(".", 1)[0]
                        if not expr.startswith("!") and head not in local and head in names:
                            found.add(head)
                    if isinstance(arg, list):
                        walk(arg[1])
                else:
                    walk(arg)
        elif isinstance(v, list):
            for item in v:
                walk(item)

    walk(value)
    return found


def dependencies(template: dict, include: Callable[[str], bool]) -> dict[str, set[str]]:
    """Each included resource -> the included resources it needs first (Ref, GetAtt, Sub,
    DependsOn)."""
    body = template.get("Resources") or {}
    wanted = [name for name in body if include(name)]
    deps: dict[str, set[str]] = {}
    for name in wanted:
        spec = body[name]
        d = references(spec.get("Properties", {}), body)
        depends = spec.get("DependsOn", [])
        d |= {depends} if isinstance(depends, str) else set(depends)
        deps[name] = {x for x in d if x in wanted and x != name}
    return deps


def dependency_order(template: dict, include: Callable[[str], bool]) -> list[str]:
    """Resources in an order that creates every dependency first (Ref, GetAtt, Sub, DependsOn)."""
    deps = dependencies(template, include)
    wanted = list(deps)
    ordered: list[str] = []
    done: set[str] = set()
    visiting: set[str] = set()

    def visit(name: str) -> None:
        if name in done:
            return
        if name in visiting:
            raise TemplateError(f"Circular dependency between resources: [{name}]")
        visiting.add(name)
        for dep in sorted(deps[name]):
            visit(dep)
        visiting.discard(name)
        done.add(name)
        ordered.append(name)

    for name in sorted(wanted):
        visit(name)
    return ordered


def parse_template(body: str | dict) -> dict:
    """A template body (JSON or YAML with short-form tags) as a dict."""
    if isinstance(body, dict):
        return body
    try:
        return json.loads(body)
    except json.JSONDecodeError:
        pass
    import yaml
    from moto.cloudformation.utils import yaml_tag_constructor

    yaml.add_multi_constructor("", yaml_tag_constructor)
    try:
        parsed = yaml.load(body, Loader=yaml.Loader)  # noqa: S506 - moto's short-form tags
    except yaml.YAMLError as exc:
        raise TemplateError(f"Template format error: {exc}") from None
    if not isinstance(parsed, dict):
        raise TemplateError("Template format error: JSON not well-formed.")
    return parsed
