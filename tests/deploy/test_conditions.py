"""Conditions of a nested stack a change set creates, decided from the values the root passes
(mirror_infra/deploy/conditions.py); what cannot be known stays unknown."""

from __future__ import annotations

import pytest

from mirror_infra.deploy.conditions import decided

ROOT = {
    "Parameters": {"AlertEmail": {"Type": "String", "Default": "default@example.com"}},
    "Resources": {
        "Monitoring": {
            "Type": "AWS::CloudFormation::Stack",
            "Properties": {
                "Parameters": {
                    "AlertEmail": {"Ref": "AlertEmail"},
                    "Env": "staging",
                    "KeyArn": {"Fn::GetAtt": ["Kms", "Outputs.KeyArn"]},
                }
            },
        }
    },
}
HAS_EMAIL = {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlertEmail"}, ""]}]}
NO_KEY = {"Fn::Equals": [{"Ref": "KeyArn"}, ""]}  # another stack's output: unknown


def _nested(**conditions) -> dict:
    return {
        "Parameters": {
            "AlertEmail": {"Type": "String"},
            "Env": {"Type": "String"},
            "KeyArn": {"Type": "String"},
            "Unpassed": {"Type": "String", "Default": "x"},
        },
        "Conditions": conditions,
    }


# (id, condition, root parameter values, expected: True / False / None for unknown)
CASES = [
    ("email given", HAS_EMAIL, {"AlertEmail": "ops@example.com"}, True),
    ("email empty", HAS_EMAIL, {"AlertEmail": ""}, False),
    ("root default when not passed", HAS_EMAIL, {}, True),
    ("literal passed", {"Fn::Equals": [{"Ref": "Env"}, "staging"]}, {}, True),
    ("nested default", {"Fn::Equals": [{"Ref": "Unpassed"}, "y"]}, {}, False),
    ("another stack's output", NO_KEY, {}, None),
    ("And with a false part", {"Fn::And": [HAS_EMAIL, NO_KEY]}, {"AlertEmail": ""}, False),
    ("And with an unknown part", {"Fn::And": [HAS_EMAIL, NO_KEY]}, {"AlertEmail": "a@b.co"}, None),
    ("Or with a true part", {"Fn::Or": [HAS_EMAIL, NO_KEY]}, {"AlertEmail": "a@b.co"}, True),
    ("a function not evaluated", {"Fn::Equals": [{"Fn::Select": [0, ["a"]]}, "a"]}, {}, None),
    ("an unknown parameter", {"Fn::Equals": [{"Ref": "Nope"}, ""]}, {}, None),
]  # fmt: skip


@pytest.mark.parametrize(
    ("condition", "values", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_a_condition_is_decided_only_when_its_values_are_known(condition, values, expected):
    known = decided(ROOT, "Monitoring", _nested(C=condition), values)
    assert known.get("C") is expected


def test_a_condition_naming_another_is_decided_through_it_and_a_cycle_is_unknown():
    nested = _nested(
        HasEmail=HAS_EMAIL,
        Both={"Fn::And": [{"Condition": "HasEmail"}, {"Fn::Equals": [{"Ref": "Env"}, "staging"]}]},
        Loop={"Fn::Not": [{"Condition": "Loop"}]},
    )
    known = decided(ROOT, "Monitoring", nested, {"AlertEmail": ""})
    assert known == {"HasEmail": False, "Both": False}
