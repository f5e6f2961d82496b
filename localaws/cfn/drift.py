"""Drift detection: DetectStackDrift, DescribeStackDriftDetectionStatus,
DescribeStackResourceDrifts and DetectStackResourceDrift.

Corrects moto, which does not implement drift detection at all (HTTP 500, SPEC §4). Each
resource's live properties are read through its provider and compared with what the template
declared, with AWS's response shapes: ExpectedProperties/ActualProperties as JSON text,
PropertyDifferences with JSON-pointer PropertyPath and DifferenceType ADD/REMOVE/NOT_EQUAL.
Like AWS, a stack's drift check does not recurse into nested stacks (their
AWS::CloudFormation::Stack resources are NOT_CHECKED), and write-only properties are not
compared. Unordered lists (Tags, and those the schema marks `insertionOrder: false`) are
compared as sets.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from localaws import pacing
from localaws.cfn import schema
from localaws.cfn.registry import provider_for
from localaws.cfn.stacks import ctx
from localaws.cfn.state import Resource
from localaws.providers.base import NotFound, utcnow


def detect_stack(stack: Any) -> dict:
    """Start checking every resource of the stack; returns the detection record, which says
    DETECTION_IN_PROGRESS until the check ends (at once in instant mode)."""
    detection = {
        "StackId": stack.stack_id,
        "StackDriftDetectionId": str(uuid.uuid4()),
        "DetectionStatus": "DETECTION_IN_PROGRESS",
        "Timestamp": utcnow(),
    }
    detections(stack.backend)[detection["StackDriftDetectionId"]] = detection

    def check() -> None:
        resources = list(stack.local.resources.values())
        pacing.sleep(pacing.DRIFT_PER_RESOURCE * pacing.current().pace * len(resources))
        drifted = 0
        for rec in resources:
            result = detect_resource(stack, rec)
            if result["StackResourceDriftStatus"] in ("MODIFIED", "DELETED"):
                drifted += 1
        now = utcnow()
        stack.local.drift_status = "DRIFTED" if drifted else "IN_SYNC"
        stack.local.drift_checked = now
        detection.update(
            StackDriftStatus=stack.local.drift_status,
            DetectionStatus="DETECTION_COMPLETE",
            DriftedStackResourceCount=drifted,
            Timestamp=now,
        )

    pacing.run(check)
    return detection


def detections(backend: Any) -> dict[str, dict]:
    if not hasattr(backend, "drift_detections"):
        backend.drift_detections = {}
    return backend.drift_detections


def detect_resource(stack: Any, rec: Resource) -> dict:
    """Check one resource; stores and returns its StackResourceDrift."""
    base = {
        "StackId": stack.stack_id,
        "LogicalResourceId": rec.logical_resource_id,
        "PhysicalResourceId": rec.physical_resource_id,
        "ResourceType": rec.cf_resource_type,
        "Timestamp": utcnow(),
    }
    provider = provider_for(rec.cf_resource_type)
    if provider is None or not provider.drift_supported:
        rec.drift = {**base, "StackResourceDriftStatus": "NOT_CHECKED"}
        return rec.drift
    expected = {
        k: v for k, v in rec.properties.items() if k not in schema.write_only(rec.cf_resource_type)
    }
    try:
        live = provider.read(
            ctx(stack, rec.logical_resource_id), rec.physical_resource_id, rec.properties
        )
    except NotFound:
        rec.drift = {
            **base,
            "ExpectedProperties": json.dumps(expected, sort_keys=True),
            "PropertyDifferences": [],
            "StackResourceDriftStatus": "DELETED",
        }
        return rec.drift
    unordered = schema.unordered_lists(rec.cf_resource_type)
    actual = project(expected, live, unordered)
    differences = compare(expected, live, unordered)
    rec.drift = {
        **base,
        "ExpectedProperties": json.dumps(expected, sort_keys=True),
        "ActualProperties": json.dumps(actual, sort_keys=True),
        "PropertyDifferences": differences,
        "StackResourceDriftStatus": "MODIFIED" if differences else "IN_SYNC",
    }
    return rec.drift


# comparison ----------
def _scalar_equal(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return str(a).lower() == str(b).lower()
    try:
        return float(a) == float(b)
    except (TypeError, ValueError):
        return str(a) == str(b)


def as_text(value: Any) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return all(k in b and _equal(v, b[k]) for k, v in a.items())
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict | list) or isinstance(b, dict | list):
        return False
    return _scalar_equal(a, b)


def compare(expected: dict, actual: dict, unordered: frozenset[str] = frozenset()) -> list[dict]:
    """AWS-style PropertyDifferences between the template's properties and the live ones."""
    out: list[dict] = []
    for key, value in expected.items():
        _diff(value, actual.get(key, _MISSING), f"/{key}", out, key in unordered or key == "Tags")
    return out


