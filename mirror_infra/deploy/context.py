"""What every deploy command works with: the environment, the target and the build."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from mirror_infra.aws.cloudformation import CloudFormation
from mirror_infra.aws.kms import KeyRefs
from mirror_infra.aws.storage import S3, DynamoDb, Ssm
from mirror_infra.aws.target import Target
from mirror_infra.aws.wait import Backoff
from mirror_infra.config import EnvConfig, load
from mirror_infra.names import Names


@dataclass
class Deployment:
    cfg: EnvConfig
    target: Target
    express: bool = False  # change sets in express mode (deploy/express.py)
    # the environment name the user typed to confirm (--confirm-env); express.check reads it
    confirmed_env: str | None = None
    # the change_sets.Ledger of the flow running on this deployment (change_sets.owned)
    ledger: Any = field(default=None, repr=False, compare=False)

    @classmethod
    def open(
        cls,
        env: str,
        region: str | None,
        local: bool,
        profile: str | None,
        express: bool = False,
        confirmed_env: str | None = None,
    ) -> Deployment:
        """Validate the inputs before any AWS call: params, region name, target flags, and
        express mode on a protected environment (refused unless `confirmed_env` names it)."""
        from mirror_infra.config import known_regions
        from mirror_infra.deploy import express as express_mode
        from mirror_infra.errors import ConfigError

        cfg = load(env)
        if region is not None and region not in known_regions():
            raise ConfigError(
                f"--region {region!r}: expected a known AWS region name such as us-east-1"
            )
        if express:
            express_mode.check(cfg, confirmed_env)
        target = Target.resolve(region or cfg.region, local, profile)
        return cls(cfg, target, express=express, confirmed_env=confirmed_env)

    def tool_command(self, *words: str) -> str:
        """A `mirror-infra` command acting on this environment where this deployment looked
        (`Target.tool_command` with `--env`), so advice that names it is safe to follow."""
        return self.target.tool_command(*words, "--env", self.cfg.name, home_region=self.cfg.region)

    @property
    def names(self) -> Names:
        return self.cfg.names

    @property
    def stack_name(self) -> str:
        return self.names.root_stack

    @property
    def cfn(self) -> CloudFormation:
        return CloudFormation(self.target.client("cloudformation"))

    @property
    def s3(self) -> S3:
        return S3(self.target.client("s3"), owner=self.target.account_id)

    @property
    def ssm(self) -> Ssm:
        return Ssm(self.target.client("ssm"))

    def keys(self, key_arn: str) -> KeyRefs:
        """KMS key references, resolved against the environment's key `key_arn`."""
        return KeyRefs(self.target.client("kms"), key_arn)

    @property
    def dynamodb(self) -> DynamoDb:
        return DynamoDb(self.target.client("dynamodb"))

    @cached_property
    def backoff(self) -> Backoff:
        return Backoff.for_target(self.target.local)

    @property
    def artifacts_prefix(self) -> str:
        return f"templates/{self.cfg.name}/"
