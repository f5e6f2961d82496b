"""The per-environment settings in `params/{env}.yaml`, loaded into a typed, strict model.

Anything wrong in a params file — an unknown key, a wrong type, a bad email or region — is a
`ConfigError` whose one line names the file, the key and what was expected.
"""

from __future__ import annotations

import re
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from mirror_infra.aws import partitions
from mirror_infra.envs import params_file, shown_path
from mirror_infra.errors import ConfigError
from mirror_infra.names import Names, ThrowawayEnv

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}")  # matched whole (fullmatch)
_ACCOUNT_ID = re.compile(r"\d{12}")  # matched whole (fullmatch)
# GitHub's OIDC subject claim, repo:OWNER/REPO:CONTEXT (https://docs.github.com/en/actions/
# reference/security/oidc#example-subject-claims): owner and repository named in full, a
# wildcard allowed only in the context after them (matched whole)
_GITHUB_SUBJECT = re.compile(r"repo:[A-Za-z0-9-]+/[A-Za-z0-9_.-]+:[A-Za-z0-9_.:/@=+*?-]+")
# https://docs.aws.amazon.com/tag-editor/latest/userguide/tagging.html: keys 1-128 and values
# 0-256 characters of letters, digits, spaces and _ . : / = + - @; no key starting with aws:
_TAG_KEY = re.compile(r"(?!aws:)[\w .:/=+\-@]{1,128}")
_TAG_VALUE = re.compile(r"[\w .:/=+\-@]{0,256}")


@cache
def known_regions() -> frozenset[str]:
    """Every region name in botocore's partition table."""
    return frozenset(r for p in partitions.partitions() for r in p.regions)


@cache
def _service_principal_pattern() -> re.Pattern[str]:
    # service.{the DNS suffix of any partition botocore knows}, matched whole
    return re.compile(rf"[a-z0-9.-]+\.({partitions.dns_suffixes_pattern()})")


@cache
def _role_arn_pattern() -> re.Pattern[str]:
    # an IAM role or account root in any partition botocore knows, matched whole
    return re.compile(rf"arn:({partitions.names_pattern()}):iam::\d{{12}}:(root|role/[\w+=,.@/-]+)")


def _region(value: str) -> str:
    if value not in known_regions():
        raise ValueError(f"a known AWS region name such as us-east-1, not {value!r}")
    return value


def _email(value: str) -> str:
    if value and not _EMAIL.fullmatch(value):
        raise ValueError(f"an email address like ops@example.com (or empty), not {value!r}")
    return value


def _service_principal(value: str) -> str:
    if not _service_principal_pattern().fullmatch(value):
        raise ValueError(f"a service principal like ecs-tasks.amazonaws.com, not {value!r}")
    return value


def _role_arn(value: str) -> str:
    if not _role_arn_pattern().fullmatch(value):
        raise ValueError(
            f"an IAM role or account-root ARN like arn:aws:iam::123456789012:role/ci, not {value!r}"
        )
    return value


def _github_subject(value: str) -> str:
    # a wildcard in the owner or the repository lets other repositories assume the role
    # (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_create_for-idp_oidc.html
    # #idp_oidc_Create_GitHub)
    if not _GITHUB_SUBJECT.fullmatch(value):
        raise ValueError(
            "a GitHub subject pattern like repo:OWNER/REPO:ref:refs/heads/main, naming the owner "
            "and the repository without wildcards (a wildcard there would let other "
            f"repositories assume the role; one after them, repo:OWNER/REPO:*, is fine), not "
            f"{value!r}"
        )
    return value


def _account_id(value: object) -> object:
    # YAML reads unquoted digits as a number (and 0-led ones as octal): only a quoted id is sure
    if not isinstance(value, str) or not _ACCOUNT_ID.fullmatch(value):
        raise ValueError(f'a 12-digit AWS account id in quotes, like "123456789012", not {value!r}')
    return value


def _tags(value: dict[str, str]) -> dict[str, str]:
    for key, text in value.items():
        if not _TAG_KEY.fullmatch(key):
            raise ValueError(f"tag keys of 1-128 characters not starting with 'aws:', not {key!r}")
        if not _TAG_VALUE.fullmatch(text):
            raise ValueError(
                f"tag values of at most 256 letters, digits, spaces and _.:/=+-@, "
                f"not {text!r} (tag {key})"
            )
    return value