_MISSING = object()


def _diff(exp: Any, act: Any, path: str, out: list[dict], unordered: bool = False) -> None:
    if act is _MISSING or act is None:
        out.append(_difference(path, exp, None, "REMOVE"))
        return
    if isinstance(exp, dict) and isinstance(act, dict):
        for key, value in exp.items():
            _diff(value, act.get(key, _MISSING), f"{path}/{key}", out)
        return
    if isinstance(exp, list) and isinstance(act, list):
        if unordered:
            _diff_set(exp, act, path, out)
            return
        for i, item in enumerate(exp):
            if i < len(act):
                _diff(item, act[i], f"{path}/{i}", out)
            else:
                out.append(_difference(f"{path}/{i}", item, None, "REMOVE"))
        for i in range(len(exp), len(act)):
            out.append(_difference(f"{path}/{i}", None, act[i], "ADD"))
        return
    if isinstance(exp, dict | list) or isinstance(act, dict | list) or not _scalar_equal(exp, act):
        out.append(_difference(path, exp, act, "NOT_EQUAL"))


def _diff_set(exp: list, act: list, path: str, out: list[dict]) -> None:
    keyed = all(isinstance(x, dict) and "Key" in x for x in exp + act)
    if keyed:  # tags: paired by key, so a changed value is NOT_EQUAL on that tag's Value
        live = {t["Key"]: (i, t) for i, t in enumerate(act)}
        for i, tag in enumerate(exp):
            if tag["Key"] not in live:
                out.append(_difference(f"{path}/{i}", tag, None, "REMOVE"))
            elif not _scalar_equal(tag.get("Value"), live[tag["Key"]][1].get("Value")):
                out.append(
                    _difference(
                        f"{path}/{i}/Value",
                        tag.get("Value"),
                        live[tag["Key"]][1].get("Value"),
                        "NOT_EQUAL",
                    )
                )
        wanted = {t["Key"] for t in exp}
        for i, tag in enumerate(act):
            if tag["Key"] not in wanted:
                out.append(_difference(f"{path}/{i}", None, tag, "ADD"))
        return
    unmatched = list(act)
    for i, item in enumerate(exp):
        match = next((a for a in unmatched if _equal(item, a)), _MISSING)
        if match is _MISSING:
            out.append(_difference(f"{path}/{i}", item, None, "REMOVE"))
        else:
            unmatched.remove(match)
    for item in unmatched:
        out.append(_difference(f"{path}/{act.index(item)}", None, item, "ADD"))


def _difference(path: str, expected: Any, actual: Any, kind: str) -> dict:
    out = {"PropertyPath": path, "DifferenceType": kind}
    out["ExpectedValue"] = as_text(expected) if expected is not None else ""
    out["ActualValue"] = as_text(actual) if actual is not None else ""
    return out


def project(expected: Any, actual: Any, unordered: frozenset[str], top: bool = True) -> Any:
    """The live value trimmed to the keys the template declares (what AWS shows as Actual)."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        return {
            k: project(v, actual[k], unordered, False)
            for k, v in expected.items()
            if k in actual and actual[k] is not None
        }
    if isinstance(expected, list) and isinstance(actual, list):
        if expected and all(isinstance(e, dict) for e in expected):
            template = expected[0]
            return [
                project(template, a, unordered, False) if isinstance(a, dict) else a for a in actual
            ]
        return actual
    return actual
