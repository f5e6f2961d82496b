"""Account pinning (SPEC §3): an environment names the AWS accounts it may be deployed to, and
every command that reaches a real account checks the account first, before anything is written.

- `accounts` set in the params: any other account is refused, by reading commands too (a
  `verify` of the wrong account would mislead).
- `accounts` absent: a protected environment (production, or termination protection in its
  params, as destroy and express mode decide it) refuses the commands that write; every other
  command, and every other environment, runs with one warning.
- The local AWS (`--local`) has one fixed account of its own: always allowed.

Terraform's AWS provider does the same with `allowed_account_ids`; the CDK pins an
environment's account in its `env`.
"""

from __future__ import annotations

from dataclasses import dataclass

from mirror_infra.config import EnvConfig
from mirror_infra.envs import params_dir, shown_path
from mirror_infra.errors import TargetError


@dataclass(frozen=True)
class Checked:
    """The account a command was allowed to use, and how the header shows it."""

    account: str
    shown: str  # "123456789012, pinned in params/production.yaml"
    warning: str | None = None  # said once, on stderr


def protected(cfg: EnvConfig) -> bool:
    """Whether the environment is production-like (as destroy's confirmation decides it)."""
    return cfg.name == "production" or cfg.data_safety.termination_protection


def check(cfg: EnvConfig, target, writes: bool) -> Checked:
    """The target's account if the environment may use it for this command; otherwise a
    TargetError naming both accounts, raised before any call that writes (the account itself
    is one STS GetCallerIdentity, which writes nothing)."""
    account = target.account_id
    if target.local:
        return Checked(account, f"{account}, the local AWS's own (always allowed)")
    where = _params(cfg)
    if cfg.accounts is not None:
        if account not in cfg.accounts:
            allowed = ", ".join(cfg.accounts)
            raise TargetError(
                f"account {account} is not one {cfg.name} may use ({where} accounts: "
                f"{allowed}); nothing was changed: use credentials of "
                f"{'that account' if len(cfg.accounts) == 1 else 'one of those'} "
                "(--profile or AWS_PROFILE)"
            )
        return Checked(account, f"{account}, pinned in {where}")
    line = f'accounts: ["{account}"]'
    if writes and protected(cfg):
        raise TargetError(
            f"{where} names no accounts, and {cfg.name} is only changed in an account it "
            f"names; nothing was changed: if {account} is {cfg.name}'s account, add the line "
            f"'{line}' to {where}"
        )
    return Checked(
        account,
        f"{account}, not pinned ({where} names no accounts)",
        f"warning: {where} names no accounts, so nothing stops a command of {cfg.name} in "
        f"another account; to pin {cfg.name} to {account}, add the line '{line}' to {where}",
    )


def _params(cfg: EnvConfig) -> str:
    return shown_path(params_dir() / f"{cfg.name}.yaml")
