"""Test helper: deploy the built environment the way a deployer does — nested templates
uploaded to an artifacts bucket, the root stack created/updated through a change set with
nested change sets — written here so these tests do not depend on the deployer."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

BUCKET = "mirror-infra-artifacts"
PREFIX = "templates/"
CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"]


def stack_name(env: str) -> str:
    return f"mirror-dissonance-{env}"


def upload(aws: Any, build_dir: Path) -> None:
    s3 = aws.client("s3")
    if BUCKET not in [b["Name"] for b in s3.list_buckets().get("Buckets", [])]:
        s3.create_bucket(Bucket=BUCKET)
    manifest = json.loads((build_dir / "manifest.json").read_text())
    for name in manifest["nested"].values():
        s3.put_object(Bucket=BUCKET, Key=PREFIX + name, Body=(build_dir / name).read_bytes())


def parameters(extra: dict[str, str] | None = None) -> list[dict[str, str]]:
    values = {"ArtifactsBucket": BUCKET, "ArtifactsPrefix": PREFIX, **(extra or {})}
    return [{"ParameterKey": k, "ParameterValue": v} for k, v in values.items()]


def change_set(
    aws: Any, build_dir: Path, env: str, kind: str, name: str = "cs1", extra=None
) -> dict:
    """Upload, create a change set (nested included) and wait for it; returns its description."""
    upload(aws, build_dir)
    cfn = aws.client("cloudformation")
    made = cfn.create_change_set(
        StackName=stack_name(env),
        ChangeSetName=name,
        ChangeSetType=kind,
        TemplateBody=(build_dir / "root.json").read_text(),
        Parameters=parameters(extra),
        Capabilities=CAPABILITIES,
        IncludeNestedStacks=True,
    )
    return cfn.describe_change_set(ChangeSetName=made["Id"], StackName=stack_name(env))


def execute(aws: Any, described: dict) -> dict:
    cfn = aws.client("cloudformation")
    cfn.execute_change_set(ChangeSetName=described["ChangeSetId"])
    return cfn.describe_stacks(StackName=described["StackId"])["Stacks"][0]


def deploy(aws: Any, build_dir: Path, env: str = "staging", extra=None) -> dict:
    """Create the environment; returns the root stack's description."""
    stack = execute(aws, change_set(aws, build_dir, env, "CREATE", extra=extra))
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack
    return stack


def nested_stacks(aws: Any, root: str) -> dict[str, str]:
    """Nested stack logical id -> its stack id."""
    cfn = aws.client("cloudformation")
    return {
        r["LogicalResourceId"]: r["PhysicalResourceId"]
        for r in cfn.describe_stack_resources(StackName=root)["StackResources"]
        if r["ResourceType"] == "AWS::CloudFormation::Stack"
    }


def variant(build_dir: Path, out: Path, edits: dict[str, Any]) -> Path:
    """A copy of a build where nested templates are edited (test data, never templates_src):
    each edited template gets a new content-addressed name and the root points at it."""
    shutil.copytree(build_dir, out)
    manifest = json.loads((out / "manifest.json").read_text())
    root = (out / "root.json").read_text()
    for logical_id, edit in edits.items():
        old = manifest["nested"][logical_id]
        template = json.loads((out / old).read_text())
        edit(template)
        body = json.dumps(template, indent=2, sort_keys=True) + "\n"
        new = f"{old.split('-')[0]}-{hashlib.sha256(body.encode()).hexdigest()[:16]}.json"
        (out / new).write_text(body)
        manifest["nested"][logical_id] = new
        root = root.replace(old, new)
    (out / "root.json").write_text(root)
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return out
