"""`adopt`'s first step, read-only: which resources of the built templates already exist, and
whether each can be imported as it is.

Every resource is found by the name the template gives it (the KMS key through its alias, the
bucket by the params' `baselines_bucket` when set). A resource that exists but differs in what
cannot change in place (a table's keys, attribute types or index keys; a bucket in another
region; a key pending deletion), or that another stack already manages, is a conflict: the
whole adoption stops before anything changes.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from mirror_infra.aws.inventory import Existing, Inventory, TableShape
from mirror_infra.build import BuildResult

# the property that names a resource, by type; types not here have no name to look for
NAME_PROPERTY = {
    "AWS::DynamoDB::Table": "TableName",
    "AWS::KMS::Alias": "AliasName",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::CloudWatch::Alarm": "AlarmName",
    "AWS::CloudWatch::Dashboard": "DashboardName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::S3::Bucket": "BucketName",
    "AWS::IAM::Role": "RoleName",
}
KEY = "AWS::KMS::Key"
ALIAS = "AWS::KMS::Alias"
BUCKET = "AWS::S3::Bucket"
BUCKET_POLICY = "AWS::S3::BucketPolicy"
TABLE = "AWS::DynamoDB::Table"
# resources that hold data: adopted ones keep Retain (the tool did not create their data)
STATEFUL = frozenset({TABLE, KEY, BUCKET, "AWS::Logs::LogGroup"})
# account-wide names that carry the region (SPEC §2) where the seed's Terraform did not: a
# resource under the name without it is the old environment's, left in place and said so
REGIONAL_NAMES = {"AWS::CloudWatch::Dashboard": "dashboard", "AWS::IAM::Role": "role"}


class Action(StrEnum):
    IMPORT = "imported"
    CREATE = "created"
    CONFLICT = "conflict"
    MANAGED = "in the stack"  # imported by an earlier adopt that did not finish


@dataclass
class Row:
    stack: str  # the nested stack's logical id
    logical_id: str
    type: str
    action: Action
    physical_id: str = ""
    identifier: dict[str, str] = field(default_factory=dict)
    arn: str = ""
    why: str = ""  # a conflict's differences, or a note

    @property
    def path(self) -> str:
        return f"{self.stack}.{self.logical_id}"

    @property
    def stateful(self) -> bool:
        return self.type in STATEFUL


@dataclass
class Survey:
    rows: list[Row]
    # resources of the old environment under a name the templates no longer use: not adopted,
    # not changed, listed so that someone removes them once nothing uses them
    left: list[str] = field(default_factory=list)

    @property
    def conflicts(self) -> list[Row]:
        return [r for r in self.rows if r.action is Action.CONFLICT]

    @property
    def imported(self) -> list[Row]:
        return [r for r in self.rows if r.action is Action.IMPORT]

    @property
    def adopted(self) -> list[Row]:
        """What the environment's stacks hold or will hold without having created it."""
        return [r for r in self.rows if r.action in (Action.IMPORT, Action.MANAGED)]

    def by_path(self) -> dict[str, Row]:
        return {r.path: r for r in self.rows}

    def to_json(self) -> list[dict]:
        return [
            {**r.__dict__, "action": r.action.value, "path": r.path, "identifier": r.identifier}
            for r in self.rows
        ]


_SUB_VARIABLE = re.compile(r"\$\{([^}!]+)\}")
_SUB_NAME = re.compile(r"\$\{([A-Za-z0-9]+)(?:\.[A-Za-z0-9.]+)?\}")


