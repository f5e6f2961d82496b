"""The templates adoption deploys, all derived from the environment's build (docs/adopt.md):

- the *adoption build*: the build with every adopted stateful resource at `Retain`
  (params `data_safety.adopted`), what the environment converges to;
- per service, the *import template* that creates its standalone stack from the existing
  resources: its adoption template with exactly the resources to import, each with a
  `DeletionPolicy` as import requires, and nothing else (no outputs: an import adds none);
- the *placeholder root*: the root's parameters and one resource that holds nothing;
- the *nesting template*: the root as deployed plus each service's `AWS::CloudFormation::Stack`
  exactly as the adoption build defines it, at `DeletionPolicy: Retain`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mirror_infra.adopt.state import PLACEHOLDER, PLACEHOLDER_TYPE
from mirror_infra.adopt.survey import refs
from mirror_infra.build import BuildResult, build_from, dump
from mirror_infra.config import EnvConfig
from mirror_infra.errors import AdoptError

# what an imported resource keeps until the converge gives it the environment's policy
KEEP = {"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"}
# what a template keeps besides its resources and outputs
_FRAME = ("AWSTemplateFormatVersion", "Description", "Metadata", "Parameters", "Mappings")


def adoption_build(cfg: EnvConfig, adopted: set[str], into: Path) -> BuildResult:
    """The build with the stateful resources `adopted` (logical ids) kept at Retain."""
    safety = cfg.data_safety.model_copy(
        update={"adopted": sorted(adopted | set(cfg.data_safety.adopted))}
    )
    return build_from(cfg.model_copy(update={"data_safety": safety}), into)


def read(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _frame(template: dict) -> dict:
    return {k: json.loads(json.dumps(template[k])) for k in _FRAME if k in template}


def import_template(service: dict, logical_ids: list[str]) -> dict:
    """The service's adoption template with exactly `logical_ids` (each with a DeletionPolicy:
    Retain where the build has none), and no outputs."""
    resources = service["Resources"]
    body = _frame(service)
    if "Conditions" in service:
        body["Conditions"] = service["Conditions"]
    body["Resources"] = {}
    for logical_id in logical_ids:
        resource = json.loads(json.dumps(resources[logical_id]))
        missing = refs(resource) - set(logical_ids)
        missing -= set(service.get("Parameters", {})) | set(service.get("Conditions", {}))
        if missing:
            raise AdoptError(
                f"{logical_id} refers to {', '.join(sorted(missing))}, which does not exist yet "
                "and is not imported with it; create or import it first, then run 'adopt' again"
            )
        for attribute, value in KEEP.items():
            resource.setdefault(attribute, value)
        body["Resources"][logical_id] = resource
    return body


def placeholder_root(adoption: BuildResult, into: Path) -> BuildResult:
    """The root holding nothing: its parameters and the placeholder."""
    into.mkdir(parents=True, exist_ok=True)
    body = _frame(read(adoption.root))
    body["Resources"] = {PLACEHOLDER: {"Type": PLACEHOLDER_TYPE}}
    (into / "root.json").write_text(dump(body), encoding="utf-8")
    return BuildResult(adoption.env, into, into / "root.json", {}, skipped=False)


def nesting_template(deployed: dict, adoption: BuildResult, services: list[str]) -> dict:
    """The root as deployed, plus each of `services` as the adoption build defines it, at
    `DeletionPolicy: Retain` (resource-import-nested-stacks: "Add the AWS::CloudFormation::Stack
    resource to the parent stack template with a Retain DeletionPolicy")."""
    body: dict[str, Any] = json.loads(json.dumps(deployed))
    defined = read(adoption.root)["Resources"]
    for service in services:
        body["Resources"][service] = {**defined[service], **KEEP}
    return body
