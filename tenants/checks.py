"""Development relaxations must never reach production.

`TUNEAIBOT_DEV` (set by the generated development `.env`, scripts/test and
the benchmarks) turns on development keys and, by default, plain-http and
private SSO providers; `MODEL_ENDPOINT_ALLOW_HTTP` lets client model
endpoints use plain http. Each is fine on a laptop and a hole in production:
`manage.py check --deploy` fails while any is on, and every process that
starts with one on says so on stderr (TenantsConfig.ready).
"""

from __future__ import annotations

import sys

from django.conf import settings
from django.core.checks import Error, Tags, register

RELAXATIONS = {
    "DEV_MODE": "TUNEAIBOT_DEV (development keys, local SSO providers)",
    "SSO_ALLOW_HTTP_ISSUERS": "SSO_ALLOW_HTTP_ISSUERS (SSO providers over plain http)",
    "SSO_ALLOW_PRIVATE_ISSUERS": "SSO_ALLOW_PRIVATE_ISSUERS (SSO providers on internal "
                                 "addresses)",
    "MODEL_ENDPOINT_ALLOW_HTTP": "MODEL_ENDPOINT_ALLOW_HTTP (client model endpoints over "
                                 "plain http)",
}


def development_relaxations() -> list[str]:
    """The development relaxations that are on, as the settings' names."""
    return [label for name, label in RELAXATIONS.items() if getattr(settings, name, False)]


@register(Tags.security, deploy=True)
def no_development_relaxations(app_configs, **kwargs) -> list[Error]:
    found = development_relaxations()
    if not found:
        return []
    return [Error(
        "Development relaxations are on: " + "; ".join(found) + ".",
        hint="Production must not set TUNEAIBOT_DEV, SSO_ALLOW_HTTP_ISSUERS, "
             "SSO_ALLOW_PRIVATE_ISSUERS or MODEL_ENDPOINT_ALLOW_HTTP (remove them from the "
             "environment and .env; an internal SSO provider or model gateway is allowed with "
             "MODEL_ENDPOINT_ALLOWED_HOSTS / MODEL_ENDPOINT_ALLOWED_NETWORKS).",
        id="tuneaibot.E001",
    )]


def warn_at_start() -> None:
    found = development_relaxations()
    if found:
        sys.stderr.write("WARNING: development relaxations are on (never in production): "
                         + "; ".join(found) + ".\n")
