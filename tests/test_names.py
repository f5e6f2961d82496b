"""Every fixed name fits AWS's limits in every region of every partition, for every environment
name the params allow and for the throwaway names of test runs (SPEC §2).

The limits are AWS's, declared here independently of the code: from botocore's service model
where it states them, otherwise from the AWS page cited next to the row.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import botocore
import pytest

from mirror_infra.config import known_regions, load
from mirror_infra.envs import ENV_NAME
from mirror_infra.errors import ConfigError
from mirror_infra.names import ENV_NAME_MAX, Names, ThrowawayEnv

ACCOUNT = "123456789012"  # every account id has 12 digits


def _partition_regions() -> list[str]:
    """Every region of every partition in botocore's endpoint and partition data."""
    found = set()
    for table in ("endpoints.json", "partitions.json"):
        data = json.loads((Path(botocore.__file__).parent / "data" / table).read_text())
        found |= {r for p in data["partitions"] for r in p["regions"]}
    return sorted(r for r in found if not r.endswith("-global"))


REGIONS = _partition_regions()
# the longest names the params allow, and the shapes test runs use
ENVS = ["a" * ENV_NAME_MAX, "a-b-c-d-e-f9", "staging", "production", "ut-0123abcd", "tc-0123abcd"]

S3_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


def _s3_bucket_ok(name: str) -> bool:
    # https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html: 3-63
    # characters; lower-case letters, digits, dots, hyphens; begin and end with a letter or
    # digit; no '..'; reserved prefixes xn--, sthree-, amzn-s3-demo-; reserved suffixes
    # -s3alias, --ol-s3, .mrap, --x-s3, --table-s3
    return (
        bool(S3_BUCKET.match(name))
        and ".." not in name
        and not name.startswith(("xn--", "sthree-", "amzn-s3-demo-"))
        and not name.endswith(("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"))
    )


# name -> (how it is made, max length, pattern, where the limit comes from)
RULES = {
    "app role": (
        lambda n, region: n.app_role(region),
        64,
        r"[\w+=,.@-]+",
        "botocore iam CreateRole.RoleName",
    ),
    "dashboard": (
        lambda n, region: n.dashboard(region),
        255,
        r"[A-Za-z0-9_-]+",
        "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutDashboard.html",
    ),
    "table": (
        lambda n, region: n.fp_events_table,
        255,
        r"[a-zA-Z0-9_.-]{3,}",
        "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html",
    ),
    "key alias": (
        lambda n, region: n.key_alias,
        256,
        r"alias/[a-zA-Z0-9/_-]+",
        "botocore kms CreateAlias.AliasName",
    ),
    "topic": (
        lambda n, region: n.topic,
        256,
        r"[A-Za-z0-9_-]+",
        "https://docs.aws.amazon.com/sns/latest/api/API_CreateTopic.html",
    ),
    "alarm": (
        lambda n, region: n.alarm("circuit-breaker-triggered"),
        255,
        r".+",
        "botocore cloudwatch PutMetricAlarm.AlarmName",
    ),
    "log group": (
        lambda n, region: n.log_group,
        512,
        r"[\.\-_/#A-Za-z0-9]+",
        "botocore logs CreateLogGroup.logGroupName",
    ),
    "nonce": (
        lambda n, region: n.nonce_parameter(999),
        1011,
        r"/[a-zA-Z0-9_.\-/]+",
        "https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-paramstore-su-create.html",
    ),
    "root stack": (
        lambda n, region: n.root_stack,
        128,
        r"[a-zA-Z][-a-zA-Z0-9]*",
        "https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_CreateStack.html",
    ),
    "metric namespace": (
        lambda n, region: n.metric_namespace,
        255,
        r"[^:].*",
        "botocore cloudwatch PutMetricData.Namespace",
    ),
}


def test_regions_come_from_every_partition():
    assert {"us-east-1", "cn-north-1", "us-gov-west-1"} <= set(REGIONS)
    assert set(known_regions()) <= set(REGIONS)


@pytest.mark.parametrize("env", ENVS)
def test_every_name_fits_in_every_region(env):
    assert ENV_NAME.match(env) or ThrowawayEnv.of(env), env
    names = Names(env)
    too_long = []
    for region in REGIONS:
        bucket = names.baselines_bucket(ACCOUNT, region)
        if not _s3_bucket_ok(bucket):
            too_long.append(("baselines bucket", bucket))
        for kind, (make, limit, pattern, _source) in RULES.items():
            name = make(names, region)
            if len(name) > limit or not re.fullmatch(pattern, name):
                too_long.append((kind, name))
    assert too_long == []


def test_test_run_names_are_fresh_short_and_not_real():
    names = {ThrowawayEnv.UPGRADE.env_name() for _ in range(50)}
    assert len(names) == 50
    for name in names:
        assert re.fullmatch(r"ut-[0-9a-f]{8}", name) and len(name) <= ENV_NAME_MAX
    assert ThrowawayEnv.of("staging") is None and ThrowawayEnv.of("production") is None
    assert ThrowawayEnv.of(ThrowawayEnv.TASKCAT.env_name()) is ThrowawayEnv.TASKCAT


@pytest.mark.parametrize("env", ["ut-staging", "tc-prod"])
def test_a_real_environment_cannot_take_a_test_run_name(project, env):
    (project / "params" / f"{env}.yaml").write_text(
        (project / "params" / "staging.yaml").read_text()
    )
    with pytest.raises(ConfigError, match="belong to the throwaway environments of test runs"):
        load(env)


LONGEST_REGION = max(REGIONS, key=len)


@pytest.mark.parametrize(
    ("key", "value"),
    [("region", LONGEST_REGION), ("test_regions", f"[{LONGEST_REGION}]")],
)
def test_the_longest_region_is_accepted_in_params(project, key, value):
    """Every region name is fine wherever a region is given (--region is checked against the
    same list, see tests/test_config.py)."""
    path = project / "params" / "production.yaml"
    lines = [
        f"{key}: {value}" if line.startswith(f"{key}:") else line
        for line in path.read_text().splitlines()
    ]
    path.write_text("\n".join(lines) + "\n")
    if LONGEST_REGION not in known_regions():
        pytest.skip(f"{LONGEST_REGION} is not a region this botocore deploys to")
    assert load("production").name == "production"


def test_only_the_throwaway_environment_a_harness_names_is_loaded(project, monkeypatch):
    """make aws-proof runs the CLI on its own `pf-` environment, which it names in
    MIRROR_INFRA_THROWAWAY_ENV; any other throwaway name stays refused."""
    from mirror_infra.envs import THROWAWAY_VAR

    staging = (project / "params" / "staging.yaml").read_text()
    for env in ("pf-0123abcd", "pf-4567cdef"):
        (project / "params" / f"{env}.yaml").write_text(staging)
    monkeypatch.setenv(THROWAWAY_VAR, "pf-0123abcd")
    assert load("pf-0123abcd").name == "pf-0123abcd"
    with pytest.raises(ConfigError, match="belong to the throwaway environments of test runs"):
        load("pf-4567cdef")