Region = Annotated[str, AfterValidator(_region)]
AccountId = Annotated[str, BeforeValidator(_account_id)]


class RemovalPolicy(StrEnum):
    """What CloudFormation does with a stateful resource it deletes or replaces."""

    DELETE = "Delete"
    RETAIN = "Retain"


# YAML gives plain strings; strict mode would reject them for an enum
LaxEnum = Annotated[RemovalPolicy, Field(strict=False)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class DataSafety(_Strict):
    """How hard the environment protects its data (SPEC §2, data safety)."""

    # DeletionPolicy of the tables, the key, the bucket and the log group. @default Retain
    deletion_policy: LaxEnum = RemovalPolicy.RETAIN
    # UpdateReplacePolicy of the same resources. @default Retain
    update_replace_policy: LaxEnum = RemovalPolicy.RETAIN
    # DynamoDB DeletionProtectionEnabled on every table. @default True
    table_deletion_protection: bool = True
    # Termination protection on the root stack. @default True
    termination_protection: bool = True
    # A stack policy denying Update:Replace and Update:Delete on stateful resources. @default True
    stack_policy: bool = True
    # Logical ids of stateful resources that `adopt` brought under the stacks (the tool did not
    # create their data): they keep DeletionPolicy and UpdateReplacePolicy Retain whatever the
    # two keys above say. Removing one later is a change `plan` classes as losing data.
    # @default none
    adopted: list[Annotated[str, Field(pattern=r"^[A-Za-z0-9]+$")]] = Field(default_factory=list)


class AppRole(_Strict):
    """Who may assume the application role."""

    trusted_services: list[Annotated[str, AfterValidator(_service_principal)]] = Field(
        default_factory=lambda: ["ecs-tasks.amazonaws.com"]
    )
    trusted_role_arns: list[Annotated[str, AfterValidator(_role_arn)]] = Field(default_factory=list)
    # GitHub Actions workflows that may assume the role by OIDC: subject patterns matched against
    # the token's `sub` (e.g. repo:OWNER/REPO:ref:refs/heads/main), through the account's
    # token.actions.githubusercontent.com provider, which must exist (verify checks it;
    # mirror-infra never creates it: it is account-wide). @default none
    github_oidc: list[Annotated[str, AfterValidator(_github_subject)]] = Field(default_factory=list)

    @model_validator(mode="after")
    def _someone_trusted(self) -> AppRole:
        if not (self.trusted_services or self.trusted_role_arns or self.github_oidc):
            raise ValueError("at least one of trusted_services, trusted_role_arns or github_oidc")
        return self


# an S3 bucket name (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html)
BUCKET_NAME = r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"
# the tables, by the suffix of their names (SPEC §2)
TableSuffix = Literal["fp-events", "consent", "block-counter"]
TtlAttribute = Annotated[str, Field(min_length=1, max_length=255)]


class EnvConfig(_Strict):
    """One environment: where it lives and how it is protected."""

    name: str
    region: Region
    test_regions: list[Region] = Field(min_length=1)
    alert_email: Annotated[str, AfterValidator(_email)] = ""
    log_retention_days: int = Field(default=365, ge=1)
    tags: Annotated[dict[str, str], AfterValidator(_tags)] = Field(default_factory=dict)
    data_safety: DataSafety = Field(default_factory=DataSafety)
    app_role: AppRole = Field(default_factory=AppRole)
    # Tables whose TTL the next deploy turns off, each with the attribute its TTL is on now.
    # AWS cannot move a table's TTL to another attribute in one step (disable, then enable;
    # one change per table per hour): deploy with this, wait an hour, remove it, deploy again.
    # @default none
    ttl_off: dict[TableSuffix, TtlAttribute] = Field(default_factory=dict)
    # The name of an existing bucket to adopt as the baselines bucket instead of the default
    # mirror-{env}-baselines-{account}-{region} (SPEC §2). @default the default name
    baselines_bucket: Annotated[str, Field(pattern=BUCKET_NAME)] = ""
    # The AWS accounts this environment may be deployed to (mirror_infra/accounts.py): every
    # command refuses any other account before it writes anything, reading commands included.
    # Absent: a protected environment (production) refuses every command that writes, the
    # others warn. The local AWS's account is always allowed. @default absent
    accounts: list[AccountId] | None = Field(default=None, min_length=1)

    @property
    def names(self) -> Names:
        """The fixed resource names of this environment."""
        return Names(self.name, self.baselines_bucket)

    def for_test_run(self, kind: ThrowawayEnv) -> EnvConfig:
        """This environment's settings under a fresh throwaway name of a test run (taskcat, an
        upgrade test): the same templates and protections, names that can never be a real
        environment's."""
        return self.model_copy(update={"name": kind.env_name()})

    @property
    def test_run(self) -> ThrowawayEnv | None:
        """The kind of test run this environment belongs to; None for a real environment."""
        return ThrowawayEnv.of(self.name)


# CloudWatch Logs accepts only these retention periods.
LOG_RETENTION_DAYS = frozenset(
    {
        1,
        3,
        5,
        7,
        14,
        30,
        60,
        90,
        120,
        150,
        180,
        365,
        400,
        545,
        731,
        1096,
        1827,
        2192,
        2557,
        2922,
        3288,
        3653,
    }
)


class _DuplicateKey(yaml.YAMLError):
    """A key given twice in one mapping (YAML would silently keep the last)."""


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key given twice in one mapping."""

    def construct_mapping(self, node, deep=False):
        seen: dict = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise _DuplicateKey(
                    f"line {key_node.start_mark.line + 1}: {key}: given twice (first on line "
                    f"{seen[key] + 1}); keep one"
                )
            seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)


def load(env: str, root: Path | None = None) -> EnvConfig:
    """Load and validate `params/{env}.yaml`."""
    return load_file(params_file(env, root), env)


def load_file(path: Path, env: str | None = None) -> EnvConfig:
    shown = shown_path(path)
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)  # noqa: S506
    except FileNotFoundError:
        raise ConfigError(f"{shown}: file not found") from None
    except IsADirectoryError:
        raise ConfigError(f"{shown}: is a directory, expected a YAML file") from None
    except PermissionError:
        raise ConfigError(f"{shown}: not readable (permission denied)") from None
    except OSError as exc:
        raise ConfigError(f"{shown}: cannot be read ({exc.strerror or exc})") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{shown}: not UTF-8 text (byte {exc.object[exc.start]:#04x} at offset {exc.start})"
        ) from None
    except RecursionError:
        raise ConfigError(f"{shown}: nested too deeply to be a params file") from None
    except _DuplicateKey as exc:
        raise ConfigError(f"{shown}: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ConfigError(f"{shown}:{where}: not valid YAML ({problem})") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{shown}: expected a mapping of settings at the top level")
    if "name" in raw:
        raise ConfigError(f"{shown}: name: not a setting; the file name gives the environment")
    try:
        cfg = EnvConfig.model_validate({"name": env or path.stem, **raw})
    except ValidationError as exc:
        raise ConfigError(f"{shown}: {describe_validation_error(exc)}") from None
    if cfg.log_retention_days not in LOG_RETENTION_DAYS:
        allowed = ", ".join(str(d) for d in sorted(LOG_RETENTION_DAYS))
        raise ConfigError(
            f"{shown}: log_retention_days: expected one of {allowed}, not {cfg.log_retention_days}"
        )
    return cfg


_TYPE_NAMES = {
    "string_type": "a string",
    "bool_type": "true or false",
    "int_type": "a whole number",
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "enum": "one of",
}


def describe_validation_error(exc: ValidationError) -> str:
    """The first validation error as 'key: expected X, got Y' (+ how many more)."""
    errors = exc.errors()
    first = errors[0]
    key = ".".join(str(p) for p in first["loc"]) or "(top level)"
    kind = first["type"]
    got = first.get("input")
    if kind == "extra_forbidden":
        text = f"{key}: unknown key"
    elif kind == "missing":
        text = f"{key}: required key is missing"
    elif kind == "value_error":
        text = f"{key}: expected {str(first['ctx']['error'])}"
    elif kind == "too_short":
        text = f"{key}: expected at least {first['ctx']['min_length']} item(s), got {got!r}"
    elif kind == "enum":
        text = f"{key}: expected {first['ctx']['expected']}, got {got!r}"
    elif kind in _TYPE_NAMES:
        text = f"{key}: expected {_TYPE_NAMES[kind]}, got {type(got).__name__} {got!r}"
    else:
        text = f"{key}: {first['msg']}, got {got!r}"
    if len(errors) > 1:
        text += f" (and {len(errors) - 1} more)"
    return text
