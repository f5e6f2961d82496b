"""Express mode: CreateChangeSet `DeploymentConfig` `Mode: EXPRESS`, after which "CloudFormation
typically considers a resource operation complete as soon as the API call to create, update,
or delete the resource succeeds" (cloudformation-express-mode.html).

Of this environment, the resources whose operations wait for readiness are the KMS key (its
propagation waits), the three tables (until ACTIVE), the IAM role and the baselines bucket:
under express mode apply can end while they are still becoming ready. The alias, log group,
metric filters, alarms, dashboard and topic are one call each and end as before. AWS advises
the default mode "for production deployments where you need to verify that resources are fully
stabilized" (same page): production refuses it unless its name is given.
"""

from __future__ import annotations

from mirror_infra.config import EnvConfig
from mirror_infra.errors import ConfigError

# DisableRollback given explicitly: "Default: false" says API_DeploymentConfig, while reports of
# express mode's launch say rollback is off by default in it; a failure here must roll back
DEPLOYMENT_CONFIG = {"Mode": "EXPRESS", "DisableRollback": False}
NOTE = (
    "express mode: the operation ends once configuration is applied; the key, tables, role "
    "and bucket may still be becoming ready when apply ends"
)


def check(cfg: EnvConfig, confirmed_env: str | None) -> None:
    """Refuse express mode for production (termination protection in its params, as destroy
    decides it) unless `--confirm-env` names the environment."""
    if cfg.data_safety.termination_protection and confirmed_env != cfg.name:
        raise ConfigError(
            f"--express on {cfg.name}: express mode ends before the key, tables, role and bucket "
            f"are ready, and {cfg.name} is protected (termination protection in its params); "
            f"add --confirm-env {cfg.name} to use it anyway"
        )


def confirmation(cfg: EnvConfig, express: bool) -> tuple[str, ...]:
    """The words a command that runs `cfg`'s environment in express mode must carry for `check`
    to let it through, so that advice naming such a command (a saved express plan's apply)
    runs as printed."""
    if express and cfg.data_safety.termination_protection:
        return ("--confirm-env", cfg.name)
    return ()