def refs(value: Any) -> set[str]:
    """Every logical id `value` refers to (Ref, GetAtt, Sub, DependsOn)."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Ref" and isinstance(inner, str) and not inner.startswith("AWS::"):
                found.add(inner)
            elif key == "Fn::GetAtt" and isinstance(inner, list) and inner:
                found.add(inner[0])
            elif key == "Fn::Sub":
                text = inner if isinstance(inner, str) else inner[0]
                local = set(inner[1]) if isinstance(inner, list) and len(inner) > 1 else set()
                found |= set(_SUB_NAME.findall(text)) - local
                found |= refs(inner[1]) if isinstance(inner, list) and len(inner) > 1 else set()
            elif key == "DependsOn":
                found |= {inner} if isinstance(inner, str) else set(inner)
            else:
                found |= refs(inner)
    elif isinstance(value, list):
        for inner in value:
            found |= refs(inner)
    return found


def resolve_name(value: Any, pseudo: dict[str, str]) -> str | None:
    """A name written as a literal or an `Fn::Sub` of pseudo parameters; None otherwise."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and set(value) == {"Fn::Sub"} and isinstance(value["Fn::Sub"], str):
        text = value["Fn::Sub"]
        names = set(_SUB_VARIABLE.findall(text))
        if not names <= set(pseudo):
            return None
        return _SUB_VARIABLE.sub(lambda m: pseudo[m.group(1)], text)
    return None


def _template_shape(props: dict) -> TableShape:
    keys = tuple((k["AttributeName"], k["KeyType"]) for k in props["KeySchema"])
    indexes = tuple(
        sorted(
            (i["IndexName"], tuple((k["AttributeName"], k["KeyType"]) for k in i["KeySchema"]))
            for i in props.get("GlobalSecondaryIndexes", [])
        )
    )
    used = {a for a, _ in keys} | {a for _, ks in indexes for a, _ in ks}
    types = tuple(
        sorted(
            (a["AttributeName"], a["AttributeType"])
            for a in props.get("AttributeDefinitions", [])
            if a["AttributeName"] in used
        )
    )
    return TableShape(keys, types, indexes)


def _shape_differences(want: TableShape, have: TableShape) -> list[str]:
    def show(pairs) -> str:
        return ", ".join(f"{a} {b}" for a, b in pairs) or "none"

    found = []
    if want.keys != have.keys:
        found.append(f"key schema is {show(have.keys)}, the template's {show(want.keys)}")
    if want.types != have.types:
        found.append(
            f"key attribute types are {show(have.types)}, the template's {show(want.types)}"
        )
    if want.indexes != have.indexes:
        found.append(
            "global secondary indexes are "
            + ("; ".join(f"{n} ({show(k)})" for n, k in have.indexes) or "none")
            + ", the template's "
            + ("; ".join(f"{n} ({show(k)})" for n, k in want.indexes) or "none")
        )
    return found


