"""The templates adoption deploys, all derived from the environment's build:

- the *adoption build*: the build with every adopted stateful resource at `Retain`
  (params `data_safety.adopted`), what the environment converges to;
- the *skeleton*: the adoption build without what exists (and without what refers to it), so
  that the root and its nested stacks can be created around the existing resources. Where a
  nested stack passes another the value of a resource still to import (the key's ARN), the
  skeleton's root passes that value itself, read from the survey;
- per nested stack, the *import template*: its skeleton plus exactly the resources to import,
  each with a `DeletionPolicy` as import requires.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from mirror_infra.adopt.survey import Action, Survey, refs
from mirror_infra.build import BuildResult, build_from, dump, write_nested
from mirror_infra.config import EnvConfig
from mirror_infra.errors import AdoptError

# a nested template needs at least one resource; this one does nothing and holds nothing
PLACEHOLDER = "AdoptionPlaceholder"
PLACEHOLDER_TYPE = "AWS::CloudFormation::WaitConditionHandle"


def adoption_build(cfg: EnvConfig, adopted: set[str], into: Path) -> BuildResult:
    """The build with the stateful resources `adopted` (logical ids) kept at Retain."""
    safety = cfg.data_safety.model_copy(
        update={"adopted": sorted(adopted | set(cfg.data_safety.adopted))}
    )
    return build_from(cfg.model_copy(update={"data_safety": safety}), into)


def _read(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _output_value(value: Any, stack: str, survey: Survey) -> str | None:
    """What a nested output gives when it names a resource to import: its Ref or ARN."""
    rows = survey.by_path()
    if isinstance(value, dict) and "Ref" in value:
        row = rows.get(f"{stack}.{value['Ref']}")
        return row.physical_id if row and row.action is Action.IMPORT else None
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        logical_id, attribute = value["Fn::GetAtt"]
        row = rows.get(f"{stack}.{logical_id}")
        if row and row.action is Action.IMPORT and attribute == "Arn" and row.arn:
            return row.arn
    return None


def _nested_output(value: Any) -> tuple[str, str] | None:
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        stack, attribute = value["Fn::GetAtt"]
        if attribute.startswith("Outputs."):
            return stack, attribute.removeprefix("Outputs.")
    return None


def skeleton(adoption: BuildResult, survey: Survey, into: Path) -> BuildResult:
    into.mkdir(parents=True, exist_ok=True)
    rows = survey.by_path()
    dropped_outputs: dict[tuple[str, str], str | None] = {}
    nested: dict[str, Path] = {}
    root_text = adoption.root.read_text(encoding="utf-8")
    for stack, path in adoption.nested.items():
        template = _read(path)
        resources = template["Resources"]
        keep = {lid for lid in resources if rows[f"{stack}.{lid}"].action is Action.CREATE}
        changed = True
        while changed:  # what refers to a resource not kept cannot be created yet
            changed = False
            for lid in sorted(keep):
                if refs(resources[lid]) & (set(resources) - keep):
                    keep.discard(lid)
                    changed = True
        gone = set(resources) - keep
        template["Resources"] = {lid: r for lid, r in resources.items() if lid in keep} or {
            PLACEHOLDER: {"Type": PLACEHOLDER_TYPE}
        }
        outputs = template.pop("Outputs", {})
        kept = {k: v for k, v in outputs.items() if not refs(v["Value"]) & gone}
        for name, output in outputs.items():
            if name not in kept:
                dropped_outputs[(stack, name)] = _output_value(output["Value"], stack, survey)
        if kept:
            template["Outputs"] = kept
        nested[stack] = write_nested(into, stack, template)
        root_text = root_text.replace(path.name, nested[stack].name)
    root = json.loads(root_text)
    for logical_id, resource in root["Resources"].items():
        parameters = resource.get("Properties", {}).get("Parameters", {})
        for name, value in parameters.items():
            source = _nested_output(value)
            if source is None or source not in dropped_outputs:
                continue
            literal = dropped_outputs[source]
            if literal is None:
                raise AdoptError(
                    f"{logical_id} needs {source[0]}'s output {source[1]}, which names a resource "
                    "still to import and cannot be read from it"
                )
            parameters[name] = literal
    root["Outputs"] = {
        k: v
        for k, v in root.get("Outputs", {}).items()
        if _nested_output(v["Value"]) not in dropped_outputs
    }
    (into / "root.json").write_text(dump(root), encoding="utf-8")
    return BuildResult(adoption.env, into, into / "root.json", nested, skipped=False)


_NESTED_FILE = re.compile(r"(\$\{ArtifactsPrefix\})[^$]+$")


def recorded(env: str, root: dict, nested: dict[str, dict], into: Path) -> BuildResult:
    """The root's deployed template pointing at each nested stack's deployed template (written
    under `into`, content-addressed): what the root must record once imports changed nested
    stacks directly, so that a rollback of a later update returns them to what they hold."""
    into.mkdir(parents=True, exist_ok=True)
    root = json.loads(json.dumps(root))
    paths: dict[str, Path] = {}
    for logical_id, template in nested.items():
        paths[logical_id] = write_nested(into, logical_id, template)
        url = root["Resources"][logical_id]["Properties"]["TemplateURL"]
        name = paths[logical_id].name
        url["Fn::Sub"] = _NESTED_FILE.sub(lambda m, n=name: m.group(1) + n, url["Fn::Sub"])
    (into / "root.json").write_text(dump(root), encoding="utf-8")
    return BuildResult(env, into, into / "root.json", paths, skipped=False)


def import_template(deployed: dict, adoption_path: Path, logical_ids: list[str]) -> dict:
    """The nested stack's deployed template plus exactly `logical_ids`, as the adoption build
    has them, each with a DeletionPolicy (import requires one; Retain where the build has
    none)."""
    template = json.loads(json.dumps(deployed))
    adoption = _read(adoption_path)["Resources"]
    for logical_id in logical_ids:
        resource = dict(adoption[logical_id])
        missing = refs(resource) - set(template["Resources"]) - set(logical_ids)
        missing -= set(template.get("Parameters", {})) | set(template.get("Conditions", {}))
        if missing:
            raise AdoptError(
                f"{logical_id} refers to {', '.join(sorted(missing))}, which is neither there "
                "nor imported with it"
            )
        resource.setdefault("DeletionPolicy", "Retain")
        resource.setdefault("UpdateReplacePolicy", "Retain")
        template["Resources"][logical_id] = resource
    return template
