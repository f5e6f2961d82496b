"""The policy evaluator the contract tests rely on, against cases from IAM's documented
evaluation logic: explicit deny wins, allow needs a match, wildcards, NotAction/NotResource,
conditions, and CloudFormation's Ref/Fn::Sub resolved for a given account and region."""

from __future__ import annotations

import pytest

from tests.contract.policy import (
    Decision,
    Request,
    Unsupported,
    evaluate,
    grants,
    matches,
    pseudo_parameters,
    resolve,
)

TABLE = "arn:aws:dynamodb:us-east-1:123456789012:table/t"


def doc(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(**fields) -> dict:
    return {"Effect": "Allow", **fields}


def deny(**fields) -> dict:
    return {"Effect": "Deny", **fields}


@pytest.mark.parametrize(
    "pattern, value, case_sensitive, expected",
    [
        ("dynamodb:GetItem", "dynamodb:GetItem", True, True),
        ("dynamodb:Get*", "dynamodb:GetItem", True, True),
        ("dynamodb:Get*", "dynamodb:PutItem", True, False),
        ("kms:GenerateDataKey*", "kms:GenerateDataKey", True, True),  # * matches nothing too
        ("s3:ListBucket", "s3:ListBucketVersions", True, False),  # no prefix match
        ("dynamodb:getitem", "dynamodb:GetItem", False, True),
        ("arn:aws:s3:::b/?.json", "arn:aws:s3:::b/x.json", True, True),
        ("arn:aws:s3:::b/?.json", "arn:aws:s3:::b/xy.json", True, False),
        ("arn:aws:s3:::b/*", "arn:aws:s3:::B/x", True, False),
        ("arn:aws:s3:::b.c", "arn:aws:s3:::bxc", True, False),  # a dot is not a wildcard
    ],
)
def test_wildcards(pattern, value, case_sensitive, expected):
    assert matches(pattern, value, case_sensitive=case_sensitive) is expected


@pytest.mark.parametrize(
    "statements, request_, expected",
    [
        ([], Request("dynamodb:GetItem", TABLE), Decision.IMPLICIT_DENY),
        (
            [allow(Action="dynamodb:GetItem", Resource=TABLE)],
            Request("dynamodb:GetItem", TABLE),
            Decision.ALLOW,
        ),
        (
            [allow(Action="dynamodb:GetItem", Resource=TABLE)],
            Request("dynamodb:GetItem", TABLE + "2"),
            Decision.IMPLICIT_DENY,
        ),
        (
            [allow(Action="dynamodb:GetItem", Resource=TABLE)],
            Request("dynamodb:PutItem", TABLE),
            Decision.IMPLICIT_DENY,
        ),
        (
            [
                allow(Action="dynamodb:*", Resource="*"),
                deny(Action="dynamodb:DeleteItem", Resource=TABLE),
            ],
            Request("dynamodb:DeleteItem", TABLE),
            Decision.EXPLICIT_DENY,
        ),
        (
            [allow(NotAction="dynamodb:DeleteItem", Resource=TABLE)],
            Request("dynamodb:PutItem", TABLE),
            Decision.ALLOW,
        ),
        (
            [allow(NotAction="dynamodb:DeleteItem", Resource=TABLE)],
            Request("dynamodb:DeleteItem", TABLE),
            Decision.IMPLICIT_DENY,
        ),
        (
            [allow(Action="s3:GetObject", NotResource="arn:aws:s3:::b/secret/*")],
            Request("s3:GetObject", "arn:aws:s3:::b/secret/k"),
            Decision.IMPLICIT_DENY,
        ),
        (
            [allow(Action="s3:GetObject", NotResource="arn:aws:s3:::b/secret/*")],
            Request("s3:GetObject", "arn:aws:s3:::b/open/k"),
            Decision.ALLOW,
        ),
    ],
)
def test_allow_and_deny(statements, request_, expected):
    assert evaluate(doc(*statements), request_) is expected


VIA_SSM = {"StringEquals": {"kms:ViaService": ["ssm.us-east-1.amazonaws.com"]}}
KEY = "arn:aws:kms:us-east-1:123456789012:key/k"


@pytest.mark.parametrize(
    "context, expected",
    [
        ({"kms:ViaService": "ssm.us-east-1.amazonaws.com"}, Decision.ALLOW),
        ({"kms:viaservice": "ssm.us-east-1.amazonaws.com"}, Decision.ALLOW),  # keys: any case
        ({"kms:ViaService": "s3.us-east-1.amazonaws.com"}, Decision.IMPLICIT_DENY),
        ({}, Decision.IMPLICIT_DENY),  # a direct call carries no kms:ViaService
    ],
)
def test_string_equals_condition(context, expected):
    policy = doc(allow(Action="kms:Decrypt", Resource=KEY, Condition=VIA_SSM))
    assert evaluate(policy, Request("kms:Decrypt", KEY, context)) is expected


def test_string_like_condition_and_unknown_operators():
    like = doc(allow(Action="s3:*", Resource="*", Condition={"StringLike": {"s3:prefix": "a/*"}}))
    assert evaluate(like, Request("s3:ListBucket", "x", {"s3:prefix": "a/b"})) is Decision.ALLOW
    assert evaluate(like, Request("s3:ListBucket", "x", {"s3:prefix": "b/"})) is (
        Decision.IMPLICIT_DENY
    )
    unknown = doc(allow(Action="s3:*", Resource="*", Condition={"IpAddress": {"aws:x": "1"}}))
    with pytest.raises(Unsupported, match="IpAddress"):
        evaluate(unknown, Request("s3:ListBucket", "x"))


def test_a_principal_in_an_identity_policy_is_not_evaluated():
    with pytest.raises(Unsupported, match="Principal"):
        evaluate(doc(allow(Principal="*", Action="s3:*", Resource="*")), Request("s3:X", "y"))


def test_resolve_pseudo_parameters_refs_and_sub_maps():
    refs = {**pseudo_parameters("123456789012", "eu-west-1"), "TableArn": TABLE}
    assert resolve({"Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:x"}, refs) == (
        "arn:aws:ssm:eu-west-1:x"
    )
    assert resolve({"Fn::Sub": ["${Arn}/index/*", {"Arn": {"Ref": "TableArn"}}]}, refs) == (
        TABLE + "/index/*"
    )
    assert resolve({"Fn::Sub": "${!Literal}-${AWS::AccountId}"}, refs) == (
        "${Literal}-123456789012"
    )
    assert resolve({"Fn::Join": [",", ["a", {"Ref": "AWS::Region"}]]}, refs) == "a,eu-west-1"
    assert resolve({"Statement": [{"Resource": [{"Ref": "TableArn"}]}]}, refs) == {
        "Statement": [{"Resource": [TABLE]}]
    }
    with pytest.raises(Unsupported, match="Missing"):
        resolve({"Ref": "Missing"}, refs)
    with pytest.raises(Unsupported, match="Fn::ImportValue"):
        resolve({"Fn::ImportValue": "x"}, refs)


def test_grants_split_each_allow_into_action_resource_and_condition_value():
    policy = doc(
        allow(
            Sid="Key",
            Action=["kms:Decrypt", "kms:Encrypt"],
            Resource=KEY,
            Condition={"StringEquals": {"kms:ViaService": ["a", "b"]}},
        ),
        deny(Action="*", Resource="*"),
    )
    found = {(g.action, g.condition["StringEquals"]["kms:ViaService"]) for g in grants(policy)}
    assert found == {
        ("kms:Decrypt", "a"),
        ("kms:Decrypt", "b"),
        ("kms:Encrypt", "a"),
        ("kms:Encrypt", "b"),
    }
    (one,) = [
        g
        for g in grants(policy)
        if g.action == "kms:Decrypt" and g.condition["StringEquals"]["kms:ViaService"] == "a"
    ]
    assert one.covers(Request("kms:Decrypt", KEY, {"kms:ViaService": "a"}))
    assert not one.covers(Request("kms:Decrypt", KEY, {"kms:ViaService": "b"}))
    with pytest.raises(Unsupported, match="NotAction"):
        list(grants(doc(allow(NotAction="s3:*", Resource="*"))))
