"""A resource or nested stack the new templates drop can be named: the refusal's advice
(`--allow-data-loss Iam`) is followed literally, and it works (issue 25: the name was checked
against the new templates only, so the advice could never be followed)."""

from __future__ import annotations

import json
import re
import shlex
import shutil

import pytest

STAGING = "mirror-dissonance-staging"


@pytest.fixture
def without_iam(deployed, monkeypatch, project):
    """The Iam stack taken out of the root template (with the output and the parameter only it
    used), as a user would by editing templates_src/root.py."""
    from templates_src import root

    made = root.template

    def edited(cfg, files):
        template = made(cfg, files)
        del template.parameters["AppRoleTrustedServices"]  # only Iam used it
        template.outputs = {
            name: out
            for name, out in template.outputs.items()
            if "Iam" not in json.dumps(out.to_dict())
        }
        return template

    monkeypatch.delitem(root.SERVICES, "Iam")
    monkeypatch.setattr(root, "template", edited)
    shutil.rmtree(project / "build", ignore_errors=True)
    return deployed


def _advised(refusal: str) -> list[str]:
    """The flags the refusal tells the user to add, parsed from its text."""
    found = re.search(r"if that is intended, name each one: ([^;]+)", refusal)
    assert found, refusal
    return shlex.split(found.group(1))


def _nested(local_aws) -> set[str]:
    cfn = local_aws.client("cloudformation")
    resources = cfn.list_stack_resources(StackName=STAGING)["StackResourceSummaries"]
    return {r["LogicalResourceId"] for r in resources}


def test_a_removed_nested_stack_is_named_as_plan_advises(without_iam, local_aws):
    refused = without_iam("plan")
    assert refused.code == 1, refused.text
    last = refused.err.strip().splitlines()[-1]
    assert "Iam (deletes data)" in last, refused.err
    advice = _advised(last)
    assert advice == ["--allow-data-loss", "Iam"]
    assert "Iam" in _nested(local_aws)  # nothing removed by the refusal

    planned = without_iam("plan", *advice)
    assert planned.code == 2, planned.text
    applied = without_iam("apply", "--yes", *advice)
    assert applied.code == 0, applied.text
    assert "Iam" not in _nested(local_aws)


def test_apply_refuses_a_removal_and_its_advice_works(without_iam, local_aws):
    refused = without_iam("apply", "--yes")
    assert refused.code == 1, refused.text
    assert "Iam" in _nested(local_aws)
    applied = without_iam("apply", "--yes", *_advised(refused.err.strip().splitlines()[-1]))
    assert applied.code == 0, applied.text
    assert "Iam" not in _nested(local_aws)


def test_a_name_neither_built_nor_deployed_is_still_refused(without_iam):
    refused = without_iam("plan", "--allow-data-loss", "Nope")
    assert refused.code == 1
    assert (
        refused.err.strip()
        .splitlines()[-1]
        .startswith(
            "error: --allow-data-loss 'Nope': no such resource in the staging templates or stacks"
        )
    )
