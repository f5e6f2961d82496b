"""CloudWatch dashboards are account-global, as on AWS.

Corrects moto, which keeps dashboards per region: "All dashboards in your account are global,
not region-specific" (CloudWatch_Dashboards.html), so a dashboard put in one region is seen,
replaced and deleted from every region. Two regions' stacks naming the same dashboard clash on
AWS, and now here too.
"""

from __future__ import annotations

from typing import Any

_shared: dict[str, dict] = {}  # account -> dashboard name -> Dashboard
_original_reset = None


def _get(self: Any) -> dict:
    return _shared.setdefault(self.account_id, {})


def _set(self: Any, value: dict) -> None:
    # every region's backend starts with an empty dict: the account's one is kept
    _shared.setdefault(self.account_id, value)


def _reset(self: Any) -> None:
    _shared.pop(self.account_id, None)
    _original_reset(self)


def install() -> None:
    global _original_reset
    from moto.cloudwatch.models import CloudWatchBackend

    if _original_reset is None:
        _original_reset = CloudWatchBackend.reset
        CloudWatchBackend.reset = _reset
        CloudWatchBackend.dashboards = property(_get, _set)
