"""GetTemplateSummary: what a template declares (parameters, capabilities, resource types) and,
for resource import, the properties that identify each type's resources
(ResourceIdentifierSummaries: "the properties you can provide during the import to identify
your target resources. For example, BucketName is a possible identifier property for
AWS::S3::Bucket resources",
https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_ResourceIdentifierSummary.html).

Corrects moto, whose summary has no ResourceIdentifierSummaries."""

from __future__ import annotations

import json
from typing import Any

from moto.cloudformation.exceptions import ValidationError
from moto.core.responses import ActionResult

from localaws.cfn import capabilities, import_rules, schema
from localaws.cfn.api.common import backend_of, find_stack, template_body
from localaws.cfn.intrinsics import parse_template


def get_template_summary(self: Any) -> ActionResult:
    stack_name = self._get_param("StackName")
    if stack_name:
        stack = find_stack(backend_of(self), stack_name)
        if stack.status == "REVIEW_IN_PROGRESS":
            raise ValidationError(
                message="GetTemplateSummary cannot be called on REVIEW_IN_PROGRESS stacks."
            )
        body = stack.template
    else:
        body = template_body(self)
    return ActionResult(summary(parse_template(body)))


def summary(template: dict) -> dict:
    resources = template.get("Resources") or {}
    types = list(dict.fromkeys(spec.get("Type", "") for spec in resources.values()))
    out: dict[str, Any] = {
        "Parameters": [
            _parameter(key, spec) for key, spec in (template.get("Parameters") or {}).items()
        ],
        "ResourceTypes": types,
        "ResourceIdentifierSummaries": _identifier_summaries(resources),
    }
    if template.get("AWSTemplateFormatVersion"):
        out["Version"] = template["AWSTemplateFormatVersion"]
    if template.get("Description"):
        out["Description"] = template["Description"]
    if template.get("Metadata"):
        out["Metadata"] = json.dumps(template["Metadata"])
    transforms = template.get("Transform")
    if transforms:
        out["DeclaredTransforms"] = transforms if isinstance(transforms, list) else [transforms]
    needed = capabilities.required(template)
    if needed:
        iam = sorted({t for t in types if t.startswith("AWS::IAM::")})
        out["Capabilities"] = [needed]
        out["CapabilitiesReason"] = (
            f"The following resource(s) require capabilities: [{', '.join(iam)}]"
        )
    return out


def _parameter(key: str, spec: dict) -> dict:
    out: dict[str, Any] = {
        "ParameterKey": key,
        "ParameterType": spec.get("Type", "String"),
        "NoEcho": str(spec.get("NoEcho", "false")).lower() == "true",
        "ParameterConstraints": {},
    }
    if "Default" in spec:
        out["DefaultValue"] = str(spec["Default"])
    if spec.get("Description"):
        out["Description"] = spec["Description"]
    if spec.get("AllowedValues"):
        out["ParameterConstraints"]["AllowedValues"] = [str(v) for v in spec["AllowedValues"]]
    return out


def _identifier_summaries(resources: dict) -> list[dict]:
    """One summary per type that can be imported (its schema has a read handler), with the
    logical ids of that type and its primary identifier's properties."""
    by_type: dict[str, list[str]] = {}
    for logical_id, spec in resources.items():
        by_type.setdefault(spec.get("Type", ""), []).append(logical_id)
    out = []
    for type_name, logical_ids in by_type.items():
        handlers = schema.resource_schema(type_name).get("handlers") or {}
        identifiers = import_rules.identifier_properties(type_name)
        if "read" in handlers and identifiers:
            out.append(
                {
                    "ResourceType": type_name,
                    "LogicalResourceIds": logical_ids,
                    "ResourceIdentifiers": identifiers,
                }
            )
    return out
