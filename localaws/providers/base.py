"""The contract every resource provider keeps, and the record of one stack resource.

A provider does for one resource type what CloudFormation's resource handler does on AWS:
create, update in place, delete, and read back (for drift detection), through the service APIs.
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

from localaws import endpoint


class ResourceFailure(Exception):
    """A resource operation failed; the message becomes the event's ResourceStatusReason.
    `physical_id`: the resource was made before it failed (a rollback deletes it)."""

    def __init__(self, message: str, physical_id: str | None = None) -> None:
        super().__init__(message)
        self.physical_id = physical_id


class NotFound(Exception):
    """The resource no longer exists (drift: DELETED)."""


def handler_message(exc: Exception) -> str:
    """A failure as CloudFormation words a resource handler's error."""
    from botocore.exceptions import ClientError

    if isinstance(exc, ResourceFailure):
        return str(exc)
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 400)
        return (
            f'Resource handler returned message: "{err.get("Message", "")} '
            f'(Operation: {exc.operation_name}, Status Code: {status})" '
            f"(HandlerErrorCode: {_handler_code(err.get('Code', ''))})"
        )
    return f"Internal Failure: {exc}"


def _handler_code(code: str) -> str:
    if "AlreadyExists" in code or "InUse" in code or code == "EntityAlreadyExists":
        return "AlreadyExists"
    if "NotFound" in code or code == "NoSuchEntity" or code == "NoSuchBucket":
        return "NotFound"
    return "InvalidRequest"


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Ctx:
    """What a provider needs to know about where it acts."""

    account_id: str
    region: str
    stack_name: str
    stack_id: str
    logical_id: str
    backend: Any = None  # the CloudFormation backend of account/region (nested stacks)
    stack: Any = None  # the moto Stack being operated on
    stack_tags: dict[str, str] = field(default_factory=dict)
    # create: names the resource's physical id as soon as it exists, before the provider's
    # work ends (a nested stack, whose own resources take their time)
    announce: Callable[[str], None] = lambda physical_id: None
    # delete: set when a failed create is undone ("plain" or "retain-except-on-create"), so a
    # nested stack made by that create is undone the same way
    undo_create: str = ""

    def client(self, service: str) -> Any:
        return endpoint.client(service, self.region)

    def generated_name(self, max_length: int = 255, lower: bool = False) -> str:
        """A physical name like CloudFormation's: stack-logical-SUFFIX."""
        alphabet = string.ascii_lowercase if lower else string.ascii_uppercase
        suffix = "".join(random.choices(alphabet + string.digits, k=12))
        head = f"{self.stack_name}-{self.logical_id}"[: max_length - 13]
        name = f"{head}-{suffix}"
        return name.lower() if lower else name

    @property
    def partition(self) -> str:
        return "aws"


@dataclass
class Created:
    """What a provider returns from create/update: the physical id and the GetAtt values."""

    physical_id: str
    attributes: dict[str, Any] = field(default_factory=dict)


class Provider:
    """Base class: subclasses set `type_name` and implement create/update/delete/read."""

    type_name: ClassVar[str] = ""
    # properties that replace the resource on change, beyond the schema's createOnlyProperties
    # (each subclass documents why)
    extra_replacement: ClassVar[frozenset[str]] = frozenset()
    # GetAtt names this type supports; Ref returns the physical id unless `ref` is overridden
    attributes: ClassVar[frozenset[str]] = frozenset()
    # whether drift detection can compare this type (others are NOT_CHECKED, as on AWS)
    drift_supported: ClassVar[bool] = True

    def create(self, ctx: Ctx, props: dict) -> Created:
        raise NotImplementedError

    def update(self, ctx: Ctx, physical_id: str, old: dict, new: dict) -> Created:
        raise NotImplementedError

    def delete(self, ctx: Ctx, physical_id: str, props: dict) -> None:
        raise NotImplementedError

    def read(self, ctx: Ctx, physical_id: str, props: dict) -> dict:
        """The live properties in the template's shape; raises NotFound when it is gone."""
        raise NotImplementedError

    def adopt(self, ctx: Ctx, physical_id: str, props: dict) -> Created:
        """Resource import: the GetAtt values of a resource that already exists, read without
        changing it; raises NotFound when it does not exist. Types with attributes override
        this to read them."""
        self.read(ctx, physical_id, props)
        return Created(physical_id)


def tags_list(tags: dict[str, str] | list | None) -> list[dict[str, str]]:
    if not tags:
        return []
    if isinstance(tags, dict):
        return [{"Key": k, "Value": v} for k, v in tags.items()]
    return [{"Key": t["Key"], "Value": t["Value"]} for t in tags]


def tag_changes(old: list | None, new: list | None) -> tuple[list[str], dict[str, str]]:
    """What an update does to tags: the keys to remove, and the keys to set (new or changed)."""
    before = {t["Key"]: t["Value"] for t in tags_list(old)}
    after = {t["Key"]: t["Value"] for t in tags_list(new)}
    gone = [k for k in before if k not in after]
    return gone, {k: v for k, v in after.items() if before.get(k) != v}


def user_tags(tags: list[dict[str, str]] | None) -> list[dict[str, str]]:
    """Tags without the aws: ones CloudFormation adds (drift ignores them, as on AWS)."""
    return [t for t in (tags or []) if not t["Key"].startswith("aws:")]


def stack_tags(ctx: Ctx, props_tags: list | None) -> list[dict[str, str]]:
    """The resource's tags plus the aws:cloudformation:* ones CloudFormation adds."""
    out = {t["Key"]: t["Value"] for t in tags_list(ctx.stack_tags)}
    out.update({t["Key"]: t["Value"] for t in tags_list(props_tags)})
    out["aws:cloudformation:stack-name"] = ctx.stack_name
    out["aws:cloudformation:stack-id"] = ctx.stack_id
    out["aws:cloudformation:logical-id"] = ctx.logical_id
    return [{"Key": k, "Value": v} for k, v in out.items()]
