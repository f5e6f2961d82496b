"""How much a change risks the environment's data (SPEC §3, data safety): one rule for every
path. A change that replaces, deletes or loses data in place is refused unless named.

A change set names the properties a change touches, not their values, so whether an in-place
change loses data (retention cut, PITR or deletion protection turned off, versioning
suspended, an expiry shortened, a DeletionPolicy that no longer keeps the data) is decided by
comparing the deployed template with the new one, resource by resource.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Any

from mirror_infra.aws.cfn_answers import NESTED_STACK
from mirror_infra.aws.status import ChangeAction, Replacement

TABLE = "AWS::DynamoDB::Table"
BUCKET = "AWS::S3::Bucket"
LOG_GROUP = "AWS::Logs::LogGroup"
KEY = "AWS::KMS::Key"

# resources whose replacement or removal loses data (the nonce is handled outside
# CloudFormation and is never touched by a plan)
STATEFUL_TYPES = frozenset({TABLE, KEY, BUCKET, LOG_GROUP, NESTED_STACK})
# DeletionPolicy / UpdateReplacePolicy values that keep the data
KEEPING = frozenset({"Retain", "RetainExceptOnCreate", "Snapshot"})


class Risk(StrEnum):
    SAFE = "safe"
    LOSES_DATA = "loses data"  # an in-place change after which data can be gone
    REPLACES_DATA = "replaces data"
    DELETES_DATA = "deletes data"
    # AWS: "you can't perform an update that causes a custom-named resource to be replaced"
    IMPOSSIBLE = "impossible"


# the property that gives each stateful type a custom name (AWS::<type> pages)
NAME_PROPERTY = {TABLE: "TableName", BUCKET: "BucketName", LOG_GROUP: "LogGroupName"}
IMPOSSIBLE_WHY = (
    "AWS cannot replace a custom-named resource (the new one would need the old one's name); "
    "to change it, add a resource under a new name, copy the data, then remove the old one"
)
CONDITIONAL_WHY = (
    "Replacement Conditional: AWS decides at execution (for example on a value another stack "
    "gives only then); destructive until proven otherwise"
)


def custom_named(resource: dict) -> bool:
    """Whether the template gives this resource its own name."""
    prop = NAME_PROPERTY.get(resource.get("Type", ""))
    return bool(prop and (resource.get("Properties") or {}).get(prop))


# Properties whose in-place change can lose data whatever the values, by resource type. A
# table's TTL decides which items DynamoDB deletes: turning it on or moving it to another
# attribute can expire items that were kept, and a switch is not undone quickly (one TTL
# change per table per hour).
LOSES_DATA_IN_PLACE: dict[str, frozenset[str]] = {
    TABLE: frozenset({"TimeToLiveSpecification"}),
}


def loses_data_in_place(resource_type: str, properties: tuple[str, ...]) -> bool:
    """Whether changing `properties` of a `resource_type` in place can lose data."""
    return not LOSES_DATA_IN_PLACE.get(resource_type, frozenset()).isdisjoint(properties)


# ResourceChange.PolicyAction values after which the old resource's data still exists
KEEPS_DATA = frozenset({"Retain", "Snapshot"})


def classify_change(
    action: ChangeAction,
    resource_type: str,
    replacement: str,
    properties: tuple[str, ...] = (),
    policy_action: str = "",
) -> Risk:
    """The risk of one change row, judged on the resource itself (and, for a removal, on what
    AWS says it does with the old one: PolicyAction)."""
    if resource_type not in STATEFUL_TYPES:
        return Risk.SAFE
    if action is ChangeAction.REMOVE:
        return Risk.SAFE if policy_action in KEEPS_DATA else Risk.DELETES_DATA
    if resource_type == NESTED_STACK:
        # AWS never replaces a nested stack on update; its resources are judged by their own
        # nested change set's rows (cloudformation-coverage-roadmap issue 759)
        return Risk.SAFE
    if action is ChangeAction.MODIFY and replacement in (
        Replacement.TRUE,
        Replacement.CONDITIONAL,
    ):
        return Risk.REPLACES_DATA
    if action in (ChangeAction.DYNAMIC, ChangeAction.SYNC_WITH_ACTUAL):
        # what happens is decided only at execution: destructive until proven otherwise
        return Risk.REPLACES_DATA
    if action is ChangeAction.MODIFY and loses_data_in_place(resource_type, properties):
        return Risk.LOSES_DATA
    return Risk.SAFE


# --- comparing the deployed template with the new one ----------------------------------------


def _get(props: dict, *path: str) -> Any:
    value: Any = props
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _shorter(old: Any, new: Any) -> bool:
    """A retention or expiry in days that now ends sooner (absent means never)."""
    if old == new:
        return False
    before, after = _number(old), _number(new)
    if after is None:
        return new is not None  # an intrinsic function: unknown until deployed
    return before is None or after < before


def _true(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


def _turned_off(old: Any, new: Any) -> bool:
    """On before, off (or absent: AWS's default is off) now."""
    return _true(old) and not _true(new)


def _retention(old: dict, new: dict) -> str:
    if _shorter(old.get("RetentionInDays"), new.get("RetentionInDays")):
        shown = new.get("RetentionInDays")
        return f"log retention cut from {old.get('RetentionInDays', 'never')} to {shown} days"
    return ""


def _pitr(old: dict, new: dict) -> str:
    path = ("PointInTimeRecoverySpecification", "PointInTimeRecoveryEnabled")
    if _turned_off(_get(old, *path), _get(new, *path)):
        return "point-in-time recovery turned off"
    return ""


def _table_protection(old: dict, new: dict) -> str:
    if _turned_off(old.get("DeletionProtectionEnabled"), new.get("DeletionProtectionEnabled")):
        return "deletion protection turned off"
    return ""


def _versioning(old: dict, new: dict) -> str:
    before = _get(old, "VersioningConfiguration", "Status")
    after = _get(new, "VersioningConfiguration", "Status")
    if before == "Enabled" and after != "Enabled":
        return f"bucket versioning {after or 'removed'}"
    return ""


def _expiries(props: dict) -> dict[str, Any]:
    """Each lifecycle rule's expiry (days), by rule id and kind."""
    found = {}
    rules = _get(props, "LifecycleConfiguration", "Rules") or []
    for i, rule in enumerate(rules if isinstance(rules, list) else []):
        rule_id = rule.get("Id", f"rule {i + 1}") if isinstance(rule, dict) else f"rule {i + 1}"
        for kind, path in (
            ("expiration", ("ExpirationInDays",)),
            ("noncurrent versions", ("NoncurrentVersionExpiration", "NoncurrentDays")),
        ):
            value = _get(rule, *path)
            if value is not None:
                found[f"{rule_id} {kind}"] = value
    return found


def _lifecycle(old: dict, new: dict) -> str:
    before, after = _expiries(old), _expiries(new)
    cut = [
        f"{name} from {before.get(name, 'never')} to {days} days"
        for name, days in after.items()
        if _shorter(before.get(name), days)
    ]
    return "lifecycle expiry shortened: " + ", ".join(cut) if cut else ""


PROPERTY_RULES: dict[str, tuple[Callable[[dict, dict], str], ...]] = {
    TABLE: (_pitr, _table_protection),
    LOG_GROUP: (_retention,),
    BUCKET: (_versioning, _lifecycle),
}


def in_place_losses(old: dict, new: dict) -> dict[str, list[str]]:
    """Resources of `new` (a template) that the same resource of `old` (the deployed template)
    would lose data to, with why: logical id -> reasons."""
    losses: dict[str, list[str]] = {}
    old_resources = old.get("Resources") or {}
    for logical_id, resource in (new.get("Resources") or {}).items():
        before = old_resources.get(logical_id)
        kind = resource.get("Type")
        if not isinstance(before, dict) or kind not in STATEFUL_TYPES or kind == NESTED_STACK:
            continue
        reasons = []
        for attribute in ("DeletionPolicy", "UpdateReplacePolicy"):
            was, now = before.get(attribute, "Delete"), resource.get(attribute, "Delete")
            if was in KEEPING and now not in KEEPING:
                reasons.append(f"{attribute} {was} -> {now}: the data would no longer be kept")
        old_props, new_props = before.get("Properties") or {}, resource.get("Properties") or {}
        reasons += [r for rule in PROPERTY_RULES.get(kind, ()) if (r := rule(old_props, new_props))]
        if reasons:
            losses[logical_id] = reasons
    return losses
