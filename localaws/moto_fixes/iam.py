"""IAM AddClientIDToOpenIDConnectProvider / RemoveClientIDFromOpenIDConnectProvider.

Corrects moto, which implements neither (HTTP 500). On AWS the first "adds a new client ID
(also known as audience) to the list of client IDs already registered for the specified IAM
OpenID Connect (OIDC) provider resource. This operation is idempotent; it does not fail or
return an error if you add an existing client ID to the provider"
(https://docs.aws.amazon.com/IAM/latest/APIReference/API_AddClientIDToOpenIDConnectProvider.html),
and the second removes one, idempotently too ("it does not fail or return an error if you try
to remove a client ID that does not exist",
https://docs.aws.amazon.com/IAM/latest/APIReference/API_RemoveClientIDFromOpenIDConnectProvider.html).
A provider that does not exist is NoSuchEntity (both pages' Errors); ClientID is 1 to 255
characters. `verify` advises the first when the account's GitHub provider lacks the
sts.amazonaws.com audience.
"""

from __future__ import annotations

from typing import Any

_installed = False


def _provider_and_client_id(self: Any) -> tuple[Any, str]:
    from moto.iam.exceptions import ValidationError

    client_id = self._get_param("ClientID") or ""
    if not 1 <= len(client_id) <= 255:
        raise ValidationError(
            f"1 validation error detected: Value '{client_id}' at 'clientID' failed to satisfy "
            "constraint: Member must have length between 1 and 255"
        )
    # NoSuchEntity for an unknown ARN, as GetOpenIDConnectProvider answers it
    arn = self._get_param("OpenIDConnectProviderArn")
    provider = self.backend.get_open_id_connect_provider(arn)
    return provider, client_id


def _add_client_id(self: Any) -> Any:
    from moto.core.responses import EmptyResult
    from moto.iam.exceptions import LimitExceededException

    provider, client_id = _provider_and_client_id(self)
    if client_id not in provider.client_id_list:
        # the quota moto's CreateOpenIDConnectProvider enforces (LimitExceeded, in the page's
        # Errors)
        if len(provider.client_id_list) >= 100:
            raise LimitExceededException(
                "Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: 100"
            )
        provider.client_id_list.append(client_id)
    return EmptyResult()


def _remove_client_id(self: Any) -> Any:
    from moto.core.responses import EmptyResult

    provider, client_id = _provider_and_client_id(self)
    if client_id in provider.client_id_list:
        provider.client_id_list.remove(client_id)
    return EmptyResult()


def install() -> None:
    global _installed
    from moto.iam.responses import IamResponse

    if not _installed:
        IamResponse.add_client_id_to_open_id_connect_provider = _add_client_id
        IamResponse.remove_client_id_from_open_id_connect_provider = _remove_client_id
        _installed = True
