"""`install()`: apply every correction of this package to moto, once per process."""

from __future__ import annotations

import threading

_lock = threading.Lock()
_installed = False


def install() -> None:
    """Route CloudFormation to this package's engine, register every resource provider with
    it, and apply the corrections to moto's service APIs.

        Idempotent. Applied in-process: a server started after this call has every fix.
    """
    global _installed
    with _lock:
        if _installed:
            return
        from moto.cloudformation.responses import CloudFormationResponse

        from localaws import providers
        from localaws.cfn import api, registry
        from localaws.moto_fixes import cloudwatch, dynamodb, iam, logs, s3, sns, ssm

        registry.register(*providers.providers())
        for name, handler in api.HANDLERS.items():
            setattr(CloudFormationResponse, name, handler)
        # these handlers answer in the API's own shape; moto's reshaping would break it
        CloudFormationResponse.RESPONSE_KEY_PATH_TO_TRANSFORMER = {
            path: transform
            for path, transform in CloudFormationResponse.RESPONSE_KEY_PATH_TO_TRANSFORMER.items()
            if path.startswith("DescribeStackSet")
        }
        sns.install()
        cloudwatch.install()
        ssm.install()
        s3.install()
        dynamodb.install()
        logs.install()
        iam.install()
        _installed = True
