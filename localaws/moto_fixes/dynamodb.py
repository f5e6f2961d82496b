"""DynamoDB's UpdateTimeToLive follows AWS's documented rules.

moto applies any TimeToLiveSpecification at once. AWS does not:

- "To update this property [AttributeName], you must first disable TTL and then enable TTL
  with the new attribute name" (CloudFormation template reference, AWS::DynamoDB::Table
  TimeToLiveSpecification): enabling TTL on another attribute while it is on is refused;
- "It can take up to one hour for the change to fully process. Any additional
  UpdateTimeToLive calls for the same table during this one hour duration result in a
  ValidationException" (DynamoDB API reference, UpdateTimeToLive);
- enabling TTL that is on, or disabling TTL that is off, is refused too.

The local AWS finishes a change at once (DescribeTimeToLive shows ENABLED or DISABLED, never
ENABLING or DISABLING) but keeps the hour; `clock` is what tests move to pass it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

ONE_HOUR = 3600.0
clock: Callable[[], float] = time.time

_original_update = None


def _update_time_to_live(self: Any, table_name: str, ttl_spec: dict[str, Any]) -> None:
    from moto.dynamodb.exceptions import ResourceNotFoundException, ValidationException

    try:
        table = self.get_table(table_name)
    except ResourceNotFoundException:
        return _original_update(self, table_name, ttl_spec)  # moto's own "not found"
    if "Enabled" not in ttl_spec or "AttributeName" not in ttl_spec:
        return _original_update(self, table_name, ttl_spec)  # moto's own parameter error
    enabled = str(ttl_spec["Enabled"]).lower() == "true"
    status = table.ttl.get("TimeToLiveStatus", "DISABLED")
    if enabled and status == "ENABLED":
        current = table.ttl.get("AttributeName")
        if current == ttl_spec["AttributeName"]:
            raise ValidationException("TimeToLive is already enabled")
        raise ValidationException(
            f"TimeToLive is active on a different AttributeName: current AttributeName is {current}"
        )
    if not enabled and status == "DISABLED":
        raise ValidationException("TimeToLive is already disabled")
    changed_at = getattr(table, "ttl_changed_at", None)
    if changed_at is not None and clock() - changed_at < ONE_HOUR:
        raise ValidationException(
            "Time to live has been modified multiple times within a fixed interval"
        )
    _original_update(self, table_name, ttl_spec)
    table.ttl_changed_at = clock()
    if not enabled:
        table.ttl = {"TimeToLiveStatus": "DISABLED"}  # AWS names no attribute once it is off
    return None


def install() -> None:
    global _original_update
    from moto.dynamodb.models import DynamoDBBackend

    if _original_update is None:
        _original_update = DynamoDBBackend.update_time_to_live
        DynamoDBBackend.update_time_to_live = _update_time_to_live
