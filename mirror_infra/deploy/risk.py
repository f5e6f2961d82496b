"""How much a change risks the environment's data (SPEC §3, data safety): one rule for every
path. A change that replaces, deletes or loses data in place is refused unless named.

"In place" is an allow-list. On a stateful resource, a property changes unnamed only when it
is on the reviewed safe list (`SAFE`, each entry with its reason) or when a value-aware rule
(`VALUE_RULES`) finds the new value keeps what the old one kept (retention raised, PITR turned
on, a period lengthened, a lifecycle rule disabled, a policy only widened for the
environment's own principals). Anything else — a property never seen before included — counts
as losing data.

Two sources are judged: a change set's rows (`row_reasons`: which properties change, and
whether the new value is in the template's text at all), and the deployed template against the
new one (`in_place_losses`: the values, which a change set does not give).
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Callable
from enum import StrEnum
from typing import Any

from mirror_infra.aws.cfn_answers import NESTED_STACK, PropertyDetail
from mirror_infra.aws.status import ChangeAction, Replacement

TABLE = "AWS::DynamoDB::Table"
BUCKET = "AWS::S3::Bucket"
BUCKET_POLICY = "AWS::S3::BucketPolicy"
LOG_GROUP = "AWS::Logs::LogGroup"
KEY = "AWS::KMS::Key"
ALIAS = "AWS::KMS::Alias"

# resources whose replacement, removal or unreviewed change loses data (the nonce is handled
# outside CloudFormation and is never touched by a plan). The alias is how the nonce and the
# application find the key; the bucket policy decides who may read the baselines.
# protection.py builds the stack policies from this same set.
STATEFUL_TYPES = frozenset({TABLE, KEY, ALIAS, BUCKET, BUCKET_POLICY, LOG_GROUP, NESTED_STACK})
# DeletionPolicy / UpdateReplacePolicy values that keep the data
KEEPING = frozenset({"Retain", "RetainExceptOnCreate", "Snapshot"})
# the types that hold the data themselves, where a DeletionPolicy that no longer keeps it
# loses data; the alias and the bucket policy hold none (their removal is a row of its own,
# refused as deletes data, and adopt's import gives them a Retain its converge takes back)
HOLDS_DATA = frozenset({TABLE, KEY, BUCKET, LOG_GROUP})


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


# --- the reviewed safe list --------------------------------------------------------------------

_TAGS = "labels for cost and search; no item, object, key use or log event depends on them"

# Properties whose in-place change keeps every piece of data whatever the new value, with why.
SAFE: dict[str, dict[str, str]] = {
    TABLE: {
        "Tags": _TAGS,
        "ContributorInsightsSpecification": (
            "CloudWatch Contributor Insights only reads the table's traffic metrics"
        ),
    },
    KEY: {
        "Tags": _TAGS,
        "Description": "a label: what the key encrypts and who may use it are unchanged",
    },
    ALIAS: {},
    BUCKET: {"Tags": _TAGS},
    BUCKET_POLICY: {},
    LOG_GROUP: {"Tags": _TAGS},
}


# Properties known to lose data whatever the value, with why (the rest off the safe list is
# risky all the same, with a general reason)
KNOWN_RISKS: dict[tuple[str, str], str] = {
    # turning TTL on or moving it can expire items that were kept, and a switch is not undone
    # quickly (one TTL change per table per hour)
    (TABLE, "TimeToLiveSpecification"): "the table's TTL changes (DynamoDB deletes items by it)",
}


def unreviewed(resource_type: str, name: str) -> str:
    known = KNOWN_RISKS.get((resource_type, name))
    return known or f"{name} changes, and it is not on the reviewed safe list (README, Data safety)"


# --- reading values ----------------------------------------------------------------------------


def _get(props: Any, *path: str) -> Any:
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


def _shown(value: Any) -> str:
    return "never" if value is None else json.dumps(value, sort_keys=True).strip('"')


# --- value-aware rules: (old value, new value) of one property -> why data is lost, or "" ------


def _retention(old: Any, new: Any) -> str:
    if _shorter(old, new):
        return f"log retention cut from {_shown(old)} to {_shown(new)} days"
    return ""


PITR_DEFAULT_DAYS = 35  # PointInTimeRecoverySpecification: RecoveryPeriodInDays, default 35


def _pitr(old: Any, new: Any) -> str:
    was_on = _true(_get(old, "PointInTimeRecoveryEnabled"))
    if not _true(_get(new, "PointInTimeRecoveryEnabled")):
        return "point-in-time recovery turned off" if was_on else ""
    if not was_on:
        return ""  # turned on: restore points begin
    before = _get(old, "RecoveryPeriodInDays") or PITR_DEFAULT_DAYS
    after = _get(new, "RecoveryPeriodInDays") or PITR_DEFAULT_DAYS
    if _shorter(before, after):
        # restore points older than the new period are gone
        return f"point-in-time recovery period cut from {_shown(before)} to {_shown(after)} days"
    return ""


def _switched_off(what: str, default: bool = False) -> Callable[[Any, Any], str]:
    """A switch that may only be turned on (absent: AWS's default)."""

    def rule(old: Any, new: Any) -> str:
        if isinstance(new, dict | list):
            return f"{what} is set by a value the templates do not show"
        before = default if old is None else _true(old)
        after = default if new is None else _true(new)
        return f"{what} turned off" if before and not after else ""

    return rule


def _key_enabled(old: Any, new: Any) -> str:
    if _switched_off("key", default=True)(old, new):
        return (
            "key disabled: everything encrypted under it (the tables, the nonce, the baselines, "
            "the topic, the logs) becomes unreadable, and DynamoDB archives a table whose key "
            "stays inaccessible for more than seven days"
        )
    return ""


def _longer_only(what: str, default: float | None) -> Callable[[Any, Any], str]:
    """A waiting period that may only be lengthened."""

    def rule(old: Any, new: Any) -> str:
        before = default if old is None else old
        after = default if new is None else new
        if _shorter(before, after):
            return f"{what} cut from {_shown(before)} to {_shown(after)} days"
        return ""

    return rule


def _versioning(old: Any, new: Any) -> str:
    before, after = _get(old, "Status"), _get(new, "Status")
    if before == "Enabled" and after != "Enabled":
        return f"bucket versioning {after or 'removed'}"
    return ""


def _log_key(old: Any, new: Any) -> str:
    # associating a key where there was none encrypts the events ingested from then on; a key
    # changed or taken away leaves the events before it readable only under the old key
    if old is None and new is not None:
        return ""
    return "the log group's key changes (events before it stay readable only under the old key)"


# --- lifecycle rules ---------------------------------------------------------------------------

# a lifecycle rule's fields whose value only says how long something is kept: longer or
# removed is safe, shorter or added loses data
_DAYS = {
    ("ExpirationInDays",): "expiration",
    ("NoncurrentVersionExpiration", "NoncurrentDays"): "noncurrent versions",
    ("NoncurrentVersionExpirationInDays",): "noncurrent versions",
    ("NoncurrentVersionExpiration", "NewerNoncurrentVersions"): "newer noncurrent versions kept",
    ("AbortIncompleteMultipartUpload", "DaysAfterInitiation"): "incomplete uploads",
}
# fields a rule may carry without ever touching a stored object, with why
_HARMLESS = {
    "Id": "the rule's name",
    "Status": "judged on its own: a disabled rule deletes nothing",
    "AbortIncompleteMultipartUpload": "removes only uploads never completed, never an object",
}


def _rule_id(rule: Any, i: int) -> str:
    return str(rule.get("Id")) if isinstance(rule, dict) and rule.get("Id") else f"rule {i + 1}"


def _rules(props: Any) -> dict[str, dict]:
    rules = _get(props, "Rules")
    return {
        _rule_id(r, i): r
        for i, r in enumerate(rules if isinstance(rules, list) else [])
        if isinstance(r, dict)
    }


def _prefix(rule: dict) -> Any:
    """The objects a rule applies to: its Filter, or the legacy Prefix ("" is every object)."""
    if "Filter" in rule:
        return rule["Filter"]
    return {"Prefix": rule.get("Prefix", "")}


def _narrower(old: Any, new: Any) -> bool:
    """The new filter selects a subset of the old one's objects (a longer prefix)."""
    if old == new:
        return True
    if set(old) == {"Prefix"} and set(new) == {"Prefix"}:
        return str(new["Prefix"]).startswith(str(old["Prefix"]))
    return False


def _enabled_rule(rule_id: str, rule: dict) -> list[str]:
    """A rule that starts applying (added, or Disabled -> Enabled)."""
    acting = sorted(set(rule) - set(_HARMLESS) - {"Filter", "Prefix"})
    if not acting:
        return []
    return [f"lifecycle rule {rule_id} now applies ({', '.join(acting)})"]


def _changed_rule(rule_id: str, old: dict, new: dict) -> list[str]:
    reasons = []
    for path, kind in _DAYS.items():
        before, after = _get(old, *path), _get(new, *path)
        if _shorter(before, after):
            reasons.append(f"{rule_id} {kind} from {_shown(before)} to {_shown(after)} days")
    if not _narrower(_prefix(old), _prefix(new)):
        reasons.append(f"{rule_id} applies to other objects (now {_shown(_prefix(new))})")
    judged = {p[0] for p in _DAYS} | {"Filter", "Prefix", "Id", "Status"}
    for name in sorted((set(old) | set(new)) - judged):
        if name in new and old.get(name) != new.get(name):
            # ExpirationDate, Transitions, ExpiredObjectDeleteMarker, ... added or changed
            reasons.append(f"{rule_id} {name} {'changed' if name in old else 'added'}")
    return reasons


def _lifecycle(old: Any, new: Any) -> str:
    before, after = _rules(old), _rules(new)
    reasons: list[str] = []
    for rule_id, rule in after.items():
        if rule.get("Status") != "Enabled":
            continue  # a disabled rule deletes nothing
        was = before.get(rule_id)
        if was is None or was.get("Status") != "Enabled":
            reasons += _enabled_rule(rule_id, rule)
        else:
            reasons += _changed_rule(rule_id, was, rule)
    others = [
        {k: v for k, v in (c if isinstance(c, dict) else {}).items() if k != "Rules"}
        for c in (old, new)
    ]
    if others[0] != others[1]:
        reasons.append("lifecycle settings other than its rules change")
    return "lifecycle rules lose objects: " + "; ".join(reasons) if reasons else ""


# --- policies ----------------------------------------------------------------------------------

_OWN_ARN = "arn:${AWS::Partition}:iam::${AWS::AccountId}:"


def _own(kind: str, principal: Any) -> bool:
    """A principal of the environment's own account: its root or an IAM identity in it, written
    with the account's pseudo parameters, or a resource of the same template."""
    if kind != "AWS" or not isinstance(principal, dict):
        return False
    sub = principal.get("Fn::Sub")
    if isinstance(sub, str):
        return sub.startswith(_OWN_ARN)
    getatt = principal.get("Fn::GetAtt")
    return isinstance(getatt, list) and len(getatt) == 2 and getatt[1] == "Arn"


def _listed(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def _canon(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def _grants(document: Any) -> set[tuple] | None:
    """A policy as single grants (effect, principal kind, principal, action, resource,
    condition); None when it cannot be read as one."""
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError:
            return None
    if not isinstance(document, dict) or not isinstance(document.get("Statement"), list | dict):
        return None
    grants = set()
    for statement in _listed(document["Statement"]):
        if not isinstance(statement, dict):
            return None
        body = {k: v for k, v in statement.items() if k != "Sid"}
        if set(body) - {"Effect", "Principal", "Action", "Resource", "Condition"}:
            # NotAction, NotPrincipal, NotResource: judged as one opaque grant
            grants.add((body.get("Effect"), "opaque", _canon(None), _canon(body), "", ""))
            continue
        principal = body.get("Principal")
        principals = (
            [("*", _canon("*"))]
            if principal == "*"
            else [(kind, _canon(p)) for kind, ps in (principal or {}).items() for p in _listed(ps)]
            if isinstance(principal, dict)
            else [("", _canon(principal))]
        )
        for kind, who in principals:
            for action in _listed(body.get("Action")):
                for resource in _listed(body.get("Resource")):
                    grants.add(
                        (
                            body.get("Effect"),
                            kind,
                            who,
                            str(action).lower() if isinstance(action, str) else _canon(action),
                            _canon(resource),
                            _canon(body.get("Condition")),
                        )
                    )
    return grants


def _covered(grant: tuple, grants: set[tuple]) -> bool:
    """Still granted: the same grant, or one whose action pattern covers it ("kms:*")."""
    effect, kind, who, action, resource, condition = grant
    return any(
        g[:3] == (effect, kind, who)
        and g[4:] == (resource, condition)
        and fnmatch.fnmatchcase(action, g[3])
        for g in grants
    )


def _who(kind: str, who: str) -> str:
    value = json.loads(who)
    if value == "*" or kind == "*":
        return "everyone"
    return f"{kind} {_canon(value)}" if kind else _canon(value)


def _policy(old: Any, new: Any) -> str:
    """A policy may only be widened, and only for the environment's own principals: a grant
    taken away, a deny added, or an allow (or a removed deny) for anyone else loses data."""
    before, after = _grants(old), _grants(new)
    if before is None or after is None:
        return "the policy changes in a form that cannot be compared"
    if _get(old, "Version") != _get(new, "Version"):
        return "the policy language Version changes"
    reasons = []
    for grant in sorted(before - after):
        effect, kind, who, action = grant[:4]
        if effect == "Allow" and not _covered(grant, after):
            reasons.append(f"no longer allows {_who(kind, who)} {action}")
        elif effect != "Allow" and not _own(kind, json.loads(who)):
            reasons.append(f"no longer denies {_who(kind, who)} {action}")
    for grant in sorted(after - before):
        effect, kind, who, action = grant[:4]
        if effect != "Allow" and not _covered(grant, before):
            reasons.append(f"now denies {_who(kind, who)} {action}")
        elif effect == "Allow" and not _own(kind, json.loads(who)):
            reasons.append(f"now allows {_who(kind, who)} {action}")
    if not reasons:
        return ""
    return "policy narrowed, or widened beyond the environment's own principals: " + "; ".join(
        dict.fromkeys(reasons)
    )


# Properties judged on their values: (old, new) -> why data is lost, or "" when it is kept.
VALUE_RULES: dict[str, dict[str, Callable[[Any, Any], str]]] = {
    TABLE: {
        "PointInTimeRecoverySpecification": _pitr,
        "DeletionProtectionEnabled": _switched_off("deletion protection"),
    },
    KEY: {
        "Enabled": _key_enabled,
        "EnableKeyRotation": _switched_off("key rotation"),
        "PendingWindowInDays": _longer_only("the key's deletion waiting period", 30),
        "KeyPolicy": _policy,
    },
    ALIAS: {},
    BUCKET: {
        "VersioningConfiguration": _versioning,
        "LifecycleConfiguration": _lifecycle,
    },
    BUCKET_POLICY: {"PolicyDocument": _policy},
    LOG_GROUP: {"RetentionInDays": _retention, "KmsKeyId": _log_key},
}


def unseen(detail: PropertyDetail) -> str:
    """Why a property whose new value the templates do not show counts as losing data."""
    source = detail.source or "a source AWS does not name"
    if detail.causing:
        source += f" {detail.causing}"
    when = " known only at execution (Dynamic)" if detail.evaluation == "Dynamic" else ""
    return f"{detail.name} changes by a value the templates do not show ({source}){when}"


def unproven(
    details: tuple[PropertyDetail, ...], phantom: frozenset[PropertyDetail]
) -> tuple[PropertyDetail, ...]:
    """The one exemption from these rules: the details of a row proven phantom (deploy/phantom.py:
    a parameter fed by another nested stack's output, which AWS cannot resolve when it makes
    the change set, cloudformation-coverage-roadmap issue 759, whose source does not change)
    are set aside; every other detail is judged."""
    return tuple(d for d in details if d not in phantom)


def row_reasons(
    resource_type: str,
    details: tuple[PropertyDetail, ...],
    phantom: frozenset[PropertyDetail] = frozenset(),
) -> list[str]:
    """Why a change set's in-place Modify row of a stateful resource loses data, judged on the
    row alone: a property off the safe list without a value rule, or one whose new value is not
    in the template's text (a parameter, another resource, Dynamic)."""
    if resource_type not in SAFE:
        return []
    reasons = []
    for detail in unproven(details, phantom):
        if detail.changes_nothing or detail.name in SAFE[resource_type]:
            continue
        if detail.name not in VALUE_RULES[resource_type]:
            reasons.append(unreviewed(resource_type, detail.name))
        elif not detail.from_template_text:
            reasons.append(unseen(detail))
    return list(dict.fromkeys(reasons))


# ResourceChange.PolicyAction values after which the old resource's data still exists
KEEPS_DATA = frozenset({"Retain", "Snapshot"})


def classify_change(
    action: ChangeAction,
    resource_type: str,
    replacement: str,
    details: tuple[PropertyDetail, ...] = (),
    policy_action: str = "",
    phantom: frozenset[PropertyDetail] = frozenset(),
) -> Risk:
    """The risk of one change row, judged on the resource itself (and, for a removal, on what
    AWS says it does with the old one: PolicyAction). `phantom`: its details proven phantom;
    a Modify row made only of them changes nothing, its Replacement included."""
    if resource_type not in STATEFUL_TYPES:
        return Risk.SAFE
    if action is ChangeAction.MODIFY and details and not unproven(details, phantom):
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
    if action is ChangeAction.MODIFY and row_reasons(resource_type, details, phantom):
        return Risk.LOSES_DATA
    return Risk.SAFE


# --- comparing the deployed template with the new one ----------------------------------------


def property_reasons(resource_type: str, old: dict, new: dict) -> list[str]:
    """Why changing a stateful resource's properties from `old` to `new` loses data."""
    reasons = []
    rules = VALUE_RULES.get(resource_type, {})
    for name in sorted(set(old) | set(new)):
        before, after = old.get(name), new.get(name)
        if before == after or name in SAFE.get(resource_type, {}):
            continue
        rule = rules.get(name)
        reason = rule(before, after) if rule else unreviewed(resource_type, name)
        if reason:
            reasons.append(reason)
    return reasons


def in_place_losses(old: dict, new: dict) -> dict[str, list[str]]:
    """Resources of `new` (a template) that the same resource of `old` (the deployed template)
    would lose data to, with why: logical id -> reasons."""
    losses: dict[str, list[str]] = {}
    old_resources = old.get("Resources") or {}
    for logical_id, resource in (new.get("Resources") or {}).items():
        before = old_resources.get(logical_id)
        kind = resource.get("Type")
        if not isinstance(before, dict) or kind not in SAFE or before.get("Type") != kind:
            continue  # a new resource, a type change (a replacement) or a stateless type
        reasons = []
        for attribute in ("DeletionPolicy", "UpdateReplacePolicy"):
            was, now = before.get(attribute, "Delete"), resource.get(attribute, "Delete")
            if kind in HOLDS_DATA and was in KEEPING and now not in KEEPING:
                reasons.append(f"{attribute} {was} -> {now}: the data would no longer be kept")
        old_props, new_props = before.get("Properties") or {}, resource.get("Properties") or {}
        reasons += property_reasons(kind, old_props, new_props)
        if reasons:
            losses[logical_id] = reasons
    return losses