class Surveyor:
    def __init__(self, inventory: Inventory, region: str, root_stack: str) -> None:
        self.inventory = inventory
        self.region = region
        self.root_stack = root_stack
        self._alias_targets: dict[str, str] = {}  # alias path -> the key id it points at
        self._bucket_policies: set[str] = set()  # existing buckets that have a policy
        self._left: list[str] = []  # Survey.left
        self.pseudo = {
            "AWS::Region": region,
            "AWS::AccountId": inventory.account,
            "AWS::Partition": inventory.partition,
            "AWS::URLSuffix": inventory.url_suffix,
        }

    def survey(self, built: BuildResult) -> Survey:
        rows: list[Row] = []
        self._left = []
        for stack, path in built.nested.items():
            template = json.loads(path.read_text(encoding="utf-8"))
            resources = template.get("Resources", {})
            found: dict[str, Row] = {}
            for logical_id, resource in resources.items():
                if resource["Type"] in NAME_PROPERTY:
                    found[logical_id] = self._named(stack, logical_id, resource)
            for logical_id, resource in resources.items():
                if logical_id not in found:
                    found[logical_id] = self._unnamed(stack, logical_id, resource, resources, found)
            for row in found.values():
                self._check_owner(row)
            rows += [found[logical_id] for logical_id in resources]
        return Survey(rows, self._left)

    def _named(self, stack: str, logical_id: str, resource: dict) -> Row:
        kind = resource["Type"]
        props = resource.get("Properties", {})
        row = Row(stack, logical_id, kind, Action.CREATE)
        name = resolve_name(props.get(NAME_PROPERTY[kind]), self.pseudo)
        if name is None:
            row.why = "no fixed name to look for"
            return row
        finder = {
            TABLE: self.inventory.table,
            ALIAS: self.inventory.alias,
            "AWS::Logs::LogGroup": self.inventory.log_group,
            "AWS::CloudWatch::Alarm": self.inventory.alarm,
            "AWS::CloudWatch::Dashboard": self.inventory.dashboard,
            "AWS::SNS::Topic": self.inventory.topic,
            BUCKET: self.inventory.bucket,
            "AWS::IAM::Role": self.inventory.role,
        }[kind]
        existing = finder(name)
        row.physical_id = name
        if kind in REGIONAL_NAMES and name.endswith(f"-{self.region}"):
            self._old_name(kind, name, finder(name.removesuffix(f"-{self.region}")))
        if existing is None:
            return row
        self._found(row, existing)
        if kind == TABLE and existing.shape is not None:
            differences = _shape_differences(_template_shape(props), existing.shape)
            if differences:
                row.action, row.why = Action.CONFLICT, "; ".join(differences)
        if kind == BUCKET and existing.extra.get("policy"):
            self._bucket_policies.add(existing.physical_id)
        if kind == BUCKET and existing.region != self.region:
            row.action = Action.CONFLICT
            row.why = f"the bucket is in {existing.region}, the environment in {self.region}"
        if kind == ALIAS:
            self._alias_targets[row.path] = existing.extra.get("TargetKeyId", "")
        return row

    def _unnamed(
        self, stack: str, logical_id: str, resource: dict, resources: dict, found: dict[str, Row]
    ) -> Row:
        kind = resource["Type"]
        row = Row(stack, logical_id, kind, Action.CREATE)
        if kind == KEY:
            alias = next(
                (
                    found[a]
                    for a, r in resources.items()
                    if r["Type"] == ALIAS
                    and logical_id in refs(r.get("Properties", {}).get("TargetKeyId"))
                    and found.get(a)
                ),
                None,
            )
            if alias is None or alias.action is Action.CREATE:
                return row
            target = self._alias_targets.get(alias.path, "")
            key = self.inventory.key(target) if target else None
            if key is None:
                alias.action = Action.CONFLICT
                alias.why = "the alias points at no key this account can read"
                return row
            self._found(row, key)
            if key.state != "Enabled":
                row.action = Action.CONFLICT
                row.why = f"the key is {key.state}; make it Enabled (cancel its deletion) first"
            return row
        if kind == BUCKET_POLICY:
            bucket_id = resource.get("Properties", {}).get("Bucket", {}).get("Ref", "")
            bucket = found.get(bucket_id)
            if bucket is not None and bucket.physical_id in self._bucket_policies:
                row.action = Action.IMPORT
                row.physical_id = bucket.physical_id
                row.identifier = {"Bucket": bucket.physical_id}
                row.why = "replaced by the template's policy"
            return row
        row.why = "no data; created anew"
        return row

    def _old_name(self, kind: str, name: str, old: Existing | None) -> None:
        if old is None or self.inventory.owner(old.physical_id):
            return  # absent, or a stack's own in this region (not the old environment's)
        # account-wide, but the owner lookup sees this region's stacks only
        self._left.append(
            f"{REGIONAL_NAMES[kind]} {old.physical_id}: left in place, not adopted (its name "
            f"lacks the region that account-wide names carry now; the stacks make {name}; no "
            f"stack in {self.region} manages it); delete it once nothing uses it and no stack "
            "of another region holds it"
        )

    def _found(self, row: Row, existing: Existing) -> None:
        row.action = Action.IMPORT
        row.physical_id = existing.physical_id
        row.identifier = dict(existing.identifier)
        row.arn = existing.arn

    def _check_owner(self, row: Row) -> None:
        if row.action is not Action.IMPORT:  # nothing found, or a conflict already
            return
        owner = self.inventory.owner(row.physical_id)
        if owner.startswith(f"{self.root_stack}-{row.stack}-"):
            row.action = Action.MANAGED  # this environment's own nested stack holds it
        elif owner:
            row.action = Action.CONFLICT
            row.why = f"stack {owner} already manages it"
