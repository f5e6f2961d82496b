"""CloudWatch Logs AssociateKmsKey / DisassociateKmsKey.

Corrects moto, which has neither action ("has not been implemented"): on AWS they set or remove
the KMS key a log group's data is encrypted with
(https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_AssociateKmsKey.html,
API_DisassociateKmsKey.html); CloudFormation's AWS::Logs::LogGroup handler calls them when
KmsKeyId changes in place, as an adopted log group's first update or a drift revert does.
"""

from __future__ import annotations

from typing import Any

_installed = False


def _group(self: Any) -> Any:
    from moto.logs.exceptions import ResourceNotFoundException

    name = self._get_param("logGroupName")
    group = self.logs_backend.groups.get(name)
    if group is None:
        raise ResourceNotFoundException()
    return group


def _associate_kms_key(self: Any) -> str:
    _group(self).kms_key_id = self._get_param("kmsKeyId")
    return ""


def _disassociate_kms_key(self: Any) -> str:
    _group(self).kms_key_id = None
    return ""


def install() -> None:
    global _installed
    from moto.logs.responses import LogsResponse

    if not _installed:
        LogsResponse.associate_kms_key = _associate_kms_key
        LogsResponse.disassociate_kms_key = _disassociate_kms_key
        _installed = True
