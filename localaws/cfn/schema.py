"""What CloudFormation's resource schemas say about each type's properties: which ones force
a replacement (`createOnlyProperties`), which are never read back (`writeOnlyProperties`) and
which lists are unordered (`insertionOrder: false`). Read from the schemas cfn-lint ships, the
same provider schemas CloudFormation publishes, so nothing here is a hand-kept list."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path


@cache
def _provider_index(region: str) -> dict[str, str]:
    import cfnlint.data.schemas as schemas

    base = Path(schemas.__file__).parent / "providers"
    path = base / f"{region}.json"
    if not path.exists():
        path = base / "us-east-1.json"
    return json.loads(path.read_text())


@cache
def resource_schema(type_name: str, region: str = "us-east-1") -> dict:
    import cfnlint.data.schemas as schemas

    digest = _provider_index(region).get(type_name)
    if digest is None:
        return {}
    path = Path(schemas.__file__).parent / "resources" / f"{digest}.json"
    return json.loads(path.read_text())


def _top_level(pointers: list[str]) -> frozenset[str]:
    return frozenset(p.split("/")[2] for p in pointers if p.startswith("/properties/"))


@cache
def create_only(type_name: str) -> frozenset[str]:
    """Top-level properties whose change requires replacement."""
    return _top_level(resource_schema(type_name).get("createOnlyProperties", []))


@cache
def write_only(type_name: str) -> frozenset[str]:
    """Top-level properties AWS never reads back (not compared by drift detection)."""
    pointers = [
        p for p in resource_schema(type_name).get("writeOnlyProperties", []) if p.count("/") == 2
    ]
    return _top_level(pointers)


@cache
def unordered_lists(type_name: str) -> frozenset[str]:
    """Top-level array properties whose order does not matter (compared as sets)."""
    props = resource_schema(type_name).get("properties", {})
    out = set()
    for name, spec in props.items():
        if spec.get("type") == "array" and (
            spec.get("insertionOrder") is False or spec.get("uniqueItems") is True
        ):
            out.add(name)
    if "Tags" in props:
        out.add("Tags")
    return frozenset(out)
