# ruff: noqa: E501 - the case table and the scenario read best one entry a line
"""The plan tells a row AWS shows only because of cloudformation-coverage-roadmap issue 759
(AWS's own tracker, open: https://github.com/aws-cloudformation/cloudformation-coverage-roadmap/issues/759;
no documentation page covers it) from a real change: a nested stack's parameter fed by another
nested stack's output is unresolved when the root's change set makes the nested ones, so the
resources using it show as changing. Such a row is a phantom only when its source provably
does not change; anything unproven stays a real change (unknown means risky)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from mirror_infra.aws.cfn_answers import change_of
from mirror_infra.build import BuildResult
from mirror_infra.deploy import phantom
from mirror_infra.deploy.risk import Risk, classify_change, row_reasons

ROOT_ID = "arn:aws:cloudformation:us-east-1:123456789012:stack/mirror-dissonance-staging/1"
KMS_ID = "arn:aws:cloudformation:us-east-1:123456789012:stack/kms/2"
DDB_ID = "arn:aws:cloudformation:us-east-1:123456789012:stack/ddb/3"

ROOT = {
    "Resources": {
        "Kms": {"Type": "AWS::CloudFormation::Stack", "Properties": {"TemplateURL": "k"}},
        "Dynamodb": {
            "Type": "AWS::CloudFormation::Stack",
            "Properties": {
                "TemplateURL": "d",
                "Parameters": {"KmsKeyArn": {"Fn::GetAtt": ["Kms", "Outputs.KeyArn"]}},
            },
        },
    }
}
KMS = {
    "Resources": {"Key": {"Type": "AWS::KMS::Key", "Properties": {"Description": "one"}}},
    "Outputs": {"KeyArn": {"Value": {"Fn::GetAtt": ["Key", "Arn"]}}},
}
DDB = {
    "Parameters": {"KmsKeyArn": {"Type": "String"}},
    "Resources": {
        "Table": {
            "Type": "AWS::DynamoDB::Table",
            "Properties": {
                "TableName": "t",
                "SSESpecification": {"SSEEnabled": True, "KMSMasterKeyId": {"Ref": "KmsKeyArn"}},
            },
        },
        "Follower": {
            "Type": "AWS::DynamoDB::Table",
            "Properties": {"TableName": {"Fn::Sub": "${Table}-follower"}},
        },
    },
}
AUTOMATIC = {
    "Target": {"Attribute": "Properties", "RequiresRecreation": "Never"},
    "Evaluation": "Dynamic",
    "ChangeSource": "Automatic",
}


def _detail(name: str, source: str, causing: str, evaluation: str = "Dynamic") -> dict:
    return {
        "Target": {"Attribute": "Properties", "Name": name, "RequiresRecreation": "Never"},
        "Evaluation": evaluation,
        "ChangeSource": source,
        "CausingEntity": causing,
    }


SSE = _detail("SSESpecification", "ParameterReference", "KmsKeyArn")


def _row(logical_id: str, kind: str, details: list, replacement: str = "False", **extra) -> dict:
    return {
        "Action": "Modify",
        "LogicalResourceId": logical_id,
        "PhysicalResourceId": extra.pop("physical", logical_id.lower()),
        "ResourceType": kind,
        "Replacement": replacement,
        "Details": details,
        **extra,
    }


def _stack_row(logical_id: str, physical: str, details=(AUTOMATIC,)) -> dict:
    return _row(
        logical_id,
        "AWS::CloudFormation::Stack",
        list(details),
        physical=physical,
        ChangeSetId=f"cs-{logical_id}",
    )


class _Deployed:
    """What cfn.template answers: the deployed templates by stack id."""

    def __init__(self, templates: dict[str, dict]) -> None:
        self.templates = templates

    def template(self, stack: str) -> dict:
        return copy.deepcopy(self.templates[stack])


def _build(tmp_path: Path, root: dict, kms: dict, ddb: dict) -> BuildResult:
    files = {}
    for name, body in (("root", root), ("Kms", kms), ("Dynamodb", ddb)):
        files[name] = tmp_path / f"{name}.json"
        files[name].write_text(json.dumps(body))
    return BuildResult(
        "staging",
        tmp_path,
        files["root"],
        {"Kms": files["Kms"], "Dynamodb": files["Dynamodb"]},
        False,
    )


def _scenario(tmp_path, change=lambda s: None):
    """The key's description changed in place, so Dynamodb's table shows #759's row; `change`
    edits the scenario (s: rows, deployed and new templates) into a case."""
    s = {
        "kms_rows": [_row("Key", "AWS::KMS::Key", [_detail("Description", "DirectModification", "", "Static")])],
        "ddb_rows": [_row("Table", "AWS::DynamoDB::Table", [SSE])],
        "root_rows": [_stack_row("Kms", KMS_ID), _stack_row("Dynamodb", DDB_ID)],
        "old": {"root": copy.deepcopy(ROOT), "kms": copy.deepcopy(KMS), "ddb": copy.deepcopy(DDB)},
        "new": {"root": copy.deepcopy(ROOT), "kms": copy.deepcopy(KMS), "ddb": copy.deepcopy(DDB)},
    }  # fmt: skip
    s["new"]["kms"]["Resources"]["Key"]["Properties"]["Description"] = "two"
    change(s)
    rows = [("", change_of(r)) for r in s["root_rows"]]
    rows += [("Kms", change_of(r)) for r in s["kms_rows"]]
    rows += [("Dynamodb", change_of(r)) for r in s["ddb_rows"]]
    cfn = _Deployed({ROOT_ID: s["old"]["root"], KMS_ID: s["old"]["kms"], DDB_ID: s["old"]["ddb"]})
    build = _build(tmp_path, s["new"]["root"], s["new"]["kms"], s["new"]["ddb"])
    return phantom.prove(cfn, rows, ROOT_ID, build), rows


def _key_replaced(s):
    s["kms_rows"][0]["Replacement"] = "True"


def _key_maybe_replaced(s):
    s["kms_rows"][0]["Replacement"] = "Conditional"


def _key_renamed(s):
    key = s["new"]["kms"]["Resources"].pop("Key")
    s["new"]["kms"]["Resources"]["NewKey"] = key
    s["new"]["kms"]["Outputs"]["KeyArn"]["Value"] = {"Fn::GetAtt": ["NewKey", "Arn"]}
    s["kms_rows"] = [
        {"Action": "Add", "LogicalResourceId": "NewKey", "ResourceType": "AWS::KMS::Key"},
        {"Action": "Remove", "LogicalResourceId": "Key", "ResourceType": "AWS::KMS::Key"},
    ]


def _output_rewritten(s):
    s["new"]["kms"]["Outputs"]["KeyArn"]["Value"] = {
        "Fn::Join": ["", [{"Fn::GetAtt": ["Key", "Arn"]}]]
    }


def _output_was_the_keys_id(s):
    s["old"]["kms"]["Outputs"]["KeyArn"]["Value"] = {"Ref": "Key"}


def _output_under_a_condition(s):
    for side in ("old", "new"):
        s[side]["kms"]["Outputs"]["KeyArn"]["Condition"] = "SomeCondition"


def _output_reads_an_unlisted_attribute(s):
    for side in ("old", "new"):
        s[side]["kms"]["Outputs"]["KeyArn"]["Value"] = {"Fn::GetAtt": ["Key", "Rotation"]}


def _output_reads_a_parameter(s):
    for side in ("old", "new"):
        s[side]["kms"]["Parameters"] = {"Given": {"Type": "String"}}
        s[side]["kms"]["Outputs"]["KeyArn"]["Value"] = {"Ref": "Given"}


def _parameter_rewired(s):
    s["old"]["root"]["Resources"]["Dynamodb"]["Properties"]["Parameters"]["KmsKeyArn"] = "arn:old"


def _fed_by_sub(s):
    for side in ("old", "new"):
        s[side]["root"]["Resources"]["Dynamodb"]["Properties"]["Parameters"]["KmsKeyArn"] = {
            "Fn::Sub": "${Kms.Outputs.KeyArn}"
        }


def _property_text_changed(s):
    s["new"]["ddb"]["Resources"]["Table"]["Properties"]["SSESpecification"]["SSEType"] = "KMS"


def _static_evaluation(s):
    """A Static change of the parameter next to a Dynamic one of #759 (its twin): only the
    Dynamic one can be AWS not resolving the output."""
    for side in ("old", "new"):
        s[side]["ddb"]["Resources"]["Twin"] = copy.deepcopy(DDB["Resources"]["Table"])
    s["ddb_rows"].append(_row("Twin", "AWS::DynamoDB::Table", [SSE]))
    s["ddb_rows"][0]["Details"] = [
        _detail("SSESpecification", "ParameterReference", "KmsKeyArn", "Static")
    ]


def _read_resource_was_another_type(s):
    s["old"]["kms"]["Resources"]["Key"]["Type"] = "AWS::KMS::ReplicaKey"


def _deletion_policy_too(s):
    """A change no detail shows (a DeletionPolicy, judged on the template diff): the row is a
    real change, its phantom detail still set aside."""
    s["new"]["ddb"]["Resources"]["Table"]["DeletionPolicy"] = "Retain"


def _other_parameter(s):
    s["ddb_rows"][0]["Details"] = [_detail("SSESpecification", "ParameterReference", "Other")]


def _tags_too(s):
    s["ddb_rows"][0]["Details"].append(
        {
            "Target": {"Attribute": "Tags", "RequiresRecreation": "Never"},
            "Evaluation": "Static",
            "ChangeSource": "DirectModification",
        }
    )


def _no_source_change_set(s):
    del s["root_rows"][0]["ChangeSetId"]


def _source_added(s):
    s["root_rows"][0]["Action"] = "Add"


# (case, what the plan may set aside: whole rows, and details of rows with a real change too)
CASES = [
    ("the key's description changes", lambda s: None, {"Table"}, {"Table"}),
    ("the key is replaced", _key_replaced, set(), set()),
    ("the key may be replaced", _key_maybe_replaced, set(), set()),
    ("the key is removed and another added", _key_renamed, set(), set()),
    ("the output's text changes", _output_rewritten, set(), set()),
    ("the output was another of the key's values", _output_was_the_keys_id, set(), set()),
    ("the output exists under a condition", _output_under_a_condition, set(), set()),
    ("the output reads an attribute not known to be stable", _output_reads_an_unlisted_attribute, set(), set()),
    ("the output reads a parameter", _output_reads_a_parameter, set(), set()),
    ("the root fed the parameter otherwise", _parameter_rewired, set(), set()),
    ("the parameter is fed by a Sub, not exactly the output", _fed_by_sub, set(), set()),
    ("the property's text changes", _property_text_changed, set(), set()),
    ("the parameter's change is Static", _static_evaluation, {"Twin"}, {"Twin"}),
    ("the resource the output reads was of another type", _read_resource_was_another_type, set(), set()),
    ("the resource's DeletionPolicy changes too", _deletion_policy_too, set(), {"Table"}),
    ("another parameter", _other_parameter, set(), set()),
    ("a Tags detail too (a real change, never a replacement)", _tags_too, set(), {"Table"}),
    ("the source stack's change set is not there", _no_source_change_set, set(), set()),
    ("the source stack is new", _source_added, set(), set()),
]  # fmt: skip


@pytest.mark.parametrize(("what", "change", "rows", "details"), CASES, ids=[c[0] for c in CASES])
def test_only_a_row_whose_source_provably_does_not_change_is_a_phantom(
    tmp_path, what, change, rows, details
):
    proven, _ = _scenario(tmp_path, change)
    assert {p.logical_id for p in proven.rows} == rows
    assert {p.logical_id for p in proven.details} == details


def test_a_phantom_says_why(tmp_path):
    proven, _ = _scenario(tmp_path)
    (why,) = proven.rows.values()
    assert why == (
        "no change: parameter KmsKeyArn is fed by Kms's output KeyArn, which AWS cannot resolve "
        "when it makes the change set (cloudformation-coverage-roadmap #759); its source does "
        "not change"
    )


def _follower(s):
    """The table shown replaced (#759 on a create-only property), and a resource that refers to
    it shown changing in turn."""
    s["ddb_rows"][0]["Replacement"] = "True"
    s["ddb_rows"].append(
        _row(
            "Follower",
            "AWS::DynamoDB::Table",
            [_detail("TableName", "ResourceReference", "Table")],
            replacement="Conditional",
        )
    )


def test_a_row_that_follows_a_phantom_is_a_phantom(tmp_path):
    proven, rows = _scenario(tmp_path, _follower)
    assert {p.logical_id for p in proven.rows} == {"Table", "Follower"}
    by_id = {rc.logical_id: (stack, rc) for stack, rc in rows}
    for logical_id in ("Table", "Follower"):
        stack, rc = by_id[logical_id]
        path = next(p for p in proven.rows if p.logical_id == logical_id)
        risk = classify_change(
            rc.action, rc.resource_type, rc.replacement, rc.details, "", proven.of(path)
        )
        assert risk is Risk.SAFE  # not "replaces data": the replacement is the phantom's
        # and without the proof the same row is destructive
        assert classify_change(rc.action, rc.resource_type, rc.replacement, rc.details) in (
            Risk.REPLACES_DATA,
        )


def test_a_row_with_a_real_change_too_is_judged_on_the_real_one(tmp_path):
    """The update that turns deletion protection on after production's first create: the
    phantom detail is set aside, the real one judged (turning it on is safe; off is not)."""

    def protected(on: bool):
        def change(s):
            s["new"]["ddb"]["Resources"]["Table"]["Properties"]["DeletionProtectionEnabled"] = on
            s["ddb_rows"][0]["Details"] = [
                _detail("DeletionProtectionEnabled", "DirectModification", "", "Static"),
                SSE,
            ]

        return change

    proven, rows = _scenario(tmp_path, protected(True))
    assert not proven.rows  # a real change: shown as one
    (path,) = proven.details
    (rc,) = [rc for stack, rc in rows if rc.logical_id == "Table"]
    assert classify_change(
        rc.action, rc.resource_type, "False", rc.details, "", proven.of(path)
    ) is (Risk.SAFE)
    assert row_reasons(rc.resource_type, rc.details, proven.of(path)) == []
    # without the proof the unseen SSESpecification counts as losing data
    assert row_reasons(rc.resource_type, rc.details) == [
        "SSESpecification changes, and it is not on the reviewed safe list (README, Data safety)"
    ]


# --- through the CLI, against the local AWS (which shows #759's rows, as AWS does) -----------


@pytest.fixture
def proofs(monkeypatch) -> list[phantom.Phantoms]:
    """What each plan proved phantom: the local AWS did show issue 759's rows."""
    seen: list[phantom.Phantoms] = []
    original = phantom.prove

    def spy(*args, **kwargs):
        seen.append(original(*args, **kwargs))
        return seen[-1]

    monkeypatch.setattr(phantom, "prove", spy)
    return seen


KEY_FED = {  # the stateful resources whose key is the Kms stack's output
    "Dynamodb.FpEventsTable",
    "Dynamodb.ConsentTable",
    "Dynamodb.BlockCounterTable",
    "Monitoring.AppLogGroup",
    "Storage.BaselinesBucket",
}


def _rebuild_kms(monkeypatch, project, edit) -> None:
    """The next build renders the Kms stack's template edited by `edit(template)`."""
    import shutil

    from templates_src import kms, root

    def edited(cfg):
        t = kms.template(cfg)
        edit(t)
        return t

    monkeypatch.setitem(root.SERVICES, "Kms", edited)
    shutil.rmtree(project / "build" / "staging", ignore_errors=True)


def test_a_no_op_plan_exits_0_though_aws_shows_phantom_rows(deployed, proofs):
    plan = deployed("plan")
    assert plan.code == 0, plan.text
    assert "No changes." in plan.err
    (proven,) = proofs
    assert {str(p) for p in proven.rows} >= KEY_FED


def test_production_first_create_and_a_no_op_plan(production, proofs):
    """The update that protects production's tables right after the first create shows the
    tables' phantom SSESpecification next to the real DeletionProtectionEnabled: it passes
    unnamed, and the next plan is a no-op."""
    plan = production("plan", "--env", "production")
    assert plan.code == 0, plan.text
    assert {str(p) for p in proofs[-1].rows} >= KEY_FED


def test_the_keys_description_changes_nothing_else_and_applies(
    deployed, proofs, monkeypatch, project, local_aws
):
    def described(t):
        t.resources["Key"].Description = "Phase Mirror staging: a new description"

    ddb = local_aws.client("dynamodb")
    ddb.put_item(
        TableName="mirror-dissonance-staging-block-counter", Item={"bucketKey": {"S": "b"}}
    )
    _rebuild_kms(monkeypatch, project, described)
    plan = deployed("plan", "--json")
    assert plan.code == 2, plan.text
    changes = {f"{c['stack']}.{c['logical_id']}": c for c in json.loads(plan.out)["changes"]}
    key = changes["Kms.Key"]
    assert (key["properties"], key["risk"], key["phantom"]) == (["Description"], "safe", False)
    for path in KEY_FED:
        row = changes[path]
        assert row["phantom"] is True, row
        assert row["replacement"] == "False"
        assert row["risk"] == "safe"
        assert "parameter KmsKeyArn is fed by Kms's output KeyArn" in row["reason"]
    assert [c for c in changes.values() if c["risk"] != "safe"] == []

    shown = deployed("plan")
    assert shown.code == 2, shown.text
    assert "no change: parameter KmsKeyArn is fed by Kms's output KeyArn" in shown.out
    assert "0 would replace, delete or lose data" in shown.out
    assert "shown by AWS but change nothing (issue 759)" in shown.out
    markdown = deployed("plan", "--format", "markdown")
    (table,) = [line for line in markdown.out.splitlines() if "`Dynamodb.FpEventsTable`" in line]
    assert "no change: parameter KmsKeyArn is fed by Kms's output KeyArn" in table
    assert "shown by AWS but change nothing (issue 759)" in markdown.out

    applied = deployed("apply", "--yes")
    assert applied.code == 0, applied.text
    key_id = local_aws.client("kms").list_aliases()["Aliases"]
    (target,) = [
        a["TargetKeyId"] for a in key_id if a["AliasName"] == "alias/mirror-dissonance-staging"
    ]
    assert local_aws.client("kms").describe_key(KeyId=target)["KeyMetadata"]["Description"] == (
        "Phase Mirror staging: a new description"
    )
    assert ddb.get_item(
        TableName="mirror-dissonance-staging-block-counter", Key={"bucketKey": {"S": "b"}}
    )["Item"]
    assert deployed("plan").code == 0


def test_an_output_the_plan_cannot_judge_leaves_the_rows_risky(
    deployed, proofs, monkeypatch, project
):
    """Unknown means risky: the key's ARN now comes through an expression the plan does not
    read (the same value, written otherwise), so the rows it feeds stay real changes."""
    from troposphere import GetAtt, Join

    def rewritten(t):
        t.outputs["KeyArn"].Value = Join("", [GetAtt("Key", "Arn")])

    _rebuild_kms(monkeypatch, project, rewritten)
    plan = deployed("plan", "--json")
    assert plan.code == 1  # refused: the rows it cannot judge count as losing data
    changes = {f"{c['stack']}.{c['logical_id']}": c for c in json.loads(plan.out)["changes"]}
    for path in KEY_FED:
        assert changes[path]["phantom"] is False
        assert changes[path]["risk"] == "loses data", changes[path]
    assert not proofs[-1].rows


FEED_DETAIL = {  # a nested stack's own row naming the output it reads, should AWS show one
    "Target": {"Attribute": "Properties", "Name": "Parameters", "RequiresRecreation": "Never"},
    "Evaluation": "Dynamic",
    "ChangeSource": "ResourceAttribute",
    "CausingEntity": "Kms.Outputs.KeyArn",
}


def _stack_row_names_the_output(s):
    s["root_rows"][1]["Details"] = [AUTOMATIC, FEED_DETAIL]
    s["new"]["kms"]["Resources"]["Key"]["Properties"]["Description"] = "one"  # a no-op
    s["kms_rows"] = []
    s["ddb_rows"] = []  # only the stack's own row says anything


@pytest.mark.parametrize(
    ("change", "nothing"),
    [
        (_stack_row_names_the_output, True),
        (lambda s: (_stack_row_names_the_output(s), _output_rewritten(s)), False),
    ],
    ids=["the output is proven unchanged", "the output is not proven"],
)
def test_a_no_op_is_told_whatever_the_nested_stacks_own_row_says(tmp_path, change, nothing):
    """A nested stack's own row may name the output its parameter reads (ResourceAttribute,
    Dynamic): that is no change of its own when the output is proven unchanged."""
    from mirror_infra.deploy.changes import changes_nothing

    proven, rows = _scenario(tmp_path, change)
    assert changes_nothing(rows, proven) is nothing
