"""What the application is told about its environment: the root stack's outputs, with the
nonce version it should use now in place of the stack's own `NonceParameterName` (the
template names version 1; `rotate-nonce` adds versions outside CloudFormation)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from mirror_infra import contract
from mirror_infra.aws.cfn_answers import StackInfo
from mirror_infra.deploy import nonce
from mirror_infra.deploy.context import Deployment
from mirror_infra.errors import DeployError
from mirror_infra.names import RootOutput

NONCE_OUTPUT = RootOutput.NONCE_PARAMETER_NAME
_PLAIN = re.compile(r"[A-Za-z0-9._/-]+")


@dataclass(frozen=True)
class AppOutputs:
    """The root stack's outputs (by output key) with the nonce version to use now."""

    stack: dict[str, str]
    nonce: str
    region: str

    @property
    def values(self) -> dict[str, str]:
        return {**self.stack, NONCE_OUTPUT: self.nonce}

    def app_config(self) -> dict[str, str]:
        """The application's own configuration variables (its adapters/config.ts), each value
        one plain word, safe as a NAME=value line of a .env file or $GITHUB_ENV."""
        found = {
            "CLOUD_PROVIDER": contract.APP_CLOUD_PROVIDER,
            "AWS_REGION": self.region,
            **{var: self.values.get(key, "") for var, key in contract.APP_CONFIG_OUTPUTS.items()},
        }
        for var, value in found.items():
            # names of tables, buckets, parameters and regions: anything else (a newline would
            # add a variable to $GITHUB_ENV) means the stack is not the one we built
            if not _PLAIN.fullmatch(value):
                raise DeployError(
                    f"{var}: the stack gives {value!r}, expected a name of letters, digits and "
                    "'-_./'; the root stack is not the one mirror-infra builds"
                )
        return found

    @property
    def nonce_note(self) -> str | None:
        """One line when the nonce to use is not the one the stack's output names."""
        named = self.stack.get(NONCE_OUTPUT, "")
        if self.nonce == named:
            return None
        return (
            f"nonce_parameter_name: {self.nonce}, the latest version under the environment's "
            f"key (the stack's own output names {named or 'none'})"
        )


def read(dep: Deployment, info: StackInfo) -> AppOutputs:
    """The outputs of the deployed root stack `info`, naming the latest nonce version under
    the environment's key (judged as verify judges it, never by decrypting); a DeployError
    naming rotate-nonce when no version is under that key."""
    key = info.outputs.get(RootOutput.KMS_KEY_ARN)
    if not key:
        raise DeployError(
            f"{dep.stack_name} has no {RootOutput.KMS_KEY_ARN} output; the template is not ours"
        )
    found = nonce.versions(dep.ssm, dep.names)
    use = nonce.current(found, dep.keys(key))
    if use is None:
        held = (
            f"none of {', '.join(v.name for v in found)} is a SecureString under the "
            f"environment's key {key}"
            if found
            else f"no nonce version exists under {dep.names.nonce_path}/"
        )
        raise DeployError(
            f"{held}, so the application has no nonce it can use; run "
            f"'{dep.tool_command('rotate-nonce')}' to add a version under the current key"
        )
    return AppOutputs(dict(info.outputs), use.name, dep.target.region)
