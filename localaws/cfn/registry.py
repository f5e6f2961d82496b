"""Which resource provider handles each resource type.

The engine looks providers up here and never imports them: `install()` registers every
provider of `localaws/providers/`, nested stacks' included, whose provider runs the engine's
own stack operations (so the engine cannot import it without a cycle)."""

from __future__ import annotations

from localaws.providers.base import Provider

_PROVIDERS: dict[str, Provider] = {}


def register(*providers: Provider) -> None:
    for provider in providers:
        _PROVIDERS[provider.type_name] = provider


def provider_for(type_name: str) -> Provider | None:
    """The provider of `type_name`, or None for a type the local AWS does not model."""
    return _PROVIDERS.get(type_name)
