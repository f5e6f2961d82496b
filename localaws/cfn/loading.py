"""Template loading: the parsed template and typed parameters a stack operation works on, or a
ValidationError before anything changes (unknown types, bad policies, features the local AWS
does not model)."""

from __future__ import annotations

from typing import Any

from moto.cloudformation.models import Stack

from localaws.cfn.intrinsics import TemplateError, parse_template, resolve_parameters
from localaws.cfn.registry import provider_for

NESTED_STACK = "AWS::CloudFormation::Stack"
# aws-attribute-deletionpolicy.html / aws-attribute-updatereplacepolicy.html
_POLICIES = {
    "DeletionPolicy": ("Delete", "Retain", "RetainExceptOnCreate", "Snapshot"),
    "UpdateReplacePolicy": ("Delete", "Retain", "Snapshot"),
}


def supported(type_name: str) -> bool:
    return provider_for(type_name) is not None


def load(stack: Stack, body: str | dict, given: dict[str, str]) -> tuple[dict, dict, set]:
    """The parsed template and typed parameters, or a ValidationError (nothing changes)."""
    template = parse_template(body)
    if not isinstance(template.get("Resources"), dict) or not template["Resources"]:
        raise TemplateError("Template format error: At least one Resources member must be defined.")
    for name, spec in template["Resources"].items():
        if not supported(spec.get("Type", "")):
            raise TemplateError(
                f"Template format error: Unrecognized resource types: [{spec.get('Type')}]"
            )
        if spec.get("Condition") and spec["Condition"] not in (template.get("Conditions") or {}):
            raise TemplateError(f"Template format error: Unresolved condition in {name}")
        for attribute, allowed in _POLICIES.items():
            if attribute in spec and spec[attribute] not in allowed:
                raise TemplateError(
                    f"Template format error: Unrecognized {attribute} {spec[attribute]} for "
                    f"resource {name}; expected one of {', '.join(allowed)}"
                )
    refuse_unsupported(template)
    params, no_echo = resolve_parameters(template, given)
    return template, params, no_echo


# features this environment does not use: refused, never answered wrongly (issue 11)
UNSUPPORTED_FUNCTIONS = ("Fn::ImportValue", "Fn::Cidr", "Fn::GetAZs")


def refuse_unsupported(template: dict) -> None:
    """A ValidationError naming the first feature the local AWS does not model."""

    def refuse(what: str) -> None:
        raise TemplateError(
            f"{what} is not supported by the local AWS; deploy this template to AWS instead"
        )

    for name, spec in (template.get("Parameters") or {}).items():
        if str(spec.get("Type", "")).startswith("AWS::SSM::Parameter::"):
            refuse(f"SSM parameter type {spec['Type']} (parameter {name})")
    for name, spec in (template.get("Outputs") or {}).items():
        if "Export" in spec:
            refuse(f"Export (output {name})")

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in UNSUPPORTED_FUNCTIONS:
                    refuse(key)
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk({k: template.get(k) for k in ("Resources", "Outputs", "Conditions")})
