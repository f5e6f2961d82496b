"""Pre-deployment validation of a change set, as CloudFormation runs it at CreateChangeSet
(https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/validate-stack-deployments.html):

- property syntax against the resource schemas (required properties, types, properties the
  schema does not allow) — FAIL mode: the change set cannot be executed;
- resource names that conflict with resources that already exist — FAIL mode;
- S3 buckets to be deleted that still hold objects — WARN mode: the change set is created.

Results are the change set's operation events (DescribeEvents, EventType VALIDATION_ERROR) with
ValidationName, ValidationStatus, ValidationFailureMode, ValidationPath and
ValidationStatusReason. AWS's API model gives ValidationName no values; the page's example
output of a property syntax failure shows `PROPERTY_VALIDATION`, transcribed below. The page
names no value for the other two checks, so theirs are the local AWS's own (to be read on an
account). Everything is read from the provider schemas the engine already loads: no hand-kept
property lists.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

from localaws.cfn import schema
from localaws.providers.base import NotFound, utcnow

PROPERTY_SYNTAX = "PROPERTY_VALIDATION"  # the page's example output
NAME_CONFLICT = "ResourceNameConflictValidation"  # the local AWS's own
BUCKET_EMPTINESS = "S3BucketEmptinessValidation"  # the local AWS's own


@dataclass(frozen=True)
class Finding:
    name: str
    mode: str  # FAIL | WARN
    logical_id: str
    resource_type: str
    path: str  # a JSON pointer into the template
    reason: str

    def event(self, stack: Any, operation_id: str) -> dict:
        return {
            "EventId": str(uuid.uuid4()),
            "StackId": stack.stack_id,
            "OperationId": operation_id,
            "OperationType": "CREATE_CHANGESET",
            "OperationStatus": "FAILED" if self.mode == "FAIL" else "SUCCEEDED",
            "EventType": "VALIDATION_ERROR",
            "LogicalResourceId": self.logical_id,
            "ResourceType": self.resource_type,
            "Timestamp": utcnow(),
            "ValidationFailureMode": self.mode,
            "ValidationName": self.name,
            "ValidationStatus": "FAILED",
            "ValidationStatusReason": self.reason,
            "ValidationPath": self.path,
        }


# property syntax ----------
def property_findings(logical_id: str, type_name: str, props: dict, unknown: set[str]) -> list:
    """Schema errors in one resource's properties; `unknown` ones (not resolvable before
    execution) are not checked."""
    found: list[Finding] = []
    spec = schema.resource_schema(type_name)
    if not spec:
        return found
    base = f"/Resources/{logical_id}/Properties"

    def fail(path: str, reason: str) -> None:
        found.append(Finding(PROPERTY_SYNTAX, "FAIL", logical_id, type_name, path, reason))

    _check_object(props, spec, spec.get("definitions") or {}, base, fail, unknown)
    return found


def _resolve_ref(spec: dict, definitions: dict) -> dict:
    ref = spec.get("$ref", "")
    if ref.startswith("#/definitions/"):
        return definitions.get(ref.split("/")[-1], {})
    return spec


def _check_object(
    value: dict, spec: dict, definitions: dict, path: str, fail: Any, skip: set[str]
) -> None:
    properties = spec.get("properties") or {}
    for required in spec.get("required") or []:
        if required not in value and required not in skip:
            fail(path, f"#: required key [{required}] not found")
    for key, item in value.items():
        if key in skip:
            continue
        if key in properties:
            _check_value(item, properties[key], definitions, f"{path}/{key}", fail)
            continue
        patterns = [
            sub
            for pattern, sub in (spec.get("patternProperties") or {}).items()
            if re.search(pattern, key)
        ]
        extra = spec.get("additionalProperties")
        if patterns:
            _check_value(item, patterns[0], definitions, f"{path}/{key}", fail)
        elif extra is False:
            fail(f"{path}/{key}", f"#: extraneous key [{key}] is not permitted")
        elif isinstance(extra, dict):
            _check_value(item, extra, definitions, f"{path}/{key}", fail)


_JSON_TYPE = {
    "string": "String",
    "integer": "Integer",
    "number": "Number",
    "boolean": "Boolean",
    "array": "JSONArray",
    "object": "JSONObject",
}


def _type_of(value: Any) -> str:
    if isinstance(value, bool):
        return "Boolean"
    if isinstance(value, int | float):
        return "Number"
    if isinstance(value, list):
        return "JSONArray"
    if isinstance(value, dict):
        return "JSONObject"
    return "String"


def _matches(value: Any, kind: str) -> bool:
    # CloudFormation passes template scalars as strings and converts them: "5" is an integer,
    # "true" a boolean, 5 a string
    scalar = not isinstance(value, dict | list)
    if kind == "string":
        return scalar
    if kind in ("integer", "number"):
        if isinstance(value, bool) or not scalar:
            return False
        try:
            number = float(value)
        except (TypeError, ValueError):
            return False
        return kind == "number" or number.is_integer()
    if kind == "boolean":
        return isinstance(value, bool) or str(value).lower() in ("true", "false")
    if kind == "array":
        return isinstance(value, list)
    if kind == "object":
        return isinstance(value, dict)
    return True


def _check_value(value: Any, spec: dict, definitions: dict, path: str, fail: Any) -> None:
    spec = _resolve_ref(spec, definitions)
    kinds = spec.get("type")
    if kinds is None:
        if "properties" in spec and isinstance(value, dict):
            _check_object(value, spec, definitions, path, fail, set())
        return
    kinds = kinds if isinstance(kinds, list) else [kinds]
    if not any(_matches(value, k) for k in kinds):
        wanted = "/".join(_JSON_TYPE.get(k, k) for k in kinds)
        fail(path, f"#: expected type: {wanted}, found: {_type_of(value)}")
        return
    if isinstance(value, list) and "items" in spec:
        for i, item in enumerate(value):
            _check_value(item, spec["items"], definitions, f"{path}/{i}", fail)
    elif isinstance(value, dict) and "object" in kinds:
        _check_object(value, spec, definitions, path, fail, set())


# the account ----------
def name_conflict(ctx: Any, provider: Any, type_name: str, name_property: str, props: dict):
    """A Finding when a resource named as `props` names it already exists."""
    name = props.get(name_property)
    if not name or provider is None:
        return None
    try:
        provider.read(ctx, str(name), props)
    except NotFound:
        return None
    except Exception:  # noqa: BLE001 - cannot tell: AWS's check is best-effort too
        return None
    return Finding(
        NAME_CONFLICT,
        "FAIL",
        ctx.logical_id,
        type_name,
        f"/Resources/{ctx.logical_id}/Properties/{name_property}",
        f"Resource of type '{type_name}' with identifier '{name}' already exists.",
    )


def bucket_not_empty(ctx: Any, logical_id: str, bucket: str):
    """A WARN Finding when a bucket to be deleted still holds objects."""
    try:
        listed = ctx.client("s3").list_object_versions(Bucket=bucket, MaxKeys=1)
    except Exception:  # noqa: BLE001 - gone or unreadable: nothing to warn about
        return None
    if not (listed.get("Versions") or listed.get("DeleteMarkers")):
        return None
    return Finding(
        BUCKET_EMPTINESS,
        "WARN",
        logical_id,
        "AWS::S3::Bucket",
        f"/Resources/{logical_id}",
        f"Bucket {bucket} is not empty; deleting it will fail unless it is emptied first.",
    )
