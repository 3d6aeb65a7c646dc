"""Where a client's model calls go and with which key: resolved together,
here and nowhere else."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from core import endpoint_policy, secrets

NEEDS_OWN_KEY = _(
    "A base URL of your own needs your own API key: the platform's key is only ever sent "
    "to the platform's endpoint. Enter your API key, or clear the base URL.")


@dataclass(frozen=True)
class ModelEndpoint:
    """Where a client's requests go, and with which credentials."""

    api_key: str
    base_url: str = ""
    organization: str = ""
    project: str = ""
    source: str = "platform"  # whose key: "platform" or "client"
    # Set when the configuration must not be used (a sentence for the tenant
    # admin); such an endpoint carries no key and every call is refused.
    refusal: str = ""

    @property
    def display_url(self) -> str:
        return self.base_url or endpoint_policy.OPENAI_DEFAULT_URL

    @property
    def is_platform(self) -> bool:
        """The platform's own endpoint (trusted); any other URL is policed."""
        return endpoint_policy.is_platform_url(self.base_url)

    def __repr__(self) -> str:  # never print the key
        return f"ModelEndpoint(source={self.source!r}, url={self.display_url!r})"


class ConnectionSettings(Protocol):
    """What a client's saved connection holds (chat.BotConfig)."""

    base_url: str
    api_key_encrypted: str
    organization: str
    project: str


def model_endpoint(config: ConnectionSettings) -> ModelEndpoint | None:
    """Where this client's model calls go and with which key; None: offline
    (no key anywhere).

    - a base URL of the client's own goes with the client's own key only (a
      row without one, saved before this rule, gets a keyless endpoint the
      gateway refuses);
    - the client's key without a base URL goes to the platform's endpoint;
    - the platform's key goes to the platform's endpoint only.
    """
    own_url = "" if endpoint_policy.is_platform_url(config.base_url) else config.base_url
    if own_url:
        if not config.api_key_encrypted:
            return ModelEndpoint(api_key="", base_url=own_url, source="client",
                                 refusal=str(NEEDS_OWN_KEY))
        return ModelEndpoint(
            api_key=secrets.decrypt(config.api_key_encrypted), base_url=own_url,
            organization=config.organization, project=config.project, source="client",
        )
    if config.api_key_encrypted:
        return ModelEndpoint(
            api_key=secrets.decrypt(config.api_key_encrypted),
            base_url=settings.OPENAI_BASE_URL,
            organization=config.organization, project=config.project, source="client",
        )
    if settings.OPENAI_API_KEY:
        return ModelEndpoint(api_key=settings.OPENAI_API_KEY,
                             base_url=settings.OPENAI_BASE_URL, source="platform")
    return None


def connection_errors(*, base_url: str, has_own_key: bool) -> dict[str, str]:
    """What is wrong with a client's connection settings, per form field."""
    if endpoint_policy.is_platform_url(base_url):
        return {}
    try:
        endpoint_policy.check_url(base_url)
    except endpoint_policy.EndpointRefused as exc:
        return {"base_url": exc.reason}
    if not has_own_key:
        return {"api_key": str(NEEDS_OWN_KEY)}
    return {}
