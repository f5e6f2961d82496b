"""The redaction nonce in SSM Parameter Store.

CloudFormation cannot create SecureString parameters, so the template holds only what is safe
to declare — the nonce's name, as an output — and the deploy tool creates the value once after
the stack (SPEC §2). Its IAM grant is in `iam.grant_nonce_read`.
"""

from __future__ import annotations

from troposphere import Template

from mirror_infra.config import EnvConfig
from mirror_infra.names import RootOutput
from templates_src.common import output


def add_outputs(cfg: EnvConfig, template: Template) -> None:
    """Name the first nonce version and the path every version lives under."""
    output(
        template,
        RootOutput.NONCE_PARAMETER_NAME,
        cfg.names.nonce_parameter(1),
        "SSM SecureString holding the first redaction nonce (created by mirror-infra apply)",
    )
    output(
        template,
        RootOutput.NONCE_PARAMETER_PATH,
        cfg.names.nonce_path,
        "SSM path under which every redaction nonce version lives",
    )
