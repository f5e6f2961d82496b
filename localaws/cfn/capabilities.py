"""Which capabilities a template needs, and the refusal when they were not given.

API_CreateStack Capabilities: IAM resources need CAPABILITY_IAM, or CAPABILITY_NAMED_IAM when
they have custom names ("If you have IAM resources, you can specify either capability. If you
have IAM resources with custom names, you must specify CAPABILITY_NAMED_IAM."). A nested stack
is created and updated with its root's capabilities, so its template is checked against them.
"""

from __future__ import annotations

from moto.core.exceptions import ServiceException

_NAMES = ("RoleName", "UserName", "GroupName", "ManagedPolicyName")


class InsufficientCapabilities(ServiceException):
    code = "InsufficientCapabilitiesException"


def required(template: dict) -> str | None:
    needed = None
    for spec in (template.get("Resources") or {}).values():
        kind = spec.get("Type", "")
        if kind.startswith("AWS::IAM::"):
            props = spec.get("Properties") or {}
            named = any(k in props for k in _NAMES)
            needed = "CAPABILITY_NAMED_IAM" if named else (needed or "CAPABILITY_IAM")
    return needed


def check(template: dict, capabilities: list[str]) -> None:
    """Raise InsufficientCapabilities (AWS's wording) when `capabilities` do not cover it."""
    needed = required(template)
    given = set(capabilities or [])
    if needed == "CAPABILITY_NAMED_IAM" and needed not in given:
        raise InsufficientCapabilities(f"Requires capabilities : [{needed}]")
    if needed == "CAPABILITY_IAM" and not {"CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"} & given:
        raise InsufficientCapabilities(f"Requires capabilities : [{needed}]")
