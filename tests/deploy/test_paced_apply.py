"""The whole environment deployed at AWS's pace (1 % of typical times): the stack and its nested
stacks really are in progress while apply follows them, as on AWS."""

from __future__ import annotations

import time


def test_apply_follows_a_paced_create_to_the_end_and_then_has_nothing_to_do(cli, local_aws):
    local_aws.settings(pace=0.01)
    assert cli("bootstrap").code == 0
    started = time.monotonic()
    result = cli("apply", "--yes")
    assert result.code == 0, result.text
    assert "CREATE_IN_PROGRESS" in result.err
    assert time.monotonic() - started > 1.2  # the key alone takes 120 s x 0.01
    stack = local_aws.client("cloudformation").describe_stacks(
        StackName="mirror-dissonance-staging"
    )["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    again = cli("plan")
    assert again.code == 0, again.text
    assert "No changes." in again.err + again.out
