"""`outputs` and `apply` tell the application what to use: its own configuration variables
(upstream packages/mirror-dissonance/src/adapters/config.ts), and the nonce version it should
use now, the latest under the environment's key, judged without decrypting."""

from __future__ import annotations

import json

import pytest

from mirror_infra.deploy.outputs import AppOutputs
from mirror_infra.errors import DeployError
from tests.advice import follow_tool, tool_commands
from tests.expected import ExpectedNames

NAMES = ExpectedNames("staging")
ACCOUNT, REGION = "123456789012", "us-east-1"
SEED_NAMES = {
    "kms_key_arn",
    "fp_events_table_name",
    "consent_table_name",
    "block_counter_table_name",
    "nonce_parameter_name",
    "sns_topic_arn",
    "dashboard_name",
    "baselines_bucket_name",
}


def _env_lines(nonce_version: int) -> str:
    """What the application's config.ts reads for CLOUD_PROVIDER=aws, in its own names."""
    return (
        "CLOUD_PROVIDER=aws\n"
        f"AWS_REGION={REGION}\n"
        f"FP_TABLE_NAME={NAMES.fp_events_table}\n"
        f"CONSENT_TABLE_NAME={NAMES.consent_table}\n"
        f"BLOCK_COUNTER_TABLE_NAME={NAMES.block_counter_table}\n"
        f"NONCE_PARAMETER_NAME={NAMES.nonce_parameter(nonce_version)}\n"
        f"BASELINE_BUCKET={NAMES.baselines_bucket(ACCOUNT, REGION)}\n"
    )


def _note(version: int) -> str:
    return (
        f"nonce_parameter_name: {NAMES.nonce_parameter(version)}, the latest version under the "
        f"environment's key (the stack's own output names {NAMES.nonce_parameter(1)})"
    )


def _stderr_lines(result) -> list[str]:
    """stderr without the target lines every command starts with."""
    return result.err.strip().splitlines()[2:]


def test_env_format_is_the_application_configuration(deployed):
    result = deployed("outputs", "--format", "env")
    assert result.code == 0, result.text
    assert result.out == _env_lines(1)
    assert _stderr_lines(result) == []  # v1 is what the stack says: nothing to note


def test_after_rotate_nonce_every_format_names_the_new_version(deployed):
    before = json.loads(deployed("outputs", "--json").out)
    assert deployed("rotate-nonce", "--yes").code == 0

    env = deployed("outputs", "--format", "env")
    assert env.code == 0, env.text
    assert env.out == _env_lines(2)
    assert _stderr_lines(env) == [_note(2)]

    as_json = deployed("outputs", "--json")
    data = json.loads(as_json.out)
    assert set(data) == SEED_NAMES  # the shape does not change
    assert data == {**before, "nonce_parameter_name": NAMES.nonce_parameter(2)}
    assert _stderr_lines(as_json) == [_note(2)]
    assert json.loads(deployed("outputs", "--format", "json").out) == data

    table = deployed("outputs")
    assert NAMES.nonce_parameter(2) in table.out and NAMES.nonce_parameter(1) not in table.out

    # apply's printed outputs and its JSON outcome follow the same rule
    applied = deployed("apply", "--yes", "--json")
    assert applied.code == 0, applied.text
    outcome = json.loads(applied.out.strip().splitlines()[-1])
    assert outcome["nonce"] == NAMES.nonce_parameter(2)
    assert outcome["outputs"] == data
    assert _note(2) in applied.err.splitlines()
    shown = deployed("apply", "--yes")
    assert shown.code == 0
    assert NAMES.nonce_parameter(2) in shown.out and NAMES.nonce_parameter(1) not in shown.out


def test_a_newer_version_under_another_key_is_not_the_one_to_use(deployed, local_aws):
    """The application's role may decrypt only under the environment's key: a version under
    SSM's AWS managed key is not one it can use, however new."""
    ssm = local_aws.client("ssm")
    ssm.put_parameter(
        Name=NAMES.nonce_parameter(2), Value="ab" * 32, Type="SecureString", KeyId="alias/aws/ssm"
    )
    result = deployed("outputs", "--format", "env")
    assert result.code == 0, result.text
    assert result.out == _env_lines(1)


@pytest.mark.parametrize("case", ["none", "another key"])
def test_no_version_under_the_key_exits_1_naming_rotate_nonce(deployed, local_aws, case):
    ssm = local_aws.client("ssm")
    ssm.delete_parameter(Name=NAMES.nonce_parameter(1))
    if case == "another key":
        ssm.put_parameter(
            Name=NAMES.nonce_parameter(1), Value="ab" * 32, Type="SecureString",
            KeyId="alias/aws/ssm",
        )  # fmt: skip
    held = (
        f"no nonce version exists under /guardian/{NAMES.env}/"
        if case == "none"
        else f"none of {NAMES.nonce_parameter(1)} is a SecureString under the environment's key"
    )
    advice = (
        "so the application has no nonce it can use; run 'mirror-infra rotate-nonce --env "
        "staging --local' to add a version under the current key"
    )
    for argv in (["outputs"], ["outputs", "--format", "env"]):
        refused = deployed(*argv)
        assert refused.code == 1
        assert refused.out == ""  # nothing a .env file or $GITHUB_ENV would take in
        last = refused.err.strip().splitlines()[-1]
        assert last.startswith(f"error: {held}") and last.endswith(advice)
    refused = deployed("outputs", "--json")  # the --json contract: the error as a JSON object
    assert refused.code == 1
    error = json.loads(refused.out)
    assert error["ok"] is False and error["exit_code"] == 1
    assert error["error"].startswith(held) and error["error"].endswith(advice)
    # the advice, followed as printed, gives the application a nonce
    (advised,) = tool_commands(last)
    assert follow_tool(advised, deployed, "--yes").code == 0
    version = 1 if case == "none" else 2
    result = deployed("outputs", "--format", "env")
    assert result.code == 0, result.text
    assert result.out == _env_lines(version)


def test_a_value_that_is_not_a_plain_name_is_refused_not_printed():
    """A newline in a value would add a variable to $GITHUB_ENV."""
    outputs = AppOutputs(
        {"FpEventsTableName": "t\nAWS_ACCESS_KEY_ID=x", "NonceParameterName": "/p_v1"},
        "/p_v1",
        REGION,
    )
    with pytest.raises(DeployError, match=r"^FP_TABLE_NAME: the stack gives 't\\nAWS_ACCESS"):
        outputs.app_config()
